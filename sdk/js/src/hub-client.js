// HubClient: a chat connection that stays up. App-level heartbeat with a
// pong timeout; reconnect in tiers (same URL with backoff, cached nodes, a
// fresh node list, then "gave-up"); every joined room resumed from its last
// seq; unacknowledged sends resent with their original client id (the
// server answers a duplicate with the original ack); one "batch" event per
// batch frame so a page renders once per batch.

import { ReconnectPlan } from './tiers.js';
import { DEFAULT_BACKOFF } from './backoff.js';
import { applyJoined, applyMessages, emptyRoom, lastSeq } from './sync.js';

/** Protocol version spoken. */
export const PROTOCOL_VERSION = 1;

function wsUrlOf(httpBase) {
  return `${httpBase.replace(/^http/, 'ws').replace(/\/$/, '')}/ws`;
}

export class HubClient extends EventTarget {
  /**
   * @param {object} options
   * @param {string} options.server http(s) base URL of a node
   * @param {string | (() => Promise<string>)} options.token session token, or a function returning a fresh one
   * @param {typeof WebSocket} [options.WebSocket] constructor (default: the global one)
   * @param {(url: string) => Promise<any>} [options.fetchJson] GET returning parsed JSON (default: fetch)
   * @param {number} [options.sameUrlAttempts]
   * @param {number} [options.clusterSameUrlAttempts] same-URL tries when the node list names other nodes (default 2)
   * @param {{initialMs: number, maxMs: number}} [options.backoff]
   * @param {number} [options.pongTimeoutMs] silence after a ping that counts as a dead link
   * @param {{load(): Promise<object[]>, save(pending: object[]): Promise<void>}} [options.outbox] persistence of unacknowledged sends
   * @param {{origin?: string}} [options.socketOptions] extra options for non-browser WebSocket constructors
   */
  constructor(options) {
    super();
    this.options = { sameUrlAttempts: 5, backoff: DEFAULT_BACKOFF, pongTimeoutMs: 10_000, ...options };
    this.WebSocket = options.WebSocket || globalThis.WebSocket;
    this.fetchJson = options.fetchJson || (async (url) => (await fetch(url)).json());
    this.httpBase = options.server.replace(/\/$/, '');
    this.url = wsUrlOf(this.httpBase);
    this.nodes = [];
    this.rooms = new Map();
    this.pending = new Map();
    this.state = 'offline';
    this.socket = null;
    this.closedByUser = false;
    this.plan = null;
    this.timers = new Set();
    this.nextClientId = 0;
  }

  setState(state, detail = {}) {
    if (this.state === state && !detail.force) return;
    this.state = state;
    this.dispatchEvent(Object.assign(new Event('state'), { state, ...detail }));
  }

  emit(type, fields) {
    this.dispatchEvent(Object.assign(new Event(type), fields));
  }

  later(ms, fn) {
    const timer = setTimeout(() => { this.timers.delete(timer); fn(); }, ms);
    this.timers.add(timer);
    return timer;
  }

  /**
   * Loads the persisted unacknowledged sends (once), so a page can show
   * them before the connection is up; `connect` does it when not done yet.
   */
  async restoreOutbox() {
    if (this.outboxRestored || !this.options.outbox) return;
    this.outboxRestored = true;
    for (const send of await this.options.outbox.load()) {
      if (!this.pending.has(send.client_id)) this.pending.set(send.client_id, send);
    }
  }

  /** Connects (restoring persisted unacknowledged sends first). */
  async connect() {
    this.closedByUser = false;
    await this.restoreOutbox();
    // The node list serves later reconnects; the first attempt need not wait for it.
    this.refreshNodes().catch(() => {});
    this.open(this.url);
  }

  async refreshNodes() {
    const answer = await this.fetchJson(`${this.httpBase}/api/lbs`);
    this.nodes = (answer.nodes || []).map((n) => n.url);
    return this.nodes;
  }

  async open(url) {
    const token = typeof this.options.token === 'function' ? await this.options.token() : this.options.token;
    const full = `${url}?v=${PROTOCOL_VERSION}&token=${encodeURIComponent(token)}`;
    const socket = this.options.socketOptions
      ? new this.WebSocket(full, this.options.socketOptions)
      : new this.WebSocket(full);
    this.socket = socket;
    this.url = url;
    let welcomed = false;
    // A server that takes the connection but never greets is as good as down.
    this.later(this.options.pongTimeoutMs, () => {
      if (!welcomed && this.socket === socket) socket.close();
    });
    socket.onmessage = (event) => {
      const frame = JSON.parse(typeof event.data === 'string' ? event.data : event.data.toString());
      if (frame.type === 'welcome') {
        welcomed = true;
        this.onWelcome(frame);
      } else {
        this.onFrame(frame);
      }
    };
    socket.onclose = (event) => {
      if (this.socket !== socket) return;
      this.stopHeartbeat();
      this.socket = null;
      if (this.closedByUser) { this.setState('offline'); return; }
      // Refusals of the session itself do not heal by retrying.
      if ([4001, 4003, 4004].includes(event.code)) {
        this.setState('gave-up', { code: event.code, reason: event.reason });
        return;
      }
      if (welcomed) this.plan = null;
      this.reconnect();
    };
    socket.onerror = () => {};
  }

  reconnect() {
    this.setState('reconnecting');
    if (!this.plan) {
      this.plan = new ReconnectPlan({
        url: this.url,
        nodes: this.nodes,
        sameUrlAttempts: this.options.sameUrlAttempts,
        clusterSameUrlAttempts: this.options.clusterSameUrlAttempts,
        backoff: this.options.backoff,
      });
    }
    const step = this.plan.next();
    if (step.kind === 'gave-up') { this.setState('gave-up'); return; }
    this.later(step.delayMs, async () => {
      if (this.closedByUser) return;
      if (step.kind === 'refresh-nodes') {
        const fresh = await this.refreshNodes().catch(() => []);
        this.plan.freshNodes(fresh);
        this.reconnect();
      } else {
        this.open(step.url);
      }
    });
  }

  onWelcome(welcome) {
    this.welcome = welcome;
    this.plan = null;
    this.setState('connected', { force: true });
    this.startHeartbeat(welcome.heartbeat_ms);
    for (const cache of this.rooms.values()) this.sendJoin(cache);
    for (const send of this.pending.values()) this.raw(send);
  }

  startHeartbeat(intervalMs) {
    this.stopHeartbeat();
    let id = 0;
    this.heartbeat = setInterval(() => {
      id += 1;
      this.raw({ type: 'ping', id });
      this.pongDeadline = this.later(this.options.pongTimeoutMs, () => {
        // No answer: the link is dead even if the socket does not know yet.
        if (this.socket) this.socket.close();
      });
    }, Math.max(1000, Math.floor(intervalMs / 2)));
  }

  stopHeartbeat() {
    clearInterval(this.heartbeat);
    if (this.pongDeadline) { clearTimeout(this.pongDeadline); this.timers.delete(this.pongDeadline); }
  }

  raw(frame) {
    if (this.socket && this.socket.readyState === 1) this.socket.send(JSON.stringify(frame));
  }

  sendJoin(cache) {
    const frame = { type: 'join', room: cache.room };
    const last = lastSeq(cache);
    if (last !== null) { frame.last_seq = last; frame.epoch = cache.epoch; }
    this.raw(frame);
  }

  /** Joins `room`, resuming from `cache` (e.g. from IndexedDB) when given. */
  join(room, cache = emptyRoom(room)) {
    this.rooms.set(room, cache);
    this.sendJoin(cache);
  }

  /** The cached copy of a joined room. */
  room(room) {
    return this.rooms.get(room);
  }

  /**
   * Sends a message; resent on every reconnect until acknowledged.
   * @returns {string} the client id
   */
  send(room, text, attachments = []) {
    this.nextClientId += 1;
    const clientId = `c-${Date.now().toString(36)}-${this.nextClientId}-${Math.random().toString(36).slice(2, 8)}`;
    const frame = { type: 'send', room, client_id: clientId, text };
    if (attachments.length) frame.attachments = attachments;
    this.pending.set(clientId, frame);
    this.persistOutbox();
    this.raw(frame);
    return clientId;
  }

  /** Asks for the page of `room`'s history before `before` (a `history` event answers). */
  history(room, before, limit) {
    const frame = { type: 'history', room, before };
    if (limit) frame.limit = limit;
    this.raw(frame);
  }

  /** Tells the server the user has read `room` up to `seq` (unread counts). */
  markRead(room, seq) {
    this.raw({ type: 'read', room, seq });
  }

  persistOutbox() {
    if (this.options.outbox) this.options.outbox.save([...this.pending.values()]).catch(() => {});
  }

  onFrame(frame) {
    switch (frame.type) {
      case 'pong':
        if (this.pongDeadline) { clearTimeout(this.pongDeadline); this.timers.delete(this.pongDeadline); this.pongDeadline = null; }
        return;
      case 'joined': {
        const cache = this.rooms.get(frame.room) || emptyRoom(frame.room);
        const { cache: next, added, dropped } = applyJoined(cache, frame);
        this.rooms.set(frame.room, next);
        this.emit('joined', { room: frame.room, status: frame.status, dropped, added, cache: next });
        return;
      }
      case 'batch': {
        const byRoom = new Map();
        for (const message of frame.messages) {
          if (!byRoom.has(message.room)) byRoom.set(message.room, []);
          byRoom.get(message.room).push(message);
        }
        const added = [];
        for (const [room, messages] of byRoom) {
          const cache = this.rooms.get(room);
          if (!cache) continue;
          const result = applyMessages(cache, messages);
          this.rooms.set(room, result.cache);
          added.push(...result.added);
        }
        if (added.length) this.emit('batch', { messages: added });
        return;
      }
      case 'history': {
        const cache = this.rooms.get(frame.room);
        if (cache) {
          const result = applyMessages(cache, frame.messages);
          this.rooms.set(frame.room, result.cache);
          this.emit('history', { room: frame.room, added: result.added, more: frame.more });
        }
        return;
      }
      case 'reset': {
        this.rooms.set(frame.room, { ...emptyRoom(frame.room), epoch: frame.epoch });
        this.emit('reset', { room: frame.room });
        this.sendJoin(this.rooms.get(frame.room));
        return;
      }
      case 'ack':
      case 'rejected':
        if (this.pending.delete(frame.client_id)) this.persistOutbox();
        this.emit(frame.type, { frame });
        return;
      case 'error':
        // A refused send is not retried; it is reported.
        if (frame.client_id && this.pending.delete(frame.client_id)) this.persistOutbox();
        this.emit('error', { frame });
        return;
      default:
        this.emit(frame.type, { frame });
    }
  }

  /** Unacknowledged sends. */
  unacknowledged() {
    return [...this.pending.values()];
  }

  /** Closes for good. */
  close() {
    this.closedByUser = true;
    this.stopHeartbeat();
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    if (this.socket) this.socket.close(1000);
  }
}

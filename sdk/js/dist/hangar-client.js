// src/backoff.js
var DEFAULT_BACKOFF = Object.freeze({ initialMs: 500, maxMs: 2e4 });
function ceilingMs(attempt, schedule = DEFAULT_BACKOFF) {
  const factor = 2 ** Math.min(Math.max(attempt, 0), 30);
  return Math.min(schedule.maxMs, schedule.initialMs * factor);
}
function delayMs(attempt, schedule = DEFAULT_BACKOFF, random = Math.random) {
  return Math.floor(ceilingMs(attempt, schedule) * random());
}

// src/tiers.js
var ReconnectPlan = class {
  /**
   * @param {object} options
   * @param {string} options.url the URL the client was connected to
   * @param {string[]} [options.nodes] cached node URLs, best first
   * @param {number} [options.sameUrlAttempts]
   * @param {number} [options.clusterSameUrlAttempts] the cap on same-URL tries when `nodes` names another node
   * @param {{initialMs: number, maxMs: number}} [options.backoff]
   * @param {() => number} [options.random]
   */
  constructor({
    url,
    nodes = [],
    sameUrlAttempts = 5,
    clusterSameUrlAttempts = 2,
    backoff = DEFAULT_BACKOFF,
    random = Math.random
  }) {
    this.url = url;
    if (nodes.some((node) => node !== url)) sameUrlAttempts = Math.min(sameUrlAttempts, clusterSameUrlAttempts);
    this.sameUrlAttempts = sameUrlAttempts;
    this.backoff = backoff;
    this.random = random;
    this.queue = [];
    this.attempt = 0;
    this.refreshed = false;
    for (let i = 0; i < sameUrlAttempts; i += 1) this.queue.push({ url, tier: "same" });
    for (const node of nodes) if (node !== url) this.queue.push({ url: node, tier: "cached" });
    this.queue.push({ refresh: true });
  }
  /** The next thing to try. @returns {Step} */
  next() {
    const item = this.queue.shift();
    if (!item) return { kind: "gave-up" };
    const wait = delayMs(this.attempt, this.backoff, this.random);
    this.attempt += 1;
    if (item.refresh) return { kind: "refresh-nodes", delayMs: wait };
    return { kind: "connect", url: item.url, delayMs: wait, tier: item.tier };
  }
  /**
   * The fresh node list arrived (after a `refresh-nodes` step): try each of
   * its nodes once; a failed or empty refresh leads to giving up.
   * @param {string[]} nodes
   */
  freshNodes(nodes) {
    if (this.refreshed) return;
    this.refreshed = true;
    for (const node of nodes) this.queue.push({ url: node, tier: "fresh" });
  }
};

// src/sync.js
function emptyRoom(room) {
  return { room, epoch: null, messages: [], gapAfter: null };
}
function lastSeq(cache) {
  return cache.messages.length ? cache.messages[cache.messages.length - 1].seq : null;
}
function mergeMessages(messages, incoming) {
  const bySeq = new Map(messages.map((m) => [m.seq, m]));
  const added = [];
  for (const message of incoming) {
    if (!bySeq.has(message.seq)) {
      bySeq.set(message.seq, message);
      added.push(message);
    }
  }
  if (!added.length) return { messages, added };
  const merged = [...bySeq.values()].sort((a, b) => a.seq - b.seq);
  added.sort((a, b) => a.seq - b.seq);
  return { messages: merged, added };
}
function applyJoined(cache, joined) {
  const dropped = joined.status === "reset" || cache.epoch !== null && cache.epoch !== joined.epoch;
  const base = dropped ? { ...emptyRoom(cache.room), epoch: joined.epoch } : { ...cache, epoch: joined.epoch };
  if (joined.status === "too-far") {
    return { cache: { ...base, gapAfter: lastSeq(base) ?? 0 }, added: [], dropped };
  }
  const { messages, added } = mergeMessages(base.messages, joined.messages || []);
  return { cache: { ...base, messages }, added, dropped };
}
function applyMessages(cache, incoming) {
  const { messages, added } = mergeMessages(cache.messages, incoming);
  let { gapAfter } = cache;
  if (gapAfter !== null && incoming.some((m) => m.seq === gapAfter + 1)) gapAfter = null;
  return { cache: { ...cache, messages, gapAfter }, added };
}
function mergeConversations(conversations, changes) {
  const byRoom = new Map(conversations.map((c) => [c.room, c]));
  for (const change of changes) byRoom.set(change.room, { ...byRoom.get(change.room), ...change });
  return [...byRoom.values()].sort((a, b) => (b.last_ms ?? 0) - (a.last_ms ?? 0));
}

// src/hub-client.js
var PROTOCOL_VERSION = 1;
function wsUrlOf(httpBase) {
  return `${httpBase.replace(/^http/, "ws").replace(/\/$/, "")}/ws`;
}
var HubClient = class extends EventTarget {
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
    this.options = { sameUrlAttempts: 5, backoff: DEFAULT_BACKOFF, pongTimeoutMs: 1e4, ...options };
    this.WebSocket = options.WebSocket || globalThis.WebSocket;
    this.fetchJson = options.fetchJson || (async (url) => (await fetch(url)).json());
    this.httpBase = options.server.replace(/\/$/, "");
    this.url = wsUrlOf(this.httpBase);
    this.nodes = [];
    this.rooms = /* @__PURE__ */ new Map();
    this.pending = /* @__PURE__ */ new Map();
    this.state = "offline";
    this.socket = null;
    this.closedByUser = false;
    this.plan = null;
    this.timers = /* @__PURE__ */ new Set();
    this.nextClientId = 0;
  }
  setState(state, detail = {}) {
    if (this.state === state && !detail.force) return;
    this.state = state;
    this.dispatchEvent(Object.assign(new Event("state"), { state, ...detail }));
  }
  emit(type, fields) {
    this.dispatchEvent(Object.assign(new Event(type), fields));
  }
  later(ms, fn) {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      fn();
    }, ms);
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
    this.refreshNodes().catch(() => {
    });
    this.open(this.url);
  }
  async refreshNodes() {
    const answer = await this.fetchJson(`${this.httpBase}/api/lbs`);
    this.nodes = (answer.nodes || []).map((n) => n.url);
    return this.nodes;
  }
  async open(url) {
    const token = typeof this.options.token === "function" ? await this.options.token() : this.options.token;
    const full = `${url}?v=${PROTOCOL_VERSION}&token=${encodeURIComponent(token)}`;
    const socket = this.options.socketOptions ? new this.WebSocket(full, this.options.socketOptions) : new this.WebSocket(full);
    this.socket = socket;
    this.url = url;
    let welcomed = false;
    this.later(this.options.pongTimeoutMs, () => {
      if (!welcomed && this.socket === socket) socket.close();
    });
    socket.onmessage = (event) => {
      const frame = JSON.parse(typeof event.data === "string" ? event.data : event.data.toString());
      if (frame.type === "welcome") {
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
      if (this.closedByUser) {
        this.setState("offline");
        return;
      }
      if ([4001, 4003, 4004].includes(event.code)) {
        this.setState("gave-up", { code: event.code, reason: event.reason });
        return;
      }
      if (welcomed) this.plan = null;
      this.reconnect();
    };
    socket.onerror = () => {
    };
  }
  reconnect() {
    this.setState("reconnecting");
    if (!this.plan) {
      this.plan = new ReconnectPlan({
        url: this.url,
        nodes: this.nodes,
        sameUrlAttempts: this.options.sameUrlAttempts,
        clusterSameUrlAttempts: this.options.clusterSameUrlAttempts,
        backoff: this.options.backoff
      });
    }
    const step = this.plan.next();
    if (step.kind === "gave-up") {
      this.setState("gave-up");
      return;
    }
    this.later(step.delayMs, async () => {
      if (this.closedByUser) return;
      if (step.kind === "refresh-nodes") {
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
    this.setState("connected", { force: true });
    this.startHeartbeat(welcome.heartbeat_ms);
    for (const cache of this.rooms.values()) this.sendJoin(cache);
    for (const send of this.pending.values()) this.raw(send);
  }
  startHeartbeat(intervalMs) {
    this.stopHeartbeat();
    let id = 0;
    this.heartbeat = setInterval(() => {
      id += 1;
      this.raw({ type: "ping", id });
      this.pongDeadline = this.later(this.options.pongTimeoutMs, () => {
        if (this.socket) this.socket.close();
      });
    }, Math.max(1e3, Math.floor(intervalMs / 2)));
  }
  stopHeartbeat() {
    clearInterval(this.heartbeat);
    if (this.pongDeadline) {
      clearTimeout(this.pongDeadline);
      this.timers.delete(this.pongDeadline);
    }
  }
  raw(frame) {
    if (this.socket && this.socket.readyState === 1) this.socket.send(JSON.stringify(frame));
  }
  sendJoin(cache) {
    const frame = { type: "join", room: cache.room };
    const last = lastSeq(cache);
    if (last !== null) {
      frame.last_seq = last;
      frame.epoch = cache.epoch;
    }
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
    const frame = { type: "send", room, client_id: clientId, text };
    if (attachments.length) frame.attachments = attachments;
    this.pending.set(clientId, frame);
    this.persistOutbox();
    this.raw(frame);
    return clientId;
  }
  /** Asks for the page of `room`'s history before `before` (a `history` event answers). */
  history(room, before, limit) {
    const frame = { type: "history", room, before };
    if (limit) frame.limit = limit;
    this.raw(frame);
  }
  /** Tells the server the user has read `room` up to `seq` (unread counts). */
  markRead(room, seq) {
    this.raw({ type: "read", room, seq });
  }
  persistOutbox() {
    if (this.options.outbox) this.options.outbox.save([...this.pending.values()]).catch(() => {
    });
  }
  onFrame(frame) {
    switch (frame.type) {
      case "pong":
        if (this.pongDeadline) {
          clearTimeout(this.pongDeadline);
          this.timers.delete(this.pongDeadline);
          this.pongDeadline = null;
        }
        return;
      case "joined": {
        const cache = this.rooms.get(frame.room) || emptyRoom(frame.room);
        const { cache: next, added, dropped } = applyJoined(cache, frame);
        this.rooms.set(frame.room, next);
        this.emit("joined", { room: frame.room, status: frame.status, dropped, added, cache: next });
        return;
      }
      case "batch": {
        const byRoom = /* @__PURE__ */ new Map();
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
        if (added.length) this.emit("batch", { messages: added });
        return;
      }
      case "history": {
        const cache = this.rooms.get(frame.room);
        if (cache) {
          const result = applyMessages(cache, frame.messages);
          this.rooms.set(frame.room, result.cache);
          this.emit("history", { room: frame.room, added: result.added, more: frame.more });
        }
        return;
      }
      case "reset": {
        this.rooms.set(frame.room, { ...emptyRoom(frame.room), epoch: frame.epoch });
        this.emit("reset", { room: frame.room });
        this.sendJoin(this.rooms.get(frame.room));
        return;
      }
      case "ack":
      case "rejected":
        if (this.pending.delete(frame.client_id)) this.persistOutbox();
        this.emit(frame.type, { frame });
        return;
      case "error":
        if (frame.client_id && this.pending.delete(frame.client_id)) this.persistOutbox();
        this.emit("error", { frame });
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
    if (this.socket) this.socket.close(1e3);
  }
};

// node_modules/idb/build/index.js
var instanceOfAny = (object, constructors) => constructors.some((c) => object instanceof c);
var idbProxyableTypes;
var cursorAdvanceMethods;
function getIdbProxyableTypes() {
  return idbProxyableTypes || (idbProxyableTypes = [
    IDBIndex,
    IDBObjectStore,
    IDBCursor,
    IDBDatabase,
    IDBTransaction
  ]);
}
function getCursorAdvanceMethods() {
  return cursorAdvanceMethods || (cursorAdvanceMethods = ["advance", "continue", "continuePrimaryKey"].map((method) => IDBCursor.prototype[method]));
}
var transactionDoneMap = /* @__PURE__ */ new WeakMap();
var transformCache = /* @__PURE__ */ new WeakMap();
var reverseTransformCache = /* @__PURE__ */ new WeakMap();
function promisifyRequest(request) {
  const promise = new Promise((resolve, reject) => {
    const unlisten = () => {
      request.removeEventListener("success", success);
      request.removeEventListener("error", error);
    };
    const success = () => {
      resolve(wrap(request.result));
      unlisten();
    };
    const error = () => {
      reject(request.error);
      unlisten();
    };
    request.addEventListener("success", success);
    request.addEventListener("error", error);
  });
  reverseTransformCache.set(promise, request);
  return promise;
}
function cacheDonePromiseForTransaction(tx) {
  if (transactionDoneMap.has(tx))
    return;
  const done = new Promise((resolve, reject) => {
    const unlisten = () => {
      tx.removeEventListener("complete", complete);
      tx.removeEventListener("error", error);
      tx.removeEventListener("abort", error);
    };
    const complete = () => {
      resolve();
      unlisten();
    };
    const error = () => {
      reject(tx.error || new DOMException("AbortError", "AbortError"));
      unlisten();
    };
    tx.addEventListener("complete", complete);
    tx.addEventListener("error", error);
    tx.addEventListener("abort", error);
  });
  transactionDoneMap.set(tx, done);
}
var idbProxyTraps = {
  get(target, prop, receiver) {
    if (target instanceof IDBTransaction) {
      if (prop === "done")
        return transactionDoneMap.get(target);
      if (prop === "store") {
        return receiver.objectStoreNames[1] ? void 0 : receiver.objectStore(receiver.objectStoreNames[0]);
      }
    }
    return wrap(target[prop]);
  },
  set(target, prop, value) {
    target[prop] = value;
    return true;
  },
  has(target, prop) {
    if (target instanceof IDBTransaction && (prop === "done" || prop === "store")) {
      return true;
    }
    return prop in target;
  }
};
function replaceTraps(callback) {
  idbProxyTraps = callback(idbProxyTraps);
}
function wrapFunction(func) {
  if (getCursorAdvanceMethods().includes(func)) {
    return function(...args) {
      func.apply(unwrap(this), args);
      return wrap(this.request);
    };
  }
  return function(...args) {
    return wrap(func.apply(unwrap(this), args));
  };
}
function transformCachableValue(value) {
  if (typeof value === "function")
    return wrapFunction(value);
  if (value instanceof IDBTransaction)
    cacheDonePromiseForTransaction(value);
  if (instanceOfAny(value, getIdbProxyableTypes()))
    return new Proxy(value, idbProxyTraps);
  return value;
}
function wrap(value) {
  if (value instanceof IDBRequest)
    return promisifyRequest(value);
  if (transformCache.has(value))
    return transformCache.get(value);
  const newValue = transformCachableValue(value);
  if (!Object.is(newValue, value)) {
    transformCache.set(value, newValue);
    reverseTransformCache.set(newValue, value);
  }
  return newValue;
}
var unwrap = (value) => reverseTransformCache.get(value);
function openDB(name, version, { blocked, upgrade, blocking, terminated } = {}) {
  const request = indexedDB.open(name, version);
  const openPromise = wrap(request);
  if (upgrade) {
    request.addEventListener("upgradeneeded", (event) => {
      upgrade(wrap(request.result), event.oldVersion, event.newVersion, wrap(request.transaction), event);
    });
  }
  if (blocked) {
    request.addEventListener("blocked", (event) => blocked(
      // Casting due to https://github.com/microsoft/TypeScript-DOM-lib-generator/pull/1405
      event.oldVersion,
      event.newVersion,
      event
    ));
  }
  openPromise.then((db) => {
    if (terminated)
      db.addEventListener("close", () => terminated());
    if (blocking) {
      db.addEventListener("versionchange", (event) => blocking(event.oldVersion, event.newVersion, event));
    }
  }).catch(() => {
  });
  return openPromise;
}
var readMethods = ["get", "getKey", "getAll", "getAllKeys", "count"];
var writeMethods = ["put", "add", "delete", "clear"];
var cachedMethods = {};
function getMethod(target, prop) {
  if (!(target instanceof IDBDatabase && !(prop in target) && typeof prop === "string")) {
    return;
  }
  if (cachedMethods[prop])
    return cachedMethods[prop];
  const targetFuncName = prop.replace(/FromIndex$/, "");
  const useIndex = prop !== targetFuncName;
  const isWrite = writeMethods.includes(targetFuncName);
  if (
    // Bail if the target doesn't exist on the target. Eg, getAll isn't in Edge.
    !(targetFuncName in (useIndex ? IDBIndex : IDBObjectStore).prototype) || !(isWrite || readMethods.includes(targetFuncName))
  ) {
    return;
  }
  const method = async function(storeName, ...args) {
    const tx = this.transaction(storeName, isWrite ? "readwrite" : "readonly");
    let target2 = tx.store;
    if (useIndex)
      target2 = target2.index(args.shift());
    return (await Promise.all([
      target2[targetFuncName](...args),
      isWrite && tx.done
    ]))[0];
  };
  return cachedMethods[prop] = method;
}
replaceTraps((oldTraps) => ({
  ...oldTraps,
  get: (target, prop, receiver) => getMethod(target, prop) || oldTraps.get(target, prop, receiver),
  has: (target, prop) => !!getMethod(target, prop) || oldTraps.has(target, prop)
}));
var advanceMethodProps = ["advance", "continue", "continuePrimaryKey"];
var methodMap = {};
var advanceResults = /* @__PURE__ */ new WeakMap();
var ittrProxiedCursorToOriginalProxy = /* @__PURE__ */ new WeakMap();
var cursorIteratorTraps = {
  get(target, prop) {
    if (!advanceMethodProps.includes(prop))
      return target[prop];
    let cachedFunc = methodMap[prop];
    if (!cachedFunc) {
      cachedFunc = methodMap[prop] = function(...args) {
        advanceResults.set(this, ittrProxiedCursorToOriginalProxy.get(this)[prop](...args));
      };
    }
    return cachedFunc;
  }
};
async function* iterate(...args) {
  let cursor = this;
  if (!(cursor instanceof IDBCursor)) {
    cursor = await cursor.openCursor(...args);
  }
  if (!cursor)
    return;
  cursor = cursor;
  const proxiedCursor = new Proxy(cursor, cursorIteratorTraps);
  ittrProxiedCursorToOriginalProxy.set(proxiedCursor, cursor);
  reverseTransformCache.set(proxiedCursor, unwrap(cursor));
  while (cursor) {
    yield proxiedCursor;
    cursor = await (advanceResults.get(proxiedCursor) || cursor.continue());
    advanceResults.delete(proxiedCursor);
  }
}
function isIteratorProp(target, prop) {
  return prop === Symbol.asyncIterator && instanceOfAny(target, [IDBIndex, IDBObjectStore, IDBCursor]) || prop === "iterate" && instanceOfAny(target, [IDBIndex, IDBObjectStore]);
}
replaceTraps((oldTraps) => ({
  ...oldTraps,
  get(target, prop, receiver) {
    if (isIteratorProp(target, prop))
      return iterate;
    return oldTraps.get(target, prop, receiver);
  },
  has(target, prop) {
    return isIteratorProp(target, prop) || oldTraps.has(target, prop);
  }
}));

// src/store.js
var VERSION = 1;
var MAX_CACHED_MESSAGES = 2e3;
var ROOM_RANGE = (room) => IDBKeyRange.bound([room, -Infinity], [room, Infinity]);
var ChatStore = class _ChatStore {
  /** @param {import('idb').IDBPDatabase} db */
  constructor(db) {
    this.db = db;
  }
  /**
   * Opens (creating on first use) the store named `name`; one per user, so
   * two people on one browser never see each other's cache.
   * @param {string} name
   */
  static async open(name) {
    const db = await openDB(name, VERSION, {
      upgrade(database) {
        database.createObjectStore("meta");
        database.createObjectStore("conversations", { keyPath: "room" });
        database.createObjectStore("rooms", { keyPath: "room" });
        database.createObjectStore("messages", { keyPath: ["room", "seq"] });
        database.createObjectStore("outbox", { keyPath: "client_id" });
        database.createObjectStore("uploads", { keyPath: "fingerprint" });
      }
    });
    return new _ChatStore(db);
  }
  /** A value saved with `set`, or undefined. */
  get(key) {
    return this.db.get("meta", key);
  }
  /** Saves a small value (a cursor, the last room opened). */
  set(key, value) {
    return this.db.put("meta", value, key);
  }
  /** Cached conversations and the cursor they are current to. */
  async conversations() {
    const [list, cursor] = await Promise.all([this.db.getAll("conversations"), this.get("conversation-cursor")]);
    return { conversations: list, cursor: cursor ?? null };
  }
  /** Saves conversation changes and the cursor they bring the list up to. */
  async saveConversations(changes, cursor) {
    const tx = this.db.transaction(["conversations", "meta"], "readwrite");
    const conversations = tx.objectStore("conversations");
    for (const change of changes) {
      const old = await conversations.get(change.room);
      await conversations.put({ ...old, ...change });
    }
    if (cursor !== void 0 && cursor !== null) await tx.objectStore("meta").put(cursor, "conversation-cursor");
    await tx.done;
  }
  /**
   * The cached copy of `room` in the shape HubClient resumes from: its
   * epoch and its newest `limit` messages in seq order.
   * @returns {Promise<import('./sync.js').RoomCache>}
   */
  async room(room, limit = 200) {
    const tx = this.db.transaction(["rooms", "messages"]);
    const meta = await tx.objectStore("rooms").get(room);
    const messages = [];
    let cursor = await tx.objectStore("messages").openCursor(ROOM_RANGE(room), "prev");
    while (cursor && messages.length < limit) {
      messages.push(cursor.value);
      cursor = await cursor.continue();
    }
    await tx.done;
    return { room, epoch: meta ? meta.epoch : null, messages: messages.reverse(), gapAfter: null };
  }
  /**
   * Saves messages of `room` at `epoch`; a different epoch than the one
   * stored means the server reset the room, so its old messages go first.
   */
  async saveMessages(room, epoch, messages) {
    const tx = this.db.transaction(["rooms", "messages"], "readwrite");
    const rooms = tx.objectStore("rooms");
    const store = tx.objectStore("messages");
    const meta = await rooms.get(room);
    if (epoch !== null && epoch !== void 0 && meta && meta.epoch !== epoch) await store.delete(ROOM_RANGE(room));
    if (epoch !== null && epoch !== void 0) await rooms.put({ room, epoch });
    for (const message of messages) {
      const { pending, ...kept } = message;
      await store.put(kept);
    }
    const count = await store.count(ROOM_RANGE(room));
    if (count > MAX_CACHED_MESSAGES) {
      let cursor = await store.openCursor(ROOM_RANGE(room));
      for (let extra = count - MAX_CACHED_MESSAGES; cursor && extra > 0; extra -= 1) {
        await cursor.delete();
        cursor = await cursor.continue();
      }
    }
    await tx.done;
  }
  /** Drops the cached messages of `room` (an epoch reset). */
  async resetRoom(room, epoch) {
    const tx = this.db.transaction(["rooms", "messages"], "readwrite");
    await tx.objectStore("messages").delete(ROOM_RANGE(room));
    await tx.objectStore("rooms").put({ room, epoch: epoch ?? null });
    await tx.done;
  }
  /** The outbox in the shape `HubClient`'s `outbox` option takes. */
  outbox() {
    return {
      load: () => this.db.getAll("outbox"),
      save: async (pending) => {
        const tx = this.db.transaction("outbox", "readwrite");
        await tx.store.clear();
        for (const send of pending) await tx.store.put(send);
        await tx.done;
      }
    };
  }
  /** What the uploader keeps per file: see `Uploader`. */
  uploads() {
    return {
      get: (fingerprint2) => this.db.get("uploads", fingerprint2),
      put: (record) => this.db.put("uploads", record),
      delete: (fingerprint2) => this.db.delete("uploads", fingerprint2),
      all: () => this.db.getAll("uploads")
    };
  }
  /** Closes the database. */
  close() {
    this.db.close();
  }
};

// src/transfer.js
function chunkRange(upload, index) {
  const start = index * upload.chunk_size;
  return { start, end: Math.min(upload.size, start + upload.chunk_size) };
}
function missingChunks(upload) {
  const held = new Set(upload.received || []);
  const missing = [];
  for (let index = 0; index < upload.chunk_count; index += 1) if (!held.has(index)) missing.push(index);
  return missing;
}
function heldBytes(upload) {
  return (upload.received || []).reduce((sum, index) => {
    const { start, end } = chunkRange(upload, index);
    return sum + (end - start);
  }, 0);
}
function retryable(status, code) {
  return status === 0 || status === 408 || status === 429 || status >= 500 || code === "chunk-md5-mismatch";
}
var SpeedMeter = class {
  constructor(windowMs = 3e3, now = () => Date.now()) {
    this.windowMs = windowMs;
    this.now = now;
    this.samples = [];
  }
  /** Records that `total` bytes have been sent so far; returns the speed. */
  record(total) {
    const at = this.now();
    this.samples.push([at, total]);
    while (this.samples.length > 2 && at - this.samples[1][0] >= this.windowMs) this.samples.shift();
    const [firstAt, firstTotal] = this.samples[0];
    const elapsed = at - firstAt;
    return elapsed > 0 ? (total - firstTotal) * 1e3 / elapsed : 0;
  }
};

// src/uploader.js
var UploadError = class extends Error {
  constructor(message, { status = 0, code = "network", detail = null } = {}) {
    super(message);
    this.name = "UploadError";
    this.status = status;
    this.code = code;
    this.detail = detail;
  }
};
function fingerprint(file) {
  return `${file.name}|${file.size}|${file.lastModified}`;
}
var Hasher = class {
  constructor(url) {
    this.worker = new Worker(url);
    this.calls = /* @__PURE__ */ new Map();
    this.nextId = 0;
    this.worker.onmessage = ({ data }) => {
      const call = this.calls.get(data.id);
      if (!call) return;
      if ("progress" in data) {
        call.onProgress(data.progress);
        return;
      }
      this.calls.delete(data.id);
      if (data.error) call.reject(new UploadError(`hashing failed: ${data.error}`, { code: "hash" }));
      else call.resolve(data.result);
    };
  }
  call(request, onProgress = () => {
  }) {
    this.nextId += 1;
    const id = this.nextId;
    return new Promise((resolve, reject) => {
      this.calls.set(id, { resolve, reject, onProgress });
      this.worker.postMessage({ id, ...request });
    });
  }
};
var Uploader = class {
  /**
   * @param {object} options
   * @param {string} [options.server] base URL of the server (default: this page's origin)
   * @param {string | (() => Promise<string>)} options.token session token, or a function returning one
   * @param {number} [options.concurrency] chunks in flight at once (default 3)
   * @param {number} [options.retries] attempts per chunk after the first (default 5)
   * @param {{initialMs: number, maxMs: number}} [options.backoff] delay between attempts
   * @param {number} [options.chunkSize] preferred chunk size; the server decides
   * @param {{get, put, delete}} [options.store] keeps hashes and upload ids across reloads (`ChatStore#uploads()`)
   * @param {string | URL} [options.workerUrl] the hashing worker (default: hash-worker.js beside this module)
   */
  constructor(options) {
    this.options = { concurrency: 3, retries: 5, backoff: DEFAULT_BACKOFF, ...options };
    this.server = (options.server || globalThis.location.origin).replace(/\/$/, "");
    this.hasher = null;
  }
  hash(request, onProgress) {
    if (!this.hasher) {
      this.hasher = new Hasher(this.options.workerUrl || new URL("./hash-worker.js", import.meta.url));
    }
    return this.hasher.call(request, onProgress);
  }
  async token() {
    const { token } = this.options;
    return typeof token === "function" ? token() : token;
  }
  /** A JSON request to the upload API; errors become `UploadError`. */
  async request(method, path, body) {
    let response;
    try {
      response = await fetch(`${this.server}${path}`, {
        method,
        headers: { authorization: `Bearer ${await this.token()}`, ...body ? { "content-type": "application/json" } : {} },
        body: body ? JSON.stringify(body) : void 0
      });
    } catch (err) {
      throw new UploadError(`network: ${err.message}`);
    }
    const data = await response.json().catch(() => ({}));
    if (!response.ok) {
      const error = data.error || {};
      throw new UploadError(error.message || response.statusText, { status: response.status, code: error.code, detail: error });
    }
    return data;
  }
  /**
   * Starts uploading `file`. `context` is kept with the resumable record
   * (e.g. the chat room the file is for).
   * @param {File} file
   * @param {{context?: object}} [options]
   * @returns {UploadTask}
   */
  upload(file, { context = null } = {}) {
    const task = new UploadTask(this, file, context);
    task.done = task.run();
    task.done.catch(() => {
    });
    return task;
  }
  /** Records of uploads left unfinished (e.g. by a reload), to offer resuming. */
  async unfinished() {
    return this.options.store ? this.options.store.all() : [];
  }
  /** Forgets an unfinished upload and tells the server to drop its chunks. */
  async discard(record) {
    if (record.upload_id) await this.request("DELETE", `/api/uploads/${record.upload_id}`).catch(() => {
    });
    if (this.options.store) await this.options.store.delete(record.fingerprint);
  }
};
var UploadTask = class extends EventTarget {
  constructor(uploader, file, context) {
    super();
    this.uploader = uploader;
    this.file = file;
    this.context = context;
    this.state = "hashing";
    this.requests = /* @__PURE__ */ new Set();
    this.aborted = false;
    this.upload = null;
    this.chunksSent = 0;
  }
  emit(type, fields = {}) {
    this.dispatchEvent(Object.assign(new Event(type), fields));
  }
  setState(state) {
    this.state = state;
    this.emit("state", { state });
  }
  checkAborted() {
    if (this.aborted) throw new UploadError("upload aborted", { code: "aborted" });
  }
  async run() {
    const { file, uploader } = this;
    const store = uploader.options.store;
    const key = fingerprint(file);
    try {
      this.setState("hashing");
      let record = store ? await store.get(key) : null;
      if (!record) {
        const digest = await uploader.hash({ op: "digest", file }, (loaded) => this.emit("hash-progress", { loaded, total: file.size }));
        record = { fingerprint: key, name: file.name, size: file.size, ...digest, context: this.context, created_ms: Date.now() };
        if (store) await store.put(record);
      }
      this.record = record;
      this.checkAborted();
      const open = { name: file.name, size: file.size, md5: record.md5, sha256: record.sha256 };
      if (file.type) open.content_type = file.type;
      if (uploader.options.chunkSize) open.chunk_size = uploader.options.chunkSize;
      this.upload = await uploader.request("POST", "/api/uploads", open);
      if (store) await store.put({ ...record, upload_id: this.upload.id });
      this.checkAborted();
      const instant = await this.tryInstant();
      if (instant) return this.finish(instant, true);
      this.setState("uploading");
      await this.sendChunks();
      this.checkAborted();
      this.setState("completing");
      const done = await uploader.request("POST", `/api/uploads/${this.upload.id}/complete`);
      return this.finish(done.file, false);
    } catch (err) {
      if (!this.aborted) {
        this.setState("failed");
        this.emit("error", { error: err });
      }
      throw err;
    }
  }
  async finish(stored, instant) {
    if (this.uploader.options.store) await this.uploader.options.store.delete(fingerprint(this.file));
    this.setState("done");
    this.emit("done", { file: stored, instant });
    return stored;
  }
  /** Answers the challenge; the stored file when the content was known. */
  async tryInstant() {
    const { challenge, proof_used: spent } = this.upload;
    if (!challenge || spent) return null;
    const md5 = await this.uploader.hash({
      op: "md5",
      file: this.file,
      start: challenge.offset,
      end: challenge.offset + challenge.length
    });
    try {
      const answer = await this.uploader.request("POST", `/api/uploads/${this.upload.id}/proof`, { md5 });
      if (answer.instant) return answer.file;
      this.upload = answer.upload || this.upload;
    } catch (err) {
      if (err.code !== "proof-used") throw err;
    }
    return null;
  }
  async sendChunks() {
    const upload = this.upload;
    const queue = missingChunks(upload);
    const total = upload.size;
    const held = heldBytes(upload);
    const inFlight = /* @__PURE__ */ new Map();
    let finished = held;
    let chunksDone = upload.chunk_count - queue.length;
    const meter = new SpeedMeter();
    const report = () => {
      let sent = finished;
      for (const loaded of inFlight.values()) sent += loaded;
      this.emit("progress", {
        sent,
        total,
        bytesPerSecond: meter.record(sent - held),
        chunksDone,
        chunkCount: upload.chunk_count
      });
    };
    report();
    const worker = async () => {
      while (queue.length) {
        this.checkAborted();
        const index = queue.shift();
        const { start, end } = chunkRange(upload, index);
        await this.sendChunk(index, start, end, (loaded) => {
          inFlight.set(index, loaded);
          report();
        });
        inFlight.delete(index);
        finished += end - start;
        chunksDone += 1;
        this.chunksSent += 1;
        report();
      }
    };
    const lanes = Math.max(1, Math.min(this.uploader.options.concurrency, queue.length));
    await Promise.all(Array.from({ length: lanes }, worker));
  }
  async sendChunk(index, start, end, onProgress) {
    const { uploader } = this;
    const md5 = await uploader.hash({ op: "md5", file: this.file, start, end });
    for (let attempt = 0; ; attempt += 1) {
      this.checkAborted();
      try {
        await this.put(index, this.file.slice(start, end), md5, onProgress);
        return;
      } catch (err) {
        if (this.aborted || attempt >= uploader.options.retries || !retryable(err.status, err.code)) throw err;
        onProgress(0);
        await new Promise((resolve) => {
          setTimeout(resolve, delayMs(attempt, uploader.options.backoff));
        });
      }
    }
  }
  /** One chunk over XMLHttpRequest, whose upload events give byte progress. */
  async put(index, body, md5, onProgress) {
    const token = await this.uploader.token();
    return new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      this.requests.add(xhr);
      xhr.open("PUT", `${this.uploader.server}/api/uploads/${this.upload.id}/chunks/${index}`);
      xhr.setRequestHeader("authorization", `Bearer ${token}`);
      xhr.setRequestHeader("chunk-md5", md5);
      xhr.upload.onprogress = (event) => onProgress(event.loaded);
      xhr.onloadend = () => {
        this.requests.delete(xhr);
        if (xhr.status >= 200 && xhr.status < 300) {
          resolve();
          return;
        }
        let error = {};
        try {
          error = JSON.parse(xhr.responseText).error || {};
        } catch {
        }
        reject(new UploadError(error.message || `chunk ${index}: HTTP ${xhr.status}`, { status: xhr.status, code: error.code || "network", detail: error }));
      };
      xhr.send(body);
    });
  }
  /** Stops the upload and tells the server to drop what it received. */
  async abort() {
    if (this.aborted || this.state === "done") return;
    this.aborted = true;
    for (const xhr of this.requests) xhr.abort();
    const id = this.upload && this.upload.id;
    if (id) await this.uploader.request("DELETE", `/api/uploads/${id}`).catch(() => {
    });
    if (this.uploader.options.store) await this.uploader.options.store.delete(fingerprint(this.file));
    await this.done.catch(() => {
    });
    this.setState("aborted");
  }
};

// src/virtual-list.js
var VirtualList = class {
  /**
   * @param {HTMLElement} container a scrollable element
   * @param {object} options
   * @param {(item: any) => HTMLElement} options.render builds one row
   * @param {(item: any) => string} options.key stable key of an item
   * @param {number} [options.windowSize] rows rendered at most
   * @param {number} [options.estimate] height of an unmeasured row, px
   * @param {string} [options.buffer] rootMargin of the observer
   * @param {() => void} [options.onTop] called when the top of the list comes near (load older rows)
   */
  constructor(container, { render, key, windowSize = 60, estimate = 56, buffer = "600px 0px", onTop = () => {
  } }) {
    this.onTop = onTop;
    this.container = container;
    this.renderRow = render;
    this.key = key;
    this.windowSize = windowSize;
    this.estimate = estimate;
    this.items = [];
    this.heights = /* @__PURE__ */ new Map();
    this.start = 0;
    this.end = 0;
    this.renders = 0;
    this.top = document.createElement("div");
    this.rows = document.createElement("div");
    this.bottom = document.createElement("div");
    this.top.className = "vl-spacer";
    this.bottom.className = "vl-spacer";
    this.rows.className = "vl-rows";
    container.replaceChildren(this.top, this.rows, this.bottom);
    this.observer = new IntersectionObserver((entries) => this.onIntersect(entries), { root: container, rootMargin: buffer });
    this.observer.observe(this.top);
    this.observer.observe(this.bottom);
    let scheduled = false;
    container.addEventListener("scroll", () => {
      if (scheduled) return;
      scheduled = true;
      requestAnimationFrame(() => {
        scheduled = false;
        this.recenter();
      });
    });
  }
  atBottom() {
    const c = this.container;
    return c.scrollHeight - c.scrollTop - c.clientHeight < 40;
  }
  heightOf(index) {
    return this.heights.get(this.key(this.items[index])) ?? this.estimate;
  }
  spacer(from, to) {
    let total = 0;
    for (let i = from; i < to; i += 1) total += this.heightOf(i);
    return total;
  }
  /** Replaces the items (e.g. a room's cached history) and shows the end. */
  setItems(items) {
    this.items = items;
    this.end = items.length;
    this.start = Math.max(0, this.end - this.windowSize);
    this.paint();
    this.container.scrollTop = this.container.scrollHeight;
  }
  /** Appends items (one call per batch: one render pass). */
  append(items) {
    if (!items.length) return;
    const stick = this.atBottom();
    this.items = this.items.concat(items);
    if (stick || this.end >= this.items.length - items.length) {
      this.end = this.items.length;
      this.start = Math.max(0, this.end - this.windowSize);
    }
    this.paint();
    if (stick) this.container.scrollTop = this.container.scrollHeight;
  }
  /** Adds older items before the first, keeping the visible rows in place. */
  prepend(items) {
    if (!items.length) return;
    this.keepingPlace(() => {
      this.items = items.concat(this.items);
      this.start += items.length;
      this.end += items.length;
      this.paint();
    });
  }
  /** Runs `change` and scrolls so the first rendered row stays where it was on screen. */
  keepingPlace(change) {
    const anchor = this.rows.firstElementChild;
    const key = anchor && anchor.dataset.key;
    const before = anchor ? anchor.getBoundingClientRect().top : 0;
    change();
    const same = key && [...this.rows.children].find((row) => row.dataset.key === key);
    if (same) this.container.scrollTop += same.getBoundingClientRect().top - before;
  }
  /** Replaces the item with `key` (e.g. a pending message once stored). */
  update(key, item) {
    const index = this.items.findIndex((it) => this.key(it) === key);
    if (index < 0) return;
    this.items[index] = item;
    if (index >= this.start && index < this.end) this.paint();
  }
  /** Removes the items `predicate` selects (e.g. a rejected pending send). */
  remove(predicate) {
    const stick = this.atBottom();
    this.items = this.items.filter((item) => !predicate(item));
    this.end = Math.min(this.end, this.items.length);
    this.start = Math.min(this.start, Math.max(0, this.end - 1));
    this.paint();
    if (stick) this.container.scrollTop = this.container.scrollHeight;
  }
  onIntersect(entries) {
    if (entries.some((entry) => entry.isIntersecting)) this.recenter();
  }
  /**
   * Moves the window to the rows around the current scroll position (from
   * the measured or estimated heights), so a jump (to the top, say) lands on
   * the right rows at once; asks for older rows at the very top.
   */
  recenter() {
    const scrollTop = this.container.scrollTop;
    let offset = 0;
    let index = 0;
    while (index < this.items.length && offset + this.heightOf(index) < scrollTop) {
      offset += this.heightOf(index);
      index += 1;
    }
    const lead = Math.floor(this.windowSize / 3);
    const start = Math.max(0, Math.min(index - lead, this.items.length - this.windowSize));
    const end = Math.min(this.items.length, start + this.windowSize);
    if (start !== this.start || end !== this.end) {
      this.keepingPlace(() => {
        this.start = start;
        this.end = end;
        this.paint();
      });
    }
    if (this.start === 0 && scrollTop < 50) this.onTop();
  }
  paint() {
    this.renders += 1;
    this.end = Math.min(this.end, this.items.length);
    this.start = Math.min(this.start, this.end);
    const rows = [];
    for (let i = this.start; i < this.end; i += 1) {
      const row = this.renderRow(this.items[i]);
      row.dataset.key = this.key(this.items[i]);
      rows.push(row);
    }
    this.rows.replaceChildren(...rows);
    for (const row of rows) this.heights.set(row.dataset.key, row.getBoundingClientRect().height || this.estimate);
    this.top.style.height = `${this.spacer(0, this.start)}px`;
    this.bottom.style.height = `${this.spacer(this.end, this.items.length)}px`;
  }
  /** Rows in the DOM now. */
  renderedCount() {
    return this.rows.childElementCount;
  }
};

// src/dom.js
function element(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (value !== void 0 && value !== null && value !== false) node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children) node.append(child);
  return node;
}
export {
  ChatStore,
  DEFAULT_BACKOFF,
  HubClient,
  MAX_CACHED_MESSAGES,
  PROTOCOL_VERSION,
  ReconnectPlan,
  SpeedMeter,
  UploadError,
  UploadTask,
  Uploader,
  VirtualList,
  applyJoined,
  applyMessages,
  ceilingMs,
  chunkRange,
  delayMs,
  element,
  emptyRoom,
  fingerprint,
  heldBytes,
  lastSeq,
  mergeConversations,
  mergeMessages,
  missingChunks,
  retryable
};

// The customer-service chat page: a customer view (their conversation) and
// an agent view (open conversations with unread counts), on the browser SDK
// served at /sdk/js/hangar-client.js. What the page has seen is kept in
// IndexedDB: a reload shows it at once, then asks the server only for what
// changed; typed messages wait in the outbox until the server has them.

import { ChatStore, HubClient, Uploader, VirtualList, element, mergeConversations } from '/sdk/js/hangar-client.js';
import { Links, UploadTray, renderAttachments } from '/chat/attachments.js';

const $ = (selector) => document.querySelector(selector);
const page = {
  client: null, list: null, room: null, user: null, role: null, store: null, cursor: null, conversations: [],
};
window.hangarChat = page; // for tests and debugging

/** A session token: the one this browser holds while it is valid, else a new one. */
async function sessionToken() {
  const key = `hangar-session:${page.user}:${page.role}`;
  const held = JSON.parse(localStorage.getItem(key) || 'null');
  if (held && held.expires * 1000 - Date.now() > 60_000) return held.token;
  const response = await fetch('/api/session', {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ user: page.user, role: page.role }),
  });
  const session = await response.json();
  if (!session.token) throw new Error(session.error ? session.error.message : 'no session');
  localStorage.setItem(key, JSON.stringify({ token: session.token, expires: session.expires }));
  return session.token;
}

async function api(method, path, body) {
  const response = await fetch(path, {
    method,
    headers: { authorization: `Bearer ${await sessionToken()}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const data = await response.json();
  if (!response.ok) throw new Error(data.error ? data.error.message : response.statusText);
  return data;
}

const links = new Links(api);

function row(message) {
  const mine = message.sender === page.user && message.kind === 'user';
  const classes = ['message', mine ? 'mine' : '', message.kind === 'bot' ? 'bot' : '', message.pending ? 'pending' : ''];
  const time = message.time_ms ? new Date(message.time_ms).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' }) : 'sending…';
  const who = message.kind === 'bot' ? `${message.sender} (bot)` : message.sender;
  return element('div', { class: classes.join(' ').trim(), 'data-seq': message.seq ?? '' },
    element('div', { class: 'meta' }, `${who} · ${time}`),
    message.text ? element('div', { class: 'text' }, message.text) : '',
    message.attachments && message.attachments.length ? renderAttachments(message.attachments, links) : '');
}

const keyOf = (message) => message.id || `pending-${message.client_id}`;

// The state, and the node the page is connected to (a cluster lists
// several; after a failover this shows the one that took over).
function showState(state, url) {
  const node = $('#connection');
  node.textContent = state;
  node.className = `state ${state}`;
  $('#node').textContent = state === 'connected' && url ? `on ${new URL(url).host}` : '';
}

function notice(text) {
  const node = $('#notice');
  node.textContent = text;
  node.hidden = !text;
}

/** Sends still waiting for the server, as pending bubbles of `room`. */
function pendingOf(room, messages) {
  return page.client.unacknowledged()
    .filter((send) => send.room === room && !messages.some((m) => m.client_id === send.client_id))
    .map((send) => ({ ...send, sender: page.user, kind: 'user', attachments: send.attachments || [], pending: true }));
}

function showRoom(messages) {
  page.list.setItems([...messages, ...pendingOf(page.room, messages)]);
}

/** Opens `room`: the cached copy at once, then the server's changes. */
async function openRoom(room, title) {
  page.room = room;
  // Until a room is open there is nowhere to send to: the composer stays
  // disabled rather than dropping what is typed.
  for (const control of ['#text', '#send', '#attach']) $(control).disabled = false;
  $('#room-title').textContent = title;
  notice('');
  page.loadingOlder = false;
  page.list = new VirtualList($('#messages'), { render: row, key: keyOf, onTop: loadOlder });
  page.store.set('room', { room, title });
  for (const li of document.querySelectorAll('#conversation-list li')) li.classList.toggle('selected', li.dataset.room === room);
  const joined = page.client.room(room);
  if (joined) { showRoom(joined.messages); return; }
  const cache = await page.store.room(room);
  if (page.room !== room) return;
  showRoom(cache.messages);
  page.client.join(room, cache);
}

/** Older history when the top of the list comes near. */
function loadOlder() {
  const first = page.list && page.list.items.find((m) => m.seq != null);
  if (!first || first.seq <= 1 || page.loadingOlder) return;
  page.loadingOlder = true;
  page.client.history(page.room, first.seq);
}

function showConversations() {
  const list = $('#conversation-list');
  list.replaceChildren(...page.conversations.filter((c) => c.status !== 'closed').map((c) => element('li', {
    'data-room': c.room, class: c.room === page.room ? 'selected' : '',
    onclick: () => openRoom(c.room, c.customer),
  },
  element('div', { class: 'top' }, c.customer, c.unread ? element('span', { class: 'unread' }, String(c.unread)) : ''),
  element('div', { class: 'last' }, c.last_text || (c.last_ms ? 'sent a file' : 'no messages yet')))));
}

/** Conversation changes since the cursor, saved and shown. */
async function refreshConversations() {
  const path = page.cursor ? `/api/conversations?cursor=${page.cursor}` : '/api/conversations';
  const data = await api('GET', path);
  const changes = data.conversations || [];
  page.cursor = data.cursor ?? page.cursor;
  page.conversations = mergeConversations(page.conversations, changes);
  await page.store.saveConversations(changes, page.cursor);
  showConversations();
}

function connectHub() {
  const client = new HubClient({
    server: location.origin, token: sessionToken, backoff: { initialMs: 300, maxMs: 3000 }, sameUrlAttempts: 40,
    outbox: page.store.outbox(),
  });
  page.client = client;
  const { store } = page;
  client.addEventListener('state', (e) => showState(e.state, client.url));
  const markRead = () => {
    const cache = page.room && client.room(page.room);
    const last = cache && cache.messages.length ? cache.messages[cache.messages.length - 1].seq : null;
    if (last !== null && document.visibilityState === 'visible') client.markRead(page.room, last);
  };
  client.addEventListener('joined', (e) => {
    if (e.room === page.room) {
      if (e.dropped) showRoom(e.cache.messages);
      else appendMessages(e.added);
      markRead();
    }
    const saved = e.dropped ? store.resetRoom(e.room, e.cache.epoch) : Promise.resolve();
    saved.then(() => store.saveMessages(e.room, e.cache.epoch, e.dropped ? e.cache.messages : e.added));
  });
  client.addEventListener('batch', (e) => {
    page.batches = (page.batches || 0) + 1;
    const byRoom = new Map();
    for (const m of e.messages) byRoom.set(m.room, [...(byRoom.get(m.room) || []), m]);
    for (const [room, messages] of byRoom) store.saveMessages(room, client.room(room).epoch, messages);
    appendMessages(byRoom.get(page.room) || []);
    markRead();
    if (page.role === 'agent') refreshConversations().catch(() => {});
  });
  client.addEventListener('history', (e) => {
    page.loadingOlder = false;
    store.saveMessages(e.room, client.room(e.room).epoch, e.added);
    if (e.room !== page.room) return;
    const first = page.list.items.find((m) => m.seq != null);
    page.list.prepend(e.added.filter((m) => !first || m.seq < first.seq));
  });
  client.addEventListener('reset', (e) => {
    if (e.room === page.room) showRoom([]);
    store.resetRoom(e.room, client.room(e.room).epoch);
  });
  client.addEventListener('rejected', (e) => {
    page.list.remove((m) => m.client_id === e.frame.client_id && !m.id);
    notice(`Not sent: ${e.frame.reason}`);
  });
  client.addEventListener('error', (e) => {
    if (e.frame.client_id) page.list.remove((m) => m.client_id === e.frame.client_id && !m.id);
    notice(e.frame.message);
  });
  return client;
}

/** New messages of the open room: a pending bubble becomes its stored message. */
function appendMessages(messages) {
  const fresh = [];
  for (const m of messages) {
    if (m.client_id && page.list.items.some((it) => !it.id && it.client_id === m.client_id)) {
      page.list.update(`pending-${m.client_id}`, m);
    } else if (!page.list.items.some((it) => it.id === m.id)) {
      fresh.push(m);
    }
  }
  page.list.append(fresh);
}

function send(text, attachments = []) {
  notice('');
  const clientId = page.client.send(page.room, text, attachments);
  page.list.append([{ client_id: clientId, sender: page.user, kind: 'user', text, attachments, pending: true }]);
}

async function start(user, role) {
  Object.assign(page, { user, role });
  $('#who').textContent = `${user} (${role})`;
  $('#signin').hidden = true;
  $('#app').hidden = false;
  page.store = await ChatStore.open(`hangar-chat:${user}`);
  const client = connectHub();
  await client.restoreOutbox();

  // What this browser already has, before any network answer.
  if (role === 'agent') {
    $('#conversations').hidden = false;
    const cached = await page.store.conversations();
    page.conversations = mergeConversations([], cached.conversations);
    page.cursor = cached.cursor;
    showConversations();
  }
  const last = await page.store.get('room');
  if (last) openRoom(last.room, last.title);

  const uploader = new Uploader({ token: sessionToken, store: page.store.uploads(), concurrency: 3 });
  page.uploads = new UploadTray($('#uploads'), uploader, (file, room, instant) => {
    if (instant) page.instantUploads = (page.instantUploads || 0) + 1;
    if (room === page.room) send('', [{ file_id: file.id, name: file.name, size: file.size, content_type: file.content_type }]);
  });
  page.uploads.showUnfinished();

  client.connect();
  if (role === 'customer') {
    const conversation = await api('POST', '/api/conversations');
    if (!last || last.room !== conversation.room) openRoom(conversation.room, 'Customer service');
  } else {
    await refreshConversations();
    setInterval(() => refreshConversations().catch(() => {}), 3000);
  }
}

$('#signin-form').addEventListener('submit', (event) => {
  event.preventDefault();
  start($('#user').value.trim(), $('#role').value).catch((err) => { $('#signin-error').textContent = err.message; });
});

$('#composer').addEventListener('submit', (event) => {
  event.preventDefault();
  const text = $('#text').value.trim();
  if (!text || !page.room) return;
  send(text);
  $('#text').value = '';
});

$('#attach').addEventListener('change', (event) => {
  for (const file of event.target.files) if (page.room) page.uploads.start(file, page.room);
  event.target.value = '';
});

const params = new URLSearchParams(location.search);
if (params.get('user')) start(params.get('user'), params.get('role') || 'customer').catch((err) => { $('#signin-error').textContent = err.message; });

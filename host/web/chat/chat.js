// The customer-service chat page: a customer view (their conversation) and
// an agent view (open conversations with unread counts), on the browser SDK
// served at /sdk/js/.

import { HubClient, VirtualList, mergeConversations } from '/sdk/js/index.js';
import { element } from '/sdk/js/dom.js';

const $ = (selector) => document.querySelector(selector);
const page = { client: null, list: null, room: null, user: null, role: null, token: null, cursor: null, conversations: [] };
window.hangarChat = page; // for tests and debugging

async function api(method, path) {
  const response = await fetch(path, { method, headers: { authorization: `Bearer ${page.token}` } });
  const data = await response.json();
  if (!response.ok) throw new Error(data.error ? data.error.message : response.statusText);
  return data;
}

function row(message) {
  const mine = message.sender === page.user && message.kind === 'user';
  const classes = ['message', mine ? 'mine' : '', message.kind === 'bot' ? 'bot' : '', message.pending ? 'pending' : ''];
  const time = message.time_ms ? new Date(message.time_ms).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' }) : 'sending…';
  const who = message.kind === 'bot' ? `${message.sender} (bot)` : message.sender;
  return element('div', { class: classes.join(' ').trim(), 'data-seq': message.seq ?? '' },
    element('div', { class: 'meta' }, `${who} · ${time}`),
    element('div', { class: 'text' }, message.text));
}

const keyOf = (message) => message.id || `pending-${message.client_id}`;

function showState(state) {
  const node = $('#connection');
  node.textContent = state;
  node.className = `state ${state}`;
}

function notice(text) {
  const node = $('#notice');
  node.textContent = text;
  node.hidden = !text;
}

function openRoom(room, title) {
  page.room = room;
  $('#room-title').textContent = title;
  notice('');
  page.loadingOlder = false;
  page.list = new VirtualList($('#messages'), { render: row, key: keyOf, onTop: loadOlder });
  const cache = page.client.room(room);
  if (cache) page.list.setItems(cache.messages);
  else page.client.join(room);
  for (const li of document.querySelectorAll('#conversation-list li')) li.classList.toggle('selected', li.dataset.room === room);
}

/** Older history when the top of the list comes near. */
function loadOlder() {
  const first = page.list && page.list.items.find((m) => m.seq != null);
  if (!first || first.seq <= 1 || page.loadingOlder) return;
  page.loadingOlder = true;
  page.client.history(page.room, first.seq);
}

async function refreshConversations() {
  const path = page.cursor ? `/api/conversations?cursor=${page.cursor}` : '/api/conversations';
  const data = await api('GET', path);
  page.cursor = data.cursor ?? page.cursor;
  page.conversations = mergeConversations(page.conversations, data.conversations || []);
  const list = $('#conversation-list');
  list.replaceChildren(...page.conversations.filter((c) => c.status !== 'closed').map((c) => element('li', {
    'data-room': c.room, class: c.room === page.room ? 'selected' : '',
    onclick: () => openRoom(c.room, c.customer),
  },
  element('div', { class: 'top' }, c.customer, c.unread ? element('span', { class: 'unread' }, String(c.unread)) : ''),
  element('div', { class: 'last' }, c.last_text || 'no messages yet'))));
}

async function start(user, role) {
  const session = await fetch('/api/session', {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ user, role }),
  }).then((r) => r.json());
  if (!session.token) throw new Error(session.error ? session.error.message : 'no session');
  Object.assign(page, { token: session.token, user, role });
  $('#who').textContent = `${user} (${role})`;
  $('#signin').hidden = true;
  $('#app').hidden = false;

  const client = new HubClient({ server: location.origin, token: session.token, backoff: { initialMs: 300, maxMs: 3000 }, sameUrlAttempts: 40 });
  page.client = client;
  client.addEventListener('state', (e) => showState(e.state));
  const markRead = () => {
    const cache = page.room && client.room(page.room);
    const last = cache && cache.messages.length ? cache.messages[cache.messages.length - 1].seq : null;
    if (last !== null && document.visibilityState === 'visible') client.markRead(page.room, last);
  };
  client.addEventListener('joined', (e) => {
    if (e.room === page.room) { page.list.setItems(e.cache.messages); markRead(); }
  });
  client.addEventListener('batch', (e) => {
    const mine = e.messages.filter((m) => m.room === page.room);
    for (const m of mine) if (m.client_id) page.list.update(`pending-${m.client_id}`, m);
    const fresh = mine.filter((m) => !m.client_id || !page.list.items.some((it) => it.id === m.id));
    page.list.append(fresh);
    markRead();
    if (role === 'agent') refreshConversations().catch(() => {});
  });
  client.addEventListener('history', (e) => {
    page.loadingOlder = false;
    if (e.room !== page.room) return;
    const first = page.list.items.find((m) => m.seq != null);
    page.list.prepend(e.added.filter((m) => !first || m.seq < first.seq));
  });
  client.addEventListener('batch', () => { page.batches = (page.batches || 0) + 1; });
  client.addEventListener('rejected', (e) => {
    page.list.remove((m) => m.client_id === e.frame.client_id && !m.id);
    notice(`Not sent: ${e.frame.reason}`);
  });
  client.addEventListener('error', (e) => notice(e.frame.message));
  await client.connect();
  if (role === 'customer') {
    const conversation = await api('POST', '/api/conversations');
    openRoom(conversation.room, 'Customer service');
  } else {
    $('#conversations').hidden = false;
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
  notice('');
  const clientId = page.client.send(page.room, text);
  page.list.append([{ client_id: clientId, sender: page.user, kind: 'user', text, pending: true }]);
  $('#text').value = '';
});

const params = new URLSearchParams(location.search);
if (params.get('user')) start(params.get('user'), params.get('role') || 'customer').catch((err) => { $('#signin-error').textContent = err.message; });

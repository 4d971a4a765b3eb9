// The browser SDK's HubClient (sdk/js) against the real server, in node
// with the `ws` package standing in for the browser's WebSocket: the server
// is killed and restarted on the same address; the client reconnects on its
// own, resumes its room from the last seq, and delivers a message typed
// while offline exactly once.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { HubClient } from '../../sdk/js/src/index.js';
import { freePort, startServer } from './support.mjs';

function waitFor(target, type, predicate = () => true, ms = 20_000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${type} event in ${ms} ms`)), ms);
    const listener = (event) => {
      if (!predicate(event)) return;
      clearTimeout(timer);
      target.removeEventListener(type, listener);
      resolve(event);
    };
    target.addEventListener(type, listener);
  });
}

test('the client survives a server restart without losing or duplicating a message', async (t) => {
  const port = await freePort();
  let server = await startServer({ port });
  t.after(() => server.child.kill('SIGKILL'));
  const url = server.url;
  const post = async (path, body, token) => {
    const headers = { 'content-type': 'application/json' };
    if (token) headers.authorization = `Bearer ${token}`;
    const response = await fetch(`${url}${path}`, { method: 'POST', headers, body: JSON.stringify(body ?? {}) });
    return response.json();
  };
  const { token } = await post('/api/session', { user: 'alice', role: 'customer' });
  const { room } = await post('/api/conversations', {}, token);

  const client = new HubClient({
    server: url, token, WebSocket, socketOptions: { origin: url },
    backoff: { initialMs: 100, maxMs: 800 }, sameUrlAttempts: 100,
  });
  t.after(() => client.close());
  const states = [];
  client.addEventListener('state', (e) => states.push(e.state));
  const connected = waitFor(client, 'state', (e) => e.state === 'connected');
  await client.connect();
  await connected;
  const joined = waitFor(client, 'joined');
  client.join(room);
  await joined;

  const firstAck = waitFor(client, 'ack');
  client.send(room, 'before the outage');
  await firstAck;

  // The server dies; a message is typed while it is down.
  const lost = waitFor(client, 'state', (e) => e.state === 'reconnecting');
  server.child.kill('SIGKILL');
  await lost;
  const offlineId = client.send(room, 'typed while offline');
  assert.equal(client.unacknowledged().length, 1);

  // It comes back on the same address with the same data.
  const back = waitFor(client, 'state', (e) => e.state === 'connected');
  const offlineAck = waitFor(client, 'ack', (e) => e.frame.client_id === offlineId);
  server = await startServer({ dir: server.dir, port });
  await back;
  await offlineAck;
  assert.equal(client.unacknowledged().length, 0);

  const history = await (await fetch(`${url}/api/rooms/${room}/messages?limit=100`, { headers: { authorization: `Bearer ${token}` } })).json();
  const texts = history.messages.filter((m) => m.kind === 'user').map((m) => m.text);
  assert.deepEqual(texts, ['before the outage', 'typed while offline']);
  // The client's copy: each seq once, in order, including its own messages.
  await new Promise((resolve) => setTimeout(resolve, 300));
  const seqs = client.room(room).messages.map((m) => m.seq);
  assert.deepEqual(seqs, [...new Set(seqs)].sort((a, b) => a - b));
  assert.deepEqual(client.room(room).messages.filter((m) => m.kind === 'user').map((m) => m.text), texts);
  assert.ok(states.includes('reconnecting') && states.at(-1) === 'connected', states.join(' -> '));
});

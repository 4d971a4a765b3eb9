// The chat page's IndexedDB copy: after a reload with the network to the
// API and the hub blocked, the history shows from IndexedDB alone; a
// message typed then waits in the outbox and survives another reload; once
// the network is back the page syncs what it missed and the outbox message
// is delivered once.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { customerAndAgent, screenshots, startServer } from './support.mjs';

test('history shows from IndexedDB before the network answers, then syncs', async (t) => {
  const server = await startServer();
  t.after(() => server.child.kill('SIGKILL'));
  const shots = screenshots();
  const { customer, agent, errors, bubbles, say } = await customerAndAgent(t);

  // A conversation the customer's browser has seen.
  await customer.goto(`${server.url}/chat?user=carol&role=customer`);
  await customer.waitForSelector('#connection.connected');
  await agent.goto(`${server.url}/chat?user=agent-7&role=agent`);
  await agent.waitForSelector('#connection.connected');
  const history = ['My parcel is damaged', 'The box was crushed', 'Can I get a replacement?'];
  for (const text of history) await say(customer, text);
  await customer.locator('.message:not(.pending) .text:has-text("Can I get a replacement?")').waitFor();
  await agent.click('#conversation-list li:has-text("carol")');
  await bubbles(agent, 'Can I get a replacement?').waitFor();
  await say(agent, 'Sorry to hear that, Carol');
  await bubbles(customer, 'Sorry to hear that, Carol').waitFor();
  history.push('Sorry to hear that, Carol');

  // Block the network: API requests are held unanswered, the hub socket
  // is taken by the test and never reaches the server.
  let blocked = true;
  const heldRequests = [];
  const heldSockets = [];
  const apiCalls = [];
  await customer.route('**/api/**', (route) => {
    apiCalls.push(route.request().url());
    if (blocked) heldRequests.push(route); else route.continue();
  });
  const joins = [];
  await customer.routeWebSocket(/\/ws/, (socket) => {
    if (blocked) { heldSockets.push(socket); return; }
    const upstream = socket.connectToServer();
    socket.onMessage((frame) => {
      const parsed = JSON.parse(frame);
      if (parsed.type === 'join') joins.push(parsed);
      upstream.send(frame);
    });
  });

  await customer.reload();
  for (const text of history) await bubbles(customer, text).waitFor({ timeout: 5000 });
  assert.notEqual(await customer.locator('#connection').textContent(), 'connected', 'the hub is not reachable');
  assert.ok(heldRequests.length + heldSockets.length > 0, 'the page did try the network');
  await customer.screenshot({ path: join(shots, 'chat-offline-cache.png') });

  // Typed while blocked: pending, kept in the outbox across a reload.
  await say(customer, 'typed with the network down');
  await customer.locator('.message.pending .text:has-text("typed with the network down")').waitFor();
  await customer.reload();
  await customer.locator('.message.pending .text:has-text("typed with the network down")').waitFor({ timeout: 5000 });
  for (const text of history) assert.equal(await bubbles(customer, text).count(), 1, `"${text}" shown once from the cache`);

  // Meanwhile the agent writes; then the network comes back.
  await say(agent, 'A replacement is on its way');
  await bubbles(agent, 'A replacement is on its way').and(agent.locator('.message:not(.pending) .text')).waitFor();
  blocked = false;
  for (const route of heldRequests.splice(0)) await route.continue().catch(() => {});
  for (const socket of heldSockets.splice(0)) socket.close();

  await customer.waitForSelector('#connection.connected', { timeout: 20_000 });
  await bubbles(customer, 'A replacement is on its way').waitFor({ timeout: 20_000 });
  await customer.locator('.message:not(.pending) .text:has-text("typed with the network down")').waitFor({ timeout: 20_000 });
  await bubbles(agent, 'typed with the network down').waitFor({ timeout: 20_000 });
  await customer.waitForTimeout(500);
  for (const text of [...history, 'A replacement is on its way', 'typed with the network down']) {
    assert.equal(await bubbles(customer, text).count(), 1, `customer shows "${text}" once`);
    assert.equal(await bubbles(agent, text).count(), 1, `agent shows "${text}" once`);
  }
  // The sync asked only for what followed the cached history.
  assert.ok(joins.length >= 1, 'the page joined its room');
  assert.equal(joins[0].last_seq, history.length, `resumed after seq ${history.length}: ${JSON.stringify(joins[0])}`);
  assert.ok(apiCalls.length > 0);
  await customer.screenshot({ path: join(shots, 'chat-synced.png') });
  assert.deepEqual(errors, []);
});

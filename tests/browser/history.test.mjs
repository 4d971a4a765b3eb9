// The chat page's message list with 10,000 messages (imported through the
// admin API, not the rate-limited socket): fewer than 200 rows are ever in
// the DOM while scrolling to the very first message and back; a burst of
// messages renders once per batch frame, not once per message.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ADMIN, browser, screenshots, startServer } from './support.mjs';

test('a long history stays light in the DOM and batches render once', async (t) => {
  const server = await startServer();
  t.after(() => server.child.kill('SIGKILL'));
  const post = async (path, body, token) => {
    const headers = { 'content-type': 'application/json' };
    if (token) headers.authorization = `Bearer ${token}`;
    const response = await fetch(`${server.url}${path}`, { method: 'POST', headers, body: JSON.stringify(body ?? {}) });
    return response.json();
  };
  const { token } = await post('/api/session', { user: 'bob', role: 'customer' });
  const { room } = await post('/api/conversations', {}, token);
  const imported = await post(`/api/admin/rooms/${room}/import`,
    Array.from({ length: 10_000 }, (_, i) => ({ sender: i % 2 ? 'bob' : 'agent-7', text: `archived message ${i + 1}` })), ADMIN);
  assert.equal(imported.imported, 10_000);

  const context = await browser({ width: 1000, height: 800 });
  t.after(() => context.close());
  const page = context.pages()[0] || await context.newPage();
  await page.goto(`${server.url}/chat?user=bob&role=customer`);
  await page.locator('.message .text', { hasText: 'archived message 10000' }).waitFor();
  const rows = () => page.locator('#messages .message').count();
  let most = await rows();

  // Scroll to the top until the first message shows.
  for (let i = 0; i < 400; i += 1) {
    if (await page.locator('.message .text', { hasText: /^archived message 1$/ }).count()) break;
    await page.evaluate(() => { document.querySelector('#messages').scrollTop = 0; });
    await page.waitForTimeout(30);
    most = Math.max(most, await rows());
  }
  await page.locator('.message .text', { hasText: /^archived message 1$/ }).waitFor({ timeout: 5000 });
  // And back to the bottom.
  for (let i = 0; i < 400; i += 1) {
    if (await page.locator('.message .text', { hasText: 'archived message 10000' }).count()) break;
    await page.evaluate(() => { const m = document.querySelector('#messages'); m.scrollTop = m.scrollHeight; });
    await page.waitForTimeout(30);
    most = Math.max(most, await rows());
  }
  await page.locator('.message .text', { hasText: 'archived message 10000' }).waitFor({ timeout: 5000 });
  assert.ok(most < 200, `at most ${most} message rows in the DOM`);
  const cached = await page.evaluate(() => window.hangarChat.list.items.length);
  assert.ok(cached >= 10_000, `${cached} messages in the list`);

  // A burst from another client: one render pass per batch frame.
  const before = await page.evaluate(() => ({ renders: window.hangarChat.list.renders, batches: window.hangarChat.batches || 0 }));
  const agent = await post('/api/session', { user: 'agent-7', role: 'agent' });
  const { default: WebSocket } = await import('ws');
  const socket = new WebSocket(`${server.url.replace('http', 'ws')}/ws?v=1&token=${agent.token}`, { origin: server.url });
  await new Promise((resolve) => socket.once('open', resolve));
  socket.send(JSON.stringify({ type: 'join', room }));
  for (let i = 0; i < 20; i += 1) socket.send(JSON.stringify({ type: 'send', room, client_id: `burst-${i}`, text: `burst ${i}` }));
  await page.locator('.message .text', { hasText: 'burst 19' }).waitFor();
  socket.close();
  const after = await page.evaluate(() => ({ renders: window.hangarChat.list.renders, batches: window.hangarChat.batches || 0 }));
  const batches = after.batches - before.batches;
  assert.ok(batches >= 1 && batches < 20, `${batches} batch frames for 20 messages`);
  assert.equal(after.renders - before.renders, batches, 'one render pass per batch');
  await page.screenshot({ path: join(screenshots(), 'chat-history.png') });
});

// The chat page in headless Chromium: a customer and an agent in two
// browser contexts chat through the real server; the server is killed and
// restarted on the same address, both pages reconnect on their own, and
// nothing is lost or duplicated, including a message typed while offline.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { customerAndAgent, freePort, screenshots, startServer } from './support.mjs';

test('customer and agent chat across a server restart', async (t) => {
  const port = await freePort();
  let server = await startServer({ port });
  t.after(() => server.child.kill('SIGKILL'));
  const shots = screenshots();
  const { customer, agent, errors, bubbles, say } = await customerAndAgent(t);

  // Until a conversation is open there is nowhere to send to: the composer
  // is disabled, so nothing typed that early is dropped. The page's
  // conversation request is held to see that state.
  let release;
  const held = new Promise((resolve) => { release = resolve; });
  await customer.route('**/api/conversations', async (route) => {
    if (route.request().method() === 'POST') await held;
    await route.continue();
  });
  await customer.goto(`${server.url}/chat?user=alice&role=customer`);
  await customer.waitForSelector('#connection.connected');
  for (const control of ['#text', '#send', '#attach']) {
    assert.ok(await customer.locator(control).isDisabled(), `${control} is disabled before the room is open`);
  }
  release();
  // The page says which node it is on.
  assert.equal(await customer.locator('#node').textContent(), `on 127.0.0.1:${port}`);
  await say(customer, 'Hello, my order has not arrived');
  await bubbles(customer, 'Hello, my order has not arrived').locator('xpath=..').and(customer.locator('.message:not(.pending)')).waitFor();

  await agent.goto(`${server.url}/chat?user=agent-1&role=agent`);
  await agent.waitForSelector('#connection.connected');
  await agent.click('#conversation-list li:has-text("alice")');
  await bubbles(agent, 'Hello, my order has not arrived').waitFor();
  await say(agent, 'Hi Alice, let me check that for you');
  await bubbles(customer, 'Hi Alice, let me check that for you').waitFor();

  // Moderation: a rejected message shows a notice; a bot answers "refund".
  await say(customer, 'see scam-link.example');
  await customer.waitForSelector('#notice:has-text("Not sent")');
  await say(customer, 'How do I get a refund?');
  await customer.locator('.message.bot').first().waitFor();

  // The server dies; both pages notice; the customer types anyway.
  server.child.kill('SIGKILL');
  await customer.waitForSelector('#connection.reconnecting');
  await agent.waitForSelector('#connection.reconnecting');
  await say(customer, 'typed while offline');
  await customer.locator('.message.pending .text:has-text("typed while offline")').waitFor();

  server = await startServer({ dir: server.dir, port });
  await customer.waitForSelector('#connection.connected', { timeout: 20_000 });
  await agent.waitForSelector('#connection.connected', { timeout: 20_000 });
  await bubbles(agent, 'typed while offline').waitFor({ timeout: 20_000 });
  await customer.locator('.message:not(.pending) .text:has-text("typed while offline")').waitFor();
  await say(agent, 'Found it: it ships tomorrow');
  await bubbles(customer, 'Found it: it ships tomorrow').waitFor();

  for (const [page, name] of [[customer, 'customer'], [agent, 'agent']]) {
    for (const text of ['Hello, my order has not arrived', 'Hi Alice, let me check that for you', 'typed while offline', 'Found it: it ships tomorrow']) {
      assert.equal(await bubbles(page, text).count(), 1, `${name} shows "${text}" once`);
    }
    assert.equal(await bubbles(page, 'scam-link').count(), 0, `${name}: the rejected message is not shown`);
  }
  await customer.screenshot({ path: join(shots, 'chat-customer.png') });
  await agent.screenshot({ path: join(shots, 'chat-agent.png') });
  assert.deepEqual(errors, []);
});

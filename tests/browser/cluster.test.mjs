// The chat page on a cluster of two nodes (PostgreSQL, S3, NATS): the
// customer's page is served by node A, the agent's by node B, and they chat
// across the nodes. Node A is killed with SIGKILL: the customer's page moves
// to node B through the node list it got from /api/lbs, says so, and
// delivers what was typed meanwhile; nothing is lost or shown twice. The
// admin console shows the version each node runs and flags a node whose
// policy refused one.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ADMIN, PUBLISH, browser, customerAndAgent, hangarBinary, root, screenshots, startCluster,
} from './support.mjs';

const host = (url) => new URL(url).host;

test('the chat page fails over to another node when its node is killed', async (t) => {
  const cluster = await startCluster(2);
  if (cluster.skip) {
    console.log(`skipped: ${cluster.skip}`);
    t.skip(cluster.skip);
    return;
  }
  t.after(() => cluster.stop());
  const [a, b] = cluster.nodes;
  const shots = screenshots();
  const { customer, agent, errors, bubbles, say } = await customerAndAgent(t);

  await customer.goto(`${a.url}/chat?user=erin&role=customer`);
  await customer.waitForSelector('#connection.connected');
  assert.equal(await customer.locator('#node').textContent(), `on ${host(a.url)}`);
  // The page knows both nodes before its node dies.
  await customer.waitForFunction(() => window.hangarChat.client.nodes.length === 2, null, { timeout: 20_000 });
  await agent.goto(`${b.url}/chat?user=agent-5&role=agent`);
  await agent.waitForSelector('#connection.connected');
  assert.equal(await agent.locator('#node').textContent(), `on ${host(b.url)}`);

  // Across the nodes, both ways.
  await say(customer, 'My parcel went to the wrong address');
  await agent.click('#conversation-list li:has-text("erin")', { timeout: 20_000 });
  await bubbles(agent, 'My parcel went to the wrong address').waitFor();
  await say(agent, 'Answered from node B');
  await bubbles(customer, 'Answered from node B').waitFor();

  // Node A dies; the customer types while the page moves to node B.
  const killed = Date.now();
  a.child.kill('SIGKILL');
  await say(customer, 'typed while node A was down');
  await customer.waitForFunction(
    (expected) => document.querySelector('#node').textContent === expected
      && document.querySelector('#connection').classList.contains('connected'),
    `on ${host(b.url)}`,
    { timeout: 20_000, polling: 50 },
  );
  console.log(`the page was connected to node B ${Date.now() - killed} ms after node A was killed`);
  await bubbles(agent, 'typed while node A was down').waitFor({ timeout: 20_000 });
  await customer.locator('.message:not(.pending) .text:has-text("typed while node A was down")').waitFor();
  await say(agent, 'Got it, on node B');
  await bubbles(customer, 'Got it, on node B').waitFor();

  for (const [page, name] of [[customer, 'customer'], [agent, 'agent']]) {
    for (const text of ['My parcel went to the wrong address', 'Answered from node B',
      'typed while node A was down', 'Got it, on node B']) {
      assert.equal(await bubbles(page, text).count(), 1, `${name} shows "${text}" once`);
    }
    // Seqs in order, none twice.
    const seqs = (await page.locator('.message[data-seq]').evaluateAll(
      (nodes) => nodes.map((n) => n.dataset.seq).filter(Boolean).map(Number),
    ));
    assert.deepEqual(seqs, [...new Set(seqs)].sort((x, y) => x - y), `${name}: seqs in order, once each`);
  }
  await customer.screenshot({ path: join(shots, 'cluster-failover-customer.png') });
  assert.deepEqual(errors, []);
});

test('the admin console shows each node\'s version and flags a node that refused one', async (t) => {
  // Node B loads only versions signed by a key nobody signed the demo's
  // plugins with: it runs none of them, and says why.
  const keys = mkdtempSync(join(tmpdir(), 'hangar-keys-'));
  const keygen = spawnSync(hangarBinary(), ['registry', 'keygen', join(keys, 'trusted.pem')], { encoding: 'utf8' });
  assert.equal(keygen.status, 0, keygen.stderr);
  const cluster = await startCluster(2, {
    nodeArgs: [[], ['--require-signatures', '--trusted-publishers', keygen.stdout.trim()]],
  });
  if (cluster.skip) {
    console.log(`skipped: ${cluster.skip}`);
    t.skip(cluster.skip);
    return;
  }
  t.after(() => cluster.stop());
  const [a] = cluster.nodes;
  const v2 = readFileSync(join(root, 'plugins/target/wasm32-wasip2/release/guest_moderation_v2.wasm'));
  const published = await fetch(`${a.url}/registry/v1/packages/keyword-moderation/0.2.0`, {
    method: 'PUT', headers: { authorization: `Bearer ${PUBLISH}` }, body: v2,
  });
  assert.equal(published.status, 201);

  const context = await browser();
  t.after(() => context.close());
  const page = context.pages()[0] || await context.newPage();
  const pageErrors = [];
  page.on('pageerror', (err) => pageErrors.push(err.message));
  await page.goto(`${a.url}/admin`);
  await page.fill('#token', ADMIN);
  await page.click('#login-form button');
  const row = page.locator('#cluster tr[data-plugin="keyword-moderation"]');
  await row.waitFor({ timeout: 20_000 });
  assert.deepEqual(await page.locator('#cluster thead th').allTextContents(),
    ['Plugin', 'Saved version', 'node-a', 'node-b']);
  assert.equal(await row.locator('td[data-node="node-a"] .pill.live').textContent(), '0.1.0');
  // Node B may still be recording its first attempt: wait for its verdict.
  const refused = row.locator('td[data-node="node-b"]');
  await refused.locator('.pill.failed').waitFor({ timeout: 20_000 });
  assert.match(await refused.getAttribute('title'), /not signed/);
  assert.match(await page.locator('#cluster-summary').textContent(), /^2 live nodes · \d+ plugins not everywhere$/);

  // Activated through node A's console: the answer names the node that
  // did not follow, and why.
  await page.locator('#plugins tr[data-plugin="keyword-moderation"] select').selectOption('0.2.0');
  await page.locator('#plugins tr[data-plugin="keyword-moderation"] button[data-action="activate"]').click();
  const message = page.locator('#plugin-message.error');
  await message.waitFor({ timeout: 40_000 });
  assert.match(await message.textContent(), /keyword-moderation 0\.2\.0 active.*not applied on node-b \(.*not signed/);
  await page.waitForSelector('#cluster tr[data-plugin="keyword-moderation"] td.version:has-text("0.2.0")');
  assert.equal(await row.locator('td[data-node="node-a"] .pill.live').textContent(), '0.2.0');
  await row.locator('td[data-node="node-b"] .pill.failed').waitFor();
  await page.screenshot({ path: join(screenshots(), 'admin-cluster.png'), fullPage: true });
  assert.deepEqual(pageErrors, []);
});

// Files in the chat page, in headless Chromium against the real server: an
// image shows as a preview on the other side; a 30 MiB file sent with the
// network throttled (DevTools network conditions) is interrupted by a
// reload, resumed with only the missing chunks (counted in the server's
// log), then sent again instantly; an upload can be cancelled.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { customerAndAgent, screenshots, startServer } from './support.mjs';

const MiB = 1024 * 1024;

/** `chunk received` lines of the server log: upload id, index, stored. */
function chunkLog(logs) {
  return logs
    .map((line) => line.match(/chunk received.*upload=(\S+).*index=(\d+).*stored=(true|false)/))
    .filter(Boolean)
    .map(([, upload, index, stored]) => ({ upload, index: Number(index), stored: stored === 'true' }));
}

async function throttle(context, page, bytesPerSecond) {
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.emulateNetworkConditions', {
    offline: false, latency: 20, downloadThroughput: -1, uploadThroughput: bytesPerSecond,
  });
  return cdp;
}

test('attachments: preview, throttled upload resumed after a reload, instant re-upload, cancel', async (t) => {
  const server = await startServer({ log: 'warn,hangar_host::upload=info' });
  t.after(() => server.child.kill('SIGKILL'));
  const shots = screenshots();
  const files = mkdtempSync(join(tmpdir(), 'hangar-files-'));
  const { customer, agent, customerContext, errors } = await customerAndAgent(t);

  await customer.goto(`${server.url}/chat?user=dave&role=customer`);
  await customer.waitForSelector('#connection.connected');
  await customer.fill('#text', 'Here are the files you asked for');
  await customer.click('#send');
  await agent.goto(`${server.url}/chat?user=agent-2&role=agent`);
  await agent.waitForSelector('#connection.connected');
  await agent.click('#conversation-list li:has-text("dave")');
  await agent.locator('.message .text:has-text("Here are the files you asked for")').waitFor();

  // An image: the agent sees it as a preview, loaded through a signed URL.
  const png = join(files, 'receipt.png');
  writeFileSync(png, await agent.screenshot({ clip: { x: 0, y: 0, width: 320, height: 200 } }));
  await customer.setInputFiles('#attach', png);
  const preview = agent.locator('img.preview[alt="receipt.png"]');
  await preview.waitFor({ timeout: 20_000 });
  await agent.waitForFunction(() => {
    const img = document.querySelector('img.preview[alt="receipt.png"]');
    return img && img.complete && img.naturalWidth === 320;
  }, null, { timeout: 20_000 });

  // 30 MiB at 4 MiB/s: interrupted by a reload once three chunks are in.
  const big = join(files, 'lecture-notes.zip');
  const bytes = randomBytes(30 * MiB);
  bytes.set([0x50, 0x4b, 0x03, 0x04]);
  writeFileSync(big, bytes);
  const logStart = chunkLog(server.logs).length;
  await throttle(customerContext, customer, 4 * MiB);
  await customer.setInputFiles('#attach', big);
  const row = customer.locator('.upload[data-name="lecture-notes.zip"]');
  await row.and(customer.locator('[data-state="uploading"]')).waitFor({ timeout: 20_000 });
  await customer.waitForFunction(() => {
    const node = document.querySelector('.upload[data-name="lecture-notes.zip"]');
    return node && Number(node.dataset.chunksDone) >= 1;
  }, null, { timeout: 30_000 });
  await customer.screenshot({ path: join(shots, 'chat-upload-progress.png') });
  const progress = await row.locator('progress').evaluate((bar) => bar.value);
  assert.ok(progress > 0 && progress < 1, `midway: ${progress}`);
  await customer.reload();
  await customer.locator('.upload.interrupted[data-name="lecture-notes.zip"]').waitFor({ timeout: 10_000 });
  // Requests cut by the reload are dropped by the server, never stored.
  await customer.waitForTimeout(1000);
  const beforeReload = chunkLog(server.logs).slice(logStart);
  const stored = new Set(beforeReload.filter((c) => c.stored).map((c) => c.index));
  const uploadId = beforeReload[0].upload;
  assert.ok(stored.size >= 1, `chunks stored before the reload: ${[...stored]}`);

  await throttle(customerContext, customer, 4 * MiB);
  await customer.setInputFiles('#attach', big);
  const fileLink = (page) => page.locator('a.file:has-text("lecture-notes.zip")');
  await fileLink(agent).first().waitFor({ timeout: 60_000 });
  await fileLink(customer).first().waitFor({ timeout: 20_000 });
  const all = chunkLog(server.logs).slice(logStart);
  const afterReload = all.slice(beforeReload.length);
  assert.ok(all.every((c) => c.upload === uploadId), 'one upload, resumed');
  assert.ok(afterReload.length > 0, 'the rest was sent after the reload');
  for (const chunk of afterReload) {
    assert.ok(!stored.has(chunk.index), `chunk ${chunk.index} was stored before the reload and sent again`);
    assert.ok(chunk.stored, `chunk ${chunk.index} sent twice`);
  }
  const indexes = all.map((c) => c.index).sort((a, b) => a - b);
  assert.deepEqual(indexes, [...new Set(indexes)], 'every chunk sent once');
  assert.deepEqual(indexes, Array.from({ length: indexes.length }, (_, i) => i), 'every chunk of the file');
  const link = await fileLink(agent).first().getAttribute('href');
  assert.match(link, /^\/files\/f_[^?]+\?expires=\d+&sig=[0-9a-f]+$/);
  const download = await agent.evaluate(async (href) => {
    const response = await fetch(href);
    return { status: response.status, size: (await response.arrayBuffer()).byteLength };
  }, link);
  assert.deepEqual(download, { status: 200, size: 30 * MiB });

  // The same file again: hashed again (in the worker: the page's thread
  // has no long task meanwhile), then instant, nothing sent.
  const chunkLines = chunkLog(server.logs).length;
  await customer.evaluate(() => {
    window.longTasks = [];
    new PerformanceObserver((list) => window.longTasks.push(...list.getEntries().map((e) => e.duration)))
      .observe({ type: 'longtask' });
  });
  await customer.setInputFiles('#attach', big);
  await customer.waitForFunction(() => window.hangarChat.instantUploads === 1, null, { timeout: 30_000 });
  const longTasks = await customer.evaluate(() => window.longTasks);
  assert.ok(longTasks.every((ms) => ms < 200), `long tasks while hashing 30 MiB: ${longTasks}`);
  await fileLink(agent).nth(1).waitFor({ timeout: 20_000 });
  assert.equal(chunkLog(server.logs).length, chunkLines, 'no chunk sent for an instant upload');
  assert.ok(server.logs.some((line) => line.includes('instant upload')), 'the server logged the instant upload');
  await customer.screenshot({ path: join(shots, 'chat-upload-customer.png') });
  await agent.screenshot({ path: join(shots, 'chat-upload-agent.png') });

  // Cancel: the row goes and the server forgets the upload.
  const draft = join(files, 'draft.zip');
  writeFileSync(draft, Buffer.concat([Buffer.from([0x50, 0x4b, 0x03, 0x04]), randomBytes(12 * MiB)]));
  await customer.setInputFiles('#attach', draft);
  const draftRow = customer.locator('.upload[data-name="draft.zip"]');
  await draftRow.and(customer.locator('[data-state="uploading"]')).waitFor({ timeout: 20_000 });
  await draftRow.locator('button:has-text("Cancel")').click();
  await draftRow.waitFor({ state: 'detached', timeout: 10_000 });
  const status = await customer.evaluate(async () => {
    const { token } = JSON.parse(localStorage.getItem('hangar-session:dave:customer'));
    const response = await fetch(`/api/uploads/${window.hangarChat.uploads.last.upload.id}`, { headers: { authorization: `Bearer ${token}` } });
    return response.status;
  });
  assert.equal(status, 404, 'the cancelled upload is gone from the server');
  assert.deepEqual(errors, []);
});

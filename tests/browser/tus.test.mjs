// The tus endpoint with other projects' clients, unchanged: tus-js-client in
// Node, tuspy (Python) and Uppy with its tus plugin in headless Chromium on
// another origin. Each is interrupted and resumed; a wrong checksum is
// refused with 460; Uppy's file is then sent in the chat and shows there
// as an attachment.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import tus from 'tus-js-client';
import { browser, customerAndAgent, freePort, root, screenshots, startServer } from './support.mjs';

const MiB = 1024 * 1024;

async function session(url, user, role = 'customer') {
  const answer = await fetch(`${url}/api/session`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ user, role }),
  });
  assert.equal(answer.status, 200);
  return (await answer.json()).token;
}

/** The stored offset of the tus upload at `uploadUrl`. */
async function offsetOf(uploadUrl, token) {
  const answer = await fetch(uploadUrl, {
    method: 'HEAD', headers: { authorization: `Bearer ${token}`, 'tus-resumable': '1.0.0' },
  });
  assert.equal(answer.status, 200);
  return Number(answer.headers.get('upload-offset'));
}

/** The bytes of file `id`, read as `token`'s holder. */
async function download(url, id, token) {
  const answer = await fetch(`${url}/files/${id}`, { headers: { authorization: `Bearer ${token}` } });
  assert.equal(answer.status, 200);
  return Buffer.from(await answer.arrayBuffer());
}

const sha256 = (bytes) => createHash('sha256').update(bytes).digest('hex');

/**
 * The offset of the upload at `uploadUrl` once it stops moving: a request
 * a client cut off still has the bytes that reached the server recorded,
 * a moment after the client gave up on it.
 */
async function settledOffset(uploadUrl, token) {
  let offset = await offsetOf(uploadUrl, token);
  for (let i = 0; i < 20; i += 1) {
    await new Promise((resolve) => { setTimeout(resolve, 400); });
    const now = await offsetOf(uploadUrl, token);
    if (now === offset) return offset;
    offset = now;
  }
  return offset;
}

test('tus-js-client: interrupted, resumed from the stored offset; a wrong checksum is refused', async (t) => {
  const server = await startServer();
  t.after(() => server.child.kill('SIGKILL'));
  const token = await session(server.url, 'erin');
  const data = randomBytes(12 * MiB);
  const options = {
    endpoint: `${server.url}/api/tus`,
    headers: { authorization: `Bearer ${token}` },
    chunkSize: 2 * MiB,
    retryDelays: null,
    metadata: { filename: 'statement.txt', filetype: 'text/plain' },
  };

  // Stopped once 5 MiB went out.
  const uploadUrl = await new Promise((resolve, reject) => {
    let stopped = false;
    const upload = new tus.Upload(data, {
      ...options,
      onProgress: (sent) => {
        if (sent >= 5 * MiB && !stopped) {
          stopped = true;
          upload.abort().then(() => resolve(upload.url), reject);
        }
      },
      onError: reject,
      onSuccess: () => reject(new Error('finished before it was stopped')),
    });
    upload.start();
  });
  const stored = await settledOffset(uploadUrl, token);
  assert.ok(stored >= 4 * MiB && stored < data.length, `stored after the stop: ${stored}`);

  // A new client resumes from the upload's URL: it asks the offset first.
  const requests = [];
  const fileId = await new Promise((resolve, reject) => {
    const upload = new tus.Upload(data, {
      ...options,
      uploadUrl,
      onBeforeRequest: (req) => { requests.push(`${req.getMethod()} ${req.getHeader('Upload-Offset') ?? ''}`); },
      onError: reject,
      onSuccess: ({ lastResponse }) => resolve(lastResponse.getHeader('hangar-file-id')),
    });
    upload.start();
  });
  assert.equal(requests[0], 'HEAD ');
  assert.equal(requests[1], `PATCH ${stored}`, requests.join(', '));
  assert.match(fileId, /^f_[0-9a-f]{32}$/);
  assert.equal(sha256(await download(server.url, fileId, token)), sha256(data));

  // A checksum that does not match the bytes: 460, nothing kept.
  const wrong = createHash('sha1').update('other bytes').digest('base64');
  const refused = await new Promise((resolve, reject) => {
    const upload = new tus.Upload(randomBytes(MiB), {
      ...options,
      onBeforeRequest: (req) => { if (req.getMethod() === 'PATCH') req.setHeader('Upload-Checksum', `sha1 ${wrong}`); },
      onError: (err) => resolve({ status: err.originalResponse?.getStatus(), url: upload.url }),
      onSuccess: () => reject(new Error('a wrong checksum was accepted')),
    });
    upload.start();
  });
  assert.equal(refused.status, 460);
  assert.equal(await offsetOf(refused.url, token), 0);
});

test('tuspy: interrupted, resumed; a wrong checksum is refused', async (t) => {
  const python = process.env.HANGAR_TEST_PYTHON;
  if (!python) {
    t.skip('HANGAR_TEST_PYTHON (a Python with tuspy) is unset: scripts/test.sh sets it');
    return;
  }
  const server = await startServer();
  t.after(() => server.child.kill('SIGKILL'));
  const token = await session(server.url, 'pat');
  const run = spawnSync(python, [join(root, 'tests/tus/tuspy_client.py'), server.url, token], {
    encoding: 'utf8', timeout: 120_000,
  });
  assert.equal(run.status, 0, run.stderr);
  const got = JSON.parse(run.stdout);
  assert.equal(got.resumed_from, 2 * MiB);
  assert.equal(got.mismatch_status, 460);
  assert.equal(got.offset_after_mismatch, 0);
  assert.equal(sha256(await download(server.url, got.file_id, token)), got.sha256);
});

/** The same bytes in Node and in the page: byte i of a file of `n`. */
function patterned(n) {
  const out = Buffer.alloc(n);
  for (let i = 0; i < n; i += 1) out[i] = (i * 31 + (i >> 11)) & 255;
  return out;
}

/** A page on an origin of its own that uploads with Uppy and posts to the chat. */
function uppyOrigin() {
  const bundle = readFileSync(join(root, 'tests/browser/node_modules/uppy/dist/uppy.min.js'));
  const page = `<!doctype html><meta charset="utf-8"><title>Uppy</title>
<script src="/uppy.min.js"></script>
<script>
const params = new URLSearchParams(location.search);
const hangar = params.get('hangar');
const token = params.get('token');
const size = Number(params.get('size'));
const bytes = new Uint8Array(size);
for (let i = 0; i < size; i += 1) bytes[i] = (i * 31 + (i >> 11)) & 255;
window.state = { sent: 0 };
const uppy = new Uppy.Uppy({ autoProceed: false });
uppy.use(Uppy.Tus, {
  endpoint: hangar + '/api/tus',
  headers: { authorization: 'Bearer ' + token },
  chunkSize: 512 * 1024,
  retryDelays: [0, 500, 1000],
  onAfterResponse: (req, res) => {
    const id = res.getHeader('hangar-file-id');
    if (id) window.state.fileId = id;
  },
});
uppy.on('upload-progress', (file, progress) => { window.state.sent = progress.bytesUploaded; });
uppy.on('upload-success', (file, response) => { window.state.uploadURL = response.uploadURL; });
uppy.on('upload-error', (file, err) => { window.state.error = String(err); });
window.fileKey = uppy.addFile({ name: 'notes.txt', type: 'text/plain', data: new Blob([bytes], { type: 'text/plain' }) });
window.uppy = uppy;
/** Sends the uploaded file to the customer's conversation. */
window.post = (room) => new Promise((resolve, reject) => {
  const socket = new WebSocket(hangar.replace('http', 'ws') + '/ws?v=1&token=' + token);
  socket.onerror = () => reject(new Error('socket error'));
  socket.onmessage = (event) => {
    const frame = JSON.parse(event.data);
    if (frame.type === 'welcome') socket.send(JSON.stringify({ type: 'join', room }));
    if (frame.type === 'joined') {
      socket.send(JSON.stringify({ type: 'send', room, client_id: 'uppy-1', text: 'The notes, via Uppy',
        attachments: [{ file_id: window.state.fileId, name: 'notes.txt', size, content_type: 'text/plain' }] }));
    }
    if (frame.type === 'ack') { socket.close(); resolve(frame); }
    if (frame.type === 'error' || frame.type === 'rejected') reject(new Error(JSON.stringify(frame)));
  };
});
</script>`;
  const server = createServer((req, res) => {
    if (req.url.startsWith('/uppy.min.js')) {
      res.writeHead(200, { 'content-type': 'text/javascript' });
      res.end(bundle);
    } else {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(page);
    }
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

test('Uppy on another origin: paused, resumed, then sent in the chat as an attachment', async (t) => {
  const site = await uppyOrigin();
  t.after(() => site.close());
  const siteUrl = `http://127.0.0.1:${site.address().port}`;
  // The server's own pages (the agent's chat) and the Uppy page's origin.
  const port = await freePort();
  const server = await startServer({ port, args: ['--allowed-origins', `${siteUrl},http://127.0.0.1:${port}`] });
  t.after(() => server.child.kill('SIGKILL'));
  const token = await session(server.url, 'dave');
  const opened = await fetch(`${server.url}/api/conversations`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
  assert.equal(opened.status, 200);
  const { room } = await opened.json();
  const shots = screenshots();

  const context = await browser({ width: 900, height: 600 });
  t.after(() => context.close());
  const page = context.pages()[0] || await context.newPage();
  const errors = [];
  page.on('pageerror', (err) => errors.push(err.message));
  // 6 MiB at 1 MiB/s: slow enough to pause midway.
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.emulateNetworkConditions', {
    offline: false, latency: 10, downloadThroughput: -1, uploadThroughput: MiB,
  });
  const size = 6 * MiB;
  await page.goto(`${siteUrl}/?hangar=${encodeURIComponent(server.url)}&token=${token}&size=${size}`);
  await page.evaluate(() => { window.uppy.upload(); });
  await page.waitForFunction(() => window.state.sent >= 2 * 1024 * 1024, null, { timeout: 30_000 });
  await page.evaluate(() => window.uppy.pauseResume(window.fileKey));
  const uploadUrl = await page.evaluate(() => window.uppy.getFile(window.fileKey).tus.uploadUrl);
  // Once the request the pause cut off is recorded, nothing more arrives.
  const paused = await settledOffset(uploadUrl, token);
  assert.ok(paused > 0 && paused < size, `stored while paused: ${paused}`);
  await new Promise((resolve) => { setTimeout(resolve, 700); });
  assert.equal(await offsetOf(uploadUrl, token), paused, 'bytes arrived while paused');

  await cdp.send('Network.emulateNetworkConditions', {
    offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1,
  });
  await page.evaluate(() => window.uppy.pauseResume(window.fileKey));
  await page.waitForFunction(() => window.state.uploadURL && window.state.fileId, null, { timeout: 30_000 });
  const state = await page.evaluate(() => window.state);
  assert.equal(state.error, undefined);
  assert.equal(state.uploadURL, uploadUrl);
  const bytes = await download(server.url, state.fileId, token);
  assert.equal(sha256(bytes), sha256(patterned(size)));

  // Sent in the customer's conversation, it shows on the agent's side as a
  // file whose link downloads these bytes.
  const ack = await page.evaluate((r) => window.post(r), room);
  assert.equal(ack.room, room);
  assert.deepEqual(errors, []);
  const { agent } = await customerAndAgent(t);
  await agent.goto(`${server.url}/chat?user=agent-7&role=agent`);
  await agent.waitForSelector('#connection.connected');
  await agent.click('#conversation-list li:has-text("dave")');
  const link = agent.locator(`a.file[data-file="${state.fileId}"]`);
  await link.waitFor({ timeout: 10_000 });
  assert.equal(await link.locator('.file-name').textContent(), 'notes.txt');
  await agent.waitForFunction((id) => document.querySelector(`a.file[data-file="${id}"]`)?.getAttribute('href'), state.fileId);
  const href = await link.getAttribute('href');
  const signed = await fetch(new URL(href, server.url));
  assert.equal(signed.status, 200);
  assert.equal(sha256(Buffer.from(await signed.arrayBuffer())), sha256(bytes));
  await agent.screenshot({ path: join(shots, 'chat-tus-attachment.png') });
});

// The admin console in headless Chromium against the real demo server:
// sign in, watch a live alert arrive, activate version 0.2.0 of
// keyword-moderation from the page, and see the next chat message follow
// the new rule on a WebSocket that never reconnected.
//
// Needs the debug `hangar` binary and the built guests (./scripts/test.sh
// builds both) and Debian's chromium (HANGAR_CHROMIUM overrides the path).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import WebSocket from 'ws';
import { ADMIN, PUBLISH, browser, root, screenshots, startServer } from './support.mjs';

async function json(method, url, { token, body } = {}) {
  const headers = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null };
}

/// The admin console at `url`, signed in with the admin token; its page
/// errors are collected.
async function signedIn(t, url) {
  const context = await browser();
  t.after(() => context.close());
  const page = context.pages()[0] || await context.newPage();
  const pageErrors = [];
  page.on('pageerror', (err) => pageErrors.push(err.message));
  await page.goto(`${url}/admin`);
  await page.fill('#token', ADMIN);
  await page.click('#login-form button');
  return { page, pageErrors };
}

/// A chat client that records every frame and never reconnects.
function connect(url, token) {
  const socket = new WebSocket(`${url.replace('http', 'ws')}/ws?v=1&token=${token}`, { origin: url });
  const frames = [];
  const waiters = [];
  let closed = false;
  socket.on('message', (data) => {
    const frame = JSON.parse(data.toString());
    frames.push(frame);
    for (const waiter of waiters.splice(0)) waiter();
  });
  socket.on('close', () => { closed = true; });
  const next = async (predicate, what) => {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const found = frames.find(predicate);
      if (found) { frames.splice(frames.indexOf(found), 1); return found; }
      if (Date.now() > deadline) throw new Error(`no ${what} frame; have ${JSON.stringify(frames)}`);
      await new Promise((resolve) => { waiters.push(resolve); setTimeout(resolve, 200); });
    }
  };
  return {
    socket, next, isClosed: () => closed,
    send: (frame) => socket.send(JSON.stringify(frame)),
    opened: new Promise((resolve, reject) => { socket.on('open', resolve); socket.on('error', reject); }),
  };
}

test('admin console activates a new version that the next chat message follows', async (t) => {
  const { child, url } = await startServer();
  t.after(() => child.kill('SIGKILL'));

  // keyword-moderation 0.2.0 in the registry; 0.1.0 is active.
  const v2 = readFileSync(join(root, 'plugins/target/wasm32-wasip2/release/guest_moderation_v2.wasm'));
  const published = await fetch(`${url}/registry/v1/packages/keyword-moderation/0.2.0`, {
    method: 'PUT', headers: { authorization: `Bearer ${PUBLISH}` }, body: v2,
  });
  assert.equal(published.status, 201);

  const { body: session } = await json('POST', `${url}/api/session`, { body: { user: 'alice', role: 'customer' } });
  const { body: conversation } = await json('POST', `${url}/api/conversations`, { token: session.token });
  const room = conversation.room;
  const chat = connect(url, session.token);
  await chat.opened;
  await chat.next((f) => f.type === 'welcome', 'welcome');
  chat.send({ type: 'join', room });
  await chat.next((f) => f.type === 'joined', 'joined');
  const say = async (id, text) => {
    chat.send({ type: 'send', room, client_id: id, text });
    return chat.next((f) => f.client_id === id, `answer to ${id}`);
  };
  const stored = async () => {
    const { body } = await json('GET', `${url}/api/rooms/${room}/messages?limit=100`, { token: session.token });
    return body.messages.filter((m) => m.kind === 'user').map((m) => m.text);
  };

  assert.equal((await say('before', 'card 4111111111111111')).type, 'ack');
  assert.deepEqual(await stored(), ['card 4111111111111111']);

  const context = await browser();
  t.after(() => context.close());
  const page = context.pages()[0] || await context.newPage();
  const pageErrors = [];
  page.on('pageerror', (err) => pageErrors.push(err.message));

  await page.goto(`${url}/admin`);
  await page.fill('#token', 'wrong-token-0123456789');
  await page.click('#login-form button');
  await page.waitForSelector('#login-error:has-text("wrong admin token")');
  await page.fill('#token', ADMIN);
  await page.click('#login-form button');
  const row = page.locator('tr[data-plugin="keyword-moderation"]');
  await row.waitFor();
  assert.equal((await row.locator('.version').textContent()).trim(), '0.1.0');
  await page.waitForSelector('#alerts-live:has-text("live")');

  // A flagged message shows up in the live alert feed.
  assert.equal((await say('flag', 'I will call my lawyer')).type, 'ack');
  await page.waitForSelector('#alerts li:has-text("lawyer")');

  // Activate 0.2.0 from the page: it answers with a job, which the
  // console follows to its end.
  const followed = [];
  page.on('response', (r) => { if (r.url().includes('/api/admin/jobs/')) followed.push(r.status()); });
  await row.locator('select').selectOption('0.2.0');
  await row.locator('button[data-action="activate"]').click();
  await page.waitForSelector('#plugin-message:has-text("keyword-moderation 0.2.0 active")');
  assert.ok(followed.length > 0 && followed.every((s) => s === 200), `job polls: ${followed}`);
  await page.waitForSelector('tr[data-plugin="keyword-moderation"] .version:has-text("0.2.0")');
  await page.screenshot({ path: join(screenshots(), 'admin-console.png'), fullPage: true });

  // The same connection: the next message follows the new rule.
  assert.equal((await say('after', 'card 4111111111111111')).type, 'ack');
  const texts = await stored();
  assert.equal(texts.at(-1), 'card ****************');
  assert.equal(chat.isClosed(), false, 'the chat client never reconnected');

  // Roll back from the page: 0.1.0 answers again.
  await row.locator('button[data-action="rollback"]').click();
  await page.waitForSelector('tr[data-plugin="keyword-moderation"] .version:has-text("0.1.0")');
  assert.equal((await say('back', 'card 4111111111111111')).type, 'ack');
  assert.equal((await stored()).at(-1), 'card 4111111111111111');
  assert.deepEqual(pageErrors, []);
  chat.socket.close();
});

test('admin console re-enables a material that failing renders quarantined', async (t) => {
  const { child, url } = await startServer();
  t.after(() => child.kill('SIGKILL'));
  const evil = readFileSync(join(root, 'plugins/target/wasm32-wasip2/release/guest_material_evil.wasm'));
  const published = await fetch(`${url}/registry/v1/packages/evil/0.1.0`, {
    method: 'PUT', headers: { authorization: `Bearer ${PUBLISH}` }, body: evil,
  });
  assert.equal(published.status, 201);
  const render = (props) => json('POST', `${url}/api/materials/evil/render`, { body: props });
  for (let i = 0; i < 5; i += 1) assert.equal((await render({ mode: 'trap' })).status, 502);
  const refused = await render({ mode: 'script' });
  assert.match(refused.body.error.message, /quarantined/);

  const { page, pageErrors } = await signedIn(t, url);
  const row = page.locator('tr[data-material="evil"]');
  await row.locator('.pill:has-text("quarantined")').waitFor();
  await row.locator('button[data-action="reenable"]').click();
  await page.waitForSelector('#material-message:has-text("evil@0.1.0 re-enabled")');
  await row.locator('.pill:has-text("active")').waitFor();
  assert.equal((await render({ mode: 'script' })).status, 200);
  assert.deepEqual(pageErrors, []);
});

test('admin console changes a plugin\'s runtime settings', async (t) => {
  const { child, url } = await startServer();
  t.after(() => child.kill('SIGKILL'));
  const { page, pageErrors } = await signedIn(t, url);
  const row = page.locator('tr[data-plugin="faq-bot"]');
  await row.waitFor();
  await row.locator('button[data-action="settings"]').click();
  await page.waitForSelector('#settings-name:has-text("faq-bot")');
  assert.equal(await page.inputValue('#settings-isolation'), 'per-call');

  // Pooled with a longer deadline: saved as overrides, the rest untouched.
  await page.selectOption('#settings-isolation', 'pooled');
  await page.fill('#settings-max-uses', '100');
  await page.fill('#settings-max-idle', '2');
  await page.fill('#settings-deadline', '450');
  await page.click('#settings-save');
  await page.waitForSelector('#settings-message:has-text("saved")');
  const settingsUrl = `${url}/api/admin/plugins/faq-bot/settings`;
  let { body } = await json('GET', settingsUrl, { token: ADMIN });
  assert.deepEqual(body.overrides, {
    isolation: { mode: 'pooled', max_uses: 100, max_idle: 2 },
    deadline_ms: 450,
  });

  // More memory than the engine pool's slots hold: refused, shown, kept as it was.
  await page.fill('#settings-memory', '4096');
  await page.click('#settings-save');
  await page.waitForSelector('#settings-message.error:has-text("limits.memory_bytes")');
  ({ body } = await json('GET', settingsUrl, { token: ADMIN }));
  assert.equal(body.overrides.memory_bytes, undefined);
  await page.screenshot({ path: join(screenshots(), 'admin-settings.png'), fullPage: true });

  // Back to the defaults.
  await page.click('#settings-reset');
  await page.waitForSelector('#settings-message:has-text("saved")');
  assert.equal(await page.inputValue('#settings-isolation'), 'per-call');
  ({ body } = await json('GET', settingsUrl, { token: ADMIN }));
  assert.deepEqual(body.overrides, {});
  assert.deepEqual(pageErrors, []);
});

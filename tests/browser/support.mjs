// Shared by the browser tests: the demo server and a headless Chromium.

import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const root = fileURLToPath(new URL('../..', import.meta.url));
export const ADMIN = 'admin-token-browser-0123456789';
export const PUBLISH = 'publish-token-browser-0123456789';

/// A port free right now, for a server that must come back on the same one.
export function freePort() {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

/// Starts `hangar serve --demo` (a fresh data directory and a free port
/// unless given) and resolves once it listens. With `log` (a RUST_LOG
/// filter) the server's log lines are collected in `logs`.
export function startServer({ dir = mkdtempSync(join(tmpdir(), 'hangar-browser-')), port = 0, log = null } = {}) {
  const binary = process.env.HANGAR_BIN || join(root, 'target/debug/hangar');
  const child = spawn(binary, [
    'serve', '--demo', '--listen', `127.0.0.1:${port}`, '--data-dir', join(dir, 'data'),
    '--plugins-dir', join(root, 'plugins'), '--cache-dir', join(root, 'target/hangar-test-cache'),
    '--admin-token', ADMIN, '--publish-tokens', `ci=${PUBLISH}`,
  ], {
    stdio: ['ignore', 'pipe', log ? 'pipe' : 'inherit'],
    env: { ...process.env, RUST_LOG: log || 'warn', NO_COLOR: '1' },
  });
  const logs = [];
  if (log) {
    let partial = '';
    child.stderr.on('data', (chunk) => {
      const lines = (partial + chunk).split('\n');
      partial = lines.pop();
      logs.push(...lines);
    });
  }
  return new Promise((resolve, reject) => {
    let buffered = '';
    const timer = setTimeout(() => reject(new Error('server did not start in 60 s')), 60_000);
    child.stdout.on('data', (chunk) => {
      buffered += chunk;
      const match = buffered.match(/listening on (http:\/\/\S+)/);
      if (match) { clearTimeout(timer); resolve({ child, url: match[1], dir, logs }); }
    });
    child.on('exit', (code) => reject(new Error(`server exited with ${code}`)));
  });
}

/// Debian's chromium, headless, with a fresh profile and no calls home.
export async function browser(viewport = { width: 1360, height: 1000 }) {
  const profile = mkdtempSync(join(tmpdir(), 'hangar-chromium-'));
  return chromium.launchPersistentContext(profile, {
    executablePath: process.env.HANGAR_CHROMIUM || '/usr/bin/chromium',
    headless: true,
    viewport,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/// Where screenshots go (`target/browser`), created.
export function screenshots() {
  const dir = join(root, 'target/browser');
  mkdirSync(dir, { recursive: true });
  return dir;
}

/// A customer and an agent, each in a browser of their own (closed after
/// the test), with the page errors they hit and chat helpers.
export async function customerAndAgent(t) {
  const customerContext = await browser({ width: 900, height: 760 });
  const agentContext = await browser({ width: 1100, height: 760 });
  t.after(() => customerContext.close());
  t.after(() => agentContext.close());
  const customer = customerContext.pages()[0] || await customerContext.newPage();
  const agent = agentContext.pages()[0] || await agentContext.newPage();
  const errors = [];
  for (const page of [customer, agent]) page.on('pageerror', (err) => errors.push(err.message));
  return {
    customer,
    agent,
    customerContext,
    errors,
    /** The text of the message bubbles of `page` holding `text`. */
    bubbles: (page, text) => page.locator('.message .text', { hasText: text }),
    /** Types `text` into the composer of `page` and sends it. */
    say: async (page, text) => { await page.fill('#text', text); await page.click('#send'); },
  };
}

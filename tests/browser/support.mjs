// Shared by the browser tests: the demo server and a headless Chromium.

import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
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
/// unless given) and resolves once it listens.
export function startServer({ dir = mkdtempSync(join(tmpdir(), 'hangar-browser-')), port = 0 } = {}) {
  const binary = process.env.HANGAR_BIN || join(root, 'target/debug/hangar');
  const child = spawn(binary, [
    'serve', '--demo', '--listen', `127.0.0.1:${port}`, '--data-dir', join(dir, 'data'),
    '--plugins-dir', join(root, 'plugins'), '--cache-dir', join(root, 'target/hangar-test-cache'),
    '--admin-token', ADMIN, '--publish-tokens', `ci=${PUBLISH}`,
  ], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, RUST_LOG: 'warn' } });
  return new Promise((resolve, reject) => {
    let buffered = '';
    const timer = setTimeout(() => reject(new Error('server did not start in 60 s')), 60_000);
    child.stdout.on('data', (chunk) => {
      buffered += chunk;
      const match = buffered.match(/listening on (http:\/\/\S+)/);
      if (match) { clearTimeout(timer); resolve({ child, url: match[1], dir }); }
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

// Shared by the browser tests: the demo server and a headless Chromium.

import { spawn, spawnSync } from 'node:child_process';
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

/// The `hangar` binary the tests run.
export function hangarBinary() {
  return process.env.HANGAR_BIN || join(root, 'target/debug/hangar');
}

/// Starts `hangar serve --demo` (a fresh data directory and a free port
/// unless given) and resolves once it listens. With `log` (a RUST_LOG
/// filter) the server's log lines are collected in `logs`; `args` and `env`
/// add to the command line and the environment.
export function startServer({
  dir = mkdtempSync(join(tmpdir(), 'hangar-browser-')), port = 0, log = null, args = [], env = {},
} = {}) {
  const child = spawn(hangarBinary(), [
    'serve', '--demo', '--listen', `127.0.0.1:${port}`, '--data-dir', join(dir, 'data'),
    '--plugins-dir', join(root, 'plugins'), '--cache-dir', join(root, 'target/hangar-test-cache'),
    '--admin-token', ADMIN, '--publish-tokens', `ci=${PUBLISH}`, ...args,
  ], {
    stdio: ['ignore', 'pipe', log ? 'pipe' : 'inherit'],
    env: { ...process.env, RUST_LOG: log || 'warn', NO_COLOR: '1', ...env },
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

function psql(url, sql) {
  const run = spawnSync('psql', [url, '-qc', sql], { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`psql ${sql}: ${run.error || run.stderr}`);
}

/// A cluster of `count` demo nodes on loopback ports sharing what a real
/// one shares: a PostgreSQL schema made for it in the test run's database
/// (`HANGAR_TEST_POSTGRES_URL`), a bucket on the run's S3 server
/// (`HANGAR_TEST_S3_ENDPOINT`; a shared directory without one) and a
/// subject prefix of its own on NATS (`HANGAR_TEST_NATS_URL`). Every
/// node's pages may open sockets on every node (`--allowed-origins`).
/// `nodeArgs[i]` adds to node i's command line. All are demo nodes: the
/// first publishes and activates the example plugins, the others restore
/// them from the shared registry. Resolves to `{ nodes, stop }`, or to
/// `{ skip }` saying which service is not given.
export async function startCluster(count, { nodeArgs = [] } = {}) {
  const database = process.env.HANGAR_TEST_POSTGRES_URL;
  const broker = process.env.HANGAR_TEST_NATS_URL;
  if (!database) return { skip: 'HANGAR_TEST_POSTGRES_URL is unset; a cluster needs PostgreSQL' };
  if (!broker) return { skip: 'HANGAR_TEST_NATS_URL is unset; a cluster needs NATS' };
  const id = `hangar_browser_${process.pid}_${Date.now()}`;
  const dir = mkdtempSync(join(tmpdir(), 'hangar-cluster-'));
  const env = {
    HANGAR_DATABASE_URL: `${database}${database.includes('?') ? '&' : '?'}options[search_path]=${id}`,
    HANGAR_BROKER: broker,
    HANGAR_BROKER_PREFIX: id.replaceAll('_', '-'),
    HANGAR_SESSION_KEY: 'browser-cluster-session-key-0123456789abcdef',
  };
  const s3 = process.env.HANGAR_TEST_S3_ENDPOINT;
  if (s3) {
    const bucket = id.replaceAll('_', '-');
    const made = await fetch(`${s3}/${bucket}`, { method: 'PUT' });
    if (!made.ok) throw new Error(`creating bucket ${bucket}: ${made.status}`);
    Object.assign(env, {
      HANGAR_OBJECT_STORE_URL: `s3://${bucket}/node`, AWS_ENDPOINT: s3, AWS_ALLOW_HTTP: 'true',
      AWS_ACCESS_KEY_ID: 'hangar-test', AWS_SECRET_ACCESS_KEY: 'hangar-test', AWS_DEFAULT_REGION: 'us-east-1',
    });
  } else {
    env.HANGAR_OBJECT_STORE_URL = `file://${join(dir, 'blobs')}`;
    mkdirSync(join(dir, 'blobs'));
  }
  psql(database, `CREATE SCHEMA ${id}`);
  const ports = [];
  for (let i = 0; i < count; i += 1) ports.push(await freePort());
  const urls = ports.map((port) => `http://127.0.0.1:${port}`);
  const nodes = [];
  const stop = () => {
    for (const node of nodes) node.child.kill('SIGKILL');
    try { psql(database, `DROP SCHEMA IF EXISTS ${id} CASCADE`); } catch { /* the run's database goes at its end */ }
  };
  try {
    for (const [i, port] of ports.entries()) {
      const name = `node-${String.fromCharCode(97 + i)}`;
      mkdirSync(join(dir, name));
      nodes.push(await startServer({
        dir: join(dir, name),
        port,
        args: ['--allowed-origins', urls.join(','), ...(nodeArgs[i] || [])],
        env: { ...env, HANGAR_NODE_ID: name, HANGAR_PUBLIC_URL: urls[i] },
      }));
    }
  } catch (err) {
    stop();
    throw err;
  }
  return { nodes, stop };
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

// Materials in the browser: every published version of every example
// material, rendered in Chromium from the module the server generates and
// by the server, with props generated from its schema, gives the same
// HTML (or fails the same way); the module is served immutably; with the
// network cut after the materials loaded, the designer keeps editing and
// previewing; and a material that loops, traps or answers too much in the
// page is stopped or refused while the page goes on.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PUBLISH, browser, root, screenshots, startServer } from './support.mjs';

const NASTY = `Tom & "Jerry" <b>bold</b> <script>alert(1)</script> 'q' \u00a0 ü 中文`;

/** Props to try for a schema: the defaults, then one change at a time. */
export function propsFor(schema, defaults) {
  const variants = [structuredClone(defaults)];
  const vary = (key, value) => variants.push({ ...structuredClone(defaults), [key]: value });
  for (const [key, prop] of Object.entries(schema.properties ?? {})) {
    if (prop.enum) { for (const value of prop.enum) vary(key, value); continue; }
    if (prop.type === 'boolean') { vary(key, !defaults[key]); continue; }
    if (prop.type === 'integer' || prop.type === 'number') {
      for (const value of [prop.minimum ?? 0, prop.maximum ?? 100, -1]) vary(key, value);
      continue;
    }
    if (prop.type === 'string') {
      const max = prop.maxLength ?? 200;
      for (const value of [NASTY, '', 'x'.repeat(Math.min(max, 300)), 'x'.repeat(max + 1),
        '/files/abc', 'https://example.com/a?b=1&c=2', 'javascript:alert(1)', '//evil.example/x', 'a_b-1']) {
        vary(key, value);
      }
    }
  }
  vary('unknown_prop', 1);
  return variants;
}

/// A demo server and the designer open on page `id` in a fresh Chromium
/// (both closed after the test), with the page errors it hits.
async function designer(t, id, serverOptions = {}) {
  const { child, url } = await startServer(serverOptions);
  t.after(() => child.kill('SIGKILL'));
  const context = await browser();
  t.after(() => context.close());
  const page = context.pages()[0] || await context.newPage();
  const pageErrors = [];
  page.on('pageerror', (err) => pageErrors.push(err.message));
  await page.goto(`${url}/designer?page=${id}`);
  await page.waitForSelector('html[data-designer-ready]');
  return { url, context, page, pageErrors };
}

test('every example material renders the same HTML in Chromium as on the server', async (t) => {
  // Hundreds of renders from one address: past the default anonymous rate.
  // The page is one of the server's, under its policy (no inline script;
  // WebAssembly allowed).
  const { url, page, pageErrors } = await designer(t, 'parity', {
    env: { HANGAR_HTTP__ANONYMOUS_RATE_PER_SEC: '10000', HANGAR_HTTP__ANONYMOUS_BURST: '10000' },
  });

  const listed = await (await page.request.get(`${url}/api/materials`)).json();
  const cases = [];
  for (const material of listed) {
    for (const version of material.versions) {
      // A version not loaded yet answers 503 while its load runs.
      let info;
      for (let attempt = 0; attempt < 60; attempt += 1) {
        const answer = await page.request.get(`${url}/api/materials/${material.name}@${version}`);
        info = await answer.json();
        if (answer.status() !== 503) break;
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
      assert.ok(info.module, `${material.name}@${version} has a module: ${JSON.stringify(info)}`);
      for (const props of propsFor(info.props_schema, info.default_props)) {
        const answer = await page.request.post(`${url}/api/materials/${material.name}@${version}/render`, { data: props });
        const body = await answer.json();
        cases.push({
          name: material.name, version, props,
          server: answer.ok() ? { html: body.html } : { code: body.error.code },
        });
      }
    }
  }
  const results = await page.evaluate(async (cases) => {
    const { loadMaterial } = await import('/sdk/js/hangar-materials.js');
    const out = [];
    for (const c of cases) {
      const material = await loadMaterial(c.name, c.version);
      try {
        out.push({ html: await material.render(c.props) });
      } catch (err) {
        out.push({ code: err.code });
      }
    }
    return out;
  }, cases);
  let rendered = 0;
  for (const [i, c] of cases.entries()) {
    const label = `${c.name}@${c.version} ${JSON.stringify(c.props)}`;
    assert.deepEqual(results[i], c.server, label);
    if (c.server.html !== undefined) rendered += 1;
  }
  const versions = new Set(cases.map((c) => `${c.name}@${c.version}`));
  assert.ok(versions.size >= 12, `both contracts' versions are compared: ${[...versions]}`);
  assert.ok(rendered >= 100, `${rendered} renders compared of ${cases.length} cases`);
  t.diagnostic(`${cases.length} cases over ${versions.size} versions; ${rendered} rendered the same HTML, the rest failed the same way`);

  // The module and its core wasm: immutable, typed, and nothing else is served.
  const info = await (await page.request.get(`${url}/api/materials/card@0.2.0`)).json();
  const module = await page.request.get(`${url}${info.module}`);
  assert.equal(module.status(), 200);
  assert.equal(module.headers()['content-type'], 'text/javascript; charset=utf-8');
  assert.equal(module.headers()['cache-control'], 'public, max-age=31536000, immutable');
  const core = await page.request.get(`${url}${info.module.replace('material.js', 'material.core.wasm')}`);
  assert.equal(core.headers()['content-type'], 'application/wasm');
  assert.equal((await page.request.get(`${url}${info.module.replace('material.js', 'other.js')}`)).status(), 404);
  assert.equal((await page.request.get(`${url}/materials/js/card@0.2.0/${'0'.repeat(64)}/material.js`)).status(), 404);
  assert.equal((await page.request.get(`${url}/materials/js/card@0.2.0/not-a-digest/material.js`)).status(), 400);
  assert.equal((await page.request.get(`${url}${info.module.replace('card@0.2.0', 'card@0.1.0')}`)).status(), 404, 'another version\'s digest');
  assert.equal((await page.request.get(`${url}${info.module.replace('card@0.2.0', 'nothing@1.0.0')}`)).status(), 404);
  assert.deepEqual(pageErrors, []);
});

test('with the network cut after loading, the designer still adds, edits and previews', async (t) => {
  const { context, page, pageErrors } = await designer(t, 'offline');
  await page.waitForSelector('html[data-materials-loaded]');
  const requests = [];
  page.on('request', (request) => requests.push(request.url()));

  await context.setOffline(true);
  requests.length = 0;
  await page.click('.palette-item[data-material="card"]');
  const card = page.locator('.d-node[data-material="card"] > .preview');
  await card.locator('h3:has-text("Card title")').waitFor();
  await page.fill('#prop-title', 'Written offline');
  await card.locator('h3:has-text("Written offline")').waitFor();
  await page.click('.palette-item[data-material="button"]');
  await page.locator('.d-node[data-material="button"] .preview a:has-text("Click me")').waitFor();
  await page.fill('#prop-label', 'Still here');
  await page.locator('.d-node[data-material="button"] .preview a:has-text("Still here")').waitFor();
  // Local validation shows under the field without the server.
  await page.fill('#prop-label', '');
  await page.waitForSelector('#props .message[data-field="label"]:not(:empty)');
  assert.equal(await page.textContent('#props .message[data-field=""]'), '', 'no second message about the whole');
  assert.equal(await card.getAttribute('data-rendered'), 'local');
  assert.deepEqual(requests, [], 'nothing was asked of the network');
  await page.screenshot({ path: join(screenshots(), 'designer-offline.png'), fullPage: true });

  // Saving needs the server: it says so and loses nothing.
  await page.click('#save');
  await page.waitForSelector('#page-status.error');
  await context.setOffline(false);
  await page.fill('#prop-label', 'Back online');
  await page.click('#save');
  await page.waitForSelector('#page-status:has-text("saved revision 1")');
  assert.deepEqual(pageErrors.filter((e) => !/Failed to fetch/.test(e)), []);
});

test('a material that misbehaves in the page is stopped at its deadline and the page goes on', async (t) => {
  const { url, page, pageErrors } = await designer(t, 'evil');
  const evil = readFileSync(join(root, 'plugins/target/wasm32-wasip2/release/guest_material_evil.wasm'));
  const published = await fetch(`${url}/registry/v1/packages/evil/0.1.0`, {
    method: 'PUT', headers: { authorization: `Bearer ${PUBLISH}` }, body: evil,
  });
  assert.equal(published.status, 201);
  const server = async (props) => {
    const answer = await page.request.post(`${url}/api/materials/evil@0.1.0/render`, { data: props });
    const body = await answer.json();
    return answer.ok() ? { html: body.html } : { code: body.error.code };
  };
  const expected = {
    script: await server({ mode: 'script' }),
    error: await server({ mode: 'error' }),
    huge: await server({ mode: 'huge', n: 300000 }),
    nest: await server({ mode: 'nest', n: 100 }),
  };
  const seen = await page.evaluate(async () => {
    const { loadMaterial } = await import('/sdk/js/hangar-materials.js');
    const evil = await loadMaterial('evil', '0.1.0', { deadlineMs: 300 });
    const outcome = async (props) => {
      try { return { html: await evil.render(props) }; } catch (err) { return { code: err.code, message: err.message }; }
    };
    // The page's own thread keeps running while the component loops.
    let ticks = 0;
    const ticker = setInterval(() => { ticks += 1; }, 20);
    const started = performance.now();
    const loop = await outcome({ mode: 'loop' });
    const loopMs = performance.now() - started;
    clearInterval(ticker);
    return {
      loop, loopMs, ticks,
      // The next render runs in a new worker.
      script: await outcome({ mode: 'script' }),
      trap: await outcome({ mode: 'trap' }),
      error: await outcome({ mode: 'error' }),
      huge: await outcome({ mode: 'huge', n: 300000 }),
      nest: await outcome({ mode: 'nest', n: 100 }),
      kv: await outcome({ mode: 'kv' }),
      again: await outcome({ mode: 'script' }),
    };
  });
  assert.equal(seen.loop.code, 'material-failed');
  assert.match(seen.loop.message, /deadline/);
  assert.ok(seen.loopMs >= 300 && seen.loopMs < 3000, `stopped after ${seen.loopMs} ms`);
  assert.ok(seen.ticks >= 5, `the page ran ${seen.ticks} timer ticks meanwhile`);
  assert.deepEqual(seen.script, expected.script, 'sanitised as on the server');
  assert.ok(!seen.script.html.includes('onclick') && !seen.script.html.includes('<script'), seen.script.html);
  assert.equal(seen.trap.code, 'material-failed');
  assert.match(seen.trap.message, /trapped/);
  // After the trap, a new instance answers.
  assert.match(seen.error.message, /it answered: the evil material refuses/);
  for (const mode of ['error', 'huge', 'nest']) {
    assert.equal(seen[mode].code, expected[mode].code, `${mode}: ${JSON.stringify(seen[mode])}`);
  }
  assert.deepEqual(seen.kv, { html: '<p>wrote</p>' }, 'its key-value store is in the page');
  assert.deepEqual(seen.again, expected.script);
  assert.deepEqual(pageErrors, []);
});

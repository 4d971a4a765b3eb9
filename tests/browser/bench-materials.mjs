// Benchmark in Chromium: a property edit in the designer until its preview
// shows it (rendered by the material's own component in its worker, the
// HTML sanitised in the page), beside
// the server round trip the designer made before (POST render, then the
// HTML into the preview), measured in the same page and run; and a
// material's first load (cold cache), cached load (new page, HTTP cache
// warm) and repeat load (same page).
//
//   node tests/browser/bench-materials.mjs [edits]
//
// Uses target/release/hangar when built (HANGAR_BIN overrides), else the
// debug build. Prints a table; ratios are the figures to read.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { browser, root, startServer } from './support.mjs';

const edits = Number(process.argv[2] || 300);
if (!process.env.HANGAR_BIN && existsSync(join(root, 'target/release/hangar'))) {
  process.env.HANGAR_BIN = join(root, 'target/release/hangar');
}

const quantile = (values, q) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
};
const row = (label, values) => {
  const p50 = quantile(values, 0.5);
  const p99 = quantile(values, 0.99);
  console.log(`  ${label.padEnd(52)} p50 ${p50.toFixed(2).padStart(7)} ms   p99 ${p99.toFixed(2).padStart(7)} ms   (n=${values.length})`);
  return { p50, p99 };
};

// Hundreds of renders from one address: past the default anonymous rate.
const { child, url } = await startServer({
  env: { HANGAR_HTTP__ANONYMOUS_RATE_PER_SEC: '100000', HANGAR_HTTP__ANONYMOUS_BURST: '100000' },
});
try {
  const context = await browser();
  const page = context.pages()[0] || await context.newPage();
  await page.goto(`${url}/designer?page=bench`);
  await page.waitForSelector('html[data-designer-ready]');
  await page.click('.palette-item[data-material="card"]');
  await page.waitForSelector('.d-node[data-material="card"] > .preview h3');

  const timings = await page.evaluate(async (edits) => {
    // Between edits, as between keystrokes: the frame is painted first.
    const frame = () => new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));
    const input = document.querySelector('#prop-title');
    const canvas = document.querySelector('#nodes');
    const shows = (value) => document.querySelector('.d-node[data-material="card"] > .preview h3')?.textContent === value;
    // Resolves once the preview shows `value` (the render answers from
    // the material's worker).
    const shown = (value) => new Promise((resolve) => {
      if (shows(value)) { resolve(); return; }
      const observer = new MutationObserver(() => { if (shows(value)) { observer.disconnect(); resolve(); } });
      observer.observe(canvas, { childList: true, subtree: true, characterData: true });
    });
    const local = [];
    for (let i = 0; i < edits; i += 1) {
      const value = `Local title ${i}`;
      const started = performance.now();
      input.value = value;
      input.dispatchEvent(new Event('input', { bubbles: true }));
      await shown(value);
      local.push(performance.now() - started);
      await frame();
    }
    const ref = document.querySelector('.d-node[data-material="card"] .node-bar small').textContent.split(' ')[1];
    const target = document.createElement('div');
    document.body.append(target);
    const server = [];
    for (let i = 0; i < edits; i += 1) {
      const value = `Server title ${i}`;
      const started = performance.now();
      const response = await fetch(`/api/materials/card@${ref}/render`, {
        method: 'POST', headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ title: value, body: 'A short description.', image: '', accent: false }),
      });
      const answer = await response.json();
      if (!response.ok) throw new Error(`server render: ${JSON.stringify(answer)}`);
      target.innerHTML = answer.html;
      if (!target.textContent.includes(value)) throw new Error('server preview missing');
      server.push(performance.now() - started);
      await frame();
    }
    return { local, server };
  }, edits);

  // Loads: a fresh profile (nothing cached), then a new page of the same
  // profile (the immutable module and wasm from the HTTP cache), then the
  // same page again (shared in memory).
  const loadTimes = async (ctx) => {
    const p = await ctx.newPage();
    await p.goto(`${url}/chat`);
    return p.evaluate(async () => {
      const { loadMaterial } = await import('/sdk/js/hangar-materials.js');
      const t0 = performance.now();
      await loadMaterial('columns', '0.2.0');
      const t1 = performance.now();
      await loadMaterial('columns', '0.2.0');
      return { load: t1 - t0, again: performance.now() - t1 };
    });
  };
  const first = [];
  const cached = [];
  const again = [];
  for (let i = 0; i < 5; i += 1) {
    const fresh = await browser();
    first.push((await loadTimes(fresh)).load);
    const warm = await loadTimes(fresh);
    cached.push(warm.load);
    again.push(warm.again);
    await fresh.close();
  }
  await context.close();

  console.log(`\nmaterials in the browser: ${edits} property edits of a card, then loads of columns@0.2.0 (5 fresh profiles)`);
  const l = row('edit -> preview updated, rendered in the page (worker)', timings.local);
  const s = row('edit -> preview updated, server round trip', timings.server);
  console.log(`  in-page / server round trip: p50 ${(l.p50 / s.p50).toFixed(3)}x, p99 ${(l.p99 / s.p99).toFixed(3)}x (target: in-page p99 <= 16 ms: ${l.p99 <= 16 ? 'met' : 'NOT met'})`);
  row('first load (describe, module, 3 core wasm, instantiate)', first);
  row('cached load (new page, HTTP cache)', cached);
  row('repeat load (same page, shared)', again);
} finally {
  child.kill('SIGKILL');
}

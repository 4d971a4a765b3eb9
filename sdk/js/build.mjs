// Bundles the SDK for browsers: dist/hangar-client.js (ES module, the
// package's dependencies included), dist/hash-worker.js (the uploader's
// worker), dist/hangar-materials.js (materials rendered in the page) with
// dist/material-worker.js (where their components run), and
// dist/page-runtime.js (the actions and forms of published pages). The host serves both at /sdk/js/. `node build.mjs --check`
// fails when the committed bundles differ from a fresh build.

import { build } from 'esbuild';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const here = (path) => fileURLToPath(new URL(path, import.meta.url));
const check = process.argv.includes('--check');

const bundles = [
  { entry: 'src/index.js', out: 'dist/hangar-client.js', format: 'esm' },
  { entry: 'src/hash-worker.js', out: 'dist/hash-worker.js', format: 'iife' },
  { entry: 'src/materials.js', out: 'dist/hangar-materials.js', format: 'esm' },
  { entry: 'src/material-worker.js', out: 'dist/material-worker.js', format: 'esm' },
  { entry: 'src/page-runtime.js', out: 'dist/page-runtime.js', format: 'esm' },
];

let stale = [];
for (const { entry, out, format } of bundles) {
  const result = await build({
    entryPoints: [here(entry)],
    outfile: here(out),
    bundle: true,
    format,
    target: 'es2022',
    legalComments: 'inline',
    charset: 'utf8',
    write: !check,
    logLevel: 'warning',
    absWorkingDir: here('.'),
  });
  if (check) {
    const fresh = result.outputFiles[0].text;
    let committed = '';
    try { committed = readFileSync(here(out), 'utf8'); } catch { /* missing */ }
    if (fresh !== committed) stale.push(out);
  }
}
if (stale.length) {
  console.error(`stale bundle(s): ${stale.join(', ')}; run \`npm run build\` in sdk/js and commit them`);
  process.exit(1);
}

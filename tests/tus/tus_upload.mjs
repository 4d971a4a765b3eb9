// Uploads a file with tus-js-client (from tests/browser/node_modules) in
// PATCHes of CHUNK_MIB (default 8), as a Node application would; prints
// `{"file_id": ...}`. Used by the upload benchmark.
//
// Usage: node tests/tus/tus_upload.mjs BASE_URL TOKEN FILE [CHUNK_MIB]

import { createReadStream, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename } from 'node:path';

const require = createRequire(new URL('../browser/package.json', import.meta.url));
const tus = require('tus-js-client');

const [base, token, path, chunkMib = '8'] = process.argv.slice(2);
const upload = new tus.Upload(createReadStream(path), {
  endpoint: `${base}/api/tus`,
  headers: { authorization: `Bearer ${token}` },
  uploadSize: statSync(path).size,
  chunkSize: Number(chunkMib) * 1024 * 1024,
  retryDelays: null,
  metadata: { filename: basename(path) },
  onError: (err) => { console.error(String(err)); process.exit(1); },
  onSuccess: ({ lastResponse }) => {
    console.log(JSON.stringify({ file_id: lastResponse.getHeader('hangar-file-id') }));
  },
});
upload.start();

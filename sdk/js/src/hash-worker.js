// The uploader's Web Worker: hashes files off the page's thread, so a page
// stays responsive while a large file is read. Requests: `digest` (MD5 and
// SHA-256 of the whole file in one pass, with progress) and `md5` (MD5 of
// a byte range: a chunk, or the instant-upload challenge).

import SparkMD5 from 'spark-md5';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';

/** Bytes read per step; also how often progress is reported. */
const SLICE = 4 * 1024 * 1024;

async function digest(id, file) {
  const md5 = new SparkMD5.ArrayBuffer();
  const sha = sha256.create();
  for (let at = 0; at < file.size; at += SLICE) {
    const end = Math.min(file.size, at + SLICE);
    const bytes = await file.slice(at, end).arrayBuffer();
    md5.append(bytes);
    sha.update(new Uint8Array(bytes));
    self.postMessage({ id, progress: end });
  }
  return { md5: md5.end(), sha256: bytesToHex(sha.digest()) };
}

async function rangeMd5(file, start, end) {
  const md5 = new SparkMD5.ArrayBuffer();
  for (let at = start; at < end; at += SLICE) {
    md5.append(await file.slice(at, Math.min(end, at + SLICE)).arrayBuffer());
  }
  return md5.end();
}

self.onmessage = async ({ data }) => {
  const { id, op, file } = data;
  try {
    const result = op === 'digest' ? await digest(id, file) : await rangeMd5(file, data.start, data.end);
    self.postMessage({ id, result });
  } catch (err) {
    self.postMessage({ id, error: String((err && err.message) || err) });
  }
};

// {{name}}: a Hangar upload hook. Rejects files over a configured size and
// files whose first bytes say they are Windows executables.
//
// Configuration (JSON, set by an admin): {"max_bytes": 10485760}.

import { config } from 'hangar:plugin/host@0.2.0';

let parsed = null;

function settings() {
  if (parsed === null) {
    let value = {};
    try { value = JSON.parse(config()); } catch { value = {}; }
    const max = Number(value?.max_bytes ?? 10 * 1024 * 1024);
    parsed = { maxBytes: Number.isFinite(max) ? Math.trunc(max) : 10 * 1024 * 1024 };
  }
  return parsed;
}

// `file.size` (a u64) is a number under componentize-qjs and a BigInt under
// ComponentizeJS: `Number()` takes either. `head` is a Uint8Array of the
// first bytes.
export function onUpload(file, head) {
  const { maxBytes } = settings();
  if (Number(file.size) > maxBytes) return { tag: 'reject', val: `files are limited to ${maxBytes} bytes` };
  if (head.length >= 2 && head[0] === 0x4d && head[1] === 0x5a) {
    return { tag: 'reject', val: 'executables are not accepted' };
  }
  return { tag: 'allow' };
}

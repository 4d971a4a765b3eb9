// {{name}}: a Hangar chat plugin. Rejects messages with a configured word
// and answers "ping" with "pong".
//
// Configuration (JSON, set by an admin): {"banned": ["word", ...]}.

import { config, log } from 'hangar:plugin/host@0.2.0';

const KNOWN_KEYS = new Set(['banned']);

// Parsed on the first call of an instance: an instance's configuration
// never changes. (Top-level code runs when the component is built, where
// there is no host to ask.)
let parsed = null;

function settings() {
  if (parsed === null) {
    let value = {};
    try {
      value = JSON.parse(config());
    } catch (err) {
      log('error', 'invalid configuration', [['error', String(err)]]);
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) value = {};
    for (const key of Object.keys(value)) {
      if (!KNOWN_KEYS.has(key)) log('warn', 'unknown configuration key', [['key', key]]);
    }
    parsed = { banned: (Array.isArray(value.banned) ? value.banned : []).map((w) => String(w).toLowerCase()) };
  }
  return parsed;
}

// `msg.timeMs` (an s64) is a number under componentize-qjs and a BigInt
// under ComponentizeJS, which JSON.stringify refuses: convert with Number().
export function onMessage(msg) {
  const text = msg.text.toLowerCase();
  for (const word of settings().banned) {
    if (text.includes(word)) {
      log('info', 'rejected a message', [['word', word]]);
      return { verdict: { tag: 'reject', val: 'this word is not allowed here' }, replies: [] };
    }
  }
  return { verdict: { tag: 'allow' }, replies: text.trim() === 'ping' ? [{ text: 'pong' }] : [] };
}

// Materials in the browser: the same component the server renders, loaded
// on demand as an ES module plus its core WebAssembly (which the server
// generates once per component digest and serves immutably), given its
// imports here, rendered in the page and sanitised by the server's rules.
// See docs/materials.md, "In the browser".

import * as cli from '@bytecodealliance/preview2-shim/cli';
import * as io from '@bytecodealliance/preview2-shim/io';
import { Validator } from '@cfworker/json-schema';
import { sanitizeMaterialHtml } from './sanitize.js';

/** The server's default HTML budget of one render (`[materials]`). */
export const HTML_BUDGET = { maxBytes: 256 * 1024, maxDepth: 64 };

/** Bytes a material may keep in its in-page key-value store. */
const KV_QUOTA = 64 * 1024;

/** A material could not be loaded or rendered; `code` says which. */
export class MaterialError extends Error {
  /**
   * @param {string} code `load-failed`, `invalid-props` or `material-failed`
   * @param {string} message
   * @param {Array<{path: string, message: string}>} [errors] failing props
   */
  constructor(code, message, errors = []) {
    super(message);
    this.name = 'MaterialError';
    this.code = code;
    this.errors = errors;
  }
}

const LEVELS = ['trace', 'debug', 'info', 'warn', 'error'];

// The `hangar:plugin/host` interface, in the page: log to the console, the
// configuration given to loadMaterial, and a key-value store in memory
// with the same kind of quota as on the server.
function hostInterface(label, config) {
  const kv = new Map();
  let used = 0;
  const size = (key, value) => new TextEncoder().encode(key).length + value.length;
  return {
    log(level, message, fields) {
      const tag = typeof level === 'string' ? level : LEVELS[level] ?? 'info';
      const method = tag === 'error' ? 'error' : tag === 'warn' ? 'warn' : 'debug';
      console[method](`[${label}]`, message, Object.fromEntries(fields ?? []));
    },
    config() { return config; },
    kvGet(key) { return kv.get(key); },
    kvSet(key, value) {
      if (key === '' || key.length > 256) throw { tag: 'invalid-key' };
      const before = kv.has(key) ? size(key, kv.get(key)) : 0;
      const after = used - before + size(key, value);
      if (after > KV_QUOTA) throw { tag: 'quota-exceeded', val: BigInt(KV_QUOTA) };
      kv.set(key, value);
      used = after;
    },
    kvDelete(key) {
      if (kv.has(key)) { used -= size(key, kv.get(key)); kv.delete(key); }
    },
  };
}

// The WASI imports a component built for wasm32-wasip2 may name (a
// material uses none of them for anything but its standard streams), by
// the unversioned names the generated module asks for.
function wasiImports() {
  return {
    'wasi:cli/environment': cli.environment,
    'wasi:cli/exit': cli.exit,
    'wasi:cli/stdin': cli.stdin,
    'wasi:cli/stdout': cli.stdout,
    'wasi:cli/stderr': cli.stderr,
    'wasi:cli/terminal-input': cli.terminalInput,
    'wasi:cli/terminal-output': cli.terminalOutput,
    'wasi:cli/terminal-stdin': cli.terminalStdin,
    'wasi:cli/terminal-stdout': cli.terminalStdout,
    'wasi:cli/terminal-stderr': cli.terminalStderr,
    'wasi:io/error': io.error,
    'wasi:io/streams': io.streams,
    'wasi:io/poll': io.poll,
  };
}

function depthOf(node, depth = 0) {
  let max = depth;
  for (const child of node.children) max = Math.max(max, depthOf(child, depth + 1));
  return max;
}

/** One material version, loaded in the page. */
export class Material {
  constructor(info, exports, validator, budget) {
    /** The server's description: name, title, version, props schema, defaults, module. */
    this.info = info;
    this.exports = exports;
    this.validator = validator;
    this.budget = budget;
  }

  /**
   * Checks props against the material's schema.
   * @param {object} props
   * @returns {Array<{path: string, message: string}>} each failing prop (none when valid)
   */
  validate(props) {
    const result = this.validator.validate(props);
    if (result.valid) return [];
    // The innermost errors name the props; the rest repeat them.
    const seen = new Set();
    return result.errors
      .map((e) => ({ path: e.instanceLocation.replace(/^#/, ''), message: e.error }))
      .filter((e) => !seen.has(e.path) && seen.add(e.path));
  }

  /**
   * Renders props in the page: validated, rendered by the component,
   * checked against the server's HTML budget and sanitised by its rules.
   * @param {object} props
   * @returns {string} the HTML the server would answer for the same props
   * @throws {MaterialError} `invalid-props` (with `errors`) or `material-failed`
   */
  render(props) {
    const reference = `${this.info.name}@${this.info.version}`;
    const errors = this.validate(props);
    if (errors.length) {
      throw new MaterialError('invalid-props', `props do not match the schema of ${reference}`, errors);
    }
    let html;
    try {
      html = this.exports.render(JSON.stringify(props));
    } catch (err) {
      const reason = err && err.payload !== undefined ? `it answered: ${String(err.payload).slice(0, 200)}` : 'it trapped';
      throw new MaterialError('material-failed', `material ${reference} failed: ${reason}`);
    }
    const bytes = new TextEncoder().encode(html).length;
    if (bytes > this.budget.maxBytes) {
      throw new MaterialError('material-failed', `material ${reference} failed: answered over its output budget`);
    }
    const probe = document.implementation.createHTMLDocument('').createElement('div');
    probe.innerHTML = html;
    if (depthOf(probe) > this.budget.maxDepth) {
      throw new MaterialError('material-failed', `material ${reference} failed: answered over its output budget`);
    }
    return sanitizeMaterialHtml(html);
  }
}

const loads = new Map();

/**
 * Loads a material version into the page, once: concurrent and later
 * callers share the load (a failed load is forgotten, so a later call
 * tries again). Needs `script-src 'self' 'wasm-unsafe-eval'`.
 * @param {string} name material name
 * @param {string} version exact version (a page node's pin)
 * @param {{base?: string, config?: string, budget?: {maxBytes: number, maxDepth: number}}} [options]
 *   `base`: the server's origin (default: this page's); `config`: what the
 *   material's `config()` returns (default `{}`)
 * @returns {Promise<Material>}
 */
export function loadMaterial(name, version, options = {}) {
  const base = options.base ?? location.origin;
  const key = `${base} ${name}@${version}`;
  if (!loads.has(key)) {
    const load = loadNow(name, version, base, options);
    loads.set(key, load);
    load.catch(() => loads.delete(key));
  }
  return loads.get(key);
}

async function loadNow(name, version, base, options) {
  const reference = `${name}@${version}`;
  const response = await fetch(new URL(`/api/materials/${encodeURIComponent(name)}@${encodeURIComponent(version)}`, base));
  const body = await response.json().catch(() => null);
  if (!response.ok) {
    throw new MaterialError('load-failed', body?.error?.message ?? `cannot load ${reference}: HTTP ${response.status}`);
  }
  if (!body.module) throw new MaterialError('load-failed', `the server offers no browser module for ${reference}`);
  const moduleUrl = new URL(body.module, base).href;
  let exports;
  try {
    const generated = await import(moduleUrl);
    const imports = { ...wasiImports(), 'hangar:plugin/host': hostInterface(reference, options.config ?? '{}') };
    exports = await generated.instantiate(
      (file) => WebAssembly.compileStreaming(fetch(new URL(file, moduleUrl))),
      imports,
    );
  } catch (err) {
    throw new MaterialError('load-failed', `cannot load ${reference} in the page: ${err.message}`);
  }
  const validator = new Validator(body.props_schema, '2020-12', false);
  return new Material(body, exports, validator, options.budget ?? HTML_BUDGET);
}

// Materials in the browser: the same component the server renders, loaded
// on demand as an ES module plus its core WebAssembly (which the server
// generates once per component digest and serves immutably), given its
// imports here, run in a worker of its own under a deadline, and its HTML
// sanitised in the page by the server's rules.
// See docs/materials.md, "In the browser".

import { Validator } from '@cfworker/json-schema';
import { callRender, instantiate } from './material-instance.js';
import { cleanMaterialFragment, parseMaterialHtml } from './sanitize.js';

export { sanitizeMaterialHtml } from './sanitize.js';

/** The server's default HTML budget of one render (`[materials]`). */
export const HTML_BUDGET = { maxBytes: 256 * 1024, maxDepth: 64 };

/** How long one render may run in the page, ms (the server's default deadline is 250). */
export const DEADLINE_MS = 1000;

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

// Runs a component in a worker of its own: a render past the deadline
// terminates the worker (the next render starts another).
class WorkerRunner {
  constructor(moduleUrl, label, config, workerUrl) {
    Object.assign(this, { moduleUrl, label, config, workerUrl });
    this.worker = null;
    this.ready = null;
    this.pending = new Map();
    this.next = 0;
  }

  start() {
    this.ready ??= new Promise((resolve, reject) => {
      const worker = new Worker(this.workerUrl, { type: 'module', name: this.label });
      this.worker = worker;
      worker.onmessage = ({ data }) => {
        if (data.loaded) resolve();
        else if (data.failed !== undefined) reject(new Error(data.failed));
        else this.pending.get(data.id)?.(data);
      };
      worker.onerror = (event) => { event.preventDefault(); reject(new Error(event.message || 'the worker failed')); this.stop(); };
      worker.postMessage({ load: this.moduleUrl, label: this.label, config: this.config });
    });
    return this.ready;
  }

  stop() {
    this.worker?.terminate();
    this.worker = null;
    this.ready = null;
    for (const answer of this.pending.values()) answer({ error: 'stopped' });
    this.pending.clear();
  }

  async render(propsJson, deadlineMs) {
    await this.start();
    const { worker } = this;
    // Another render's deadline stopped it meanwhile: the next one starts anew.
    if (!worker) return { error: 'stopped' };
    const id = this.next += 1;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        this.stop();
        resolve({ error: 'timed out' });
      }, deadlineMs);
      this.pending.set(id, (answer) => {
        clearTimeout(timer);
        this.pending.delete(id);
        // A trapped instance cannot be entered again: the next render
        // gets a new one, as every call does on the server.
        if (answer.error === 'trapped') this.stop();
        resolve(answer);
      });
      worker.postMessage({ render: propsJson, id });
    });
  }
}

// Runs a component on the page's thread (no worker could be made: a page
// of another origin than the server's): no deadline.
class PageRunner {
  constructor(moduleUrl, label, config) {
    Object.assign(this, { moduleUrl, label, config });
    this.exports = null;
  }

  async start() {
    this.exports ??= instantiate(this.moduleUrl, this.label, this.config);
    return this.exports;
  }

  async render(propsJson) {
    const answer = callRender(await this.start(), propsJson);
    if (answer.error === 'trapped') this.exports = null;
    return answer;
  }
}

function depthOf(node, depth = 0) {
  let max = depth;
  for (const child of node.children) max = Math.max(max, depthOf(child, depth + 1));
  return max;
}

/** One material version, loaded in the page. */
export class Material {
  constructor(info, runner, validator, options) {
    /** The server's description: name, title, version, props schema, defaults, module. */
    this.info = info;
    this.runner = runner;
    this.validator = validator;
    this.budget = options.budget ?? HTML_BUDGET;
    this.deadlineMs = options.deadlineMs ?? DEADLINE_MS;
  }

  /**
   * Checks props against the material's schema.
   * @param {object} props
   * @returns {Array<{path: string, message: string}>} each failing prop (none when valid)
   */
  validate(props) {
    const result = this.validator.validate(props);
    if (result.valid) return [];
    // The innermost errors name the props; the rest repeat them (one
    // about the whole object stays only when nothing more precise does).
    const seen = new Set();
    const errors = result.errors
      .map((e) => ({ path: e.instanceLocation.replace(/^#/, ''), message: e.error }))
      .filter((e) => !seen.has(e.path) && seen.add(e.path));
    const precise = errors.filter((e) => e.path !== '');
    return precise.length ? precise : errors;
  }

  /**
   * Renders props: validated, rendered by the component (in its worker,
   * within the deadline), checked against the server's HTML budget and
   * sanitised by its rules.
   * @param {object} props
   * @returns {Promise<string>} the HTML the server would answer for the same props
   * @throws {MaterialError} `invalid-props` (with `errors`) or `material-failed`
   */
  async render(props) {
    const reference = `${this.info.name}@${this.info.version}`;
    const errors = this.validate(props);
    if (errors.length) {
      throw new MaterialError('invalid-props', `props do not match the schema of ${reference}`, errors);
    }
    const answer = await this.runner.render(JSON.stringify(props), this.deadlineMs);
    if (answer.error) {
      const reason = answer.error === 'answered' ? `it answered: ${answer.reason}`
        : answer.error === 'timed out' ? `it ran past its ${this.deadlineMs} ms deadline in the page` : `it ${answer.error}`;
      throw new MaterialError('material-failed', `material ${reference} failed: ${reason}`);
    }
    const { html } = answer;
    const bytes = new TextEncoder().encode(html).length;
    if (bytes > this.budget.maxBytes) {
      throw new MaterialError('material-failed', `material ${reference} failed: answered over its output budget`);
    }
    // One parse serves the nesting check and the sanitiser.
    const parsed = parseMaterialHtml(html);
    if (depthOf(parsed) > this.budget.maxDepth) {
      throw new MaterialError('material-failed', `material ${reference} failed: answered over its output budget`);
    }
    return cleanMaterialFragment(parsed);
  }
}

const loads = new Map();

/**
 * Loads a material version into the page, once: concurrent and later
 * callers share the load (a failed load is forgotten, so a later call
 * tries again). The component runs in a worker of its own
 * (`/sdk/js/material-worker.js` of the server), where a render past
 * `deadlineMs` is stopped; on a page of another origin, where no such
 * worker can be made, it runs on the page's thread. Needs
 * `script-src 'self' 'wasm-unsafe-eval'` and `worker-src 'self'`.
 * @param {string} name material name
 * @param {string} version exact version (a page node's pin)
 * @param {{base?: string, config?: string, deadlineMs?: number, budget?: {maxBytes: number, maxDepth: number}}} [options]
 *   `base`: the server's origin (default: this page's); `config`: what the
 *   material's `config()` returns (default `{}`); `deadlineMs`: longest
 *   render ([DEADLINE_MS])
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
  const config = options.config ?? '{}';
  let runner;
  try {
    if (new URL(base).origin === location.origin && typeof Worker !== 'undefined') {
      runner = new WorkerRunner(moduleUrl, reference, config, new URL('/sdk/js/material-worker.js', base));
      await runner.start();
    } else {
      runner = new PageRunner(moduleUrl, reference, config);
      await runner.start();
    }
  } catch (err) {
    runner?.stop?.();
    throw new MaterialError('load-failed', `cannot load ${reference} in the page: ${err.message}`);
  }
  const validator = new Validator(body.props_schema, '2020-12', false);
  return new Material(body, runner, validator, options);
}

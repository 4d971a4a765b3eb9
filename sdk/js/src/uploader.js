// Uploader: files to the upload store in MD5-verified chunks. Hashing runs
// in a Web Worker; a file the store already holds is sent instantly by
// answering the proof-of-possession challenge; chunks go in parallel (a
// configurable limit) with a retry each; a reloaded page resumes by picking
// the same file again (the server lists the chunks it holds, and the hashes
// come back from the store instead of reading the file twice); progress
// and speed events; abort. Protocol: docs/uploads.md.

import { DEFAULT_BACKOFF, delayMs } from './backoff.js';
import { SpeedMeter, chunkRange, heldBytes, missingChunks, retryable } from './transfer.js';

/** An error of the upload store, with its status and `code`. */
export class UploadError extends Error {
  constructor(message, { status = 0, code = 'network', detail = null } = {}) {
    super(message);
    this.name = 'UploadError';
    this.status = status;
    this.code = code;
    this.detail = detail;
  }
}

/** What identifies a picked file across page reloads. */
export function fingerprint(file) {
  return `${file.name}|${file.size}|${file.lastModified}`;
}

/** Talks to the hashing worker: one request at a time per id. */
class Hasher {
  constructor(url) {
    this.worker = new Worker(url);
    this.calls = new Map();
    this.nextId = 0;
    this.worker.onmessage = ({ data }) => {
      const call = this.calls.get(data.id);
      if (!call) return;
      if ('progress' in data) { call.onProgress(data.progress); return; }
      this.calls.delete(data.id);
      if (data.error) call.reject(new UploadError(`hashing failed: ${data.error}`, { code: 'hash' }));
      else call.resolve(data.result);
    };
  }

  call(request, onProgress = () => {}) {
    this.nextId += 1;
    const id = this.nextId;
    return new Promise((resolve, reject) => {
      this.calls.set(id, { resolve, reject, onProgress });
      this.worker.postMessage({ id, ...request });
    });
  }
}

export class Uploader {
  /**
   * @param {object} options
   * @param {string} [options.server] base URL of the server (default: this page's origin)
   * @param {string | (() => Promise<string>)} options.token session token, or a function returning one
   * @param {number} [options.concurrency] chunks in flight at once (default 3)
   * @param {number} [options.retries] attempts per chunk after the first (default 5)
   * @param {{initialMs: number, maxMs: number}} [options.backoff] delay between attempts
   * @param {number} [options.chunkSize] preferred chunk size; the server decides
   * @param {{get, put, delete}} [options.store] keeps hashes and upload ids across reloads (`ChatStore#uploads()`)
   * @param {string | URL} [options.workerUrl] the hashing worker (default: hash-worker.js beside this module)
   */
  constructor(options) {
    this.options = { concurrency: 3, retries: 5, backoff: DEFAULT_BACKOFF, ...options };
    this.server = (options.server || globalThis.location.origin).replace(/\/$/, '');
    this.hasher = null;
  }

  hash(request, onProgress) {
    if (!this.hasher) {
      this.hasher = new Hasher(this.options.workerUrl || new URL('./hash-worker.js', import.meta.url));
    }
    return this.hasher.call(request, onProgress);
  }

  async token() {
    const { token } = this.options;
    return typeof token === 'function' ? token() : token;
  }

  /** A JSON request to the upload API; errors become `UploadError`. */
  async request(method, path, body) {
    let response;
    try {
      response = await fetch(`${this.server}${path}`, {
        method,
        headers: { authorization: `Bearer ${await this.token()}`, ...(body ? { 'content-type': 'application/json' } : {}) },
        body: body ? JSON.stringify(body) : undefined,
      });
    } catch (err) {
      throw new UploadError(`network: ${err.message}`);
    }
    const data = await response.json().catch(() => ({}));
    if (!response.ok) {
      const error = data.error || {};
      throw new UploadError(error.message || response.statusText, { status: response.status, code: error.code, detail: error });
    }
    return data;
  }

  /**
   * Starts uploading `file`. `context` is kept with the resumable record
   * (e.g. the chat room the file is for).
   * @param {File} file
   * @param {{context?: object}} [options]
   * @returns {UploadTask}
   */
  upload(file, { context = null } = {}) {
    const task = new UploadTask(this, file, context);
    task.done = task.run();
    // The task's events report failures; an unobserved promise must not.
    task.done.catch(() => {});
    return task;
  }

  /** Records of uploads left unfinished (e.g. by a reload), to offer resuming. */
  async unfinished() {
    return this.options.store ? this.options.store.all() : [];
  }

  /** Forgets an unfinished upload and tells the server to drop its chunks. */
  async discard(record) {
    if (record.upload_id) await this.request('DELETE', `/api/uploads/${record.upload_id}`).catch(() => {});
    if (this.options.store) await this.options.store.delete(record.fingerprint);
  }
}

/**
 * One file being uploaded. Events: `state` (`hashing`, `uploading`,
 * `completing`, `done`, `aborted`, `failed`), `hash-progress` (`loaded`,
 * `total`), `progress` (`sent`, `total`, `bytesPerSecond`, `chunksDone`,
 * `chunkCount`), `done` (`file`, `instant`), `error` (`error`).
 * `done` (the property) is a promise of the stored file.
 */
export class UploadTask extends EventTarget {
  constructor(uploader, file, context) {
    super();
    this.uploader = uploader;
    this.file = file;
    this.context = context;
    this.state = 'hashing';
    this.requests = new Set();
    this.aborted = false;
    this.upload = null;
    this.chunksSent = 0;
  }

  emit(type, fields = {}) {
    this.dispatchEvent(Object.assign(new Event(type), fields));
  }

  setState(state) {
    this.state = state;
    this.emit('state', { state });
  }

  checkAborted() {
    if (this.aborted) throw new UploadError('upload aborted', { code: 'aborted' });
  }

  async run() {
    const { file, uploader } = this;
    const store = uploader.options.store;
    const key = fingerprint(file);
    try {
      this.setState('hashing');
      let record = store ? await store.get(key) : null;
      if (!record) {
        const digest = await uploader.hash({ op: 'digest', file }, (loaded) => this.emit('hash-progress', { loaded, total: file.size }));
        record = { fingerprint: key, name: file.name, size: file.size, ...digest, context: this.context, created_ms: Date.now() };
        if (store) await store.put(record);
      }
      this.record = record;
      this.checkAborted();

      const open = { name: file.name, size: file.size, md5: record.md5, sha256: record.sha256 };
      if (file.type) open.content_type = file.type;
      if (uploader.options.chunkSize) open.chunk_size = uploader.options.chunkSize;
      this.upload = await uploader.request('POST', '/api/uploads', open);
      if (store) await store.put({ ...record, upload_id: this.upload.id });
      this.checkAborted();

      const instant = await this.tryInstant();
      if (instant) return this.finish(instant, true);

      this.setState('uploading');
      await this.sendChunks();
      this.checkAborted();
      this.setState('completing');
      const done = await uploader.request('POST', `/api/uploads/${this.upload.id}/complete`);
      return this.finish(done.file, false);
    } catch (err) {
      // An aborted upload turns 'aborted' in abort(), once the server was
      // told: whoever watches the state sees the server's view.
      if (!this.aborted) {
        this.setState('failed');
        this.emit('error', { error: err });
      }
      throw err;
    }
  }

  async finish(stored, instant) {
    if (this.uploader.options.store) await this.uploader.options.store.delete(fingerprint(this.file));
    this.setState('done');
    this.emit('done', { file: stored, instant });
    return stored;
  }

  /** Answers the challenge; the stored file when the content was known. */
  async tryInstant() {
    const { challenge, proof_used: spent } = this.upload;
    // A resumed upload has had its one try.
    if (!challenge || spent) return null;
    const md5 = await this.uploader.hash({
      op: 'md5', file: this.file, start: challenge.offset, end: challenge.offset + challenge.length,
    });
    try {
      const answer = await this.uploader.request('POST', `/api/uploads/${this.upload.id}/proof`, { md5 });
      if (answer.instant) return answer.file;
      this.upload = answer.upload || this.upload;
    } catch (err) {
      // A resumed upload has had its one try: upload the rest normally.
      if (err.code !== 'proof-used') throw err;
    }
    return null;
  }

  async sendChunks() {
    const upload = this.upload;
    const queue = missingChunks(upload);
    const total = upload.size;
    const held = heldBytes(upload);
    const inFlight = new Map();
    let finished = held;
    let chunksDone = upload.chunk_count - queue.length;
    const meter = new SpeedMeter();
    const report = () => {
      let sent = finished;
      for (const loaded of inFlight.values()) sent += loaded;
      this.emit('progress', {
        sent, total, bytesPerSecond: meter.record(sent - held), chunksDone, chunkCount: upload.chunk_count,
      });
    };
    report();
    const worker = async () => {
      while (queue.length) {
        this.checkAborted();
        const index = queue.shift();
        const { start, end } = chunkRange(upload, index);
        await this.sendChunk(index, start, end, (loaded) => { inFlight.set(index, loaded); report(); });
        inFlight.delete(index);
        finished += end - start;
        chunksDone += 1;
        this.chunksSent += 1;
        report();
      }
    };
    const lanes = Math.max(1, Math.min(this.uploader.options.concurrency, queue.length));
    await Promise.all(Array.from({ length: lanes }, worker));
  }

  async sendChunk(index, start, end, onProgress) {
    const { uploader } = this;
    const md5 = await uploader.hash({ op: 'md5', file: this.file, start, end });
    for (let attempt = 0; ; attempt += 1) {
      this.checkAborted();
      try {
        await this.put(index, this.file.slice(start, end), md5, onProgress);
        return;
      } catch (err) {
        if (this.aborted || attempt >= uploader.options.retries || !retryable(err.status, err.code)) throw err;
        onProgress(0);
        await new Promise((resolve) => { setTimeout(resolve, delayMs(attempt, uploader.options.backoff)); });
      }
    }
  }

  /** One chunk over XMLHttpRequest, whose upload events give byte progress. */
  async put(index, body, md5, onProgress) {
    const token = await this.uploader.token();
    return new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      this.requests.add(xhr);
      xhr.open('PUT', `${this.uploader.server}/api/uploads/${this.upload.id}/chunks/${index}`);
      xhr.setRequestHeader('authorization', `Bearer ${token}`);
      xhr.setRequestHeader('chunk-md5', md5);
      xhr.upload.onprogress = (event) => onProgress(event.loaded);
      xhr.onloadend = () => {
        this.requests.delete(xhr);
        if (xhr.status >= 200 && xhr.status < 300) { resolve(); return; }
        let error = {};
        try { error = JSON.parse(xhr.responseText).error || {}; } catch { /* not JSON */ }
        reject(new UploadError(error.message || `chunk ${index}: HTTP ${xhr.status}`, { status: xhr.status, code: error.code || 'network', detail: error }));
      };
      xhr.send(body);
    });
  }

  /** Stops the upload and tells the server to drop what it received. */
  async abort() {
    if (this.aborted || this.state === 'done') return;
    this.aborted = true;
    for (const xhr of this.requests) xhr.abort();
    const id = this.upload && this.upload.id;
    if (id) await this.uploader.request('DELETE', `/api/uploads/${id}`).catch(() => {});
    if (this.uploader.options.store) await this.uploader.options.store.delete(fingerprint(this.file));
    await this.done.catch(() => {});
    this.setState('aborted');
  }
}

// Files in the chat: the upload tray above the composer (progress bar,
// speed, cancel; uploads a reload interrupted, offered for resuming) and
// the attachments of a message (an image preview or a download link, both
// through short-lived signed URLs).

import { element, fingerprint } from '/sdk/js/hangar-client.js';

const IMAGE = /^image\/(png|jpeg|gif|webp|avif|bmp)$/;

export function formatBytes(bytes) {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) { value /= 1024; unit += 1; }
  return `${value.toFixed(unit && value < 10 ? 1 : 0)} ${units[unit]}`;
}

/** Signed download URLs, fetched once per file and renewed before expiry. */
export class Links {
  constructor(api) {
    this.api = api;
    this.cache = new Map();
  }

  get(fileId) {
    const cached = this.cache.get(fileId);
    if (cached && cached.expires * 1000 - Date.now() > 30_000) return cached.promise;
    const promise = this.api('POST', `/api/files/${encodeURIComponent(fileId)}/link`).then((link) => {
      this.cache.set(fileId, { expires: link.expires, promise });
      return link.url;
    });
    this.cache.set(fileId, { expires: Infinity, promise });
    promise.catch(() => this.cache.delete(fileId));
    return promise;
  }
}

/** The attachments of one message. */
export function renderAttachments(attachments, links) {
  return element('div', { class: 'attachments' }, ...attachments.map((file) => {
    if (IMAGE.test(file.content_type || '')) {
      const img = element('img', { class: 'preview', alt: file.name, 'data-file': file.file_id });
      const link = element('a', { class: 'preview-link', target: '_blank', rel: 'noopener' }, img);
      links.get(file.file_id).then((url) => { img.src = url; link.href = url; }).catch(() => { img.alt = `${file.name} (unavailable)`; });
      return link;
    }
    const link = element('a', { class: 'file', download: file.name, 'data-file': file.file_id },
      element('span', { class: 'file-icon' }, (file.name.split('.').pop() || 'file').slice(0, 4).toUpperCase()),
      element('span', { class: 'file-name' }, file.name),
      element('span', { class: 'file-size' }, formatBytes(file.size)));
    links.get(file.file_id).then((url) => { link.href = url; }).catch(() => { link.classList.add('unavailable'); });
    return link;
  }));
}

/**
 * The upload tray. `onUploaded(file, context)` gets each finished upload;
 * the tray shows the live tasks and the interrupted ones (picking the same
 * file again resumes it).
 */
export class UploadTray {
  constructor(container, uploader, onUploaded) {
    this.container = container;
    this.uploader = uploader;
    this.onUploaded = onUploaded;
    this.rows = new Map();
  }

  /** Shows the uploads a reload interrupted. */
  async showUnfinished() {
    for (const record of await this.uploader.unfinished()) {
      if (this.rows.has(record.fingerprint)) continue;
      const discard = element('button', { type: 'button', class: 'link', onclick: async () => {
        await this.uploader.discard(record);
        this.drop(record.fingerprint);
      } }, 'Discard');
      this.put(record.fingerprint, element('div', { class: 'upload interrupted', 'data-state': 'interrupted', 'data-name': record.name },
        element('div', { class: 'upload-top' }, element('span', { class: 'upload-name' }, record.name), discard),
        element('div', { class: 'upload-status' }, `Interrupted at reload (${formatBytes(record.size)}). Attach the same file again to resume.`)));
    }
  }

  put(key, row) {
    const old = this.rows.get(key);
    if (old) old.replaceWith(row); else this.container.append(row);
    this.rows.set(key, row);
    this.container.hidden = false;
  }

  drop(key) {
    const row = this.rows.get(key);
    if (row) row.remove();
    this.rows.delete(key);
    this.container.hidden = this.rows.size === 0;
  }

  /** Uploads `file` for `context` (e.g. the room), showing its progress. */
  start(file, context) {
    const task = this.uploader.upload(file, { context });
    this.last = task;
    const key = fingerprint(file);
    const bar = element('progress', { max: '1', value: '0' });
    const status = element('div', { class: 'upload-status' }, 'Hashing…');
    const cancel = element('button', { type: 'button', class: 'link', onclick: () => task.abort() }, 'Cancel');
    const row = element('div', { class: 'upload', 'data-state': 'hashing', 'data-name': file.name },
      element('div', { class: 'upload-top' }, element('span', { class: 'upload-name' }, file.name), cancel), bar, status);
    this.put(key, row);
    task.addEventListener('state', (e) => { row.dataset.state = e.state; });
    task.addEventListener('hash-progress', (e) => {
      bar.value = e.total ? e.loaded / e.total : 1;
      status.textContent = `Checking the file… ${Math.round(bar.value * 100)}%`;
    });
    task.addEventListener('progress', (e) => {
      bar.value = e.total ? e.sent / e.total : 1;
      row.dataset.chunksDone = String(e.chunksDone);
      row.dataset.chunkCount = String(e.chunkCount);
      status.textContent = `${Math.round(bar.value * 100)}% of ${formatBytes(e.total)} · ${formatBytes(e.bytesPerSecond)}/s`;
    });
    task.addEventListener('done', (e) => {
      row.dataset.instant = String(e.instant);
      this.drop(key);
      this.onUploaded(e.file, context, e.instant);
    });
    task.addEventListener('state', (e) => { if (e.state === 'aborted') this.drop(key); });
    task.addEventListener('error', (e) => {
      status.textContent = `Upload failed: ${e.error.message}`;
      status.classList.add('error');
      cancel.textContent = 'Dismiss';
      cancel.onclick = () => this.drop(key);
    });
    return task;
  }
}

// The arithmetic of a chunked upload, apart from any browser API so it is
// unit-tested on its own: which chunks are left, the bytes each covers,
// which failures are worth retrying, and a speed meter over a sliding window.

/**
 * Byte range `[start, end)` of chunk `index` of an open upload.
 * @param {{size: number, chunk_size: number}} upload
 * @param {number} index
 */
export function chunkRange(upload, index) {
  const start = index * upload.chunk_size;
  return { start, end: Math.min(upload.size, start + upload.chunk_size) };
}

/**
 * Chunk indexes the server does not hold yet, ascending.
 * @param {{chunk_count: number, received: number[]}} upload
 */
export function missingChunks(upload) {
  const held = new Set(upload.received || []);
  const missing = [];
  for (let index = 0; index < upload.chunk_count; index += 1) if (!held.has(index)) missing.push(index);
  return missing;
}

/** Bytes of the chunks the server already holds. */
export function heldBytes(upload) {
  return (upload.received || []).reduce((sum, index) => {
    const { start, end } = chunkRange(upload, index);
    return sum + (end - start);
  }, 0);
}

/**
 * Whether a failed chunk request is worth sending again: the network
 * (status 0), a timeout, overload, a server error, or a body that arrived
 * damaged (`chunk-md5-mismatch`). Anything else is the request's fault.
 * @param {number} status
 * @param {string} [code]
 */
export function retryable(status, code) {
  return status === 0 || status === 408 || status === 429 || status >= 500 || code === 'chunk-md5-mismatch';
}

/** Bytes per second over the last `windowMs`. */
export class SpeedMeter {
  constructor(windowMs = 3000, now = () => Date.now()) {
    this.windowMs = windowMs;
    this.now = now;
    this.samples = [];
  }

  /** Records that `total` bytes have been sent so far; returns the speed. */
  record(total) {
    const at = this.now();
    this.samples.push([at, total]);
    while (this.samples.length > 2 && at - this.samples[1][0] >= this.windowMs) this.samples.shift();
    const [firstAt, firstTotal] = this.samples[0];
    const elapsed = at - firstAt;
    return elapsed > 0 ? ((total - firstTotal) * 1000) / elapsed : 0;
  }
}

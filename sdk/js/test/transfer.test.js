import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SpeedMeter, chunkRange, heldBytes, missingChunks, retryable } from '../src/transfer.js';

const upload = { size: 30 * 1024 * 1024, chunk_size: 8 * 1024 * 1024, chunk_count: 4, received: [0, 2] };

test('chunk ranges cover the file, the last one short', () => {
  assert.deepEqual(chunkRange(upload, 0), { start: 0, end: 8 * 1024 * 1024 });
  assert.deepEqual(chunkRange(upload, 3), { start: 24 * 1024 * 1024, end: 30 * 1024 * 1024 });
  let covered = 0;
  for (let i = 0; i < upload.chunk_count; i += 1) {
    const { start, end } = chunkRange(upload, i);
    assert.equal(start, covered);
    covered = end;
  }
  assert.equal(covered, upload.size);
});

test('only the chunks the server lacks are left to send', () => {
  assert.deepEqual(missingChunks(upload), [1, 3]);
  assert.deepEqual(missingChunks({ ...upload, received: [] }), [0, 1, 2, 3]);
  assert.deepEqual(missingChunks({ ...upload, received: [3, 1, 0, 2] }), []);
  assert.equal(heldBytes(upload), 16 * 1024 * 1024);
  assert.equal(heldBytes({ ...upload, received: [3] }), 6 * 1024 * 1024);
});

test('network, overload, server errors and damaged bodies are retried; request errors are not', () => {
  for (const [status, code] of [[0, 'network'], [408], [429], [500], [503], [422, 'chunk-md5-mismatch']]) {
    assert.ok(retryable(status, code), `${status} ${code}`);
  }
  for (const [status, code] of [[400, 'wrong-length'], [401], [404, 'unknown-upload'], [413, 'too-large'], [422, 'other']]) {
    assert.ok(!retryable(status, code), `${status} ${code}`);
  }
});

test('speed is measured over the recent window', () => {
  let now = 0;
  const meter = new SpeedMeter(3000, () => now);
  assert.equal(meter.record(0), 0);
  now = 1000;
  assert.equal(meter.record(1000), 1000);
  now = 2000;
  assert.equal(meter.record(3000), 1500);
  // Ten seconds later at a new pace: the old samples no longer count.
  for (let second = 3; second <= 12; second += 1) {
    now = second * 1000;
    meter.record(3000 + (second - 2) * 4000);
  }
  now = 13_000;
  assert.equal(meter.record(3000 + 11 * 4000), 4000);
});

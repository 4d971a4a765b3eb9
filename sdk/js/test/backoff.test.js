import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_BACKOFF, ceilingMs, delayMs } from '../src/backoff.js';

test('ceilings double from 0.5 s up to 20 s', () => {
  const ceilings = [0, 1, 2, 3, 4, 5, 6, 7, 50].map((n) => ceilingMs(n));
  assert.deepEqual(ceilings, [500, 1000, 2000, 4000, 8000, 16000, 20000, 20000, 20000]);
  assert.equal(ceilingMs(-3), 500);
});

test('delays are full jitter within the ceiling', () => {
  assert.equal(delayMs(3, DEFAULT_BACKOFF, () => 0), 0);
  assert.equal(delayMs(3, DEFAULT_BACKOFF, () => 0.5), 2000);
  assert.ok(delayMs(3, DEFAULT_BACKOFF, () => 0.999999) < 4000);
  for (let i = 0; i < 1000; i += 1) {
    const d = delayMs(10);
    assert.ok(d >= 0 && d <= 20_000);
  }
});

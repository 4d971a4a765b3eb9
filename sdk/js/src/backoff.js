// Full-jitter exponential backoff: the delay before retry `n` is uniform in
// [0, min(max, initial * 2^n)], so clients reconnecting after an outage
// spread out instead of arriving together.

/** Default schedule: 0.5 s doubling up to 20 s. */
export const DEFAULT_BACKOFF = Object.freeze({ initialMs: 500, maxMs: 20_000 });

/**
 * Upper bound of the delay before retry `attempt` (0-based), in ms.
 * @param {number} attempt
 * @param {{initialMs: number, maxMs: number}} [schedule]
 */
export function ceilingMs(attempt, schedule = DEFAULT_BACKOFF) {
  const factor = 2 ** Math.min(Math.max(attempt, 0), 30);
  return Math.min(schedule.maxMs, schedule.initialMs * factor);
}

/**
 * A random delay in [0, ceilingMs(attempt)].
 * @param {number} attempt
 * @param {{initialMs: number, maxMs: number}} [schedule]
 * @param {() => number} [random] uniform in [0, 1)
 */
export function delayMs(attempt, schedule = DEFAULT_BACKOFF, random = Math.random) {
  return Math.floor(ceilingMs(attempt, schedule) * random());
}

// Reconnect tiers. After a connection is lost the client tries, in order:
//   1. the same URL, `sameUrlAttempts` times, with full-jitter backoff (at
//      most `clusterSameUrlAttempts` when the node list names another node:
//      a live node serves at once, a dead one's restart takes longer);
//   2. each other node of the cached node list (from the LBS endpoint);
//   3. a fresh node list, then each of its nodes;
//   4. gives up: the application decides (a "gave-up" event).
// This module only decides what to try next; the client does the trying.

import { DEFAULT_BACKOFF, delayMs } from './backoff.js';

/**
 * @typedef {{kind: 'connect', url: string, delayMs: number, tier: 'same' | 'cached' | 'fresh'}
 *   | {kind: 'refresh-nodes', delayMs: number}
 *   | {kind: 'gave-up'}} Step
 */

export class ReconnectPlan {
  /**
   * @param {object} options
   * @param {string} options.url the URL the client was connected to
   * @param {string[]} [options.nodes] cached node URLs, best first
   * @param {number} [options.sameUrlAttempts]
   * @param {number} [options.clusterSameUrlAttempts] the cap on same-URL tries when `nodes` names another node
   * @param {{initialMs: number, maxMs: number}} [options.backoff]
   * @param {() => number} [options.random]
   */
  constructor({
    url, nodes = [], sameUrlAttempts = 5, clusterSameUrlAttempts = 2, backoff = DEFAULT_BACKOFF, random = Math.random,
  }) {
    this.url = url;
    if (nodes.some((node) => node !== url)) sameUrlAttempts = Math.min(sameUrlAttempts, clusterSameUrlAttempts);
    this.sameUrlAttempts = sameUrlAttempts;
    this.backoff = backoff;
    this.random = random;
    this.queue = [];
    this.attempt = 0;
    this.refreshed = false;
    for (let i = 0; i < sameUrlAttempts; i += 1) this.queue.push({ url, tier: 'same' });
    for (const node of nodes) if (node !== url) this.queue.push({ url: node, tier: 'cached' });
    this.queue.push({ refresh: true });
  }

  /** The next thing to try. @returns {Step} */
  next() {
    const item = this.queue.shift();
    if (!item) return { kind: 'gave-up' };
    const wait = delayMs(this.attempt, this.backoff, this.random);
    this.attempt += 1;
    if (item.refresh) return { kind: 'refresh-nodes', delayMs: wait };
    return { kind: 'connect', url: item.url, delayMs: wait, tier: item.tier };
  }

  /**
   * The fresh node list arrived (after a `refresh-nodes` step): try each of
   * its nodes once; a failed or empty refresh leads to giving up.
   * @param {string[]} nodes
   */
  freshNodes(nodes) {
    if (this.refreshed) return;
    this.refreshed = true;
    for (const node of nodes) this.queue.push({ url: node, tier: 'fresh' });
  }
}

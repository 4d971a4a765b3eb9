import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ReconnectPlan } from '../src/tiers.js';

const half = () => 0.5;

test('same URL first, then cached nodes, then a fresh list, then give up', () => {
  const plan = new ReconnectPlan({
    url: 'ws://a/ws', nodes: ['ws://a/ws', 'ws://b/ws', 'ws://c/ws'], sameUrlAttempts: 3, clusterSameUrlAttempts: 3, random: half,
  });
  const steps = [];
  for (;;) {
    const step = plan.next();
    steps.push(step);
    if (step.kind === 'refresh-nodes') plan.freshNodes(['ws://d/ws']);
    if (step.kind === 'gave-up') break;
  }
  assert.deepEqual(steps.map((s) => s.kind === 'connect' ? `${s.tier} ${s.url}` : s.kind), [
    'same ws://a/ws', 'same ws://a/ws', 'same ws://a/ws',
    'cached ws://b/ws', 'cached ws://c/ws',
    'refresh-nodes',
    'fresh ws://d/ws',
    'gave-up',
  ]);
  // Backoff grows with every attempt, capped.
  assert.deepEqual(steps.slice(0, 4).map((s) => s.delayMs), [250, 500, 1000, 2000]);
});

test('a refresh that finds nothing gives up, and only one refresh happens', () => {
  const plan = new ReconnectPlan({ url: 'ws://a/ws', sameUrlAttempts: 1, random: half });
  assert.equal(plan.next().kind, 'connect');
  assert.equal(plan.next().kind, 'refresh-nodes');
  plan.freshNodes([]);
  plan.freshNodes(['ws://late/ws']);
  assert.equal(plan.next().kind, 'gave-up');
});

test('with other nodes listed, the same URL is tried only clusterSameUrlAttempts times', () => {
  const kinds = (plan) => {
    const steps = [];
    for (let step = plan.next(); step.kind === 'connect'; step = plan.next()) steps.push(`${step.tier} ${step.url}`);
    return steps;
  };
  // A cluster: two tries of the dead node (default cap), then the others.
  assert.deepEqual(kinds(new ReconnectPlan({
    url: 'ws://a/ws', nodes: ['ws://a/ws', 'ws://b/ws'], sameUrlAttempts: 40, random: half,
  })), ['same ws://a/ws', 'same ws://a/ws', 'cached ws://b/ws']);
  // Alone (the list names only this node): every same-URL try is kept.
  assert.equal(kinds(new ReconnectPlan({
    url: 'ws://a/ws', nodes: ['ws://a/ws'], sameUrlAttempts: 40, random: half,
  })).length, 40);
});

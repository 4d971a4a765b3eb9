import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyJoined, applyMessages, emptyRoom, lastSeq, mergeConversations, mergeMessages } from '../src/sync.js';

const m = (seq, text = `m${seq}`) => ({ room: 'r', seq, id: `id-${seq}`, sender: 'a', kind: 'user', text, time_ms: seq, attachments: [] });

test('merging keeps seq order and one message per seq', () => {
  const { messages, added } = mergeMessages([m(1), m(3)], [m(4), m(2), m(3, 'again'), m(2)]);
  assert.deepEqual(messages.map((x) => x.seq), [1, 2, 3, 4]);
  assert.deepEqual(added.map((x) => x.seq), [2, 4]);
  assert.equal(messages[2].text, 'm3', 'the first copy of a seq stays');
  const same = [m(1)];
  assert.equal(mergeMessages(same, [m(1)]).messages, same, 'nothing new: same list');
});

test('a join continues the cache; a reset or another epoch drops it', () => {
  let { cache } = applyJoined(emptyRoom('r'), { epoch: 1, status: 'ok', messages: [m(1), m(2)] });
  assert.equal(lastSeq(cache), 2);
  ({ cache } = applyJoined(cache, { epoch: 1, status: 'ok', messages: [m(3)] }));
  assert.deepEqual(cache.messages.map((x) => x.seq), [1, 2, 3]);
  const reset = applyJoined(cache, { epoch: 2, status: 'reset', messages: [m(1, 'new epoch')] });
  assert.equal(reset.dropped, true);
  assert.deepEqual(reset.cache.messages.map((x) => x.text), ['new epoch']);
  const silently = applyJoined(cache, { epoch: 5, status: 'ok', messages: [] });
  assert.equal(silently.dropped, true);
  assert.equal(silently.cache.messages.length, 0);
});

test('too-far records the gap; the page after it closes the gap', () => {
  let { cache } = applyJoined(emptyRoom('r'), { epoch: 1, status: 'ok', messages: [m(1), m(2)] });
  ({ cache } = applyJoined(cache, { epoch: 1, status: 'too-far', messages: [] }));
  assert.equal(cache.gapAfter, 2);
  ({ cache } = applyMessages(cache, [m(5), m(6)]));
  assert.equal(cache.gapAfter, 2, 'later messages do not close it');
  ({ cache } = applyMessages(cache, [m(3), m(4)]));
  assert.equal(cache.gapAfter, null);
  assert.deepEqual(cache.messages.map((x) => x.seq), [1, 2, 3, 4, 5, 6]);
});

test('conversation changes replace by room, newest activity first', () => {
  const list = mergeConversations(
    [{ room: 'a', last_ms: 1, unread: 0 }, { room: 'b', last_ms: 2, unread: 1 }],
    [{ room: 'a', last_ms: 5, unread: 3 }, { room: 'c', last_ms: 3, unread: 0 }],
  );
  assert.deepEqual(list.map((c) => `${c.room}:${c.unread}`), ['a:3', 'c:0', 'b:1']);
});

// Merging what the server sends into a cached copy of a room: messages are
// kept in seq order, once each, whatever mix of `joined`, `batch`,
// `history` and HTTP pages delivered them; an epoch change drops the cache.

/**
 * @typedef {{room: string, seq: number, id: string, sender: string, kind: string,
 *   text: string, time_ms: number, attachments: object[], client_id?: string}} Message
 * @typedef {{room: string, epoch: number | null, messages: Message[], gapAfter: number | null}} RoomCache
 */

/** An empty cache of `room`. @returns {RoomCache} */
export function emptyRoom(room) {
  return { room, epoch: null, messages: [], gapAfter: null };
}

/** Newest seq held, or null. @param {RoomCache} cache */
export function lastSeq(cache) {
  return cache.messages.length ? cache.messages[cache.messages.length - 1].seq : null;
}

/**
 * Merges `incoming` into `messages` (both in any order): sorted by seq, one
 * message per seq. Returns the merged list and the messages that were new.
 * @param {Message[]} messages
 * @param {Message[]} incoming
 * @returns {{messages: Message[], added: Message[]}}
 */
export function mergeMessages(messages, incoming) {
  const bySeq = new Map(messages.map((m) => [m.seq, m]));
  const added = [];
  for (const message of incoming) {
    if (!bySeq.has(message.seq)) {
      bySeq.set(message.seq, message);
      added.push(message);
    }
  }
  if (!added.length) return { messages, added };
  const merged = [...bySeq.values()].sort((a, b) => a.seq - b.seq);
  added.sort((a, b) => a.seq - b.seq);
  return { messages: merged, added };
}

/**
 * Applies a `joined` frame. `reset` drops the cached messages; `too-far`
 * records the gap to page over HTTP.
 * @param {RoomCache} cache
 * @param {{epoch: number, status: 'ok' | 'reset' | 'too-far', messages: Message[]}} joined
 * @returns {{cache: RoomCache, added: Message[], dropped: boolean}}
 */
export function applyJoined(cache, joined) {
  const dropped = joined.status === 'reset' || (cache.epoch !== null && cache.epoch !== joined.epoch);
  const base = dropped ? { ...emptyRoom(cache.room), epoch: joined.epoch } : { ...cache, epoch: joined.epoch };
  if (joined.status === 'too-far') {
    return { cache: { ...base, gapAfter: lastSeq(base) ?? 0 }, added: [], dropped };
  }
  const { messages, added } = mergeMessages(base.messages, joined.messages || []);
  return { cache: { ...base, messages }, added, dropped };
}

/**
 * Applies messages from a `batch`, a `history` frame or an HTTP page.
 * @param {RoomCache} cache
 * @param {Message[]} incoming
 */
export function applyMessages(cache, incoming) {
  const { messages, added } = mergeMessages(cache.messages, incoming);
  let { gapAfter } = cache;
  // A gap is closed once the page that follows it has arrived.
  if (gapAfter !== null && incoming.some((m) => m.seq === gapAfter + 1)) gapAfter = null;
  return { cache: { ...cache, messages, gapAfter }, added };
}

/**
 * Merges a conversation-list change set (`GET /api/conversations?cursor=`)
 * into the cached list, keyed by room, newest activity first.
 * @param {object[]} conversations
 * @param {object[]} changes
 */
export function mergeConversations(conversations, changes) {
  const byRoom = new Map(conversations.map((c) => [c.room, c]));
  for (const change of changes) byRoom.set(change.room, { ...byRoom.get(change.room), ...change });
  return [...byRoom.values()].sort((a, b) => (b.last_ms ?? 0) - (a.last_ms ?? 0));
}

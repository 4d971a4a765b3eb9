// ChatStore: the browser's copy of a user's chat in IndexedDB (through
// `idb`), so a page shows its history at once and then asks the server only
// for what changed: conversations (with the list cursor), messages per room
// (the newest kept, keyed by room and seq), the outbox of unacknowledged
// sends, and the hashes of files being uploaded (so a resumed upload does
// not hash the file again).

import { openDB } from 'idb';

const VERSION = 1;

/** Messages kept per room; older ones are paged from the server again. */
export const MAX_CACHED_MESSAGES = 2000;

const ROOM_RANGE = (room) => IDBKeyRange.bound([room, -Infinity], [room, Infinity]);

export class ChatStore {
  /** @param {import('idb').IDBPDatabase} db */
  constructor(db) {
    this.db = db;
  }

  /**
   * Opens (creating on first use) the store named `name`; one per user, so
   * two people on one browser never see each other's cache.
   * @param {string} name
   */
  static async open(name) {
    const db = await openDB(name, VERSION, {
      upgrade(database) {
        database.createObjectStore('meta');
        database.createObjectStore('conversations', { keyPath: 'room' });
        database.createObjectStore('rooms', { keyPath: 'room' });
        database.createObjectStore('messages', { keyPath: ['room', 'seq'] });
        database.createObjectStore('outbox', { keyPath: 'client_id' });
        database.createObjectStore('uploads', { keyPath: 'fingerprint' });
      },
    });
    return new ChatStore(db);
  }

  /** A value saved with `set`, or undefined. */
  get(key) {
    return this.db.get('meta', key);
  }

  /** Saves a small value (a cursor, the last room opened). */
  set(key, value) {
    return this.db.put('meta', value, key);
  }

  /** Cached conversations and the cursor they are current to. */
  async conversations() {
    const [list, cursor] = await Promise.all([this.db.getAll('conversations'), this.get('conversation-cursor')]);
    return { conversations: list, cursor: cursor ?? null };
  }

  /** Saves conversation changes and the cursor they bring the list up to. */
  async saveConversations(changes, cursor) {
    const tx = this.db.transaction(['conversations', 'meta'], 'readwrite');
    const conversations = tx.objectStore('conversations');
    for (const change of changes) {
      const old = await conversations.get(change.room);
      await conversations.put({ ...old, ...change });
    }
    if (cursor !== undefined && cursor !== null) await tx.objectStore('meta').put(cursor, 'conversation-cursor');
    await tx.done;
  }

  /**
   * The cached copy of `room` in the shape HubClient resumes from: its
   * epoch and its newest `limit` messages in seq order.
   * @returns {Promise<import('./sync.js').RoomCache>}
   */
  async room(room, limit = 200) {
    const tx = this.db.transaction(['rooms', 'messages']);
    const meta = await tx.objectStore('rooms').get(room);
    const messages = [];
    let cursor = await tx.objectStore('messages').openCursor(ROOM_RANGE(room), 'prev');
    while (cursor && messages.length < limit) {
      messages.push(cursor.value);
      cursor = await cursor.continue();
    }
    await tx.done;
    return { room, epoch: meta ? meta.epoch : null, messages: messages.reverse(), gapAfter: null };
  }

  /**
   * Saves messages of `room` at `epoch`; a different epoch than the one
   * stored means the server reset the room, so its old messages go first.
   */
  async saveMessages(room, epoch, messages) {
    const tx = this.db.transaction(['rooms', 'messages'], 'readwrite');
    const rooms = tx.objectStore('rooms');
    const store = tx.objectStore('messages');
    const meta = await rooms.get(room);
    if (epoch !== null && epoch !== undefined && meta && meta.epoch !== epoch) await store.delete(ROOM_RANGE(room));
    if (epoch !== null && epoch !== undefined) await rooms.put({ room, epoch });
    for (const message of messages) {
      // Local-only fields (pending, client_id of another device) stay out.
      const { pending, ...kept } = message;
      await store.put(kept);
    }
    // Keep the newest MAX_CACHED_MESSAGES.
    const count = await store.count(ROOM_RANGE(room));
    if (count > MAX_CACHED_MESSAGES) {
      let cursor = await store.openCursor(ROOM_RANGE(room));
      for (let extra = count - MAX_CACHED_MESSAGES; cursor && extra > 0; extra -= 1) {
        await cursor.delete();
        cursor = await cursor.continue();
      }
    }
    await tx.done;
  }

  /** Drops the cached messages of `room` (an epoch reset). */
  async resetRoom(room, epoch) {
    const tx = this.db.transaction(['rooms', 'messages'], 'readwrite');
    await tx.objectStore('messages').delete(ROOM_RANGE(room));
    await tx.objectStore('rooms').put({ room, epoch: epoch ?? null });
    await tx.done;
  }

  /** The outbox in the shape `HubClient`'s `outbox` option takes. */
  outbox() {
    return {
      load: () => this.db.getAll('outbox'),
      save: async (pending) => {
        const tx = this.db.transaction('outbox', 'readwrite');
        await tx.store.clear();
        for (const send of pending) await tx.store.put(send);
        await tx.done;
      },
    };
  }

  /** What the uploader keeps per file: see `Uploader`. */
  uploads() {
    return {
      get: (fingerprint) => this.db.get('uploads', fingerprint),
      put: (record) => this.db.put('uploads', record),
      delete: (fingerprint) => this.db.delete('uploads', fingerprint),
      all: () => this.db.getAll('uploads'),
    };
  }

  /** Closes the database. */
  close() {
    this.db.close();
  }
}

// @hangar/client: the browser client of the Hangar chat hub and upload store.

export { DEFAULT_BACKOFF, ceilingMs, delayMs } from './backoff.js';
export { ReconnectPlan } from './tiers.js';
export { applyJoined, applyMessages, emptyRoom, lastSeq, mergeConversations, mergeMessages } from './sync.js';
export { HubClient, PROTOCOL_VERSION } from './hub-client.js';
export { ChatStore, MAX_CACHED_MESSAGES } from './store.js';
export { SpeedMeter, chunkRange, heldBytes, missingChunks, retryable } from './transfer.js';
export { UploadError, UploadTask, Uploader, fingerprint } from './uploader.js';
export { VirtualList } from './virtual-list.js';
export { element } from './dom.js';

// @hangar/client: the browser client of the Hangar chat hub.

export { DEFAULT_BACKOFF, ceilingMs, delayMs } from './backoff.js';
export { ReconnectPlan } from './tiers.js';
export { applyJoined, applyMessages, emptyRoom, lastSeq, mergeConversations, mergeMessages } from './sync.js';
export { HubClient, PROTOCOL_VERSION } from './hub-client.js';
export { VirtualList } from './virtual-list.js';
export { element } from './dom.js';

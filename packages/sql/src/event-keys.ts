// The compact idempotency keys of stored events on SQLite (schema v8): docs in packages/sqlite/README.md#event-keys.

/**
 * A 53-bit hash of an event's idempotency key (cyrb53, public domain): what `event_keys` and
 * `event_keys_recent` index instead of the key's text. 53 bits so that both drivers read it back
 * as an exact JavaScript number. Two keys may share a hash: a key is stored when no event under
 * its hash carries the same key text, so a collision costs one more row read, never a lost event.
 * Stored on disk: never change it (a file would need its keys hashed again).
 */
export function eventKeyHash(key: string): number {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < key.length; i++) {
    const ch = key.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507);
  h1 ^= Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507);
  h2 ^= Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}

/** The SQL function name under which the SQLite migration to v8 calls `eventKeyHash` on stored keys. */
export const EVENT_KEY_HASH_FUNCTION = 'tessera_event_key_hash';

/**
 * New keys go to the small `event_keys_recent` and move to the large `event_keys` in key order
 * once per this many events (when an insert's event ids cross a multiple of it): a random insert
 * then dirties a page of a table that stays small and cached, and the large table takes its keys
 * in one sorted pass that writes each of its pages once.
 */
export const EVENT_KEYS_MERGE_EVERY = 50_000;

/** True when a batch that stored the events `firstId` to `lastId` crossed a multiple of `every`. */
export function crossesMerge(firstId: number, lastId: number, every = EVENT_KEYS_MERGE_EVERY): boolean {
  return Math.floor(lastId / every) > Math.floor((firstId - 1) / every);
}

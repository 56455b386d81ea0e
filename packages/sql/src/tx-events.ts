// insertEvents on a schema with compact event keys (SQLite v8), split out of tx.ts: packages/sqlite/README.md#event-keys.
import { TesseraError, type EventRecord } from '@tessera/core';
import { EVENT_KEYS_MERGE_EVERY, eventKeyHash } from './event-keys.js';
import { eventToRow } from './rows.js';
import type { SqlExecutor } from './executor.js';
import type { EventKeyStatements, Statements } from './statements.js';

/**
 * What one connection has read of the events newer than `event_keys` holds: their ids by key
 * hash. Entries are hints, confirmed by reading the event's key: an entry left by a transaction
 * that rolled back names an id that is gone or holds another key, and is skipped.
 */
class RecentEvents {
  readonly byHash = new Map<number, number | number[]>();
  /** Every event with an id in (mergedThrough, seen] is in `byHash`. */
  seen = 0;
  /** event_keys_state.merged_through as last applied here: older entries were dropped. */
  mergedThrough = 0;

  add(hash: number, id: number): void {
    const had = this.byHash.get(hash);
    if (had === undefined) this.byHash.set(hash, id);
    else if (typeof had === 'number') {
      if (had !== id) this.byHash.set(hash, [had, id]);
    } else if (!had.includes(id)) had.push(id);
  }

  /** Drops the entries of events up to `through`, now found in event_keys. */
  dropThrough(through: number): void {
    for (const [hash, ids] of this.byHash) {
      if (typeof ids === 'number') {
        if (ids <= through) this.byHash.delete(hash);
      } else {
        const kept = ids.filter((id) => id > through);
        if (kept.length === 0) this.byHash.delete(hash);
        else this.byHash.set(hash, kept.length === 1 ? kept[0]! : kept);
      }
    }
    this.mergedThrough = through;
    if (this.seen < through) this.seen = through;
  }
}

// Per connection (its Statements), as its prepared statements are.
const recentByConnection = new WeakMap<object, RecentEvents>();

/**
 * Per database transaction: the first event id it inserted (0: none yet). Rows from that id on
 * may yet be rolled back (the whole transaction, or one call's savepoint in a group commit) and
 * their ids given again, and a merge it made may be undone: neither is taken as settled.
 */
export interface EventsInTx {
  firstId: number;
}

/**
 * Stores each event whose key no stored event carries; true for each stored. Runs under the
 * store's write lock (SQLite has one writer), which is what makes check-then-insert exactly once:
 * the events written since this connection last looked are read first (a sequential range of
 * ids), and a key repeated in the batch finds its first copy, just inserted. When the events not
 * yet in `event_keys` reach EVENT_KEYS_MERGE_EVERY, they are copied into it in key order, in the
 * same transaction.
 */
export function insertCompactEvents<S>(x: SqlExecutor<S>, s: Statements<S>, keys: EventKeyStatements<S>, records: readonly EventRecord[], tx: EventsInTx): boolean[] {
  const insertId = x.insertId;
  if (insertId === undefined) throw new TesseraError('INTERNAL', 'insertEvents: compact event keys need a dialect that reports the new rowid (SQLite)');
  let recent = recentByConnection.get(s);
  if (recent === undefined) recentByConnection.set(s, (recent = new RecentEvents()));
  const merged = catchUp(x, keys, recent, tx);
  // event_keys holds the events up to `merged`: none yet on a file with fewer than 50,000 events.
  const anyMerged = merged > 0;
  const stored: boolean[] = [];
  let last = 0;
  for (const r of records) {
    const hash = eventKeyHash(r.idempotencyKey);
    if (isStored(x, keys, recent, hash, r.idempotencyKey, anyMerged)) {
      stored.push(false);
      continue;
    }
    const id = insertId.call(x, s.insertEvent, [hash, ...eventToRow(r)]);
    recent.add(hash, id);
    if (tx.firstId === 0) tx.firstId = id;
    last = id;
    stored.push(true);
  }
  if (last - merged >= EVENT_KEYS_MERGE_EVERY) {
    x.run(keys.merge, [merged, last]);
    x.run(keys.setMergedThrough, [last]);
  }
  return stored;
}

/** Brings `recent` up to the events on file; returns event_keys_state.merged_through as read now. */
function catchUp<S>(x: SqlExecutor<S>, keys: EventKeyStatements<S>, recent: RecentEvents, tx: EventsInTx): number {
  const merged = Number((x.get(keys.mergedThrough, []) as [number])[0]);
  // A merge this transaction made is not trusted before it commits: its entries are kept.
  if (merged > recent.mergedThrough && tx.firstId === 0) recent.dropThrough(merged);
  const rows = x.all(keys.since, [recent.seen]) as [number, number][];
  if (rows.length === 0) return merged;
  for (const [id, hash] of rows) recent.add(hash, id);
  // This transaction's own rows may yet roll back and their ids be given again: read them next time too.
  const upTo = tx.firstId === 0 ? rows[rows.length - 1]![0] : Math.min(rows[rows.length - 1]![0], tx.firstId - 1);
  if (upTo > recent.seen) recent.seen = upTo;
  return merged;
}

function isStored<S>(x: SqlExecutor<S>, keys: EventKeyStatements<S>, recent: RecentEvents, hash: number, key: string, anyMerged: boolean): boolean {
  const ids = recent.byHash.get(hash);
  if (ids !== undefined) {
    for (const id of typeof ids === 'number' ? [ids] : ids) {
      const row = x.get(keys.keyOf, [id]) as [string] | undefined;
      if (row !== undefined && row[0] === key) return true;
    }
  }
  return anyMerged && x.get(keys.findMerged, [hash, key]) !== undefined;
}

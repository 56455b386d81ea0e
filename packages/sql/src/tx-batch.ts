// The multi-row (PostgreSQL) paths of SqlTx's batch operations, split out of tx.ts so chunking, lock ordering and row matching are changed in one place.
import { distinctUsageKeys, usageKeyId, type CustomerRecord, type EventRecord, type IdempotencyRecord, type NewChange, type UsageKey, type UsageRecord } from '@tessera/core';
import { eventToRow, newChangeToRow, usageKeyArgs, usageToRow } from './rows.js';
import { BATCH_CHUNK, EVENT_CHUNK, type Statements } from './statements.js';
import { settle, type Maybe, type SqlExecutor } from './executor.js';

/** One batch operation as `SqlTx.op` runs it: the statements to run, then how their results become the answer. */
export interface Batch<S, R, T> {
  readonly run: (x: SqlExecutor<S>, s: Statements<S>) => Maybe<R>;
  readonly map: (r: R) => T;
}

/** `run` on each run of at most BATCH_CHUNK items, in order; the executor sends them one after another. */
const inChunks = <T, R>(items: readonly T[], run: (chunk: T[]) => Maybe<R>): Maybe<R[]> => {
  const out: Maybe<R>[] = [];
  for (let i = 0; i < items.length; i += BATCH_CHUNK) out.push(run(items.slice(i, i + BATCH_CHUNK)));
  return settle(out);
};

/**
 * A usage row's key as one string, `usageKeyId` of its record: the first six columns are the key
 * in the order of USAGE_KEY_COLUMNS, which is usageKeyId's order (ids hold no NUL, as in the memory store).
 */
const rowKeyString = (row: unknown[]): string => `${row[0]}\u0000${row[1]}\u0000${row[2]}\u0000${row[3]}\u0000${row[4]}\u0000${row[5]}`;

/** `getCustomers` where statements cost a round trip: one SELECT per chunk of distinct ids. */
export function batchGetCustomers<S>(
  customerIds: readonly string[],
  answer: (row: unknown[] | undefined) => CustomerRecord | undefined,
): Batch<S, unknown[][][], (CustomerRecord | undefined)[]> {
  const ids = [...new Set(customerIds)];
  return {
    run: (x, s) => inChunks(ids, (chunk) => x.all(s.getCustomers(chunk.length), chunk)),
    map: (results) => {
      const byId = new Map<unknown, unknown[]>();
      for (const rows of results) for (const row of rows) byId.set(row[0], row);
      // Mapped per answer, so that a repeated id gets its own copy.
      return customerIds.map((id) => answer(byId.get(id)));
    },
  };
}

/** `getIdempotencies` where statements cost a round trip: one SELECT per chunk of distinct (scope, key) pairs. */
export function batchGetIdempotencies<S>(
  keys: readonly { scope: string; key: string }[],
  answer: (row: unknown[] | undefined) => IdempotencyRecord | undefined,
): Batch<S, unknown[][][], (IdempotencyRecord | undefined)[]> {
  const id = (scope: unknown, key: unknown) => `${String(scope)}\u0000${String(key)}`;
  const distinct = new Map<string, { scope: string; key: string }>();
  for (const k of keys) distinct.set(id(k.scope, k.key), k);
  return {
    run: (x, s) => inChunks([...distinct.values()], (chunk) => x.all(s.getIdempotencies(chunk.length), chunk.flatMap((k) => [k.scope, k.key]))),
    map: (results) => {
      const byId = new Map<string, unknown[]>();
      for (const rows of results) for (const row of rows) byId.set(id(row[0], row[1]), row);
      return keys.map((k) => answer(byId.get(id(k.scope, k.key))));
    },
  };
}

/** `getUsages` where statements cost a round trip: one SELECT per chunk of distinct keys. */
export function batchGetUsages<S>(
  keys: readonly UsageKey[],
  answer: (row: unknown[] | undefined) => UsageRecord | undefined,
): Batch<S, unknown[][][], (UsageRecord | undefined)[]> {
  const distinct = new Map<string, UsageKey>();
  for (const k of keys) distinct.set(usageKeyId(k), k);
  return {
    run: (x, s) =>
      inChunks([...distinct.values()], (chunk) =>
        x.all(
          s.getUsages(chunk.length),
          chunk.flatMap(usageKeyArgs),
        ),
      ),
    map: (results) => {
      const byKey = new Map<string, unknown[]>();
      for (const rows of results) for (const row of rows) byKey.set(rowKeyString(row), row);
      return keys.map((k) => answer(byKey.get(usageKeyId(k))));
    },
  };
}

/** `putUsages` on either kind of executor: repeated keys refused, then one statement per record or per chunk. */
export function batchPutUsages<S>(records: readonly UsageRecord[]): Batch<S, number[], void> {
  return {
    run: (x, s) => {
      const ids = distinctUsageKeys(records);
      if (!x.roundTrips) return x.runEach(s.putUsage, records.map(usageToRow));
      const keyed = ids.map((key, i) => ({ key, r: records[i]! }));
      // In key order (the keys being distinct, the outcome is the same): batches that share cells
      // then lock them in one order and wait for each other instead of deadlocking.
      keyed.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
      return inChunks(keyed, (chunk) => x.run(s.putUsages(chunk.length), chunk.flatMap((k) => usageToRow(k.r))));
    },
    map: () => undefined,
  };
}

/** `insertEvents` where statements cost a round trip: one INSERT per chunk; true for each record stored. */
export function batchInsertEvents<S>(records: EventRecord[]): Batch<S, unknown[][][], boolean[]> {
  // Chunks of EVENT_CHUNK rows, each one INSERT ... ON CONFLICT DO NOTHING RETURNING the keys it
  // stored, in key order: batches that share keys then lock them in one order and wait for each
  // other, where batch order made concurrent writers deadlock (stable, so a repeated key's first
  // copy stays first).
  const ordered = records.map((r, i) => ({ r, i })).sort((a, b) => (a.r.idempotencyKey < b.r.idempotencyKey ? -1 : a.r.idempotencyKey > b.r.idempotencyKey ? 1 : a.i - b.i));
  return {
    run: (x, s) => {
      const chunks: Maybe<unknown[][]>[] = [];
      for (let i = 0; i < ordered.length; i += EVENT_CHUNK) {
        const chunk = ordered.slice(i, i + EVENT_CHUNK).map((o) => o.r);
        chunks.push(x.all(s.insertEvents(chunk.length), chunk.flatMap(eventToRow)));
      }
      return Promise.all(chunks);
    },
    map: (results) => {
      const stored = new Set<unknown>();
      for (const rows of results) for (const row of rows) stored.add(row[0]);
      // The first copy of a stored key is the one that was stored.
      return records.map((r) => stored.delete(r.idempotencyKey));
    },
  };
}

/** `appendChanges` where statements cost a round trip: one INSERT per chunk; the seqs in log order. */
export function batchAppendChanges<S>(changes: readonly NewChange[], seq: (row: unknown) => number): Batch<S, unknown[][][], number[]> {
  // One statement per chunk, the chunks sent in order. The identity column numbers a statement's
  // rows in VALUES order, but RETURNING promises no row order: each chunk's seqs are sorted.
  return {
    run: (x, s) => inChunks(changes, (chunk) => x.all(s.appendChanges(chunk.length), chunk.flatMap(newChangeToRow))),
    map: (results) => results.flatMap((rows) => rows.map(seq).sort((a, b) => a - b)),
  };
}

/**
 * The change feed on PostgreSQL, read so that no change is ever skipped (packages/postgres/README.md#the-change-feed-seq-order-without-skipping).
 *
 * `seq` comes from an identity (a sequence), handed out when a row is inserted; transactions
 * commit in their own order. So a reader can see seq 11 committed while seq 10 still belongs to
 * a transaction in flight (it commits later) or to one that rolled back (it never appears).
 * Reading `seq > last` and moving on would skip 10 in the first case. Instead, a gap stops the
 * read until it is settled: when a gap is first seen, the store notes the schema's write
 * transactions running (the holders of its writer lock, taken at BEGIN); once none of them is
 * running in a later read's snapshot, whatever of the gap has not appeared never will, and the
 * read goes past it. Commits keep running concurrently; only the feed waits.
 */
import type { ChangeRecord } from '@tessera/core';
import { changeFromRow, type Statements } from '@tessera/sql';
import { pgExecutor, types, type PgQueryable, type PgStatement } from './dialect.js';

/**
 * Every write transaction of a schema holds a shared advisory lock (this class, the schema name's
 * hash) from BEGIN, so the feed can tell its writers from any other transaction of the database.
 */
export const WRITER_LOCK_CLASS = 7353;

/** SQL that takes the writer lock of the current schema, for the BEGIN of a write transaction. */
export const TAKE_WRITER_LOCK = `pg_advisory_xact_lock_shared(${WRITER_LOCK_CLASS}, hashtext(current_schema()))`;

/**
 * The same lock taken by name, `$1` the schema: for a connection whose search_path is not
 * Tessera's (the application's own, engine.transaction with { connection }).
 */
export const TAKE_WRITER_LOCK_OF = `pg_advisory_xact_lock_shared(${WRITER_LOCK_CLASS}, hashtext($1))`;

/**
 * The class of the session locks writers of one hot row take turns on (StoreTransactionOptions.turnKey):
 * `pg_advisory_lock(TURN_LOCK_CLASS, turnLockId(schema, key))`.
 */
export const TURN_LOCK_CLASS = 7354;

/**
 * The 32-bit lock id of a turn key in a schema (FNV-1a of both, as a signed int4). Two keys that
 * share an id only take turns needlessly; no outcome depends on it.
 */
export function turnLockId(schema: string, key: string): number {
  let h = 0x811c9dc5;
  const text = `${schema}\u0000${key}`;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h | 0;
}

/** At most this many unsettled gaps are remembered; they settle within a transaction's lifetime. */
const MAX_GAPS = 10_000;

/** What a snapshot says of transactions: the ids it lists in progress, and its xmax (32-bit ids). */
interface SnapshotInfo {
  xip: Set<number>;
  xmax: number;
}

/**
 * Whether a transaction was still running in a snapshot: listed in progress, or at or past its
 * xmax. xmax is one past the newest *completed* id, so a transaction that took its id before the
 * snapshot can still be past it without being listed (ids compared modulo 2^32).
 */
const running = (snap: SnapshotInfo, xid: number) => snap.xip.has(xid) || ((xid - snap.xmax) >>> 0) < 0x80000000;

export class ChangeFeed {
  /** First seq of each gap seen and not yet settled, with the transaction ids (low 32 bits) it waits for. */
  private readonly gaps = new Map<number, number[]>();

  /**
   * `oneTrip`: the connection takes several statements in one text with their rows as arrays (pg
   * on a server, not PGlite): a read of the feed is then one round trip instead of four, which
   * matters with many followers woken by every commit.
   */
  constructor(
    private readonly statements: Statements<PgStatement>,
    private readonly oneTrip = false,
  ) {}

  /** Changes with seq > after, in order, at most `limit`, stopping at the first unsettled gap. */
  async read(client: PgQueryable, after: number, limit: number): Promise<ChangeRecord[]> {
    const { rows, snap } = await snapshotRead(client, this.statements.getChanges, [after, limit], this.oneTrip);
    const out: ChangeRecord[] = [];
    let expected = after + 1;
    for (const row of rows) {
      const seq = Number((row as [number])[0]);
      if (seq !== expected) {
        const gap = this.gaps.get(expected);
        if (gap === undefined) {
          // Whoever holds a missing seq was running when the rows were read (it took its seq
          // before a visible one was committed). If it is still running, it holds the writer
          // lock now; if it ended since, only a later read can see what it did. So the gap
          // waits for the writers of now, and is stepped over at once only when nothing that
          // could hold it ran then: nothing listed in progress, no writer of then still running,
          // and no transaction completed since (else it may have been one past the snapshot's xmax).
          const writers = await writerIds(client);
          const since = await currentSnapshot(client);
          const quiet = snap.xip.size === 0 && since.xmax === snap.xmax && !writers.some((x) => running(snap, x));
          if (!quiet) {
            if (this.gaps.size >= MAX_GAPS) this.gaps.delete(this.gaps.keys().next().value!);
            this.gaps.set(expected, writers);
            break;
          }
        } else if (gap.some((xid) => running(snap, xid))) {
          break;
        }
        this.gaps.delete(expected);
      }
      out.push(changeFromRow(row));
      expected = seq + 1;
    }
    return out;
  }

  /**
   * The highest seq at or below which nothing can still appear: the largest committed seq, once
   * every write transaction of this schema that could hold a lower one has ended (waiting up to
   * `maxWaitMs`, then answering anyway).
   */
  async settledMax(client: PgQueryable, maxWaitMs = 5000): Promise<number> {
    const { rows } = await snapshotRead(client, this.statements.lastChangeSeq, [], this.oneTrip);
    const max = Number((rows[0] as [number | null] | undefined)?.[0] ?? 0);
    let waiting = await writerIds(client);
    const deadline = performance.now() + maxWaitMs;
    while (waiting.length > 0 && performance.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 2));
      const now = await currentSnapshot(client);
      waiting = waiting.filter((xid) => running(now, xid));
    }
    return max;
  }
}

/**
 * The transaction ids (low 32 bits) of this schema's write transactions running now: the holders
 * of its writer lock. Other applications' transactions, and other schemas', never hold up the feed.
 */
async function writerIds(client: PgQueryable): Promise<number[]> {
  const r = await client.query({
    text:
      'SELECT a.backend_xid::text FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid ' +
      `WHERE l.locktype = 'advisory' AND l.classid = ${WRITER_LOCK_CLASS} AND l.objsubid = 2 ` +
      'AND l.objid = (hashtext(current_schema())::bigint & 4294967295)::oid ' +
      'AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) AND a.backend_xid IS NOT NULL',
    rowMode: 'array',
  });
  return r.rows.map((row) => Number(row[0]));
}

const SNAPSHOT =
  'SELECT (pg_snapshot_xmax(s)::text::numeric % 4294967296)::text, ' +
  'ARRAY(SELECT (x::text::numeric % 4294967296)::text FROM pg_snapshot_xip(s) AS x) FROM pg_current_snapshot() AS s';

/**
 * Runs one statement and reads what the same snapshot says of transactions in progress. With
 * `oneTrip` and integer arguments (the feed's are seqs and limits), the whole read is one text:
 * the arguments are written into it as numerals, so nothing else can be.
 */
async function snapshotRead(client: PgQueryable, statement: PgStatement, args: unknown[], oneTrip = false) {
  if (oneTrip && args.every((a) => Number.isSafeInteger(a))) {
    const text = statement.text.replace(/\$(\d+)\b/g, (_, i: string) => String(args[Number(i) - 1]));
    let results: { rows: unknown[][] }[];
    try {
      results = (await client.query({ text: `BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; ${text}; ${SNAPSHOT}; COMMIT`, rowMode: 'array', types })) as unknown as typeof results;
    } catch (e) {
      // A failure inside the text leaves its transaction open and aborted.
      await client.query('ROLLBACK').catch(() => undefined);
      throw e;
    }
    return { rows: results[1]!.rows, snap: snapshotFrom(results[2]!.rows[0] as [string, string[]]) };
  }
  await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
  try {
    // In REPEATABLE READ both statements see the snapshot the first one took.
    const rows = await pgExecutor(client).all(statement, args);
    const snap = await currentSnapshot(client);
    await client.query('COMMIT');
    return { rows, snap };
  } catch (e) {
    // The read's own error is the one the caller needs: a ROLLBACK failing as well (a connection
    // already broken) adds nothing to it.
    await client.query('ROLLBACK').catch(() => undefined);
    throw e;
  }
}

/** The current snapshot's in-progress ids and xmax, as 32-bit ids (pg_stat_activity's form). */
async function currentSnapshot(client: PgQueryable): Promise<SnapshotInfo> {
  const r = await client.query({ text: SNAPSHOT, rowMode: 'array' });
  return snapshotFrom(r.rows[0] as [string, string[]]);
}

function snapshotFrom([xmax, xip]: [string, string[]]): SnapshotInfo {
  return { xmax: Number(xmax), xip: new Set(xip.map(Number)) };
}

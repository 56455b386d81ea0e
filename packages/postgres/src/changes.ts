/**
 * The change feed on PostgreSQL, read so that no change is ever skipped (packages/postgres/README.md#the-change-feed-seq-order-without-skipping).
 *
 * `seq` comes from an identity (a sequence), handed out when a row is inserted; transactions
 * commit in their own order. So a reader can see seq 11 committed while seq 10 still belongs to
 * a transaction in flight (it commits later) or to one that rolled back (it never appears).
 * Reading `seq > last` and moving on would skip 10 in the first case. Instead, a gap stops the
 * read until it is settled: when a gap is first seen, the store notes which of this database's
 * transactions were in progress (the snapshot's xip, kept to backends of this database); once
 * none of them is still in progress, whatever of the gap has not appeared never will, and the
 * read goes past it. Commits keep running concurrently; only the feed waits, for as long as the
 * transactions that were running at the time take to end. "Of this database" is narrowed to the
 * schema's own write transactions by the writer lock each takes at BEGIN.
 */
import type { ChangeRecord } from '@tessera/core';
import { changeFromRow, type Statements } from '@tessera/sql';
import { pgExecutor, type PgQueryable, type PgStatement } from './dialect.js';

/**
 * Every write transaction of a schema holds a shared advisory lock (this class, the schema name's
 * hash) from BEGIN, so the feed can tell its writers from any other transaction of the database.
 */
export const WRITER_LOCK_CLASS = 7353;

/** SQL that takes the writer lock of the current schema, for the BEGIN of a write transaction. */
export const TAKE_WRITER_LOCK = `pg_advisory_xact_lock_shared(${WRITER_LOCK_CLASS}, hashtext(current_schema()))`;

/** At most this many unsettled gaps are remembered; they settle within a transaction's lifetime. */
const MAX_GAPS = 10_000;

export class ChangeFeed {
  /** First seq of each gap seen and not yet settled, with the transaction ids (low 32 bits) it waits for. */
  private readonly gaps = new Map<number, Set<string>>();

  constructor(private readonly statements: Statements<PgStatement>) {}

  /** Changes with seq > after, in order, at most `limit`, stopping at the first unsettled gap. */
  async read(client: PgQueryable, after: number, limit: number): Promise<ChangeRecord[]> {
    const { rows, inProgress } = await snapshotRead(client, this.statements.getChanges, [after, limit]);
    const out: ChangeRecord[] = [];
    let expected = after + 1;
    for (const row of rows) {
      const seq = Number((row as [number])[0]);
      if (seq !== expected) {
        const gap = this.gaps.get(expected);
        if (gap === undefined) {
          // Nothing in flight when the rows were read: the missing seqs were rolled back.
          // Otherwise the gap waits at least for the next read, even when none of the
          // transactions in flight then is still running now: one that committed since the
          // rows were read may hold it, and only a later read can see its rows.
          if (inProgress.size > 0) {
            if (this.gaps.size >= MAX_GAPS) this.gaps.delete(this.gaps.keys().next().value!);
            this.gaps.set(expected, await this.writersAmong(client, inProgress));
            break;
          }
        } else if ([...gap].some((xid) => inProgress.has(xid))) {
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
   * every transaction of this database that was in progress when it was read has ended (waiting
   * up to `maxWaitMs`, then answering anyway).
   */
  async settledMax(client: PgQueryable, maxWaitMs = 5000): Promise<number> {
    const { rows, inProgress } = await snapshotRead(client, this.statements.lastChangeSeq, []);
    const max = Number((rows[0] as [number | null] | undefined)?.[0] ?? 0);
    const waiting = await this.writersAmong(client, inProgress);
    const deadline = performance.now() + maxWaitMs;
    while (waiting.size > 0 && performance.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 2));
      const now = await currentInProgress(client);
      for (const xid of waiting) if (!now.has(xid)) waiting.delete(xid);
    }
    return max;
  }

  /**
   * Of the snapshot's in-progress transaction ids, those of this schema's write transactions (the
   * holders of its writer lock): other applications' transactions, and other schemas' on the same
   * server, never hold up the feed.
   */
  private async writersAmong(client: PgQueryable, inProgress: Set<string>): Promise<Set<string>> {
    if (inProgress.size === 0) return new Set();
    const r = await client.query({
      text:
        'SELECT a.backend_xid::text FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid ' +
        `WHERE l.locktype = 'advisory' AND l.classid = ${WRITER_LOCK_CLASS} AND l.objsubid = 2 ` +
        'AND l.objid = (hashtext(current_schema())::bigint & 4294967295)::oid ' +
        'AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) AND a.backend_xid IS NOT NULL',
      rowMode: 'array',
    });
    return new Set(r.rows.map((row) => String(row[0])).filter((xid) => inProgress.has(xid)));
  }
}

/** Runs one statement and reads the in-progress transaction ids of the same snapshot. */
async function snapshotRead(client: PgQueryable, statement: PgStatement, args: unknown[]) {
  await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
  try {
    // In REPEATABLE READ both statements see the snapshot the first one took.
    const rows = await pgExecutor(client).all(statement, args);
    const inProgress = await currentInProgress(client);
    await client.query('COMMIT');
    return { rows, inProgress };
  } catch (e) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw e;
  }
}

/** The current snapshot's in-progress transaction ids, as 32-bit xids in text (pg_stat_activity's form). */
async function currentInProgress(client: PgQueryable): Promise<Set<string>> {
  const r = await client.query({ text: 'SELECT (x::text::numeric % 4294967296)::text FROM pg_snapshot_xip(pg_current_snapshot()) AS x', rowMode: 'array' });
  return new Set(r.rows.map((row) => String(row[0])));
}

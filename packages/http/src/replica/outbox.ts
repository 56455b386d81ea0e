/**
 * The replica's durable outbox and its sync bookkeeping, as tables of the replica file itself, so
 * that a local usage write and its outbox entry commit in one transaction
 * (packages/http/README.md#replicas, "The outbox").
 */
import type { Store, StoreTx } from '@tessera/core';
import { sqlite } from './sqlite-peer.js';
import type BetterSqlite3 from 'better-sqlite3';

/** What an outbox entry delivers: `usage` as reportUsage(Bulk), `event` as reportEvent. */
export type OutboxKind = 'usage' | 'event';

/** One queued write, in the order it was acknowledged locally. */
export interface OutboxEntry {
  seq: number;
  kind: OutboxKind;
  customerId: string;
  /** The params (one usage report or one event) with its idempotency key and timestamp. */
  body: Record<string, unknown>;
}

/** An entry to queue; one whose `dedupeKey` is queued already is skipped. */
export interface NewOutboxEntry {
  dedupeKey: string;
  kind: OutboxKind;
  customerId: string;
  body: Record<string, unknown>;
}

/** An entry the sidecar refused for good (not a transport failure), kept for inspection. */
export interface FailedEntry extends OutboxEntry {
  code: string;
  message: string;
  failedAt: number;
}

// Tables of the replica's own, beside the store's (prefixed so they can never meet its schema).
const SCHEMA = `
  CREATE TABLE IF NOT EXISTS replica_outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    dedupe_key TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    body TEXT NOT NULL
  );
  CREATE INDEX IF NOT EXISTS replica_outbox_customer ON replica_outbox (customer_id);
  CREATE TABLE IF NOT EXISTS replica_outbox_failed (
    seq INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    body TEXT NOT NULL,
    code TEXT NOT NULL,
    message TEXT NOT NULL,
    failed_at INTEGER NOT NULL
  );
  CREATE TABLE IF NOT EXISTS replica_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
`;

/** The outbox's prepared statements on one connection. */
class Statements {
  readonly insert: BetterSqlite3.Statement;
  readonly peek: BetterSqlite3.Statement;
  readonly delete: BetterSqlite3.Statement;
  readonly count: BetterSqlite3.Statement;
  readonly pending: BetterSqlite3.Statement;
  readonly getMeta: BetterSqlite3.Statement;
  readonly setMeta: BetterSqlite3.Statement;
  readonly fail: BetterSqlite3.Statement;
  readonly failed: BetterSqlite3.Statement;

  constructor(db: BetterSqlite3.Database) {
    // OR IGNORE: a caller retrying with the same idempotency key queues it once.
    this.insert = db.prepare('INSERT OR IGNORE INTO replica_outbox (dedupe_key, kind, customer_id, body) VALUES (?, ?, ?, ?)');
    this.peek = db.prepare('SELECT seq, kind, customer_id AS customerId, body FROM replica_outbox ORDER BY seq LIMIT ?');
    this.delete = db.prepare('DELETE FROM replica_outbox WHERE seq = ?');
    this.count = db.prepare('SELECT count(*) AS n FROM replica_outbox');
    this.pending = db.prepare('SELECT 1 FROM replica_outbox WHERE customer_id = ? LIMIT 1');
    this.getMeta = db.prepare('SELECT value FROM replica_meta WHERE key = ?');
    this.setMeta = db.prepare('INSERT INTO replica_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value');
    this.fail = db.prepare('INSERT OR REPLACE INTO replica_outbox_failed (seq, kind, customer_id, body, code, message, failed_at) VALUES (?, ?, ?, ?, ?, ?, ?)');
    this.failed = db.prepare('SELECT seq, kind, customer_id AS customerId, body, code, message, failed_at AS failedAt FROM replica_outbox_failed ORDER BY seq');
  }
}

const statements = new WeakMap<BetterSqlite3.Database, Statements>();

/** The outbox statements of the connection `tx` runs on (prepared once per connection). */
function on(tx: StoreTx): Statements {
  const db = sqlite().sqliteConnection(tx);
  let s = statements.get(db);
  if (!s) statements.set(db, (s = new Statements(db)));
  return s;
}

const parseBody = <R extends { body: string }>(r: R): Omit<R, 'body'> & { body: Record<string, unknown> } => ({ ...r, body: JSON.parse(r.body) as Record<string, unknown> });

/**
 * The outbox on the replica's SQLite store. Every statement runs inside a transaction of that
 * store, on its connection (`sqliteConnection`): appends inside the local usage write's own
 * transaction (`appendIn`), the rest in transactions of their own, which take turns with the
 * local engine's. Entries leave only once the sidecar has acknowledged them; refused ones move
 * to `replica_outbox_failed`.
 */
export class Outbox {
  private count = 0;
  private refused: FailedEntry[] = [];

  private constructor(private readonly store: Store) {}

  /** Creates the tables when missing (in the store's file) and reads where the outbox stands. */
  static async open(store: Store): Promise<Outbox> {
    const outbox = new Outbox(store);
    await store.transaction('write', async (tx) => {
      sqlite().sqliteConnection(tx).exec(SCHEMA);
    });
    await outbox.reload();
    return outbox;
  }

  /** Reads the depth and the refused entries again (after an import). */
  async reload(): Promise<void> {
    await this.store.transaction('read', async (tx) => {
      const s = on(tx);
      this.count = (s.count.get() as { n: number }).n;
      this.refused = (s.failed.all() as (Omit<FailedEntry, 'body'> & { body: string })[]).map(parseBody);
    });
  }

  /**
   * Queues entries inside `tx`, a write transaction of the replica's store: they commit or roll
   * back with it. Returns how many were new; the caller adds them with `noteAppended` once the
   * transaction has committed.
   */
  appendIn(tx: StoreTx, entries: readonly NewOutboxEntry[]): number {
    const s = on(tx);
    let added = 0;
    for (const e of entries) added += s.insert.run(e.dedupeKey, e.kind, e.customerId, JSON.stringify(e.body)).changes;
    return added;
  }

  /** Counts entries `appendIn` queued in a transaction that has since committed. */
  noteAppended(n: number): void {
    this.count += n;
  }

  /** The oldest `limit` entries, in order. */
  peek(limit: number): Promise<OutboxEntry[]> {
    return this.store.transaction('read', async (tx) => (on(tx).peek.all(limit) as (Omit<OutboxEntry, 'body'> & { body: string })[]).map(parseBody));
  }

  /** Removes acknowledged entries. */
  async remove(seqs: readonly number[]): Promise<void> {
    const removed = await this.store.transaction('write', async (tx) => {
      const s = on(tx);
      let n = 0;
      for (const seq of seqs) n += s.delete.run(seq).changes;
      return n;
    });
    this.count -= removed;
  }

  /** Moves an entry the sidecar refused for good to `replica_outbox_failed`; returns it as kept. */
  async fail(entry: OutboxEntry, code: string, message: string, at: number): Promise<FailedEntry> {
    const failed: FailedEntry = { ...entry, code, message, failedAt: at };
    const removed = await this.store.transaction('write', async (tx) => {
      const s = on(tx);
      s.fail.run(entry.seq, entry.kind, entry.customerId, JSON.stringify(entry.body), code, message, at);
      return s.delete.run(entry.seq).changes;
    });
    this.count -= removed;
    this.refused.push(failed);
    return failed;
  }

  /** How many entries the sidecar refused. */
  failedCount(): number {
    return this.refused.length;
  }

  /** Entries refused by the sidecar, oldest first. */
  failed(): FailedEntry[] {
    return this.refused.map((f) => ({ ...f, body: structuredClone(f.body) }));
  }

  /**
   * Entries acknowledged locally and not yet by the sidecar, as of the last committed append,
   * delivery or refusal this replica made. `exactDepth()` reads the table.
   */
  depth(): number {
    return this.count;
  }

  /** The number of queued entries, read from the table. */
  exactDepth(): Promise<number> {
    return this.store.transaction('read', async (tx) => (on(tx).count.get() as { n: number }).n);
  }

  /** Whether the customer has queued entries, read inside `tx` (a transaction of the replica's store). */
  hasPendingIn(tx: StoreTx, customerId: string): boolean {
    return on(tx).pending.get(customerId) !== undefined;
  }

  /** Those of `customerIds` with no queued entries left. */
  settled(customerIds: readonly string[]): Promise<string[]> {
    return this.store.transaction('read', async (tx) => customerIds.filter((id) => !this.hasPendingIn(tx, id)));
  }

  getMeta(key: string): Promise<string | undefined> {
    return this.store.transaction('read', async (tx) => (on(tx).getMeta.get(key) as { value: string } | undefined)?.value);
  }

  /** Writes bookkeeping values in one transaction. */
  async setMeta(values: Record<string, string>): Promise<void> {
    await this.store.transaction('write', async (tx) => this.setMetaIn(tx, values));
  }

  /** Writes bookkeeping values inside `tx`. */
  setMetaIn(tx: StoreTx, values: Record<string, string>): void {
    const s = on(tx);
    for (const [k, v] of Object.entries(values)) s.setMeta.run(k, v);
  }
}

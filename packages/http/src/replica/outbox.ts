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

/** An entry the sidecar refused for good (not a transport failure), kept for inspection. */
export interface FailedEntry extends OutboxEntry {
  code: string;
  message: string;
  failedAt: number;
}

/**
 * The replica's durable outbox and its sync bookkeeping, in a SQLite file of its own written
 * with better-sqlite3 directly: each append is one synchronous transaction (WAL,
 * `synchronous=NORMAL`: durable against a crash of the process, as the replica file is), done
 * before the write is acknowledged to the caller. Entries leave only once the sidecar has
 * acknowledged them; refused ones move to `outbox_failed`.
 */
export class Outbox {
  private readonly db: BetterSqlite3.Database;
  private readonly insert: BetterSqlite3.Statement;
  private readonly peekStmt: BetterSqlite3.Statement;
  private readonly deleteStmt: BetterSqlite3.Statement;
  private readonly countStmt: BetterSqlite3.Statement;
  private readonly pendingStmt: BetterSqlite3.Statement;
  private readonly getMetaStmt: BetterSqlite3.Statement;
  private readonly setMetaStmt: BetterSqlite3.Statement;
  private readonly failStmt: BetterSqlite3.Statement;

  /** Opens (or creates) the outbox file; better-sqlite3 loads here, only for a replica. */
  static async open(filename: string): Promise<Outbox> {
    const { default: Database } = await import('better-sqlite3');
    return new Outbox(new Database(filename));
  }

  private constructor(db: BetterSqlite3.Database) {
    this.db = db;
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS outbox (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        dedupe_key TEXT NOT NULL UNIQUE,
        kind TEXT NOT NULL,
        customer_id TEXT NOT NULL,
        body TEXT NOT NULL
      );
      CREATE INDEX IF NOT EXISTS outbox_customer ON outbox (customer_id);
      CREATE TABLE IF NOT EXISTS outbox_failed (
        seq INTEGER PRIMARY KEY,
        kind TEXT NOT NULL,
        customer_id TEXT NOT NULL,
        body TEXT NOT NULL,
        code TEXT NOT NULL,
        message TEXT NOT NULL,
        failed_at INTEGER NOT NULL
      );
      CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    `);
    // OR IGNORE: a caller retrying with the same idempotency key queues it once.
    this.insert = this.db.prepare('INSERT OR IGNORE INTO outbox (dedupe_key, kind, customer_id, body) VALUES (?, ?, ?, ?)');
    this.peekStmt = this.db.prepare('SELECT seq, kind, customer_id AS customerId, body FROM outbox ORDER BY seq LIMIT ?');
    this.deleteStmt = this.db.prepare('DELETE FROM outbox WHERE seq = ?');
    this.countStmt = this.db.prepare('SELECT count(*) AS n FROM outbox');
    this.pendingStmt = this.db.prepare('SELECT 1 FROM outbox WHERE customer_id = ? LIMIT 1');
    this.getMetaStmt = this.db.prepare('SELECT value FROM meta WHERE key = ?');
    this.setMetaStmt = this.db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value');
    this.failStmt = this.db.prepare('INSERT OR REPLACE INTO outbox_failed (seq, kind, customer_id, body, code, message, failed_at) VALUES (?, ?, ?, ?, ?, ?, ?)');
  }

  /** Queues entries in one transaction; an entry whose `dedupeKey` is queued already is skipped. */
  append(entries: { dedupeKey: string; kind: OutboxKind; customerId: string; body: Record<string, unknown> }[]): void {
    this.db.transaction(() => {
      for (const e of entries) this.insert.run(e.dedupeKey, e.kind, e.customerId, JSON.stringify(e.body));
    })();
  }

  /** The oldest `limit` entries, in order. */
  peek(limit: number): OutboxEntry[] {
    return (this.peekStmt.all(limit) as { seq: number; kind: OutboxKind; customerId: string; body: string }[]).map((r) => ({ ...r, body: JSON.parse(r.body) as Record<string, unknown> }));
  }

  /** Removes acknowledged entries. */
  remove(seqs: readonly number[]): void {
    this.db.transaction(() => {
      for (const s of seqs) this.deleteStmt.run(s);
    })();
  }

  /** Moves an entry the sidecar refused for good to `outbox_failed`. */
  fail(entry: OutboxEntry, code: string, message: string, at: number): void {
    this.db.transaction(() => {
      this.failStmt.run(entry.seq, entry.kind, entry.customerId, JSON.stringify(entry.body), code, message, at);
      this.deleteStmt.run(entry.seq);
    })();
  }

  /** Entries refused by the sidecar. */
  failed(): FailedEntry[] {
    const rows = this.db.prepare('SELECT seq, kind, customer_id AS customerId, body, code, message, failed_at AS failedAt FROM outbox_failed ORDER BY seq').all() as (Omit<FailedEntry, 'body'> & { body: string })[];
    return rows.map((r) => ({ ...r, body: JSON.parse(r.body) as Record<string, unknown> }));
  }

  depth(): number {
    return (this.countStmt.get() as { n: number }).n;
  }

  /** Whether the customer has entries not yet acknowledged. */
  hasPending(customerId: string): boolean {
    return this.pendingStmt.get(customerId) !== undefined;
  }

  getMeta(key: string): string | undefined {
    return (this.getMetaStmt.get(key) as { value: string } | undefined)?.value;
  }

  setMeta(key: string, value: string): void {
    this.setMetaStmt.run(key, value);
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

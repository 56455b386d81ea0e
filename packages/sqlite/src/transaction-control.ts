import type BetterSqlite3 from 'better-sqlite3';
import { lockTimeout, sqliteCode, toStoreError, type ErrorContext } from './errors.js';

type Statement = BetterSqlite3.Statement<unknown[], unknown>;

// Waits between attempts at the write lock, in ms; the last one repeats. Close to SQLite's own
// busy handler (1, 2, 5, 10, 15, 20, 25...), a little tighter because a failed attempt costs
// microseconds.
const RETRY_DELAYS_MS = [1, 1, 2, 4, 8, 12, 16];

/**
 * BEGIN / COMMIT / ROLLBACK on one connection, as prepared statements.
 *
 * A write transaction starts with `BEGIN IMMEDIATE`, which takes SQLite's write lock at once, so
 * writers in other processes exclude each other from the start (a deferred transaction that
 * tries to upgrade later fails with SQLITE_BUSY instead of waiting). When another connection
 * holds the lock, the wait happens here, between timers, up to `busyTimeoutMs`: SQLite's own busy
 * timeout would sleep inside the synchronous better-sqlite3 call and freeze the whole event loop
 * (every request of the process) meanwhile. The connection's busy timeout still covers the rare
 * waits elsewhere (a reader during WAL recovery, opening the file).
 */
export class TransactionControl {
  private readonly beginDeferred: Statement;
  private readonly beginImmediate: Statement;
  private readonly commitStmt: Statement;
  private readonly rollbackStmt: Statement;
  private readonly savepointStmt: Statement;
  private readonly releaseStmt: Statement;
  private readonly rollbackToStmt: Statement;

  /** The connection's busy timeout, put back after each write attempt (which sets it to 0). */
  private readonly restoreBusyMs: number;

  /**
   * `shared`: the connection is the application's (`sqliteStore({ database })`): its own busy
   * timeout is the one put back, and a transaction of its own is waited for like another writer.
   */
  constructor(
    private readonly db: BetterSqlite3.Database,
    private readonly ctx: ErrorContext,
    private readonly shared = false,
  ) {
    this.restoreBusyMs = shared ? (db.pragma('busy_timeout', { simple: true }) as number) : ctx.busyTimeoutMs;
    this.beginDeferred = db.prepare('BEGIN');
    this.beginImmediate = db.prepare('BEGIN IMMEDIATE');
    this.commitStmt = db.prepare('COMMIT');
    this.rollbackStmt = db.prepare('ROLLBACK');
    this.savepointStmt = db.prepare('SAVEPOINT tessera_call');
    this.releaseStmt = db.prepare('RELEASE tessera_call');
    this.rollbackToStmt = db.prepare('ROLLBACK TO tessera_call');
  }

  /** True while this connection has a transaction open (SQLite may end one by itself after I/O errors). */
  get inTransaction(): boolean {
    return this.db.inTransaction;
  }

  /** Marks where one call of a shared write transaction starts (see SqliteStore's group commit). */
  savepoint(): void {
    try {
      this.savepointStmt.run();
    } catch (e) {
      throw toStoreError(e, this.ctx, 'starting a savepoint');
    }
  }

  /** Keeps the call's writes in the enclosing transaction. */
  release(): void {
    try {
      this.releaseStmt.run();
    } catch (e) {
      throw toStoreError(e, this.ctx, 'releasing a savepoint');
    }
  }

  /**
   * Undoes the call's writes back to its savepoint and drops the savepoint; the enclosing
   * transaction stays open. Returns false when that failed or SQLite had already ended the
   * whole transaction (then nothing of it can be kept).
   */
  rollbackToSavepoint(): boolean {
    if (!this.db.inTransaction) return false;
    try {
      this.rollbackToStmt.run();
      this.releaseStmt.run();
      return true;
    } catch {
      return false;
    }
  }

  /** Starts a read transaction; its snapshot is taken at the first read. */
  beginRead(): void {
    try {
      this.beginDeferred.run();
    } catch (e) {
      throw toStoreError(e, this.ctx, 'starting a read transaction');
    }
  }

  /**
   * Starts a write transaction once this connection holds the file's write lock.
   * Rejects with STORE_UNAVAILABLE when another connection keeps it past `busyTimeoutMs`.
   */
  async beginWrite(doing = 'starting a write transaction'): Promise<void> {
    if (this.tryBeginImmediate(doing)) return;
    const deadline = performance.now() + this.ctx.busyTimeoutMs;
    for (let attempt = 0; ; attempt++) {
      const left = deadline - performance.now();
      if (left <= 0) throw lockTimeout(this.ctx, doing);
      const delay = Math.min(RETRY_DELAYS_MS[attempt] ?? RETRY_DELAYS_MS[RETRY_DELAYS_MS.length - 1]!, left);
      await new Promise((resolve) => setTimeout(resolve, delay));
      if (this.tryBeginImmediate(doing)) return;
    }
  }

  commit(): void {
    try {
      this.commitStmt.run();
    } catch (e) {
      this.rollback();
      throw toStoreError(e, this.ctx, 'committing');
    }
  }

  /** Rolls back if a transaction is open; never throws (the error that led here is the one to report). */
  rollback(): void {
    // SQLite has already rolled back by itself after some errors (I/O, full disk).
    if (!this.db.inTransaction) return;
    try {
      this.rollbackStmt.run();
    } catch {
      // Nothing better to do: the caller is already failing with the original error.
    }
  }

  private tryBeginImmediate(doing: string): boolean {
    // A shared connection inside the application's own transaction (kysely's async
    // `.transaction()`): wait for it to end as for another writer, rather than fail or join it.
    if (this.shared && this.db.inTransaction) return false;
    // exec, not a cached statement: SQLite applies this PRAGMA when the statement is prepared, so
    // a prepared copy would take effect once only. About 0.5 us each way.
    this.db.exec('PRAGMA busy_timeout = 0');
    try {
      this.beginImmediate.run();
      return true;
    } catch (e) {
      if (sqliteCode(e)?.startsWith('SQLITE_BUSY')) return false;
      throw toStoreError(e, this.ctx, doing);
    } finally {
      this.db.exec(`PRAGMA busy_timeout = ${this.restoreBusyMs}`);
    }
  }
}

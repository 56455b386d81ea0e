import {
  refuseInsideCallback,
  Mutex,
  TesseraError,
  invalidArgument,
  type ChangeRecord,
  type Store,
  type StoreTx,
  type TransactionMode,
} from '@tessera/core';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { toStoreError, type ErrorContext } from './errors.js';
import { requireWal, validate, type Settings, type SqliteDurability, type SqliteStoreOptions } from './options.js';
import { migrate } from './migrate.js';
import { SqlTx, TablePrefixPlugin, changeFromRow, type Database, type EventsInTx, type Statements } from '@tessera/sql';
import { sqliteExecutor, sqliteStatements, type SqliteStatement } from './dialect.js';
import { TransactionControl } from './transaction-control.js';

export type { SqliteDurability, SqliteStoreOptions } from './options.js';

/**
 * A Tessera store on one SQLite file, through better-sqlite3 (one connection per store) in WAL
 * mode. `open()` creates or migrates the schema. Transactions of one store take turns; several
 * processes may open the same file: write transactions exclude each other (`BEGIN IMMEDIATE`,
 * waiting up to `busyTimeoutMs`), readers never wait for writers, and the change log's seq
 * follows commit order.
 *
 * With `database`, the store runs on the application's own connection instead of opening one,
 * with its tables under `tablePrefix`, so that `engine.transaction` can commit the application's
 * statements with Tessera's writes (README.md#one-transaction-with-your-application).
 *
 * Accepts the options object or just the filename. Throws INVALID_ARGUMENT for bad options;
 * `open()` rejects with STORE_UNAVAILABLE when the file cannot be opened, was written by a
 * newer schema, or (`database`) is not in WAL mode.
 */
export function sqliteStore(options: SqliteStoreOptions | string): Store {
  return new SqliteStore(validate(typeof options === 'string' ? { filename: options } : options));
}

/** The connection of each open transaction handed out by a SQLite store (see `sqliteConnection`). */
const txConnections = new WeakMap<StoreTx, { db: BetterSqlite3.Database; state: { open: boolean } }>();

/**
 * The better-sqlite3 connection that a transaction of a `sqliteStore` runs on, for statements on
 * tables of the caller's own in the same file that must commit or roll back with the store's
 * writes (one file, one transaction: the HTTP replica's outbox). Use it only while the
 * transaction's callback runs, synchronously, and only on your own tables: no BEGIN, COMMIT,
 * ROLLBACK or SAVEPOINT, and none of Tessera's tables (the schema is the adapter's).
 *
 * Throws INVALID_ARGUMENT when `tx` is not a SQLite store's transaction, CONFLICT once its
 * callback has settled.
 */
export function sqliteConnection(tx: StoreTx): BetterSqlite3.Database {
  const found = txConnections.get(tx);
  if (!found) throw invalidArgument('tx', 'pass the transaction object a sqliteStore handed to your transaction callback');
  if (!found.state.open) throw new TesseraError('CONFLICT', 'sqliteConnection: store transaction already ended; do not keep tx past its callback');
  return found.db;
}

interface Connection {
  db: BetterSqlite3.Database;
  statements: Statements<SqliteStatement>;
  transactions: TransactionControl;
}

/** A write transaction waiting to run in a group (see `SqliteStore.write`), then its outcome. */
interface WriteCall {
  fn: (tx: StoreTx) => Promise<unknown>;
  outcome: { ok: true; value: unknown } | { ok: false; error: unknown } | undefined;
}

/** Write calls that share one SQLite transaction; `done` settles once every call has an outcome. */
interface WriteGroup {
  calls: WriteCall[];
  done: Promise<void>;
}

/**
 * WAL pages between automatic checkpoints. A checkpoint copies the WAL back into the file and
 * syncs both, so its cost is mostly per checkpoint, not per page: with 'normal' durability every
 * 10,000 pages rather than SQLite's 1,000 makes event ingest about 1.3x faster (a batch of 1,000
 * events writes about 1,000 pages, so it checkpointed every batch) and a one-row commit about 20%
 * cheaper; the WAL file grows to about 40 MiB between checkpoints. With 'full', where every commit
 * syncs, a WAL growing into new blocks made commits about 3x slower, so SQLite's default stays.
 */
export function walCheckpointPages(durability: SqliteDurability): number {
  return durability === 'full' ? 1_000 : 10_000;
}

/** Most calls sharing one transaction: bounds how long the first of them waits for the commit. */
const MAX_GROUP = 64;

class SqliteStore implements Store {
  readonly kind = 'sqlite';
  private readonly mutex = new Mutex();
  /** The last group of write calls queued on the mutex and not yet started: new write calls join it. */
  private openGroup: WriteGroup | undefined;
  private readonly ctx: ErrorContext;
  private conn: Connection | undefined;
  private opening: Promise<void> | undefined;
  private closed = false;

  constructor(private readonly options: Settings) {
    this.ctx = { filename: options.filename, busyTimeoutMs: options.busyTimeoutMs };
  }

  open(): Promise<void> {
    if (this.closed) return Promise.reject(this.closedError());
    // Concurrent callers share one opening; a failed one may be retried.
    this.opening ??= this.exclusive(() => this.connect()).catch((e: unknown) => {
      this.opening = undefined;
      throw e;
    });
    return this.opening;
  }

  private async connect(): Promise<void> {
    const { filename, durability, busyTimeoutMs, database, tablePrefix } = this.options;
    let db: BetterSqlite3.Database;
    if (database) {
      if (!database.open) throw new TesseraError('STORE_UNAVAILABLE', `the application's SQLite database ${filename} was closed before the store opened`, { filename });
      db = database;
    } else {
      try {
        db = new BetterSqlite3(filename, { timeout: busyTimeoutMs });
      } catch (e) {
        throw new TesseraError('STORE_UNAVAILABLE', `cannot open SQLite database ${filename}: ${(e as Error).message}`, { filename });
      }
    }
    try {
      // The application's connection keeps its own settings (README.md#one-transaction-with-your-application).
      if (database) requireWal(database, filename);
      else {
        db.pragma('journal_mode = WAL');
        db.pragma(`synchronous = ${durability === 'full' ? 'FULL' : 'NORMAL'}`);
        db.pragma(`wal_autocheckpoint = ${walCheckpointPages(durability)}`);
      }
      // kysely only builds and compiles here; statements run as better-sqlite3 prepared statements.
      const kysely = new Kysely<Database>({ dialect: new SqliteDialect({ database: db }), plugins: [new TablePrefixPlugin(tablePrefix)] });
      const transactions = new TransactionControl(db, this.ctx, database !== undefined);
      // With a prefix, the file is shared and its user_version is the application's: the schema
      // version is then kept in the prefixed schema_migrations alone (the same rule in every
      // process, whether it opens the file by name or is given the connection).
      await migrate(db, kysely, transactions, this.ctx, tablePrefix === '' ? 'user_version' : 'table');
      this.conn = { db, statements: sqliteStatements(db, kysely), transactions };
    } catch (e) {
      if (!database) db.close();
      throw toStoreError(e, this.ctx, 'opening the store');
    }
  }

  /** The better-sqlite3 connection of a transaction of this store (see `sqliteConnection`). */
  connectionOf(tx: StoreTx): BetterSqlite3.Database {
    return sqliteConnection(tx);
  }

  transaction<T>(mode: TransactionMode, fn: (tx: StoreTx) => Promise<T>): Promise<T> {
    if (mode !== 'read' && mode !== 'write') {
      return Promise.reject(invalidArgument('mode', "use 'read' or 'write'", { value: mode, allowed: ['read', 'write'] }));
    }
    const unavailable = this.unavailable();
    if (unavailable) return Promise.reject(unavailable);
    // One connection, one transaction at a time: one asked for inside engine.transaction's callback would wait for it forever.
    try {
      refuseInsideCallback(this, `a ${mode} transaction`);
    } catch (e) {
      return Promise.reject(e);
    }
    if (mode === 'write') return this.write(fn);
    // Transactions already queued when close() is called still run: close() queues behind them.
    return this.exclusive(async () => {
      const conn = this.connection();
      const { transactions } = conn;
      // On a shared connection the application may have a transaction of its own open: a read
      // then runs inside it (Tessera writes only under its own transactions, which this excludes).
      const own = !transactions.inTransaction;
      if (own) transactions.beginRead();
      const state = { open: true };
      let result: T;
      try {
        result = await fn(this.tx(conn, 'read', state));
      } catch (e) {
        state.open = false;
        if (own) transactions.rollback();
        throw e;
      }
      state.open = false;
      if (own) transactions.commit();
      return result;
    });
  }

  /**
   * Group commit: write transactions that are waiting for the connection together, with nothing
   * queued between them, run one after another inside one SQLite transaction, each within its own
   * savepoint, and share its COMMIT. On these machines a commit costs several file-lock and write
   * system calls (tens of microseconds, milliseconds with 'full' durability), so concurrent
   * writers commit many calls for the price of one.
   *
   * Each call stays atomic: a call that throws is rolled back to its savepoint alone, the others
   * keep their writes, and every call settles once the shared COMMIT has succeeded. Were SQLite to end the
   * whole transaction (an I/O error, a full disk) or the COMMIT to fail, every call of the group
   * that had not already failed rejects with that error, since none of their writes were kept.
   * Calls still run one at a time, in the order they were made, so nothing interleaves.
   */
  private write<T>(fn: (tx: StoreTx) => Promise<T>): Promise<T> {
    const call: WriteCall = { fn, outcome: undefined };
    let group = this.openGroup;
    if (!group || group.calls.length >= MAX_GROUP) {
      const calls: WriteCall[] = [];
      const opened: WriteGroup = {
        calls,
        done: this.mutex.run(async () => {
          if (this.openGroup === opened) this.openGroup = undefined;
          await this.runGroup(calls);
        }),
      };
      group = this.openGroup = opened;
    }
    group.calls.push(call);
    // Settled through the mutex's own promise, as a lone transaction is: by the time a caller
    // resumes, the store is free for whatever it does next.
    return group.done.then(() => {
      const outcome = call.outcome!;
      if (!outcome.ok) throw outcome.error;
      return outcome.value as T;
    });
  }

  /** Runs write calls in one transaction (callers hold the mutex), recording each call's outcome. Never throws. */
  private async runGroup(calls: WriteCall[]): Promise<void> {
    const fail = (call: WriteCall, error: unknown) => (call.outcome = { ok: false, error });
    let conn: Connection;
    try {
      conn = this.connection();
      await conn.transactions.beginWrite();
    } catch (e) {
      for (const call of calls) fail(call, e);
      return;
    }
    const { transactions } = conn;
    // A group of one needs no savepoint: the transaction's rollback is the call's.
    const shared = calls.length > 1;
    // One per SQLite transaction: a call's events are not committed until the group's COMMIT (tx-events.ts).
    const events: EventsInTx = { firstId: 0 };
    const done: { call: WriteCall; value: unknown }[] = [];
    for (let i = 0; i < calls.length; i++) {
      const call = calls[i]!;
      const state = { open: true };
      try {
        if (shared) transactions.savepoint();
        const value = await call.fn(this.tx(conn, 'write', state, events));
        state.open = false;
        if (shared) transactions.release();
        done.push({ call, value });
      } catch (e) {
        state.open = false;
        fail(call, e);
        if (shared && transactions.rollbackToSavepoint()) continue;
        // The transaction is gone (or this was its only call): nothing of the group is kept.
        transactions.rollback();
        for (const d of done) fail(d.call, e);
        // Calls that have not run yet get a transaction of their own.
        const rest = calls.slice(i + 1);
        if (rest.length > 0) await this.runGroup(rest);
        return;
      }
    }
    try {
      transactions.commit();
    } catch (e) {
      for (const d of done) fail(d.call, e);
      return;
    }
    for (const d of done) d.call.outcome = { ok: true, value: d.value };
  }

  private tx(conn: Connection, mode: TransactionMode, state: { open: boolean }, events?: EventsInTx): StoreTx {
    const tx = new SqlTx(conn.statements, sqliteExecutor, mode, state, (e, doing) => toStoreError(e, this.ctx, doing), events);
    txConnections.set(tx, { db: conn.db, state });
    return tx;
  }

  /** Runs `fn` alone on the connection; write calls made after this one start a new group. */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    this.openGroup = undefined;
    return this.mutex.run(fn);
  }

  getChanges(after: number, limit: number): Promise<ChangeRecord[]> {
    // Through the mutex: on the one connection, a read between a transaction's statements would
    // see its uncommitted changes.
    return this.read('reading changes', (s) => (s.getChanges.all(after, limit) as unknown[]).map(changeFromRow));
  }

  lastChangeSeq(): Promise<number> {
    return this.read('reading the last change seq', (s) => ((s.lastChangeSeq.get() as [number | null])[0] ?? 0));
  }

  private read<T>(doing: string, fn: (s: Statements<SqliteStatement>) => T): Promise<T> {
    const unavailable = this.unavailable();
    if (unavailable) return Promise.reject(unavailable);
    return this.exclusive(async () => {
      try {
        return fn(this.connection().statements);
      } catch (e) {
        throw toStoreError(e, this.ctx, doing);
      }
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.exclusive(async () => {
      // The application's database is the application's to close.
      if (!this.options.database) this.conn?.db.close();
      this.conn = undefined;
    });
  }

  private unavailable(): TesseraError | undefined {
    if (this.closed) return this.closedError();
    if (!this.conn && !this.opening) {
      return new TesseraError('STORE_UNAVAILABLE', `the SQLite store ${this.options.filename} is not open; call open() first (createEngine does)`);
    }
    return undefined;
  }

  /** The open connection, once any pending open() has run (callers hold the mutex). */
  private connection(): Connection {
    if (!this.conn) throw this.unavailable() ?? new TesseraError('STORE_UNAVAILABLE', `the SQLite store ${this.options.filename} failed to open`);
    return this.conn;
  }

  private closedError(): TesseraError {
    return new TesseraError('STORE_UNAVAILABLE', `the SQLite store ${this.options.filename} is closed`);
  }
}


// The options of sqliteStore, checked, and what the store asks of an application's connection (split out of store.ts).
import { TesseraError, invalidArgument } from '@tessera/core';
import { TABLE_PREFIX_PATTERN } from '@tessera/sql';
import type BetterSqlite3 from 'better-sqlite3';

/**
 * How hard a commit tries to reach the disk.
 * - `'normal'`: `synchronous=NORMAL` in WAL mode. A committed transaction survives the process
 *   crashing; the last commits before a power loss or OS crash may be lost (the file stays consistent).
 * - `'full'`: `synchronous=FULL`. A committed transaction also survives power loss; each commit
 *   waits for an fsync (about 8x fewer single-write transactions per second on these machines).
 */
export type SqliteDurability = 'normal' | 'full';

/** Options of {@link sqliteStore}: a `filename` the store opens, or the application's own open `database`. */
export interface SqliteStoreOptions {
  /** Path of the database file (created when missing), or `':memory:'` for a private in-memory database. */
  filename?: string;
  /**
   * The application's open better-sqlite3 connection, shared with Tessera so that
   * `engine.transaction` commits the application's statements and Tessera's writes together
   * (README.md#one-transaction-with-your-application). The store leaves its pragmas alone
   * (`durability` does not apply), requires WAL mode on a file, and does not close it.
   */
  database?: BetterSqlite3.Database;
  /**
   * Put before every table and index name Tessera creates (`'tessera_'`: `tessera_usage`...), so
   * that its tables sit beside the application's. Letters, digits and `_`, at most 30. Default ''
   * (keep it for an existing file: a prefix is part of where the tables are).
   */
  tablePrefix?: string;
  /** Default `'normal'`. Only with `filename`. */
  durability?: SqliteDurability;
  /**
   * How long a write transaction waits for another connection (another process) to release the
   * write lock before failing with STORE_UNAVAILABLE, in milliseconds. Default 5000. The wait is
   * asynchronous: the event loop keeps running meanwhile.
   */
  busyTimeoutMs?: number;
}

/** The options once checked: exactly one of `filename` and `database`. */
export interface Settings {
  filename: string;
  database: BetterSqlite3.Database | undefined;
  tablePrefix: string;
  durability: SqliteDurability;
  busyTimeoutMs: number;
}

/** Checks the options (INVALID_ARGUMENT says which and how to fix it). */
export function validate(o: SqliteStoreOptions): Settings {
  if (o === null || typeof o !== 'object') throw invalidArgument('options', 'pass { filename }, { database } or a filename string');
  const database = o.database;
  if (database !== undefined) {
    if (o.filename !== undefined) throw invalidArgument('filename', 'give either filename or database, not both', { value: o.filename });
    if (database === null || typeof database !== 'object' || typeof (database as { prepare?: unknown }).prepare !== 'function' || typeof database.open !== 'boolean') {
      throw invalidArgument('database', 'pass an open better-sqlite3 Database (new Database(file))');
    }
    if (!database.open) throw invalidArgument('database', 'the better-sqlite3 Database is closed; pass an open one');
    if (database.readonly) throw invalidArgument('database', 'the better-sqlite3 Database is read-only; Tessera writes to it');
    if (o.durability !== undefined) throw invalidArgument('durability', "applies to a store's own connection only: set `synchronous` on your database yourself", { value: o.durability });
  } else if (typeof o.filename !== 'string' || o.filename === '') {
    throw invalidArgument('filename', "give a file path, or ':memory:' for an in-memory database (or your open better-sqlite3 connection as database)", { value: o.filename });
  }
  const tablePrefix = o.tablePrefix ?? '';
  if (typeof tablePrefix !== 'string' || !TABLE_PREFIX_PATTERN.test(tablePrefix)) {
    throw invalidArgument('tablePrefix', "use letters, digits and '_', starting with a letter, at most 30 (e.g. 'tessera_')", { value: o.tablePrefix });
  }
  const durability = o.durability ?? 'normal';
  if (durability !== 'normal' && durability !== 'full') {
    throw invalidArgument('durability', "use 'normal' (survives a process crash) or 'full' (survives power loss)", {
      value: o.durability,
      allowed: ['normal', 'full'],
    });
  }
  const busyTimeoutMs = o.busyTimeoutMs ?? 5000;
  if (!Number.isInteger(busyTimeoutMs) || busyTimeoutMs < 0 || busyTimeoutMs > 2_147_483_647) {
    throw invalidArgument('busyTimeoutMs', 'use a whole number of milliseconds, 0 or more', { value: o.busyTimeoutMs });
  }
  return { filename: database ? database.name : o.filename!, database, tablePrefix, durability, busyTimeoutMs };
}


/**
 * Tessera's guarantees across processes (readers never wait for the writer, the change feed's
 * order) are those of WAL mode; on the application's connection the store does not switch modes
 * behind its back, it asks. An in-memory database has no other connection to share with.
 */
export function requireWal(db: BetterSqlite3.Database, filename: string): void {
  if (db.memory) return;
  const mode = String(db.pragma('journal_mode', { simple: true })).toLowerCase();
  if (mode !== 'wal') {
    throw new TesseraError('STORE_UNAVAILABLE', `the SQLite database ${filename} is in journal_mode ${mode}; run db.pragma('journal_mode = WAL') on it before sqliteStore({ database: db })`, {
      filename,
      journalMode: mode,
    });
  }
}

import { TesseraError } from '@tessera/core';
import type BetterSqlite3 from 'better-sqlite3';
import type { Compilable, Kysely } from 'kysely';
import { toStoreError, type ErrorContext } from './errors.js';
import { MIGRATIONS, SCHEMA_VERSION } from './migrations/index.js';
import { EVENT_KEY_HASH_FUNCTION, eventKeyHash, type Database } from '@tessera/sql';
import type { TransactionControl } from './transaction-control.js';

/**
 * Brings the file's schema up to `SCHEMA_VERSION`. `PRAGMA user_version` is the authority (it is
 * part of the database header, so it commits or rolls back with the migration), and
 * `schema_migrations` keeps a readable history next to it.
 *
 * Idempotent and safe with several processes opening one file at once: the steps run under the
 * write lock, and the version is read again once the lock is held. The steps run synchronously
 * (compiled by kysely, executed by better-sqlite3) rather than through kysely's async
 * `.execute()`: nothing else in this process can then run while the lock is held, so a second
 * store opening the same file in this process waits for the lock instead of blocking the event
 * loop that the first one needs to finish.
 *
 * Throws TesseraError STORE_UNAVAILABLE when the file was migrated by a newer @tessera/sqlite, or
 * when another connection keeps the write lock past the busy timeout.
 */
export async function migrate(
  db: BetterSqlite3.Database,
  kysely: Kysely<Database>,
  transactions: TransactionControl,
  ctx: ErrorContext,
  versionIn: VersionIn = 'user_version',
): Promise<void> {
  const version = () => (versionIn === 'user_version' ? userVersion(db) : recordedVersion(db, kysely));
  if (refuseNewer(version(), ctx) === SCHEMA_VERSION) return;
  // Migration 8 hashes the stored events' keys with the store's own function.
  db.function(EVENT_KEY_HASH_FUNCTION, { deterministic: true }, (key: unknown) => eventKeyHash(String(key)));
  await transactions.beginWrite('migrating the schema');
  try {
    const from = refuseNewer(version(), ctx);
    run(
      db,
      kysely.schema
        .createTable('schema_migrations')
        .ifNotExists()
        .addColumn('version', 'integer', (c) => c.primaryKey().notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('applied_at', 'integer', (c) => c.notNull()),
    );
    for (const m of MIGRATIONS) {
      if (m.version <= from) continue;
      for (const statement of m.up(kysely)) run(db, statement);
      // Wall-clock time on purpose: this is an operator's record, not business time.
      run(db, kysely.insertInto('schema_migrations').values({ version: m.version, name: m.name, applied_at: Date.now() }));
    }
    if (versionIn === 'user_version') db.pragma(`user_version = ${SCHEMA_VERSION}`);
    transactions.commit();
  } catch (e) {
    transactions.rollback();
    throw toStoreError(e, ctx, 'migrating the schema');
  }
}

/**
 * Where the schema version is kept: the file's `user_version` without a table prefix (as always);
 * with one, the highest row of the prefixed `schema_migrations`, since the file is shared and its
 * header's `user_version` is the application's.
 */
export type VersionIn = 'user_version' | 'table';

/** The highest migration recorded in (prefixed) `schema_migrations`; 0 when the table does not exist yet. */
function recordedVersion(db: BetterSqlite3.Database, kysely: Kysely<Database>): number {
  const table = kysely.selectFrom('schema_migrations').select((e) => e.fn.max('version').as('v')).compile();
  // The table's name as the prefix plugin wrote it, to ask sqlite_master whether it exists.
  const name = /from "([^"]+)"/.exec(table.sql)![1]!;
  if (!db.prepare("select 1 from sqlite_master where type = 'table' and name = ?").get(name)) return 0;
  const row = db.prepare(table.sql).get(...table.parameters) as { v: number | null };
  return row.v ?? 0;
}

/** The schema version recorded in the file (0 for a new file). */
export function userVersion(db: BetterSqlite3.Database): number {
  return db.pragma('user_version', { simple: true }) as number;
}

function run(db: BetterSqlite3.Database, statement: Compilable): void {
  const { sql, parameters } = statement.compile();
  db.prepare(sql).run(...parameters);
}

function refuseNewer(version: number, ctx: ErrorContext): number {
  if (version > SCHEMA_VERSION) {
    throw new TesseraError(
      'STORE_UNAVAILABLE',
      `${ctx.filename} has schema version ${version}, newer than the ${SCHEMA_VERSION} this @tessera/sqlite understands; ` +
        'upgrade @tessera/sqlite (a file is never migrated down)',
      { filename: ctx.filename, schemaVersion: version, supportedSchemaVersion: SCHEMA_VERSION },
    );
  }
  return version;
}

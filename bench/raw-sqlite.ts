/**
 * The raw better-sqlite3 baselines: a file with the store's own schema (created by opening a
 * sqliteStore on it, so the tables, keys and indexes are exactly the ones the store writes to),
 * the same pragmas (WAL, synchronous NORMAL or FULL, the store's checkpoint interval), and
 * hand-written prepared statements.
 */
import { sqliteStore, walCheckpointPages, type SqliteDurability } from '@tessera/sqlite';
import BetterSqlite3 from 'better-sqlite3';

export type Db = BetterSqlite3.Database;
export type Statement = BetterSqlite3.Statement<unknown[], unknown>;

/** A better-sqlite3 connection on a new file carrying the store's schema. */
export async function rawDb(filename: string, durability: SqliteDurability = 'normal'): Promise<Db> {
  const store = sqliteStore({ filename, durability });
  await store.open();
  await store.close();
  const db = new BetterSqlite3(filename);
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${durability === 'full' ? 'FULL' : 'NORMAL'}`);
  db.pragma(`wal_autocheckpoint = ${walCheckpointPages(durability)}`);
  return db;
}

/** BEGIN IMMEDIATE / COMMIT as prepared statements, as the store runs them. */
export function txStatements(db: Db): { begin: () => void; commit: () => void } {
  const begin = db.prepare('BEGIN IMMEDIATE');
  const commit = db.prepare('COMMIT');
  return {
    begin: () => void begin.run(),
    commit: () => void commit.run(),
  };
}

/** The usage cell upsert and the change-log insert that one reportUsage writes. */
export function usageStatements(db: Db): { upsertUsage: Statement; appendChange: Statement; putIdempotency: Statement } {
  const upsertUsage = db.prepare(
    `insert into usage (customer_id, resource_id, entity_id, feature_id, window_start, window_end, value, count, sum, min, max, latest_at, latest_value, updated_at)
     values (?, ?, '', ?, ?, ?, ?, 0, 0, null, null, null, null, ?)
     on conflict (customer_id, resource_id, entity_id, feature_id, window_start, window_end) do update set value = usage.value + excluded.value, updated_at = excluded.updated_at`,
  );
  const appendChange = db.prepare('insert into changes (at, kind, customer_id, entity_id, payload) values (?, ?, ?, ?, ?)');
  const putIdempotency = db.prepare('insert into idempotency (scope, key, result, created_at) values (?, ?, ?, ?)');
  return { upsertUsage, appendChange, putIdempotency };
}

/**
 * What is SQLite's own in the shared SQL store: statements prepared on the one better-sqlite3
 * connection and run synchronously, rows read as arrays (raw mode, about a third cheaper than row
 * objects). Everything else about a statement is in @tessera/sql.
 */
import { Statements, type Database, type SqlExecutor } from '@tessera/sql';
import type BetterSqlite3 from 'better-sqlite3';
import type { Kysely } from 'kysely';

export type SqliteStatement = BetterSqlite3.Statement<unknown[], unknown>;

/** The shared statements, prepared on `db`. */
export function sqliteStatements(db: BetterSqlite3.Database, kysely: Kysely<Database>): Statements<SqliteStatement> {
  return new Statements<SqliteStatement>(kysely, (sql, returnsRows) => {
    const statement = db.prepare(sql);
    return returnsRows ? statement.raw(true) : statement;
  }, { compactEventKeys: true });
}

/** Runs statements synchronously on the connection (inside whatever transaction it has open). */
export const sqliteExecutor: SqlExecutor<SqliteStatement> = {
  all: (s, args) => s.all(args) as unknown[][],
  get: (s, args) => s.get(args) as unknown[] | undefined,
  run: (s, args) => s.run(args).changes,
  runEach: (s, argsList) => argsList.map((args) => s.run(args).changes),
  insertId: (s, args) => Number(s.run(args).lastInsertRowid),
  roundTrips: false,
};

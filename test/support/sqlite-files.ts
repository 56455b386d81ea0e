/**
 * SQLite files as an earlier version of @tessera/sqlite left them, for the migration tests: a
 * file at schema vN is the first N migrations, the history table and user_version N.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { MIGRATIONS } from '../../packages/sqlite/src/migrations/index.js';

/** A temp folder of numbered files, removed by `remove`. */
export function tempFiles(prefix: string): { freshFile: () => string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  let files = 0;
  return { freshFile: () => join(dir, `db-${++files}.db`), remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Runs `fn` on a connection of its own to `filename`, closed afterwards. */
export function inspect<T>(filename: string, fn: (db: BetterSqlite3.Database) => T): T {
  const db = new BetterSqlite3(filename);
  try {
    return fn(db);
  } finally {
    db.close();
  }
}

/** Writes `filename` at schema `version`, as @tessera/sqlite with migrations 1 to `version` left it. */
export function writeFileAtVersion(filename: string, version: number): void {
  inspect(filename, (db) => {
    db.pragma('journal_mode = WAL');
    const kysely = new Kysely<any>({ dialect: new SqliteDialect({ database: db }) });
    const run = (q: { compile(): { sql: string; parameters: readonly unknown[] } }) => {
      const { sql, parameters } = q.compile();
      db.prepare(sql).run(...parameters);
    };
    db.transaction(() => {
      run(
        kysely.schema
          .createTable('schema_migrations')
          .addColumn('version', 'integer', (c) => c.primaryKey().notNull())
          .addColumn('name', 'text', (c) => c.notNull())
          .addColumn('applied_at', 'integer', (c) => c.notNull()),
      );
      for (const m of MIGRATIONS.slice(0, version)) {
        for (const q of m.up(kysely)) run(q);
        run(kysely.insertInto('schema_migrations').values({ version: m.version, name: m.name, applied_at: 1 }));
      }
      db.pragma(`user_version = ${version}`);
    })();
  });
}

/** What sqlite_master says about the schema, ignoring the order objects were created in. */
export const schemaOf = (filename: string): unknown[] =>
  inspect(filename, (db) => db.prepare("select type, name, tbl_name, sql from sqlite_master where name not like 'sqlite_%' order by type, name").all());

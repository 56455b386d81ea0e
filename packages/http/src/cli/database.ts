/** `tessera migrate` and `tessera backup`: database upkeep, then exit. */
import { existsSync, renameSync, rmSync } from 'node:fs';
import { BACKUP_HELP, MIGRATE_HELP } from './help.js';
import { CliError, parseOptions } from './options.js';
import { describeDb, isPostgresUrl, loadBetterSqlite3, loadPostgres, loadSqlite } from './stores.js';

/** The schema version a SQLite file holds (PRAGMA user_version; 0 for a missing or new file), read without writing. */
async function sqliteVersion(file: string): Promise<number> {
  if (!existsSync(file)) return 0;
  const Database = await loadBetterSqlite3('a SQLite file');
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return db.pragma('user_version', { simple: true }) as number;
  } finally {
    db.close();
  }
}

const fromTo = (where: string, from: number, to: number) =>
  from === to ? `tessera migrate: ${where} is at schema version ${to}; nothing to do\n` : `tessera migrate: ${where} migrated from schema version ${from} to ${to}\n`;

export async function migrateCommand(args: string[]): Promise<void> {
  const { help, options: o } = parseOptions(args, { db: { env: ['TESSERA_DB'] }, schema: { env: ['TESSERA_SCHEMA'] } });
  if (help) {
    process.stdout.write(MIGRATE_HELP);
    return;
  }
  if (!o.db) throw new CliError('migrate: --db <file|url> (or TESSERA_DB) is required: a SQLite file or a postgres:// URL', 2);
  const db = o.db.value;
  if (isPostgresUrl(db)) {
    const { migratePostgres } = await loadPostgres('a PostgreSQL URL');
    const { from, to } = await migratePostgres({ connectionString: db, ...(o.schema !== undefined ? { schema: o.schema.value } : {}) });
    process.stdout.write(fromTo(`${describeDb(db)}${o.schema ? ` schema ${o.schema.value}` : ''}`, from, to));
    return;
  }
  if (o.schema !== undefined) throw new CliError(`${o.schema.source} applies to PostgreSQL URLs only`, 2);
  const { sqliteStore, SCHEMA_VERSION } = await loadSqlite('a SQLite file');
  const from = await sqliteVersion(db);
  // A SQLite file migrates when it is opened (a newer file is refused there, unchanged).
  const store = sqliteStore({ filename: db });
  await store.open();
  await store.close();
  process.stdout.write(fromTo(db, from, SCHEMA_VERSION));
}

/**
 * `tessera backup`: better-sqlite3's online backup (SQLite's backup API) into `<to>.partial`,
 * renamed to `<to>` once complete. Writers go on meanwhile; the copy is the file as of one commit.
 */
export async function backupCommand(args: string[]): Promise<void> {
  const { help, options: o } = parseOptions(args, { db: { env: ['TESSERA_DB'] }, to: { env: ['TESSERA_BACKUP_TO'] } });
  if (help) {
    process.stdout.write(BACKUP_HELP);
    return;
  }
  if (!o.db) throw new CliError('backup: --db <file> (or TESSERA_DB) is required: the SQLite file to copy', 2);
  if (isPostgresUrl(o.db.value)) {
    throw new CliError(`backup: ${describeDb(o.db.value)} is PostgreSQL; back it up with pg_dump (pg_dump --format=custom --schema=<schema> ...), not tessera backup`, 2);
  }
  if (!o.to) throw new CliError('backup: --to <file> (or TESSERA_BACKUP_TO) is required: where the copy goes', 2);
  const from = o.db.value;
  const to = o.to.value;
  if (!existsSync(from)) throw new CliError(`backup: ${from} does not exist`);
  if (existsSync(to)) throw new CliError(`backup: ${to} exists; remove it or choose another --to (a backup never overwrites)`);
  const Database = await loadBetterSqlite3('tessera backup');
  const db = new Database(from, { readonly: true, fileMustExist: true });
  const partial = `${to}.partial`;
  const started = Date.now();
  try {
    const version = db.pragma('user_version', { simple: true }) as number;
    rmSync(partial, { force: true });
    const { totalPages } = await db.backup(partial);
    renameSync(partial, to);
    process.stdout.write(`tessera backup: ${from} (schema version ${version}) copied to ${to}: ${totalPages} pages in ${Date.now() - started} ms\n`);
  } catch (e) {
    rmSync(partial, { force: true });
    throw new CliError(`backup: copying ${from} to ${to} failed (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); nothing was written at ${to}`);
  } finally {
    db.close();
  }
}

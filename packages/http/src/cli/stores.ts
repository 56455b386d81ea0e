/** Opening the store a --db names, loading only the adapter it needs, with one-line errors. */
import type { Store } from '@tessera/core';
import type { SqliteDurability } from '@tessera/sqlite';
import { CliError, type OptionValue } from './options.js';

export const isPostgresUrl = (db: string): boolean => /^postgres(ql)?:\/\//.test(db);

/** The --db value for messages: a URL without its password. */
export function describeDb(db: string): string {
  return isPostgresUrl(db) ? db.replace(/(\/\/[^:/@]+):[^@]*@/, '$1:***@') : db;
}

/**
 * Imports a store adapter. They are optional peers of @tessera/http (a PostgreSQL deployment does
 * not compile better-sqlite3, a SQLite one does not install pg): a missing one is a one-line
 * error that says what to install.
 */
export async function loadAdapter<T>(name: '@tessera/sqlite' | '@tessera/postgres', load: () => Promise<T>, what: string): Promise<T> {
  try {
    return await load();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if ((code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') && String((e as Error).message).includes(name)) {
      throw new CliError(`${what} needs ${name}, which is not installed: npm install ${name} (or npx -p @tessera/http -p ${name} tessera ...)`);
    }
    throw e;
  }
}

export const loadSqlite = (what: string) => loadAdapter('@tessera/sqlite', () => import('@tessera/sqlite'), what);
export const loadPostgres = (what: string) => loadAdapter('@tessera/postgres', () => import('@tessera/postgres'), what);

/** better-sqlite3 itself (the backup and migrate commands read the file directly). */
export async function loadBetterSqlite3(what: string): Promise<typeof import('better-sqlite3')> {
  try {
    return (await import('better-sqlite3')).default;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') throw new CliError(`${what} needs better-sqlite3, which is not installed: npm install @tessera/sqlite`);
    throw e;
  }
}

/** The store --db names: PostgreSQL for a postgres:// URL, else a SQLite file. */
export async function openStore(db: OptionValue, o: { durability?: SqliteDurability | undefined; schema?: OptionValue | undefined }): Promise<Store> {
  if (isPostgresUrl(db.value)) {
    if (o.durability !== undefined && o.durability !== 'normal') throw new CliError('--durability applies to SQLite files; PostgreSQL commits as the server is configured', 2);
    const { postgresStore } = await loadPostgres('a PostgreSQL URL');
    return postgresStore({ connectionString: db.value, ...(o.schema !== undefined ? { schema: o.schema.value } : {}) });
  }
  if (o.schema !== undefined) throw new CliError(`${o.schema.source} applies to PostgreSQL URLs only`, 2);
  const { sqliteStore } = await loadSqlite('a SQLite file');
  return sqliteStore({ filename: db.value, ...(o.durability ? { durability: o.durability } : {}) });
}

/** The PostgreSQL error (SQLSTATE in `code`) in `e` or its causes, if any. */
function postgresError(e: unknown): { code: string; message: string } | undefined {
  for (let x = e, depth = 0; typeof x === 'object' && x !== null && depth < 5; x = (x as { cause?: unknown }).cause, depth++) {
    const { code, severity, message } = x as { code?: unknown; severity?: unknown; message?: unknown };
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) && typeof severity === 'string') return { code, message: String(message) };
  }
  return undefined;
}

/**
 * The line to print for a failure to reach or log in to PostgreSQL (a missing database, a
 * refused login), instead of the driver's error and stack; undefined for anything else.
 */
export function postgresProblem(e: unknown, db: string): string | undefined {
  const pg = postgresError(e);
  if (!pg) return undefined;
  let url: URL | undefined;
  try {
    url = new URL(db);
  } catch {
    url = undefined;
  }
  const where = url ? `${url.hostname}:${url.port || '5432'}` : describeDb(db);
  const database = url ? decodeURIComponent(url.pathname.slice(1)) : '';
  const user = url ? decodeURIComponent(url.username) : '';
  if (pg.code === '3D000') return `PostgreSQL at ${where} has no database "${database}": create it (createdb ${database || '<name>'}) or fix --db`;
  if (pg.code === '28P01' || pg.code === '28000') {
    return `PostgreSQL at ${where} refused the login${user ? ` of "${user}"` : ''} (${pg.message}): check the user, the password (PGPASSWORD or ~/.pgpass) and pg_hba.conf`;
  }
  // Anything else the server said: one line too, unless the store already explained it.
  if ((e as Error).name === 'TesseraError') return undefined;
  return `PostgreSQL at ${where}: ${pg.message} (SQLSTATE ${pg.code})`;
}

// The SQLite adapter and better-sqlite3 are optional peers of @tessera/http: a process that only
// serves PostgreSQL, or only uses the client, never loads the native module. A replica loads
// them once, when it opens.
import { TesseraError } from '@tessera/core';
import type * as SqliteAdapter from '@tessera/sqlite';
import type BetterSqlite3 from 'better-sqlite3';

let adapter: typeof SqliteAdapter | undefined;
let driver: typeof BetterSqlite3 | undefined;

function missing(what: string, e: unknown): TesseraError {
  return Object.assign(new TesseraError('STORE_UNAVAILABLE', `createReplica: the replica file needs ${what}: npm install ${what} (${(e as Error).message})`), { cause: e });
}

/** Loads @tessera/sqlite and better-sqlite3; STORE_UNAVAILABLE naming the package to install when one is missing. */
export async function loadSqlite(): Promise<typeof SqliteAdapter> {
  adapter ??= await import('@tessera/sqlite').catch((e: unknown) => {
    throw missing('@tessera/sqlite', e);
  });
  driver ??= (
    await import('better-sqlite3').catch((e: unknown) => {
      throw missing('better-sqlite3', e);
    })
  ).default;
  return adapter;
}

/** The adapter loaded by `loadSqlite` (a replica's modules run only after it). */
export function sqlite(): typeof SqliteAdapter {
  if (!adapter) throw new TesseraError('INTERNAL', 'the SQLite adapter is used before createReplica loaded it');
  return adapter;
}

/** better-sqlite3's Database class, loaded by `loadSqlite`. */
export function betterSqlite3(): typeof BetterSqlite3 {
  if (!driver) throw new TesseraError('INTERNAL', 'better-sqlite3 is used before createReplica loaded it');
  return driver;
}

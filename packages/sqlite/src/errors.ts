import { TesseraError } from '@tessera/core';

/** What an error message needs to say where it happened. */
export interface ErrorContext {
  filename: string;
  busyTimeoutMs: number;
}

/** Result codes that mean the file cannot be used right now (or at all), rather than a bad write. */
const UNAVAILABLE = ['SQLITE_IOERR', 'SQLITE_FULL', 'SQLITE_CANTOPEN', 'SQLITE_NOTADB', 'SQLITE_CORRUPT', 'SQLITE_READONLY', 'SQLITE_PERM', 'SQLITE_NOMEM', 'SQLITE_AUTH'];

/** The extended result code of a better-sqlite3 `SqliteError` ('SQLITE_BUSY', ...), if `e` is one. */
export function sqliteCode(e: unknown): string | undefined {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('SQLITE_') ? code : undefined;
}

/**
 * Translates a SQLite failure into the TesseraError callers branch on: lock timeouts and broken
 * files are STORE_UNAVAILABLE, key clashes CONFLICT. Anything else (a TesseraError, or a
 * constraint the engine should never break) is returned unchanged.
 */
export function toStoreError(e: unknown, ctx: ErrorContext, doing: string): unknown {
  const code = sqliteCode(e);
  if (code === undefined) return e;
  const details = { sqliteCode: code, filename: ctx.filename };
  const message = (e as Error).message;
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) return withCause(lockTimeout(ctx, doing), e);
  if (code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === 'SQLITE_CONSTRAINT_UNIQUE') {
    return withCause(new TesseraError('CONFLICT', `${doing}: a record with this key already exists (${message})`, details), e);
  }
  if (UNAVAILABLE.some((c) => code === c || code.startsWith(`${c}_`))) {
    return withCause(new TesseraError('STORE_UNAVAILABLE', `${doing}: ${ctx.filename} cannot be used (${code}: ${message})`, details), e);
  }
  return e;
}

/** STORE_UNAVAILABLE for a lock that another connection held past the busy timeout. */
export function lockTimeout(ctx: ErrorContext, doing: string): TesseraError {
  return new TesseraError(
    'STORE_UNAVAILABLE',
    `${doing}: ${ctx.filename} stayed locked by another connection for more than busyTimeoutMs=${ctx.busyTimeoutMs}; ` +
      'retry, shorten the other writer’s transactions, or raise busyTimeoutMs',
    { sqliteCode: 'SQLITE_BUSY', filename: ctx.filename, busyTimeoutMs: ctx.busyTimeoutMs },
  );
}

function withCause(err: TesseraError, cause: unknown): TesseraError {
  // TesseraError's constructor takes no options, so the original error is attached afterwards
  // for stack traces and logs.
  Object.defineProperty(err, 'cause', { value: cause, enumerable: false, configurable: true, writable: true });
  return err;
}

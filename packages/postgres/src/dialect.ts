/**
 * What is PostgreSQL's own in the shared SQL store (@tessera/sql): the compiler (`$1` parameters),
 * statements run as named prepared statements through `pg`, rows read as arrays with 64-bit
 * integers as JS numbers, and SQLSTATE codes turned into TesseraErrors.
 */
import { TesseraError } from '@tessera/core';
import { Statements, type Database, type SqlExecutor } from '@tessera/sql';
import { DummyDriver, Kysely, PostgresAdapter, PostgresIntrospector, PostgresQueryCompiler } from 'kysely';
import pg from 'pg';

/** A schema name the store accepts: a lower-case unquoted identifier, so it needs no quoting in SQL. */
export const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** A statement prepared by name on each connection the first time that connection runs it. */
export interface PgStatement {
  readonly name: string;
  readonly text: string;
}

/** What a store needs of a connection: pg's `PoolClient` and `Client` have it. */
export interface PgQueryable {
  query(config: pg.QueryArrayConfig): Promise<pg.QueryArrayResult>;
  /** A statement without parameters; may hold several, separated by semicolons. */
  query(text: string): Promise<unknown>;
}

/** A connection borrowed from a pool: given back with `release` (an error or true drops it). */
export interface PgPoolClient extends PgQueryable {
  release(destroy?: Error | boolean): void;
}

/**
 * What a store needs of a pool: a `pg.Pool` has it, and so has `pglitePool` (PostgreSQL in
 * WebAssembly, in process). `listen` is for pools whose connections cannot be held for LISTEN.
 */
export interface PgPool {
  connect(): Promise<PgPoolClient>;
  listen?(channel: string, onNotify: (payload?: string) => void): Promise<() => Promise<void>>;
}

/** A kysely that only builds and compiles PostgreSQL SQL; the store runs it through `pg` itself. */
export function compiler(): Kysely<Database> {
  return new Kysely<Database>({
    dialect: {
      createAdapter: () => new PostgresAdapter(),
      createDriver: () => new DummyDriver(),
      createIntrospector: (db) => new PostgresIntrospector(db),
      createQueryCompiler: () => new PostgresQueryCompiler(),
    },
  });
}

// One name per SQL text for the whole process: every connection then prepares a text under the
// same name, and pg's per-connection cache of parsed statements finds it.
const names = new Map<string, string>();

/** The shared statements, as named PostgreSQL statements. */
export function pgStatements(k: Kysely<Database>): Statements<PgStatement> {
  return new Statements<PgStatement>(k, (text) => {
    let name = names.get(text);
    if (name === undefined) names.set(text, (name = `tessera_${names.size + 1}`));
    return { name, text };
  });
}

/**
 * Values as the shared row mappers expect them, the same as SQLite gives: bigint (int8) columns
 * and counts as JS numbers (every integer Tessera stores, epoch milliseconds included, is far
 * below 2^53), everything else as pg parses it. Passed per query, so a pool the application
 * hands in keeps its own parsers.
 */
export const types: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: string) =>
    oid === pg.types.builtins.INT8 ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format as 'text')) as pg.CustomTypesConfig['getTypeParser'],
};

/** A transaction's opening text, sent with its first statement (see pgExecutor). */
export interface PendingBegin {
  /** Statements without parameters (session locks, BEGIN, the transaction id...). */
  readonly text: string;
  /** Whether the opening may travel in the first statement's round trip (a pg server; not PGlite). */
  readonly withFirst: boolean;
  /** Told the results of `text`'s statements once they ran. */
  onBegun(results: readonly unknown[]): void;
}

/**
 * Runs statements on one connection, inside the transaction the store opened on it. `onRows` sees
 * each statement that succeeded with the rows it returned (the store reads the seqs of appended
 * changes). `begin`, when given, is sent before the first statement: in the same round trip when
 * it can be (`inlined`), else on its own; `begun()` says whether it was sent.
 */
export function pgExecutor(
  client: PgQueryable,
  onRows?: (s: PgStatement, rows: readonly unknown[]) => void,
  begin?: PendingBegin,
): SqlExecutor<PgStatement> & { begun(): boolean; beginNow(): Promise<void> } {
  // One statement at a time on the connection, in call order, even when the engine starts
  // several reads together (pg queues them itself, but that is deprecated for pg 9).
  let tail: Promise<unknown> = Promise.resolve();
  let pending = begin;
  const prepared = (s: PgStatement, args: readonly unknown[]) => client.query({ name: s.name, text: s.text, values: args as unknown[], rowMode: 'array', types });
  const first = async (b: PendingBegin, s: PgStatement, args: readonly unknown[]): Promise<pg.QueryArrayResult> => {
    const text = b.withFirst ? inlined(s.text, args) : undefined;
    if (text === undefined) {
      const r = await client.query(b.text);
      b.onBegun(Array.isArray(r) ? r : [r]);
      return prepared(s, args);
    }
    const results = (await client.query({ text: `${b.text}; ${text}`, rowMode: 'array', types })) as unknown as pg.QueryArrayResult[];
    b.onBegun(results.slice(0, -1));
    return results[results.length - 1]!;
  };
  const query = (s: PgStatement, args: readonly unknown[]) => {
    const run = tail.then(() => {
      const b = pending;
      pending = undefined;
      return b ? first(b, s, args) : prepared(s, args);
    });
    const result = onRows
      ? run.then((r) => {
          onRows(s, r.rows);
          return r;
        })
      : run;
    // Only the queue's order ignores a failure: the caller gets it through `result`.
    tail = result.catch(() => undefined);
    return result;
  };
  return {
    all: async (s, args) => (await query(s, args)).rows,
    get: async (s, args) => (await query(s, args)).rows[0],
    run: async (s, args) => (await query(s, args)).rowCount ?? 0,
    runEach: async (s, argsList) => {
      const out: number[] = [];
      for (const args of argsList) out.push((await query(s, args)).rowCount ?? 0);
      return out;
    },
    roundTrips: true,
    begun: () => begin !== undefined && pending === undefined,
    // The pending BEGIN sent alone, in turn (a statement that must run inside it is not the store's).
    beginNow: () => {
      const run = tail.then(async () => {
        const b = pending;
        pending = undefined;
        if (b === undefined) return;
        const r = await client.query(b.text);
        b.onBegun(Array.isArray(r) ? r : [r]);
      });
      tail = run.catch(() => undefined);
      return run;
    },
  };
}

/**
 * `text` with its parameters written in as constants, for a statement sent in one text with
 * others; undefined when that cannot be done exactly (the statement then runs prepared). Every
 * value becomes an escape string constant of unknown type, as pg sends parameters (text, type
 * left to the server): strings, finite numbers, booleans and null only, and only in a text that
 * holds no quote of its own, so every `$n` in it is a parameter.
 */
export function inlined(text: string, args: readonly unknown[]): string | undefined {
  if (text.includes("'")) return undefined;
  const values: string[] = [];
  for (const a of args) {
    if (a === null || a === undefined) values.push('NULL');
    else if (typeof a === 'number' ? Number.isFinite(a) : typeof a === 'boolean' || typeof a === 'bigint') values.push(`'${String(a)}'`);
    else if (typeof a === 'string' && !a.includes('\0')) values.push(`E'${a.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`);
    else return undefined;
  }
  let ok = true;
  const out = text.replace(/\$(\d+)/g, (_, n: string) => {
    const v = values[Number(n) - 1];
    if (v === undefined) ok = false;
    return v ?? '';
  });
  return ok ? out : undefined;
}

/** SQLSTATE of a pg error ('40001'...), if `e` is one (or wraps one). */
export function sqlState(e: unknown): string | undefined {
  for (let x = e, depth = 0; x !== null && typeof x === 'object' && depth < 4; x = (x as { cause?: unknown }).cause, depth++) {
    const code = (x as { code?: unknown }).code;
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return code;
  }
  return undefined;
}

/**
 * True for the failures a transaction is retried on: serialization failure (40001) and deadlock
 * (40P01). Both mean "another transaction got there first; run again on fresh data".
 */
export function isRetryable(e: unknown): boolean {
  const s = sqlState(e);
  return s === '40001' || s === '40P01';
}

/** What an error message needs to say where it happened. */
export interface ErrorContext {
  /** The server and database, without the password. */
  where: string;
}

/**
 * Translates a PostgreSQL failure into the TesseraError callers branch on: connection failures,
 * timeouts and an unusable server are STORE_UNAVAILABLE, key clashes CONFLICT, serialization
 * failures left as they are for the store's retry loop. Anything else is returned unchanged.
 */
export function toStoreError(e: unknown, ctx: ErrorContext, doing: string): unknown {
  if (e instanceof TesseraError) return e;
  const state = sqlState(e);
  const message = (e as Error)?.message ?? String(e);
  if (state === undefined) {
    // No SQLSTATE: the connection itself failed (refused, reset, closed by the server).
    const code = (e as { code?: unknown })?.code;
    if (typeof code === 'string' || /connect|terminat|Connection|ended|timeout/i.test(message)) {
      return withCause(new TesseraError('STORE_UNAVAILABLE', `${doing}: PostgreSQL at ${ctx.where} cannot be reached (${message})`, { where: ctx.where }), e);
    }
    return e;
  }
  const details = { sqlState: state, where: ctx.where };
  if (state === '40001' || state === '40P01') return e;
  if (state === '23505') return withCause(new TesseraError('CONFLICT', `${doing}: a record with this key already exists (${message})`, details), e);
  if (state === '57014') {
    return withCause(
      new TesseraError('STORE_UNAVAILABLE', `${doing}: a statement ran past statementTimeoutMs (${message}); retry, or raise statementTimeoutMs`, details),
      e,
    );
  }
  // Connection exceptions (08), insufficient resources (53), operator intervention (57: shutdown,
  // cannot connect now), system errors (58): the database cannot serve the call right now.
  if (/^(08|53|57|58)/.test(state)) {
    return withCause(new TesseraError('STORE_UNAVAILABLE', `${doing}: PostgreSQL at ${ctx.where} cannot serve the call (${state}: ${message})`, details), e);
  }
  return e;
}

function withCause(err: TesseraError, cause: unknown): TesseraError {
  Object.defineProperty(err, 'cause', { value: cause, enumerable: false, configurable: true, writable: true });
  return err;
}

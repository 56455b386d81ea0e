/** The options of `postgresStore` and `migratePostgres`, checked once. */
import { invalidArgument } from '@tessera/core';
import { SCHEMA_NAME, type PgPool } from './dialect.js';

/** Options of `postgresStore`. Give `connectionString` or `pool`. */
export interface PostgresStoreOptions {
  /** `postgres://user:password@host:port/database`; the store makes its own pool. */
  connectionString?: string;
  /**
   * A pool the application already has (a `pg.Pool`, or `pglitePool(db)`); the store borrows
   * connections and never ends it.
   */
  pool?: PgPool;
  /**
   * The schema holding Tessera's tables, created when missing. Default: the connection's current
   * schema (`public` unless the role's search_path says otherwise). Only with `connectionString`:
   * a pool of the application's sets its own search_path. The store's connections search this
   * schema, then `public`, so that the application's statements in `engine.transaction` find
   * its own tables unqualified (README, "One transaction with your application").
   */
  schema?: string;
  /** Connections in the store's own pool. Default 10. */
  poolSize?: number;
  /** Longest one statement may run before the server cancels it, in milliseconds (0: no limit). Default 10000. Own pool only. */
  statementTimeoutMs?: number;
  /**
   * How long a write keeps retrying after serialization failures and deadlocks (other processes
   * writing the same rows), in milliseconds. Default 10000; then it fails with STORE_UNAVAILABLE.
   */
  retryTimeoutMs?: number;
  /**
   * How long a call keeps trying after its connection was lost or none could be had (the server
   * restarting, failing over, terminating connections), in milliseconds: a read, or a write that
   * never reached COMMIT, runs again on a new connection; a write whose COMMIT got no answer is
   * looked up (README, "When the database goes away"). Default 5000; then it fails with
   * STORE_UNAVAILABLE. 0: one attempt.
   */
  reconnectTimeoutMs?: number;
}

/** The options, checked and with their defaults. */
export interface Settings {
  connectionString: string | undefined;
  pool: PgPool | undefined;
  schema: string | undefined;
  poolSize: number;
  statementTimeoutMs: number;
  retryTimeoutMs: number;
  reconnectTimeoutMs: number;
}

/** Checks the options; throws INVALID_ARGUMENT naming the first bad one. */
export function validate(o: PostgresStoreOptions): Settings {
  if (o === null || typeof o !== 'object') throw invalidArgument('options', 'pass { connectionString } or { pool }, or a connection string');
  const known = ['connectionString', 'pool', 'schema', 'poolSize', 'statementTimeoutMs', 'retryTimeoutMs', 'reconnectTimeoutMs'];
  for (const key of Object.keys(o)) if (!known.includes(key)) throw invalidArgument(key, `is not an option; use one of ${known.join(', ')}`);
  if ((o.connectionString === undefined) === (o.pool === undefined)) {
    throw invalidArgument('connectionString', 'give exactly one of connectionString (postgres://user@host:port/database) or pool');
  }
  if (o.connectionString !== undefined && (typeof o.connectionString !== 'string' || !/^postgres(ql)?:\/\//.test(o.connectionString))) {
    throw invalidArgument('connectionString', 'use a postgres:// URL, e.g. postgres://user:password@localhost:5432/app', { value: redact(String(o.connectionString)) });
  }
  if (o.pool !== undefined && (o.pool === null || typeof (o.pool as { connect?: unknown }).connect !== 'function')) {
    throw invalidArgument('pool', 'pass a pg.Pool (or pglitePool(db))');
  }
  if (o.schema !== undefined) {
    if (typeof o.schema !== 'string' || !SCHEMA_NAME.test(o.schema)) {
      throw invalidArgument('schema', 'use a lower-case identifier of letters, digits and underscores (at most 63), e.g. tessera', { value: o.schema });
    }
    if (o.pool !== undefined) throw invalidArgument('schema', 'set search_path on your pool instead (schema applies to the store’s own pool only)');
  }
  const whole = (name: keyof PostgresStoreOptions, value: unknown, fallback: number, min: number) => {
    const v = value ?? fallback;
    if (!Number.isInteger(v) || (v as number) < min || (v as number) > 2_147_483_647) {
      throw invalidArgument(name, `use a whole number, ${min} or more`, { value });
    }
    return v as number;
  };
  return {
    connectionString: o.connectionString,
    pool: o.pool,
    schema: o.schema,
    poolSize: whole('poolSize', o.poolSize, 10, 2),
    statementTimeoutMs: whole('statementTimeoutMs', o.statementTimeoutMs, 10_000, 0),
    retryTimeoutMs: whole('retryTimeoutMs', o.retryTimeoutMs, 10_000, 0),
    reconnectTimeoutMs: whole('reconnectTimeoutMs', o.reconnectTimeoutMs, 5_000, 0),
  };
}

/** A connection string without its password, for messages. */
function redact(url: string): string {
  return url.replace(/(\/\/[^:/@]+):[^@]*@/, '$1:***@');
}

/** Where the store's data is, for messages: host:port/database, never the credentials. */
export function where(s: Settings): string {
  if (!s.connectionString) return 'the given pool';
  const url = new URL(s.connectionString);
  return `${url.hostname}:${url.port || 5432}${url.pathname}`;
}

/** The connection option that makes `schema` the current schema, with `public` after it for the application's tables. */
export function searchPathOption(schema: string | undefined): { options?: string } {
  return schema ? { options: `-c search_path=${schema},public` } : {};
}

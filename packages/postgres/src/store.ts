import { TesseraError, invalidArgument, type ChangeRecord, type Store, type StoreTx, type TransactionMode } from '@tessera/core';
import { SqlTx, type Statements } from '@tessera/sql';
import pg from 'pg';
import { ChangeFeed, TAKE_WRITER_LOCK } from './changes.js';
import { compiler, isRetryable, pgExecutor, pgStatements, toStoreError, type ErrorContext, SCHEMA_NAME, type PgPool, type PgPoolClient, type PgQueryable, type PgStatement } from './dialect.js';
import { migrate, type MigrationResult } from './migrate.js';

/** Options of {@link postgresStore}. Give `connectionString` or `pool`. */
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
   * a pool of the application's sets its own search_path.
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
}

/**
 * A Tessera store on PostgreSQL through `pg`, for several app servers on one database: the same
 * statements and row mappings as the SQLite store (@tessera/sql), compiled for PostgreSQL and run
 * as named prepared statements.
 *
 * Write transactions run at SERIALIZABLE and are retried on serialization failures, so a check
 * and the write it decides (consumeUsage, reservations, credit burns) are atomic across every
 * process; reads run at REPEATABLE READ, READ ONLY. The change feed is read gap-aware (no change
 * committed late is skipped), and `watchChanges` wakes followers through LISTEN/NOTIFY.
 * packages/postgres/README.md says how each of these works.
 *
 * Throws INVALID_ARGUMENT for bad options; `open()` rejects with STORE_UNAVAILABLE when the
 * server cannot be reached or the schema was written by a newer @tessera/postgres.
 */
export function postgresStore(options: PostgresStoreOptions | string): Store & { watchChanges(onChange: () => void): () => void } {
  return new PostgresStore(validate(typeof options === 'string' ? { connectionString: options } : options));
}

interface Settings {
  connectionString: string | undefined;
  pool: PgPool | undefined;
  schema: string | undefined;
  poolSize: number;
  statementTimeoutMs: number;
  retryTimeoutMs: number;
}

function validate(o: PostgresStoreOptions): Settings {
  if (o === null || typeof o !== 'object') throw invalidArgument('options', 'pass { connectionString } or { pool }, or a connection string');
  const known = ['connectionString', 'pool', 'schema', 'poolSize', 'statementTimeoutMs', 'retryTimeoutMs'];
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
  };
}

/** A connection string without its password, for messages. */
function redact(url: string): string {
  return url.replace(/(\/\/[^:/@]+):[^@]*@/, '$1:***@');
}

/** Where the store's data is, for messages: host:port/database, never the credentials. */
function where(s: Settings): string {
  if (!s.connectionString) return 'the given pool';
  const url = new URL(s.connectionString);
  return `${url.hostname}:${url.port || 5432}${url.pathname}`;
}

class PostgresStore implements Store {
  readonly kind = 'postgres';
  readonly concurrentWrites = true;
  private readonly ctx: ErrorContext;
  private pool: PgPool | undefined;
  /** The store's own pool, which close() ends. */
  private ownPool: pg.Pool | undefined;
  private statements: Statements<PgStatement> | undefined;
  private feed: ChangeFeed | undefined;
  /** The NOTIFY channel of this schema's change feed (quoted identifier text). */
  private channel = '';
  private opening: Promise<void> | undefined;
  private closed = false;
  private readonly watchers = new Set<() => void>();
  private listener: (() => Promise<void>) | undefined;
  private listening: Promise<void> | undefined;

  constructor(private readonly settings: Settings) {
    this.ctx = { where: where(settings) };
  }

  open(): Promise<void> {
    if (this.closed) return Promise.reject(this.closedError());
    this.opening ??= this.connect().catch((e: unknown) => {
      this.opening = undefined;
      throw e;
    });
    return this.opening;
  }

  private async connect(): Promise<void> {
    const s = this.settings;
    const own = s.pool
      ? undefined
      : new pg.Pool({
          connectionString: s.connectionString,
          max: s.poolSize,
          application_name: 'tessera',
          ...(s.statementTimeoutMs > 0 ? { statement_timeout: s.statementTimeoutMs } : {}),
          ...(s.schema ? { options: `-c search_path=${s.schema}` } : {}),
        });
    // An idle connection the server dropped must not crash the process: the next call reconnects.
    own?.on('error', () => undefined);
    const pool: PgPool = s.pool ?? (own as unknown as PgPool);
    let client: PgPoolClient;
    try {
      client = await pool.connect();
    } catch (e) {
      await own?.end().catch(() => undefined);
      throw toStoreError(e, this.ctx, 'opening the store');
    }
    try {
      const k = compiler();
      await prepareSchema(client, k, s, this.ctx);
      const schema = String((await client.query({ text: 'SELECT current_schema()', rowMode: 'array' })).rows[0]?.[0]);
      this.channel = `"tessera_changes_${schema.replace(/"/g, '""')}"`;
      this.statements = pgStatements(k);
      this.feed = new ChangeFeed(this.statements);
      client.release();
    } catch (e) {
      client.release(true);
      await own?.end().catch(() => undefined);
      throw toStoreError(e, this.ctx, 'opening the store');
    }
    this.pool = pool;
    this.ownPool = own;
  }

  async transaction<T>(mode: TransactionMode, fn: (tx: StoreTx) => Promise<T>): Promise<T> {
    if (mode !== 'read' && mode !== 'write') throw invalidArgument('mode', "use 'read' or 'write'", { value: mode, allowed: ['read', 'write'] });
    await this.ready();
    if (mode === 'read') return this.once('read', fn);
    // Serialization failures and deadlocks mean another transaction wrote what this one read:
    // run it again on fresh data, after a short random pause so that the contenders spread out.
    // A retry also queues behind the other retries of this schema (a session advisory lock, taken
    // before BEGIN so that the snapshot is fresh once it has the lock): on a hot row, writers that
    // already lost then take turns instead of losing to each other again, so none starves.
    const deadline = performance.now() + this.settings.retryTimeoutMs;
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.once('write', fn, attempt > 0);
      } catch (e) {
        if (!isRetryable(e)) throw e;
        if (performance.now() >= deadline) {
          throw new TesseraError(
            'STORE_UNAVAILABLE',
            `a write kept conflicting with other writers for retryTimeoutMs=${this.settings.retryTimeoutMs} (${attempt + 1} attempts); retry later or raise retryTimeoutMs`,
            { where: this.ctx.where, attempts: attempt + 1 },
          );
        }
        await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(50, 2 ** Math.min(attempt, 6))));
      }
    }
  }

  /** One attempt at a transaction on one pooled connection; `queued`: in turn with the schema's other retries. */
  private async once<T>(mode: TransactionMode, fn: (tx: StoreTx) => Promise<T>, queued = false): Promise<T> {
    const client = await this.borrow();
    const state = { open: true };
    let appended = false;
    let broken: unknown;
    let locked = false;
    try {
      if (queued) {
        await client.query(`SELECT pg_advisory_lock(hashtext('tessera.retry.' || current_schema()))`);
        locked = true;
      }
      // A write transaction takes its transaction id and the schema's shared writer lock at once,
      // so that the change feed's gap check counts it as in progress from the start (changes.ts).
      await client.query(
        mode === 'write' ? `BEGIN ISOLATION LEVEL SERIALIZABLE; SELECT pg_current_xact_id(), ${TAKE_WRITER_LOCK}` : 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY',
      );
      const statements = this.statements!;
      const executor = pgExecutor(client, (s) => {
        if (statements.appendsChanges(s)) appended = true;
      });
      const result = await fn(new SqlTx(statements, executor, mode, state, (e, doing) => toStoreError(e, this.ctx, doing)));
      state.open = false;
      // NOTIFY is delivered at commit, and only if the transaction commits.
      await client.query(appended ? `NOTIFY ${this.channel}; COMMIT` : 'COMMIT');
      return result;
    } catch (e) {
      state.open = false;
      try {
        await client.query('ROLLBACK');
      } catch (rollbackError) {
        broken = rollbackError;
      }
      throw toStoreError(e, this.ctx, mode === 'write' ? 'a write transaction' : 'a read transaction');
    } finally {
      if (locked && broken === undefined) {
        await client.query(`SELECT pg_advisory_unlock(hashtext('tessera.retry.' || current_schema()))`).catch((e: unknown) => (broken = e));
      }
      // A connection that failed to roll back (or to unlock) is in an unknown state: the pool drops it,
      // and the server releases its session lock with it.
      client.release(broken === undefined ? undefined : (broken as Error));
    }
  }

  async getChanges(after: number, limit: number): Promise<ChangeRecord[]> {
    await this.ready();
    return this.withClient('reading changes', (c) => this.feed!.read(c, after, limit));
  }

  async lastChangeSeq(): Promise<number> {
    await this.ready();
    return this.withClient('reading the last change seq', (c) => this.feed!.settledMax(c));
  }

  /**
   * Calls `onChange` soon after any process commits a change to this store (LISTEN/NOTIFY on a
   * connection held for it). A hint to read the feed, not a delivery: notifications can be lost
   * while the connection is down, so followers keep polling too. Returns the unsubscribe.
   */
  watchChanges(onChange: () => void): () => void {
    this.watchers.add(onChange);
    void this.listen();
    return () => {
      this.watchers.delete(onChange);
      if (this.watchers.size === 0) void this.unlisten();
    };
  }

  private listen(): Promise<void> {
    this.listening ??= (async () => {
      try {
        await this.ready();
        const notify = () => {
          for (const w of this.watchers) {
            try {
              w();
            } catch {
              // A watcher's failure is its own.
            }
          }
        };
        this.listener = this.pool!.listen ? await this.pool!.listen(this.channel, notify) : await this.listenOnConnection(notify);
        if (this.closed || this.watchers.size === 0) await this.unlisten();
      } catch {
        this.listening = undefined;
      }
    })();
    return this.listening;
  }

  /** LISTEN on a connection of the pool, held until unlisten; returns the function that lets it go. */
  private async listenOnConnection(notify: () => void): Promise<() => Promise<void>> {
    const client = (await this.pool!.connect()) as pg.PoolClient;
    client.on('notification', notify);
    // The connection going away ends the subscription; polling covers until the next watchChanges.
    client.on('error', () => {
      this.listener = undefined;
      this.listening = undefined;
      client.release(true);
    });
    await client.query(`LISTEN ${this.channel}`);
    return async () => {
      try {
        await client.query(`UNLISTEN ${this.channel}`);
        client.release();
      } catch {
        client.release(true);
      }
    };
  }

  private async unlisten(): Promise<void> {
    const stop = this.listener;
    this.listener = undefined;
    this.listening = undefined;
    await stop?.().catch(() => undefined);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.opening?.catch(() => undefined);
    await this.unlisten();
    await this.ownPool?.end().catch(() => undefined);
    this.pool = undefined;
    this.ownPool = undefined;
  }

  private async ready(): Promise<void> {
    if (this.closed) throw this.closedError();
    if (!this.opening) throw new TesseraError('STORE_UNAVAILABLE', `the PostgreSQL store at ${this.ctx.where} is not open; call open() first (createEngine does)`);
    await this.opening;
    if (this.closed || !this.pool) throw this.closedError();
  }

  private async borrow(): Promise<PgPoolClient> {
    try {
      return await this.pool!.connect();
    } catch (e) {
      throw toStoreError(e, this.ctx, 'taking a connection from the pool');
    }
  }

  private async withClient<T>(doing: string, fn: (c: PgPoolClient) => Promise<T>): Promise<T> {
    const client = await this.borrow();
    let broken: Error | undefined;
    try {
      return await fn(client);
    } catch (e) {
      broken = e as Error;
      throw toStoreError(e, this.ctx, doing);
    } finally {
      client.release(broken);
    }
  }

  private closedError(): TesseraError {
    return new TesseraError('STORE_UNAVAILABLE', `the PostgreSQL store at ${this.ctx.where} is closed`);
  }
}

/** Creates the schema when one is named and missing, then migrates it. */
async function prepareSchema(client: PgQueryable, k: ReturnType<typeof compiler>, s: Settings, ctx: ErrorContext): Promise<MigrationResult> {
  if (s.schema) await client.query(`CREATE SCHEMA IF NOT EXISTS ${s.schema}`);
  return migrate(client, k, ctx);
}

/**
 * Applies the migrations to a PostgreSQL schema and says what it found: `tessera migrate` runs
 * this before app servers start, so that none of them migrates at boot. Same options as
 * {@link postgresStore}. Rejects with STORE_UNAVAILABLE when the server cannot be reached or the
 * schema is newer than this @tessera/postgres (it never migrates down).
 */
export async function migratePostgres(options: PostgresStoreOptions | string): Promise<MigrationResult> {
  const s = validate(typeof options === 'string' ? { connectionString: options } : options);
  const ctx: ErrorContext = { where: where(s) };
  const client: PgPoolClient | pg.Client = s.pool
    ? await s.pool.connect()
    : new pg.Client({ connectionString: s.connectionString, application_name: 'tessera migrate', ...(s.schema ? { options: `-c search_path=${s.schema}` } : {}) });
  try {
    if (!s.pool) await (client as pg.Client).connect();
    return await prepareSchema(client, compiler(), s, ctx);
  } catch (e) {
    throw toStoreError(e, ctx, 'migrating the schema');
  } finally {
    if (s.pool) (client as PgPoolClient).release();
    else await (client as pg.Client).end().catch(() => undefined);
  }
}

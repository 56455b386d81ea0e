import { TesseraError, invalidArgument, type ChangeRecord, type Store, type StoreTx, type TransactionMode, type StoreTransactionOptions, type WatchOptions } from '@tessera/core';
import { SqlTx, type Statements } from '@tessera/sql';
import pg from 'pg';
import { ChangeFeed, TAKE_WRITER_LOCK, TURN_LOCK_CLASS, turnLockId } from './changes.js';
import { Lease, UnknownCommit, backoffMs, isConnectionLoss, sleep, transactionStatus, xidOf } from './connection.js';
import { compiler, isRetryable, pgExecutor, pgStatements, toStoreError, type ErrorContext, type PgPool, type PgPoolClient, type PgStatement } from './dialect.js';
import { ChangeWatchers } from './listen.js';
import { prepareSchema } from './migrate.js';
import { searchPathOption, validate, where, type PostgresStoreOptions, type Settings } from './options.js';
import { TxConnection, isApplicationError } from './tx-connection.js';
import { joinApplicationTransaction } from './join.js';
import type { Kysely } from 'kysely';

/** First pause before a call tries again on a new connection, in ms; doubles up to the cap. */
const RECONNECT_BASE_MS = 50;
const RECONNECT_CAP_MS = 1_000;
/** How long the store's own pool waits for a new connection before the attempt fails, in ms. */
const CONNECT_TIMEOUT_MS = 5_000;
/** Idle time before TCP keepalive probes a connection, in ms: a server gone without a word is noticed. */
const KEEPALIVE_DELAY_MS = 10_000;
/** The session lock a retry queues on (store.ts transaction), one per schema. */
const RETRY_LOCK = `hashtext('tessera.retry.' || current_schema())`;

export type { PostgresStoreOptions } from './options.js';

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
 * Every connection it holds has an error listener for its whole life: a connection that goes away
 * fails or retries the call using it (`reconnectTimeoutMs`) and never ends the process; the
 * LISTEN connection comes back by itself (README, "When the database goes away").
 *
 * Throws INVALID_ARGUMENT for bad options; `open()` rejects with STORE_UNAVAILABLE when the
 * server cannot be reached or the schema was written by a newer @tessera/postgres.
 */
export function postgresStore(options: PostgresStoreOptions | string): Store & { watchChanges(onChange: (seq?: number) => void, options?: WatchOptions): () => void } {
  return new PostgresStore(validate(typeof options === 'string' ? { connectionString: options } : options));
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
  /** The schema of Tessera's tables (the connections' current_schema at open); also names turn lock ids. */
  private schemaName = '';
  /**
   * Whether connections take several statements in one text with rows as arrays (pg on a server;
   * PGlite's pool, the one with its own `listen`, runs one statement per query): a transaction's
   * BEGIN then goes with its first statement, and a read of the feed is one round trip.
   */
  private oneTrip = false;
  private opening: Promise<void> | undefined;
  private closed = false;
  private readonly watchers: ChangeWatchers;
  /** The shared connection of each open write transaction (connectionOf). */
  private readonly shared = new WeakMap<StoreTx, TxConnection>();

  constructor(private readonly settings: Settings) {
    this.ctx = { where: where(settings) };
    this.watchers = new ChangeWatchers(async () => {
      await this.ready();
      return { pool: this.pool!, channel: this.channel };
    }, this.ctx);
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
          // One more than poolSize: the LISTEN connection, while an engine follows the feed.
          max: s.poolSize + 1,
          application_name: 'tessera',
          connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
          keepAlive: true,
          keepAliveInitialDelayMillis: KEEPALIVE_DELAY_MS,
          ...(s.statementTimeoutMs > 0 ? { statement_timeout: s.statementTimeoutMs } : {}),
          ...searchPathOption(s.schema),
        });
    // An idle connection the server dropped leaves the pool (pg-pool does that); the next call
    // takes a new one. Nobody's call sees it, so the watchers hear of it.
    own?.on('error', (e) => this.watchers.report(toStoreError(e, this.ctx, 'an idle pooled connection')));
    const pool: PgPool = s.pool ?? (own as unknown as PgPool);
    let lease: Lease;
    try {
      lease = await Lease.take(pool);
    } catch (e) {
      await own?.end().catch(() => undefined);
      throw toStoreError(e, this.ctx, 'opening the store');
    }
    try {
      const k = compiler();
      await prepareSchema(lease.client, k, s, this.ctx);
      const schema = String((await lease.client.query({ text: 'SELECT current_schema()', rowMode: 'array' })).rows[0]?.[0]);
      this.channel = `"tessera_changes_${schema.replace(/"/g, '""')}"`;
      this.schemaName = schema;
      this.statements = pgStatements(k);
      this.oneTrip = pool.listen === undefined;
      this.feed = new ChangeFeed(this.statements, this.oneTrip);
      lease.release();
    } catch (e) {
      lease.release(true);
      await own?.end().catch(() => undefined);
      throw toStoreError(e, this.ctx, 'opening the store');
    }
    this.pool = pool;
    this.ownPool = own;
  }

  async transaction<T>(mode: TransactionMode, fn: (tx: StoreTx) => Promise<T>, options?: StoreTransactionOptions): Promise<T> {
    if (mode !== 'read' && mode !== 'write') throw invalidArgument('mode', "use 'read' or 'write'", { value: mode, allowed: ['read', 'write'] });
    await this.ready();
    if (mode === 'read') return this.retryingLoss('a read transaction', () => this.once('read', fn));
    // Serialization failures and deadlocks mean another transaction wrote what this one read:
    // run it again on fresh data, after a short random pause so that the contenders spread out.
    // A retry also queues behind the other retries of this schema (a session advisory lock, taken
    // before BEGIN so that the snapshot is fresh once it has the lock): on a hot row, writers that
    // already lost then take turns instead of losing to each other again, so none starves.
    // Writers that give a turnKey queue on a session lock of that key the same way, from their
    // first attempt: writers of one hot row take turns instead of conflicting (README#hot-rows).
    // A lost connection is retried too while reconnectTimeoutMs lasts, where that is safe: the
    // attempt never reached COMMIT, or its COMMIT is found to have rolled back (README, "When the
    // database goes away").
    const started = performance.now();
    const deadline = started + this.settings.retryTimeoutMs;
    let conflicts = 0;
    let losses = 0;
    const turn = typeof options?.turnKey === 'string' ? turnLockId(this.schemaName, options.turnKey) : undefined;
    for (let attempt = 0; ; attempt++) {
      let failure: unknown;
      try {
        return await this.once('write', fn, conflicts > 0, turn);
      } catch (e) {
        failure = e;
      }
      if (failure instanceof UnknownCommit) {
        const outcome = await this.commitOutcome(failure.xid, started);
        if (outcome === 'committed') return failure.result as T;
        if (outcome === 'unknown') throw this.unknownOutcome(failure.lostWith);
        failure = failure.lostWith;
      }
      if (isRetryable(failure)) {
        conflicts++;
        if (performance.now() >= deadline) {
          throw new TesseraError(
            'STORE_UNAVAILABLE',
            `a write kept conflicting with other writers for retryTimeoutMs=${this.settings.retryTimeoutMs} (${attempt + 1} attempts); retry later or raise retryTimeoutMs`,
            { where: this.ctx.where, attempts: attempt + 1 },
          );
        }
        await sleep(Math.random() * Math.min(50, 2 ** Math.min(conflicts - 1, 6)));
        continue;
      }
      if (!isConnectionLoss(failure)) throw failure;
      await this.pauseAfterLoss(failure, 'a write transaction', started, losses++);
    }
  }

  /**
   * Waits before the next attempt after a lost connection, or throws STORE_UNAVAILABLE (nothing
   * written) once reconnectTimeoutMs since `started` would be spent.
   */
  private async pauseAfterLoss(failure: unknown, doing: string, started: number, losses: number): Promise<void> {
    const delay = backoffMs(losses, RECONNECT_BASE_MS, RECONNECT_CAP_MS);
    const limit = this.settings.reconnectTimeoutMs;
    if (this.closed || performance.now() - started + delay > limit) {
      const err = new TesseraError(
        'STORE_UNAVAILABLE',
        `${doing}: PostgreSQL at ${this.ctx.where} cannot be reached or dropped the connection` +
          (losses > 0 ? `, and did not come back within reconnectTimeoutMs=${limit} (${losses + 1} attempts)` : '') +
          '; nothing was written. Retry later.',
        { where: this.ctx.where, attempts: losses + 1, outcome: 'not written' },
      );
      Object.defineProperty(err, 'cause', { value: failure, enumerable: false, configurable: true, writable: true });
      throw err;
    }
    await sleep(delay);
  }

  /** Runs a read-only `attempt`, again on a new connection after a lost one while reconnectTimeoutMs lasts. */
  private async retryingLoss<T>(doing: string, attempt: () => Promise<T>): Promise<T> {
    const started = performance.now();
    for (let losses = 0; ; losses++) {
      try {
        return await attempt();
      } catch (e) {
        if (!isConnectionLoss(e)) throw e;
        await this.pauseAfterLoss(e, doing, started, losses);
      }
    }
  }

  /**
   * Whether the write transaction `xid` committed, asked on a new connection (pg_xact_status)
   * until reconnectTimeoutMs since `started` is spent: 'in progress' means its server process has
   * not finished with it yet.
   */
  private async commitOutcome(xid: string, started: number): Promise<'committed' | 'aborted' | 'unknown'> {
    for (let attempt = 0; ; attempt++) {
      try {
        const status = await this.withLease('looking up a commit', (c) => transactionStatus(c, xid));
        if (status !== 'in progress') return status;
      } catch (e) {
        if (!isConnectionLoss(e)) return 'unknown';
      }
      const delay = backoffMs(attempt, RECONNECT_BASE_MS, RECONNECT_CAP_MS);
      if (this.closed || performance.now() - started + delay > this.settings.reconnectTimeoutMs) return 'unknown';
      await sleep(delay);
    }
  }

  private unknownOutcome(cause: unknown): TesseraError {
    const err = new TesseraError(
      'STORE_UNAVAILABLE',
      `a write transaction: the connection to PostgreSQL at ${this.ctx.where} was lost during COMMIT and the outcome could not be ` +
        `learnt within reconnectTimeoutMs=${this.settings.reconnectTimeoutMs}: the write may or may not be stored. A retry with the ` +
        'same idempotency key is safe (a stored write is answered from its record, not repeated); read back before retrying a write without one.',
      { where: this.ctx.where, outcome: 'unknown' },
    );
    Object.defineProperty(err, 'cause', { value: cause, enumerable: false, configurable: true, writable: true });
    return err;
  }

  /**
   * One attempt at a transaction on one pooled connection; `queued`: in turn with the schema's
   * other retries; `turn`: in turn with the writers of that turn lock id. A connection lost during
   * the COMMIT of a write rejects with UnknownCommit.
   */
  private async once<T>(mode: TransactionMode, fn: (tx: StoreTx) => Promise<T>, queued = false, turn?: number): Promise<T> {
    const lease = await this.borrow();
    const client = lease.client;
    const state = { open: true };
    /** The highest change seq this attempt appended (0: none). */
    let appended = 0;
    let broken: unknown;
    // Session locks held (the SQL that gives each back): the turn's before the retry queue's, the
    // same order for every writer, so two writers never wait for each other's second lock.
    const locks: string[] = [];
    if (turn !== undefined) locks.push(`pg_advisory_lock(${TURN_LOCK_CLASS}, ${turn})`);
    if (queued) locks.push(`pg_advisory_lock(${RETRY_LOCK})`);
    let held: string[] = [];
    let xid: string | undefined;
    try {
      // A write transaction takes its transaction id and the schema's shared writer lock at once,
      // so that the change feed's gap check counts it as in progress from the start (changes.ts).
      // The id also tells, after a COMMIT that got no answer, whether it committed. Session locks
      // come first, in the same round trip, and before BEGIN: the snapshot is taken once they are held.
      const begin =
        mode === 'write'
          ? `BEGIN ISOLATION LEVEL SERIALIZABLE; SELECT pg_current_xact_id()::text AS xid, ${TAKE_WRITER_LOCK}`
          : 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY';
      // All of it goes with the transaction's first statement, in one round trip (dialect.ts).
      if (locks.length > 0) held = locks.map((l) => l.replace('pg_advisory_lock', 'pg_advisory_unlock'));
      const statements = this.statements!;
      // A write's connection may be shared with the application's statements (engine.transaction): one queue for both.
      const shared = mode === 'write' ? new TxConnection(client, state) : undefined;
      const executor = pgExecutor(
        shared?.forStore ?? client,
        (s, rows) => {
          if (!statements.appendsChanges(s)) return;
          for (const row of rows) appended = Math.max(appended, Number((row as [number])[0]));
        },
        {
          text: locks.length > 0 ? `SELECT ${locks.join(', ')}; COMMIT; ${begin}` : begin,
          withFirst: this.oneTrip,
          onBegun: (results) => {
            if (mode === 'write') xid = xidOf(results);
          },
        },
      );
      // BEGIN waits for Tessera's first statement; an application statement that comes first sends it alone.
      shared?.beforeApplication(() => executor.beginNow());
      const tx = new SqlTx(statements, executor, mode, state, (e, doing) => toStoreError(e, this.ctx, doing));
      if (shared) this.shared.set(tx, shared);
      const result = await fn(tx);
      state.open = false;
      // A statement of the application's that failed and was caught left the transaction aborted:
      // COMMIT would answer ROLLBACK without an error. Its error instead (a 40001 is then retried).
      const aborted = await shared?.abortedBy();
      if (aborted !== undefined) throw aborted;
      // A connection that failed since its last statement cannot send COMMIT: nothing committed.
      if (lease.lost) throw lease.lost;
      // Nothing was sent: no transaction, no lock, nothing to commit.
      if (!executor.begun()) {
        held = [];
        return result;
      }
      // The notification and the unlocks go in the COMMIT's round trip, after it: a NOTIFY inside
      // the transaction would hold the database's notification lock through the commit's flush
      // and so serialise every notifying commit (README#change-notifications). They run only
      // if the COMMIT succeeded; the payload is the highest seq the transaction appended.
      const after = [...(appended > 0 ? [`NOTIFY ${this.channel}, '${appended}'`] : []), ...(held.length > 0 ? [`SELECT ${held.join(', ')}`] : [])];
      try {
        await client.query(['COMMIT', ...after].join('; '));
        held = [];
      } catch (e) {
        if (mode === 'write' && xid !== undefined && isConnectionLoss(e)) throw new UnknownCommit(xid, result, e);
        // What failed may be what came after a COMMIT that succeeded: the server knows which.
        if (after.length > 0 && xid !== undefined && (await transactionStatus(client, xid).catch(() => 'unknown')) === 'committed') {
          this.watchers.report(toStoreError(e, this.ctx, 'announcing a commit'));
          return result;
        }
        throw e;
      }
      return result;
    } catch (e) {
      state.open = false;
      if (e instanceof UnknownCommit || lease.lost !== undefined) {
        broken = lease.lost ?? (e as UnknownCommit<T>).lostWith;
      } else {
        try {
          await client.query('ROLLBACK');
        } catch (rollbackError) {
          broken = rollbackError;
        }
      }
      if (e instanceof UnknownCommit) throw e;
      // The application's own statement failed (engine.transaction): its error, as pg raised it.
      if (isApplicationError(e)) throw e;
      throw toStoreError(e, this.ctx, mode === 'write' ? 'a write transaction' : 'a read transaction');
    } finally {
      if (held.length > 0 && broken === undefined && lease.lost === undefined) {
        await client.query(`SELECT ${held.join(', ')}`).catch((e: unknown) => (broken = e));
      }
      // A connection that failed, or failed to roll back (or to unlock), is in an unknown state:
      // the pool drops it, and the server releases its session locks with it.
      lease.release(broken);
    }
  }

  /**
   * The connection of a write transaction of this store, for the application's statements inside
   * `engine.transaction` (`tx.connection`): its `query` is pg's, queued with Tessera's statements;
   * it rejects with CONFLICT once the transaction ended. Throws CONFLICT for a transaction of another store.
   */
  connectionOf(tx: StoreTx): TxConnection {
    const shared = this.shared.get(tx);
    if (!shared) throw new TesseraError('CONFLICT', 'connectionOf: not a write transaction of this PostgreSQL store');
    return shared;
  }

  /**
   * Runs `fn` inside the transaction the application opened on `connection`, its pg client
   * (`engine.transaction(fn, { connection })`): no BEGIN, COMMIT or retry of Tessera's (join.ts).
   */
  async joinTransaction<T>(connection: unknown, fn: (tx: StoreTx) => Promise<T>): Promise<T> {
    await this.ready();
    return joinApplicationTransaction({ statements: this.statements!, channel: this.channel, schema: this.schemaName, ctx: this.ctx, shared: this.shared }, connection, fn);
  }

  /** A kysely instance on the connection of a write transaction (`tx.db` in `engine.transaction`). */
  queryBuilderOf(tx: StoreTx): Kysely<any> {
    return this.connectionOf(tx).kysely();
  }

  async getChanges(after: number, limit: number): Promise<ChangeRecord[]> {
    await this.ready();
    return this.retryingLoss('reading changes', () => this.withLease('reading changes', (c) => this.feed!.read(c, after, limit)));
  }

  async lastChangeSeq(): Promise<number> {
    await this.ready();
    return this.retryingLoss('reading the last change seq', () => this.withLease('reading the last change seq', (c) => this.feed!.settledMax(c)));
  }

  /**
   * Calls `onChange` soon after any process commits a change to this store (LISTEN/NOTIFY on a
   * connection held for it), and each time that connection is (re)established: notifications
   * sent while it was down are lost, so the watcher reads the feed then. A lost LISTEN connection
   * is opened again with backoff; its failures go to `options.onError`. A hint to read the feed,
   * not a delivery: followers keep polling too. Returns the unsubscribe. Throws INVALID_ARGUMENT
   * when `onChange` or `onError` is not a function.
   */
  watchChanges(onChange: (seq?: number) => void, options?: WatchOptions): () => void {
    return this.watchers.add(onChange, options);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.opening?.catch(() => undefined);
    await this.watchers.close();
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

  private async borrow(): Promise<Lease> {
    try {
      return await Lease.take(this.pool!);
    } catch (e) {
      throw toStoreError(e, this.ctx, 'taking a connection from the pool');
    }
  }

  private async withLease<T>(doing: string, fn: (c: PgPoolClient) => Promise<T>): Promise<T> {
    const lease = await this.borrow();
    let broken: unknown;
    try {
      return await fn(lease.client);
    } catch (e) {
      broken = e;
      throw toStoreError(e, this.ctx, doing);
    } finally {
      lease.release(broken);
    }
  }

  private closedError(): TesseraError {
    return new TesseraError('STORE_UNAVAILABLE', `the PostgreSQL store at ${this.ctx.where} is closed`);
  }
}

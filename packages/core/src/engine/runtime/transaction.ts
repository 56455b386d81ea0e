// engine.transaction: Tessera's writes in the same store transaction as the application's own (docs/transactions.md).
import { TesseraError, invalidArgument } from '../../errors.js';
import type { Store, StoreTx } from '../../store/store.js';
import { Mutex } from '../../store/mutex.js';
import { runInsideCallback } from '../../store/reentry.js';
import { ViewCache } from '../checks/view.js';
import { applyEffects, type EngineContext, type JoinedWrites } from './context.js';
import type { CatalogIds } from '../../catalog/ids.js';
import type { ConsumeUsageParams } from './engine-types.js';
import * as consumption from '../usage/consumption.js';
import type { Consumption, Reservation } from '../usage/consumption.js';
import * as usage from '../usage/usage.js';
import type { ReportedUsage, ReportUsageParams } from '../usage/usage.js';
import { reportEvent, type EventLimits, type RawEvent, type ReportEventResult } from '../usage/raw-events.js';
import * as subscriptions from '../subscriptions/subscriptions.js';
import type { CancelSubscriptionParams, TransactionProvisionResult } from '../subscriptions/subscriptions.js';
import type { ProvisionSubscriptionParams } from '../subscriptions/subscription-params.js';
import type { Subscription } from '../subscriptions/subscription-shape.js';
import * as customers from '../subscriptions/customers.js';
import * as entities from '../entities/entities.js';
import type { CreateEntityParams, Entity } from '../entities/entities.js';
import type { Customer, ProvisionCustomerParams } from '../subscriptions/customers.js';

/** Customers a transaction's private view cache holds (views it read are dropped with it). */
const TX_VIEW_CUSTOMERS = 64;

/** Runs of the callback `engine.transaction` allows by default on a store that retries (docs/transactions.md#retries). */
export const DEFAULT_TRANSACTION_ATTEMPTS = 10;
const MAX_TRANSACTION_ATTEMPTS = 1000;

/** Options of `engine.transaction`. */
export interface TransactionOptions {
  /**
   * How many times the callback may run when the store retries the transaction (PostgreSQL, after a
   * serialization failure or a deadlock), 1 to 1000. Default 10; then `engine.transaction` rejects
   * with STORE_UNAVAILABLE and nothing is written. The store's own `retryTimeoutMs` bounds it too.
   */
  maxAttempts?: number;
  /**
   * The application's own connection, inside a transaction it opened and will commit or roll back
   * itself: a `pg` client after `BEGIN ISOLATION LEVEL SERIALIZABLE` (PostgreSQL store only).
   * Tessera then writes in that transaction and neither commits nor retries; what follows the
   * commit reaches the engine through the change feed (docs/transactions.md#in-your-own-transaction).
   */
  connection?: unknown;
}

/** What runTransaction hands its callback besides the inner context. */
export interface TransactionRun {
  readonly joined: JoinedWrites;
  /** The connection the transaction runs on (Store.connectionOf), if the store has one. */
  readonly connection: unknown;
  /** A query builder on that connection (Store.queryBuilderOf), else the connection. */
  readonly db: unknown;
  /** 1 for the first run of the callback, 2 for the first retry... */
  readonly attempt: number;
}

/**
 * Runs `fn` with a context whose writes all join one store write transaction. The callback's
 * result is returned once that transaction committed; then the effects of its writes (cached
 * views dropped, events, provider calls queued by the writes) run, in the order of the writes,
 * and then the steps queued for after the commit (checkouts).
 * A throw, or a write that threw, rolls back everything and applies nothing. A store that retries
 * the transaction runs `fn` again, at most `maxAttempts` times in all.
 *
 * Views read inside the transaction go to a cache of its own, so that the engine's shared cache
 * never holds what might yet roll back; after the commit, the effects' closures see the shared
 * cache again (the `views` getter below).
 */
export async function runTransaction<T>(ctx: EngineContext, fn: (inner: EngineContext, run: TransactionRun) => Promise<T>, options?: TransactionOptions): Promise<T> {
  if (typeof fn !== 'function') throw invalidArgument('fn', 'pass an async function (tx) => { ... }');
  const settings = readOptions(options);
  const { maxAttempts } = settings;
  if (ctx.offline) throw new TesseraError('OFFLINE', 'engine.transaction: the engine runs offline, without a store to write to');
  if (ctx.joined) throw new TesseraError('CONFLICT', 'engine.transaction: already inside a transaction; call the methods of its tx instead of nesting');
  let joined: JoinedWrites | undefined;
  let committed = false;
  const started = performance.now();
  let attempts = 0;
  if (settings.connection !== undefined) return runJoined(ctx, fn, settings.connection);
  let result: T;
  try {
    result = await ctx.store.transaction('write', async (tx) => {
      if (attempts >= maxAttempts) {
        throw new TesseraError(
          'STORE_UNAVAILABLE',
          `engine.transaction: the transaction conflicted with other writers ${attempts} times (maxAttempts=${maxAttempts}); nothing was written. Retry later or raise maxAttempts`,
          { attempts },
        );
      }
      attempts++;
      const run: JoinedWrites = (joined = { tx, effects: [], open: true, afterCommit: [] });
      const own = new ViewCache(TX_VIEW_CUSTOMERS);
      const store = joinedStore(ctx.store, run);
      // After the commit the inner context is the engine's again: effects that write (a webhook
      // or provider call settling) open transactions of their own on the real store.
      const inner: EngineContext = Object.create(ctx, {
        root: { value: ctx },
        joined: { get: () => (committed ? undefined : run) },
        store: { get: () => (committed ? ctx.store : store) },
        views: { get: () => (committed ? ctx.views : own) },
      });
      try {
        const connection = ctx.store.connectionOf?.(tx);
        const db = ctx.store.queryBuilderOf?.(tx) ?? connection;
        const value = await runInsideCallback(ctx.store, () => fn(inner, { joined: run, connection, db, attempt: attempts }));
        if (run.failed) throw run.failed.error;
        return value;
      } finally {
        run.open = false;
      }
    });
  } catch (e) {
    ctx.metrics.write((performance.now() - started) / 1000, attempts, e);
    throw e;
  }
  ctx.metrics.write((performance.now() - started) / 1000, attempts, undefined);
  committed = true;
  for (const fx of joined!.effects) applyEffects(ctx, fx);
  for (const step of joined!.afterCommit) step();
  return result;
}

function readOptions(options: TransactionOptions | undefined): { maxAttempts: number; connection?: unknown } {
  if (options === undefined) return { maxAttempts: DEFAULT_TRANSACTION_ATTEMPTS };
  if (options === null || typeof options !== 'object') throw invalidArgument('options', 'pass { maxAttempts } or { connection }, or nothing');
  for (const key of Object.keys(options)) if (key !== 'maxAttempts' && key !== 'connection') throw invalidArgument(`options.${key}`, 'is not an option; use maxAttempts or connection');
  const n = options.maxAttempts ?? DEFAULT_TRANSACTION_ATTEMPTS;
  if (!Number.isInteger(n) || n < 1 || n > MAX_TRANSACTION_ATTEMPTS) {
    throw invalidArgument('options.maxAttempts', `use a whole number from 1 to ${MAX_TRANSACTION_ATTEMPTS}`, { value: options.maxAttempts });
  }
  if (options.connection === undefined) return { maxAttempts: n };
  if (options.maxAttempts !== undefined) throw invalidArgument('options.maxAttempts', 'does not apply with connection: your transaction, your retries');
  if (options.connection === null || typeof options.connection !== 'object') throw invalidArgument('options.connection', 'pass the pg client your transaction runs on');
  return { maxAttempts: 1, connection: options.connection };
}

/**
 * `engine.transaction(fn, { connection })`: `fn`'s writes join the application's transaction on
 * `connection` (Store.joinTransaction). Its commit is the application's and Tessera never hears
 * of it, so nothing is applied here: the writes are not noted as the engine's own, and the change
 * feed brings them back after the commit like another process's (views dropped, listeners told);
 * a rollback leaves nothing to undo. Checkouts are made by `checkout.url()` or `tick()`.
 */
async function runJoined<T>(ctx: EngineContext, fn: (inner: EngineContext, run: TransactionRun) => Promise<T>, connection: unknown): Promise<T> {
  const join = ctx.store.joinTransaction?.bind(ctx.store);
  if (!join) {
    throw invalidArgument(
      'options.connection',
      `the ${ctx.store.kind} store cannot join your transaction (PostgreSQL only); on SQLite give your connection to sqliteStore({ database }) and call engine.transaction(fn)`,
    );
  }
  const started = performance.now();
  try {
    const result = await join(connection, async (tx) => {
      const run: JoinedWrites = { tx, effects: [], open: true, afterCommit: [], external: true };
      const store = joinedStore(ctx.store, run);
      const inner: EngineContext = Object.create(ctx, {
        root: { value: ctx },
        joined: { value: run },
        store: { value: store },
        views: { value: new ViewCache(TX_VIEW_CUSTOMERS) },
        // Not the engine's own: the follower applies these changes once they are committed.
        onOwnChange: { value: undefined },
      });
      try {
        const connectionOf = ctx.store.connectionOf?.(tx);
        const value = await runInsideCallback(ctx.store, () => fn(inner, { joined: run, connection: connectionOf, db: ctx.store.queryBuilderOf?.(tx) ?? connectionOf, attempt: 1 }));
        if (run.failed) throw run.failed.error;
        return value;
      } finally {
        run.open = false;
      }
    });
    ctx.metrics.write((performance.now() - started) / 1000, 1, undefined);
    return result;
  } catch (e) {
    ctx.metrics.write((performance.now() - started) / 1000, 1, e);
    throw e;
  }
}

/**
 * The store as the engine's functions see it inside a transaction: every transaction they open,
 * read or write, is the joined one (opening another would wait for the one this runs in).
 */
function joinedStore(store: Store, joined: JoinedWrites): Store {
  return Object.create(store, {
    transaction: {
      value: <R>(_mode: string, fn: (tx: StoreTx) => Promise<R>): Promise<R> => {
        if (!joined.open) return Promise.reject(new TesseraError('CONFLICT', 'engine.transaction: the transaction already ended; call tx methods only while its callback runs'));
        return fn(joined.tx);
      },
    },
  }) as Store;
}

/**
 * Queues the calls made on one `tx` (they share one store transaction, so they run one at a
 * time) and marks the transaction failed when one of them throws, whether it had written yet or
 * not: one rule for the caller (docs/transactions.md#errors).
 */
function serialized(joined: JoinedWrites): <R>(fn: () => Promise<R>) => Promise<R> {
  const mutex = new Mutex();
  return (fn) =>
    mutex.run(async () => {
      // A tx kept past its callback must not write outside it (the inner context is the engine's again).
      if (!joined.open) throw new TesseraError('CONFLICT', 'engine.transaction: the transaction already ended; call tx methods only while its callback runs');
      try {
        return await fn();
      } catch (e) {
        joined.failed ??= { error: e };
        throw e;
      }
    });
}

/**
 * What an `engine.transaction` callback can do: the engine's usage and subscription writes, all in
 * the one transaction, and `db`, the connection it runs on, for the application's own statements.
 * Each method is the engine method of the same name (same params, results and errors; a
 * provisioning's checkout follows the commit); calls made at the same time run one after another.
 * A method that throws rolls back the whole transaction, even when the callback catches the error
 * (docs/transactions.md#errors).
 */
export interface EngineTransaction<Ids extends CatalogIds = CatalogIds> {
  /**
   * For the application's own statements in the transaction: on SQLite the better-sqlite3
   * `Database` (the application's own `database`); on PostgreSQL a kysely instance whose every
   * query runs on the transaction's connection (cast it: `tx.db as Kysely<YourTables>`);
   * `undefined` on the memory store.
   */
  readonly db: unknown;
  /**
   * The raw connection the transaction runs on: the better-sqlite3 `Database` on SQLite, a `pg`
   * client (its `query`) on PostgreSQL; `undefined` on the memory store. Usable only while the
   * callback runs.
   */
  readonly connection: unknown;
  /** Which run of the callback this is: 1, then 2... when the store retries the transaction (docs/transactions.md#retries). */
  readonly attempt: number;
  consumeUsage(params: ConsumeUsageParams<Ids>): Promise<Consumption>;
  reportUsage(params: ReportUsageParams<Ids>): Promise<ReportedUsage>;
  reportUsageBulk(params: { usages: ReportUsageParams<Ids>[] }): Promise<ReportedUsage[]>;
  reportEvent(events: RawEvent | RawEvent[]): Promise<ReportEventResult>;
  reserveUsage(params: ConsumeUsageParams<Ids> & { expiresIn: number }): Promise<Reservation>;
  commitReservation(params: { reservationId: string; amount?: number }): Promise<Reservation>;
  releaseReservation(params: { reservationId: string }): Promise<Reservation>;
  /**
   * Provisions a subscription in the transaction. A paid plan waiting for payment comes back
   * PAYMENT_REQUIRED with `checkout`: the provider is called only after the commit, and
   * `checkout.url()` (awaited after `engine.transaction` resolved) gives its URL (docs/transactions.md#subscriptions).
   */
  provisionSubscription(params: ProvisionSubscriptionParams<Ids>): Promise<TransactionProvisionResult>;
  cancelSubscription(params: CancelSubscriptionParams): Promise<Subscription>;
  /** Creates or updates a customer; checkouts of the subscriptions it provisions follow the commit. */
  provisionCustomer(params: ProvisionCustomerParams<Ids>): Promise<{ customer: Customer; subscription?: Subscription }>;
  /** Creates (or revives) an entity in the transaction; its seat, with `featureId`, is taken in it too (docs/entities.md). */
  createEntity(params: CreateEntityParams & { featureId?: Ids['feature'] }): Promise<Entity>;
  /** Deletes an entity in the transaction, freeing its seat. Throws ENTITY_NOT_FOUND. */
  deleteEntity(params: { customerId: string; entityId: string }): Promise<Entity>;
}

/** The `tx` handed to a callback: each method on the joined context, one at a time. */
export function transactionApi<Ids extends CatalogIds>(inner: EngineContext, run: TransactionRun, eventLimits: EventLimits): EngineTransaction<Ids> {
  const one = serialized(run.joined);
  return Object.freeze({
    db: run.db,
    connection: run.connection,
    attempt: run.attempt,
    consumeUsage: (params) => one(() => consumption.consumeUsage(inner, params)),
    reportUsage: (params) => one(() => usage.reportUsage(inner, params)),
    reportUsageBulk: (params) => one(() => usage.reportUsageBulk(inner, params)),
    reportEvent: (events) => one(() => reportEvent(inner, events, eventLimits)),
    reserveUsage: (params) => one(() => consumption.reserveUsage(inner, params)),
    commitReservation: (params) => one(() => consumption.commitReservation(inner, params)),
    releaseReservation: (params) => one(() => consumption.releaseReservation(inner, params)),
    provisionSubscription: (params) => one(() => subscriptions.provisionSubscriptionInTransaction(inner, params)),
    cancelSubscription: (params) => one(() => subscriptions.cancelSubscription(inner, params)),
    provisionCustomer: (params) => one(() => customers.provisionCustomer(inner, params)),
    createEntity: (params) => one(() => entities.createEntity(inner, params)),
    deleteEntity: (params) => one(() => entities.deleteEntity(inner, params)),
  } satisfies EngineTransaction<Ids>);
}

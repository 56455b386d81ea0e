// engine.transaction: Tessera's writes in the same store transaction as the application's own (docs/transactions.md).
import { TesseraError, invalidArgument } from '../../errors.js';
import type { Store, StoreTx } from '../../store/store.js';
import { Mutex } from '../../store/mutex.js';
import { ViewCache } from '../checks/view.js';
import { applyEffects, type EngineContext, type JoinedWrites } from './context.js';
import type { CatalogIds } from '../../catalog/ids.js';
import type { ConsumeUsageParams } from './engine-types.js';
import * as consumption from '../usage/consumption.js';
import type { Consumption, Reservation } from '../usage/consumption.js';
import * as usage from '../usage/usage.js';
import type { ReportedUsage, ReportUsageParams } from '../usage/usage.js';
import { reportEvent, type EventLimits, type RawEvent, type ReportEventResult } from '../usage/raw-events.js';

/** Customers a transaction's private view cache holds (views it read are dropped with it). */
const TX_VIEW_CUSTOMERS = 64;

/**
 * Runs `fn` with a context whose writes all join one store write transaction. The callback's
 * result is returned once that transaction committed; then the effects of its writes (cached
 * views dropped, events, provider calls queued by the writes) run, in the order of the writes.
 * A throw, or a write that threw, rolls back everything and applies nothing.
 *
 * Views read inside the transaction go to a cache of its own, so that the engine's shared cache
 * never holds what might yet roll back; after the commit, the effects' closures see the shared
 * cache again (the `views` getter below).
 */
export async function runTransaction<T>(ctx: EngineContext, fn: (inner: EngineContext, joined: JoinedWrites, connection: unknown) => Promise<T>): Promise<T> {
  if (typeof fn !== 'function') throw invalidArgument('fn', 'pass an async function (tx) => { ... }');
  if (ctx.offline) throw new TesseraError('OFFLINE', 'engine.transaction: the engine runs offline, without a store to write to');
  if (ctx.joined) throw new TesseraError('CONFLICT', 'engine.transaction: already inside a transaction; call the methods of its tx instead of nesting');
  let joined: JoinedWrites | undefined;
  let committed = false;
  const started = performance.now();
  let attempts = 0;
  let result: T;
  try {
    result = await ctx.store.transaction('write', async (tx) => {
      attempts++;
      const run: JoinedWrites = (joined = { tx, effects: [], open: true });
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
        const value = await fn(inner, run, ctx.store.connectionOf?.(tx));
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
  return result;
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
 * What an `engine.transaction` callback can do: the engine's usage writes, all in the one
 * transaction, and `db`, the connection it runs on, for the application's own statements.
 * Each method is the engine method of the same name (same params, results and errors); calls
 * made at the same time run one after another. A method that throws rolls back the whole
 * transaction, even when the callback catches the error (docs/transactions.md#errors).
 */
export interface EngineTransaction<Ids extends CatalogIds = CatalogIds> {
  /**
   * The store's connection, inside the transaction: the better-sqlite3 `Database` on SQLite
   * (where it is the application's own `database`); `undefined` on the memory store.
   */
  readonly db: unknown;
  consumeUsage(params: ConsumeUsageParams<Ids>): Promise<Consumption>;
  reportUsage(params: ReportUsageParams<Ids>): Promise<ReportedUsage>;
  reportUsageBulk(params: { usages: ReportUsageParams<Ids>[] }): Promise<ReportedUsage[]>;
  reportEvent(events: RawEvent | RawEvent[]): Promise<ReportEventResult>;
  reserveUsage(params: ConsumeUsageParams<Ids> & { expiresIn: number }): Promise<Reservation>;
  commitReservation(params: { reservationId: string; amount?: number }): Promise<Reservation>;
  releaseReservation(params: { reservationId: string }): Promise<Reservation>;
}

/** The `tx` handed to a callback: each method on the joined context, one at a time. */
export function transactionApi<Ids extends CatalogIds>(inner: EngineContext, joined: JoinedWrites, db: unknown, eventLimits: EventLimits): EngineTransaction<Ids> {
  const one = serialized(joined);
  return Object.freeze({
    db,
    consumeUsage: (params) => one(() => consumption.consumeUsage(inner, params)),
    reportUsage: (params) => one(() => usage.reportUsage(inner, params)),
    reportUsageBulk: (params) => one(() => usage.reportUsageBulk(inner, params)),
    reportEvent: (events) => one(() => reportEvent(inner, events, eventLimits)),
    reserveUsage: (params) => one(() => consumption.reserveUsage(inner, params)),
    commitReservation: (params) => one(() => consumption.commitReservation(inner, params)),
    releaseReservation: (params) => one(() => consumption.releaseReservation(inner, params)),
  } satisfies EngineTransaction<Ids>);
}

import type { Emitter } from 'mitt';
import { TesseraError } from '../../errors.js';
import { refuseInsideCallback } from '../../store/reentry.js';
import type { Catalog } from '../../catalog/catalog.js';
import type { Clock } from '../../clock.js';
import type { EngineEvents } from '../../events.js';
import type { CatalogVersionRecord, ChangeKind, NewChange } from '../../records.js';
import type { Store, StoreTx, StoreTransactionOptions } from '../../store/store.js';
import type { ViewCache } from '../checks/view.js';
import type { ErrorReporter } from './report.js';
import type { Logger } from '../../logger.js';
import type { EngineMetrics } from './metrics.js';
import type { Telemetry } from './telemetry.js';

/** One published catalog version, indexed. */
export interface PublishedCatalog {
  record: CatalogVersionRecord;
  catalog: Catalog;
}

/** What the engine's API areas share. */
export interface EngineContext {
  readonly store: Store;
  readonly clock: Clock;
  readonly views: ViewCache;
  readonly emitter: Emitter<EngineEvents>;
  /** Reports a failure no caller sees to the `error` event and the logger (docs/operating.md#errors). */
  readonly reportError: ErrorReporter;
  /** The logger the engine was given, if any. */
  readonly logger?: Logger | undefined;
  /** The engine's counters (docs/operating.md#metrics); kept with or without OpenTelemetry. */
  readonly metrics: EngineMetrics;
  /** OpenTelemetry, when `@opentelemetry/api` is installed (or given) and not turned off. */
  telemetry?: Telemetry | undefined;
  /** Every published version, by number. */
  readonly catalogs: Map<number, PublishedCatalog>;
  /** The newest version (features and new subscriptions come from it). Throws when none. */
  latest(): PublishedCatalog;
  /** The newest version, or undefined (offline engines may have no catalog). */
  latestOrUndefined?(): PublishedCatalog | undefined;
  /** Makes a newly published version known (and the latest when it is the newest). */
  addCatalog(published: PublishedCatalog): void;
  /** A new unique id with a prefix ('sub', 'res'...). */
  newId(prefix: string): string;
  /** Told about every invoice after it committed, at least once (provider-calls.ts). */
  readonly billingProvider?: import('../billing/billing.js').BillingProvider | undefined;
  /** Collects payment for paid subscriptions of customers without a payment method. */
  readonly paymentProvider?: import('../billing/payments.js').PaymentProvider | undefined;
  /** Where alert events go as webhooks, with the retry schedule (alerts/webhooks.ts); none by default. */
  readonly webhooks?: import('../alerts/webhook-send.js').WebhookSettings | undefined;
  /** Fallback check answers (offline mode, or when the store is unavailable). */
  readonly fallback?: import('../checks/offline.js').Fallback | undefined;
  /** True for `createEngine({ offline: true })`: no store at all. */
  readonly offline?: boolean;
  /** How long after its window closed usage is still taken, ms (usage/late-usage.ts); default DEFAULT_LATE_USAGE_GRACE_MS. */
  readonly lateUsageGraceMs?: number;
  /**
   * Told of each change sequence number this engine appends, when it appends it (before the
   * commit), so that the follower never replays it: on a store whose transactions run side by
   * side, the follower can read the committed change before the writer hears back of its commit.
   */
  onOwnChange?: ((seq: number) => void) | undefined;
  /** Set inside `engine.transaction`: writes join its store transaction (runtime/transaction.ts). */
  readonly joined?: JoinedWrites | undefined;
  /**
   * Inside engine.transaction: the engine's own context, which the inner one stands in for.
   * What outlives the transaction (calls in flight that close() waits for) is kept under it.
   */
  readonly root?: EngineContext | undefined;
}

/**
 * The store transaction that every write of an `engine.transaction` callback joins, and the
 * effects of those writes, applied once after it commits and dropped when it rolls back.
 */
export interface JoinedWrites {
  readonly tx: StoreTx;
  readonly effects: WriteEffects[];
  /** False once the callback has settled: a late call is an error, not a write outside the transaction. */
  open: boolean;
  /** The first write that threw: its partial writes cannot be undone alone, so the whole transaction rolls back. */
  failed?: { error: unknown } | undefined;
  /**
   * Steps that must follow the commit and may call out (a checkout of a provisioning): run once,
   * after the effects, only if the transaction commits (docs/transactions.md#subscriptions).
   */
  readonly afterCommit: (() => void)[];
  /**
   * True inside the application's own transaction (`engine.transaction(fn, { connection })`):
   * Tessera never learns of its commit, so nothing runs after it (docs/transactions.md#in-your-own-transaction).
   */
  readonly external?: boolean;
}

/** What a write does after it commits: caches to drop and events to send. */
export class WriteEffects {
  readonly invalidated = new Set<string>();
  readonly emits: (() => void)[] = [];
  readonly seqs: number[] = [];
  /**
   * The view cache's generation when this write began, before its first read: what it reads may be
   * older than a cached view loaded since (PostgreSQL runs writes side by side), so such a view
   * takes nothing it read (views.changedSince).
   */
  readonly generation: number;

  constructor(
    readonly ctx: EngineContext,
    readonly tx: StoreTx,
    readonly now: number,
  ) {
    this.generation = ctx.views.generation;
  }

  /** Changes queued by `queueChange`, appended before the next `change` or at the end of the write. */
  private pending: NewChange[] = [];

  /** Records the change in the store's change log (inside the transaction), after any queued ones. */
  async change(kind: ChangeKind, customerId: string | null, entityId: string | null, payload: unknown = null): Promise<number> {
    if (this.pending.length > 0) await this.flushChanges();
    const seq = await this.tx.appendChange({ kind, at: this.now, customerId, entityId, payload });
    this.noteSeq(seq);
    return seq;
  }

  /**
   * Queues a change for the change log: a batch appends its changes in one store call. The log's
   * order is kept: queued changes are appended before any later `change` and before the commit.
   */
  queueChange(kind: ChangeKind, customerId: string | null, entityId: string | null, payload: unknown = null): void {
    this.pending.push({ kind, at: this.now, customerId, entityId, payload });
  }

  /** Appends the queued changes (inside the transaction). */
  async flushChanges(): Promise<void> {
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    for (const seq of await this.tx.appendChanges(batch)) this.noteSeq(seq);
  }

  private noteSeq(seq: number): void {
    this.seqs.push(seq);
    this.ctx.onOwnChange?.(seq);
  }

  /** Drops the customer's cached view once the transaction commits. */
  invalidate(customerId: string): void {
    this.invalidated.add(customerId);
  }

  /** Queues an event for after the commit. */
  emit<K extends keyof EngineEvents>(name: K, event: EngineEvents[K]): void {
    this.emits.push(() => this.ctx.emitter.emit(name, event));
  }

  /**
   * Queues an event that is built only if someone listens when it is sent: a bulk write would
   * otherwise build (and date) thousands of events nobody hears.
   */
  emitLazy<K extends keyof EngineEvents>(name: K, make: () => EngineEvents[K]): void {
    this.emits.push(() => {
      const all = this.ctx.emitter.all;
      if ((all.get(name)?.length ?? 0) > 0 || (all.get('*')?.length ?? 0) > 0) this.ctx.emitter.emit(name, make());
    });
  }

  /** Queues any other post-commit step (cache updates). */
  after(fn: () => void): void {
    this.emits.push(fn);
  }
}

/**
 * Runs `fn` in one write transaction; on commit applies its effects (cache first, then events,
 * so a listener that checks sees the new state). A throw rolls back and applies nothing.
 * `options` go to the store (a `turnKey` queues writers of one hot row: store.ts StoreTransactionOptions).
 */
export async function write<T>(ctx: EngineContext, fn: (fx: WriteEffects) => Promise<T>, options?: StoreTransactionOptions): Promise<T> {
  if (ctx.joined) return joinedWrite(ctx, ctx.joined, fn);
  // The engine's own write inside its engine.transaction callback: not part of that transaction (and on SQLite, memory, waiting for it).
  refuseInsideCallback(ctx.store, 'an engine write');
  let fx!: WriteEffects;
  // A store that retries a transaction (a serialization failure, a busy database) runs this
  // callback again: the runs counted here are the retries, whatever the store.
  let attempts = 0;
  const started = performance.now();
  let result: T;
  try {
    result = await ctx.store.transaction('write', async (tx) => {
      attempts++;
      fx = new WriteEffects(ctx, tx, ctx.clock.nowMs());
      const result = await fn(fx);
      await fx.flushChanges();
      return result;
    }, options);
  } catch (e) {
    ctx.metrics.write((performance.now() - started) / 1000, attempts, e);
    throw e;
  }
  ctx.metrics.write((performance.now() - started) / 1000, attempts, undefined);
  applyEffects(ctx, fx);
  return result;
}

/** A write of an `engine.transaction` callback: runs in its store transaction, effects kept for after its commit. */
async function joinedWrite<T>(ctx: EngineContext, joined: JoinedWrites, fn: (fx: WriteEffects) => Promise<T>): Promise<T> {
  if (!joined.open) throw new TesseraError('CONFLICT', 'engine.transaction: the transaction already ended; call tx methods only while its callback runs');
  const fx = new WriteEffects(ctx, joined.tx, ctx.clock.nowMs());
  try {
    const result = await fn(fx);
    await fx.flushChanges();
    joined.effects.push(fx);
    return result;
  } catch (e) {
    joined.failed ??= { error: e };
    throw e;
  }
}

/** What a committed write does next: cache first, then events, so a listener that checks sees the new state. */
export function applyEffects(ctx: EngineContext, fx: WriteEffects): void {
  for (const id of fx.invalidated) ctx.views.invalidate(id);
  for (const e of fx.emits) {
    try {
      e();
    } catch (err) {
      // Listeners are isolated by the emitter; this is a post-commit step of the engine's own
      // (a cache update). It must not turn a committed write into an error for the caller.
      ctx.reportError(err, { source: 'engine', method: 'after commit' });
    }
  }
}

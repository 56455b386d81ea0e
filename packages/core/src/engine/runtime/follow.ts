import { safeLog } from '../../logger.js';
import { FailureStreak } from '../../failure-streak.js';
import { publishedFrom } from './catalog.js';
import { usagePeriod } from '../../rules/windows.js';
import type { EngineContext } from './context.js';
import type { CatalogVersionRecord, ChangeRecord } from '../../records.js';
import { dropCell } from '../checks/view.js';
import { OwnSeqs } from './own-seqs.js';

/** Own sequence numbers remembered while the feed has not been read past them. */
const MAX_OWN = 100_000;
/**
 * Shortest time between two reads a notification starts, in ms: a first notification after a
 * quiet spell is read at once, and the commits of the next 10 ms share one read. With 8 busy
 * processes each follower was otherwise reading the feed for nearly every commit of the others
 * (bench/README.md, issue 21); the staleness bound stays followIntervalMs plus a read.
 */
const NOTIFY_READ_GAP_MS = 10;

/**
 * Follows the store's change feed so that writes made by other processes on the same store
 * reach this engine: their customers' cached views are dropped and listeners hear of them.
 * The staleness bound is the poll interval (docs/conventions.md#several-processes); a store that
 * can announce commits (`watchChanges`) makes the follower read at once, well within it.
 */
export class ChangeFollower {
  private lastSeq = 0;
  private timer: ReturnType<typeof setInterval> | undefined;
  private running: Promise<void> | undefined;
  /** Set when a poll is asked for while one runs: that run may have read before the news. */
  private again = false;
  private unwatch: (() => void) | undefined;
  /** Sequence numbers this engine wrote itself: already applied, not to be replayed. */
  private readonly own = new OwnSeqs(MAX_OWN);
  /** When a notification last made the follower read (performance.now()), and the read it deferred. */
  private notifiedReadAt = -Infinity;
  private soon: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly ctx: EngineContext,
    readonly intervalMs: number,
  ) {}

  async start(): Promise<void> {
    this.lastSeq = await this.ctx.store.lastChangeSeq();
    if (this.intervalMs > 0) {
      this.ctx.metrics.followerReadAt = this.ctx.clock.nowMs();
      this.timer = setInterval(() => void this.pollReporting(), this.intervalMs);
      this.timer.unref?.();
      // A watch connection that comes back after an outage calls onChange too, so the gap it left is read at once.
      this.unwatch = this.ctx.store.watchChanges?.((seq) => this.notified(seq), {
        onError: (e) => this.ctx.reportError(e, { source: 'store', method: 'watchChanges' }),
      });
    }
  }

  /**
   * Notes a sequence number this engine appended, before its transaction commits. One that rolls
   * back never shows in the feed; it is dropped once the feed has gone past it. An engine that
   * never reads the feed (memory store, no syncNow) keeps the last MAX_OWN only.
   */
  noteOwn(seq: number): void {
    if (seq <= this.lastSeq) return;
    this.own.add(seq);
  }

  /**
   * The store announced a commit whose highest seq is `seq` (undefined: unknown). When this
   * engine's own writes fill the feed from where it stands up to `seq` (one process alone, as a
   * rule), there is nothing of anyone else's to read: the follower moves past them without a read
   * (packages/postgres/README.md#change-notifications). Otherwise it reads the feed.
   */
  private notified(seq: number | undefined): void {
    if (seq !== undefined && this.running === undefined) {
      if (seq <= this.lastSeq) return;
      if (this.own.fills(this.lastSeq, seq)) {
        this.own.passed(seq);
        this.lastSeq = seq;
        return;
      }
    }
    // At most one read per NOTIFY_READ_GAP_MS: under many writers, the commits of that time share it.
    if (this.soon !== undefined) return;
    const wait = this.notifiedReadAt + NOTIFY_READ_GAP_MS - performance.now();
    if (wait <= 0) return this.readNotified();
    this.soon = setTimeout(() => this.readNotified(), wait);
    this.soon.unref?.();
  }

  private readNotified(): void {
    this.soon = undefined;
    this.notifiedReadAt = performance.now();
    void this.pollReporting();
  }

  /** Reads and applies everything committed since the last poll. Concurrent calls share one run. */
  poll(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      do {
        this.again = false;
        await this.drain();
      } while (this.again);
    })().finally(() => (this.running = undefined));
    return this.running;
  }

  /**
   * A background poll: its failure reaches the error event and the logger. A store that stays
   * down fails every poll, so a streak is reported once when it starts, at most once a minute
   * while it lasts, and its end is logged; checks meanwhile answer from the view.
   */
  private async pollReporting(): Promise<void> {
    try {
      await this.poll();
      const ended = this.failures.succeeded(this.ctx.clock.nowMs());
      if (ended) safeLog(this.ctx.logger, 'info', { source: 'follower', ...ended }, 'tessera: the change feed is read again');
    } catch (e) {
      if (this.failures.failed(this.ctx.clock.nowMs())) this.ctx.reportError(e, { source: 'follower', method: 'poll' });
    }
  }

  private readonly failures = new FailureStreak();

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (this.soon) clearTimeout(this.soon);
    this.soon = undefined;
    this.unwatch?.();
    this.unwatch = undefined;
  }

  private async drain(): Promise<void> {
    const { metrics, clock } = this.ctx;
    // The lag is measured from when this read started: a change committed after it may be missed.
    const readAt = clock.nowMs();
    for (;;) {
      const batch = await this.ctx.store.getChanges(this.lastSeq, 1000);
      for (const c of batch) {
        if (this.own.take(c.seq)) {
          this.lastSeq = c.seq;
          continue;
        }
        // What applying needs of the store is read before lastSeq moves: a read that fails (an
        // outage) leaves the change to the next poll instead of skipping it.
        const versions = c.kind === 'catalog.published' ? await this.ctx.store.transaction('read', (tx) => tx.listCatalogVersions()) : undefined;
        this.lastSeq = c.seq;
        metrics.followerChanges++;
        this.apply(c, versions);
      }
      // Own seqs the feed went past without showing were rolled back (a retried transaction's).
      this.own.passed(this.lastSeq);
      if (batch.length < 1000) {
        if (metrics.followerReadAt !== undefined) metrics.followerReadAt = readAt;
        return;
      }
    }
  }

  /** `versions`: the stored catalog versions, for a catalog.published change. */
  private apply(c: ChangeRecord, versions: CatalogVersionRecord[] | undefined): void {
    const at = new Date(c.at);
    const { ctx } = this;
    if (c.kind === 'catalog.published') {
      for (const v of versions ?? []) if (!ctx.catalogs.has(v.version)) ctx.addCatalog(publishedFrom(v));
      ctx.views.clear();
      ctx.emitter.emit('catalogPublished', { version: Number(c.entityId), at });
      return;
    }
    if (c.customerId === null) return;
    const payload = (c.payload ?? {}) as Record<string, unknown>;
    const resourceId = typeof payload.resourceId === 'string' && payload.resourceId !== '' ? payload.resourceId : null;
    // Usage changes only the feature's cell: drop that, and keep the customer's view (loading a
    // view again costs several reads; under contention it was most of a process's reads).
    // An entity's cell is never cached (docs/entities.md#checks), and an entity changes no view.
    const entityId = typeof payload.entityId === 'string' ? payload.entityId : undefined;
    if (c.kind === 'usage.updated') {
      ctx.views.touch(c.customerId);
      if (entityId === undefined) dropCell(ctx.views.get(c.customerId)?.cachedResource(resourceId ?? ''), c.entityId ?? '');
    } else if (c.kind === 'entity.updated') {
      ctx.views.touch(c.customerId);
    } else {
      ctx.views.invalidate(c.customerId);
    }
    switch (c.kind) {
      case 'usage.updated': {
        ctx.emitter.emit('usageUpdated', {
          customerId: c.customerId,
          resourceId,
          featureId: c.entityId ?? '',
          ...(entityId === undefined ? {} : { entityId }),
          currentUsage: Number(payload.value),
          ...usagePeriod(Number(payload.windowStart), Number(payload.windowEnd)),
          at,
        });
        return;
      }
      case 'subscription.updated':
        ctx.emitter.emit('subscriptionUpdated', { customerId: c.customerId, subscriptionId: c.entityId ?? '', status: String(payload.status ?? ''), at });
        ctx.emitter.emit('entitlementsUpdated', { customerId: c.customerId, resourceId, reason: c.kind, at });
        return;
      case 'customer.updated':
      case 'customer.archived':
      case 'promotion.updated':
      // Another process's override: its own engine emitted entitlementOverrideUpdated with the record.
      case 'override.updated':
        ctx.emitter.emit('entitlementsUpdated', { customerId: c.customerId, resourceId, reason: c.kind, at });
        return;
      case 'credits.updated':
        ctx.emitter.emit('entitlementsUpdated', { customerId: c.customerId, resourceId: null, reason: c.kind, at });
        return;
      case 'entity.updated':
        ctx.emitter.emit(payload.deleted === true ? 'entityDeleted' : 'entityCreated', {
          customerId: c.customerId,
          entityId: c.entityId ?? '',
          featureId: typeof payload.featureId === 'string' ? payload.featureId : null,
          at,
        });
        return;
      default:
        return;
    }
  }
}

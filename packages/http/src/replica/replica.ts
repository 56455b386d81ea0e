/**
 * The air-gapped replica (the HTTP-sync adapter): a local SQLite copy of what checks need, kept
 * from a sidecar's change feed, that answers checks in process and queues usage durably while
 * the sidecar cannot be reached. See packages/http/README.md#replicas.
 */
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import {
  createEngine,
  isLogger,
  Mutex,
  systemClock,
  TesseraError,
  type Consumption,
  type ConsumeUsageParams,
  type Customer,
  type Engine,
  type Entitlement,
  type GetEntitlementParams,
  type RawEvent,
  type ReportEventResult,
  type ReportedUsage,
  type ReportUsageParams,
  type Subscription,
} from '@tessera/core';
import { loadSqlite } from './sqlite-peer.js';
import { createClient } from '../client.js';
import { METHODS, type MethodName } from '../methods.js';
import { deliveryLoop } from './delivery.js';
import { observeOutbox } from './metrics.js';
import { importLegacyOutbox } from './legacy-outbox.js';
import { Outbox } from './outbox.js';
import { OutboxWrites, type OutboxEntries } from './outbox-store.js';
import { ReplicaReporter, Streak } from './report.js';
import type { ReplicaState } from './state.js';
import { catchUp, followLoop, snapshot } from './sync-down.js';
import { ReplicaTransport } from './transport.js';
import type { CheckName, Replica, ReplicaFallbackEntitlement, ReplicaOptions, ReplicaSyncState } from './types.js';

export type { ForwardedMethodName, Replica, ReplicaEventMap, ReplicaFallbackEntitlement, ReplicaOptions, ReplicaSyncState } from './types.js';

const notSynced = (what: string) =>
  new TesseraError('OFFLINE', `${what}: the replica has never synced from the sidecar; it answers checks from fallback values until it has`, { reason: 'ReplicaNotSynced' });

/**
 * Opens (or creates) a replica of the sidecar at `url` in the SQLite file `replica` and starts
 * syncing and delivering in the background. Resolves at once, also when the sidecar cannot be
 * reached: checks then answer from the file, or from `fallback` when it has never synced. An
 * outbox file of an earlier version is imported into the replica file first (STORE_UNAVAILABLE
 * when it cannot be read).
 */
export async function createReplica(options: ReplicaOptions): Promise<Replica> {
  if (!options || typeof options.replica !== 'string' || options.replica === '') {
    throw new TesseraError('INVALID_ARGUMENT', 'replica: give the path of the local SQLite replica file', { field: 'replica' });
  }
  if (options.logger !== undefined && !isLogger(options.logger)) {
    throw new TesseraError('INVALID_ARGUMENT', 'logger: must have debug, info, warn and error methods (pino and console fit)', { field: 'logger' });
  }
  const { logger } = options;
  const clock = options.clock ?? systemClock;
  const timeoutMs = options.timeoutMs ?? 5_000;
  const pollMs = options.pollIntervalMs ?? 25_000;
  const maxBackoffMs = options.maxBackoffMs ?? 5_000;
  const client = createClient({ url: options.url, apiKey: options.apiKey, timeoutMs, ...(options.fetch ? { fetch: options.fetch } : {}) });
  const transport = new ReplicaTransport(options.url, options.apiKey, timeoutMs, options.fetch);
  const { sqliteStore } = await loadSqlite();
  const store = sqliteStore({ filename: options.replica });
  await store.open();
  let outbox: Outbox;
  try {
    outbox = await Outbox.open(store);
    await importLegacyOutbox(store, outbox, options.outbox ?? `${options.replica}.outbox`, clock.nowMs());
  } catch (e) {
    await store.close();
    throw e;
  }
  const writes = new OutboxWrites(outbox);
  const engineStore = writes.store(store);
  const fallbackEngine = await createEngine({ offline: true, ...(options.fallback ? { fallback: options.fallback } : {}), ...(logger ? { logger } : {}) });

  const emitter = new EventEmitter();
  const reporter = new ReplicaReporter(emitter, logger, clock);
  const stop = new AbortController();
  const mutex = new Mutex();
  const lastSyncAt = await outbox.getMeta('lastSyncAt');
  const state: ReplicaState = {
    clock,
    pollMs,
    maxBackoffMs,
    client,
    transport,
    outbox,
    store,
    reporter,
    deliveryStreak: new Streak(reporter, clock, 'deliver'),
    syncStreak: new Streak(reporter, clock, 'sync'),
    emitter,
    stop,
    mutex,
    engine: undefined,
    openEngine: () => createEngine({ store: engineStore, clock, followIntervalMs: 0, ...(logger ? { logger } : {}) }),
    synced: (await outbox.getMeta('synced')) === '1',
    lastSeq: Number((await outbox.getMeta('lastSeq')) ?? 0),
    lastSyncAt: lastSyncAt ? Number(lastSyncAt) : null,
    online: null,
    closed: false,
    acks: 0,
    ackedAt: new Map<string, number>(),
    wakeDelivery: () => {},
  };

  if (state.synced) state.engine = await state.openEngine();

  const loops = [followLoop(state), deliveryLoop(state)];
  const stopMetrics = await observeOutbox(outbox, clock);

  // ---- the API ----

  const local = (): Engine => {
    if (!state.engine) throw notSynced('this call');
    return state.engine;
  };

  async function check(name: CheckName, params: GetEntitlementParams): Promise<Entitlement> {
    if (state.engine) return state.engine[name](params);
    const e = (await fallbackEngine[name](params)) as ReplicaFallbackEntitlement;
    e.fallbackReason = 'ReplicaNotSynced';
    return e;
  }

  /**
   * Runs a local usage write whose transaction also queues what it delivers (`entries`, built
   * from what the engine's transaction returned), and resolves once both have committed.
   */
  async function localWrite<T>(apply: (engine: Engine) => Promise<T>, entries: OutboxEntries): Promise<T> {
    const e = local();
    const result = await writes.run(entries, () => apply(e));
    state.wakeDelivery();
    return result;
  }

  /**
   * Every other method goes to the sidecar. After a write, the replica reads the change feed up
   * to it before resolving (best effort), so that the caller's next local check sees it.
   */
  const forwarded: Record<string, unknown> = {};
  for (const name of Object.keys(METHODS) as MethodName[]) {
    const call = (client as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>)[name]!;
    forwarded[name] =
      METHODS[name].access === 'write'
        ? async (...args: unknown[]) => {
            const result = await call(...args);
            // Best effort: the write is done; a failed read of the feed is reported and made up by the follow loop.
            if (state.synced) await catchUp(state).catch((e: unknown) => state.syncStreak.failed(e));
            return result;
          }
        : call;
  }

  const replica = {
    ...forwarded,
    getEntitlement: (p: GetEntitlementParams) => check('getEntitlement', p),
    getBooleanEntitlement: (p: GetEntitlementParams) => check('getBooleanEntitlement', p),
    getNumericEntitlement: (p: GetEntitlementParams) => check('getNumericEntitlement', p),
    getMeteredEntitlement: (p: GetEntitlementParams) => check('getMeteredEntitlement', p),
    getEnumEntitlement: (p: GetEntitlementParams) => check('getEnumEntitlement', p),
    async getEntitlements(params: { customerId: string; resourceId?: string; entityId?: string } | string, resourceId?: string): Promise<Entitlement[]> {
      if (state.engine) return state.engine.getEntitlements(params, resourceId);
      const raw = typeof params === 'string' ? { customerId: params, resourceId } : params;
      const out: Entitlement[] = [];
      for (const featureId of Object.keys(options.fallback ?? {}).sort()) out.push(await check('getEntitlement', { customerId: raw.customerId, featureId, ...(raw.resourceId ? { resourceId: raw.resourceId } : {}) }));
      return out;
    },
    async getCustomer(customerId: string): Promise<Customer> {
      return local().getCustomer(customerId);
    },
    async getActiveSubscriptions(params: { customerId: string; resourceId?: string | string[] }): Promise<Subscription[]> {
      return local().getActiveSubscriptions(params);
    },

    async reportUsage(params: ReportUsageParams): Promise<ReportedUsage> {
      // The timestamp is fixed here so that the entry is known before the engine's transaction
      // ends: the sidecar counts it in the same window as the replica, however late it arrives.
      const p: ReportUsageParams = { ...params, idempotencyKey: params?.idempotencyKey ?? `rpl_${randomUUID()}`, timestamp: params?.timestamp ?? clock.now() };
      return localWrite(
        (e) => e.reportUsage(p),
        // Built once the engine has validated p (its timestamp is a Date or an ISO string).
        () => [{ dedupeKey: `usage:${p.customerId}:${p.idempotencyKey}`, kind: 'usage', customerId: p.customerId, body: { ...p, timestamp: new Date(p.timestamp!).toISOString() } }],
      );
    },

    async reportEvent(events: RawEvent | RawEvent[]): Promise<ReportEventResult> {
      const list = (Array.isArray(events) ? events : [events]).map((ev) => ({
        ...ev,
        idempotencyKey: ev?.idempotencyKey ?? `rpl_${randomUUID()}`,
        timestamp: ev?.timestamp ?? clock.now().toISOString(),
      })) as RawEvent[];
      return localWrite(
        (e) => e.reportEvent(Array.isArray(events) ? list : list[0]!),
        () => list.map((ev) => ({ dedupeKey: `event:${ev.idempotencyKey}`, kind: 'event' as const, customerId: ev.customerId, body: { ...ev } as Record<string, unknown> })),
      );
    },

    async consumeUsage(params: ConsumeUsageParams): Promise<Consumption> {
      const p: ConsumeUsageParams = { ...params, idempotencyKey: params?.idempotencyKey ?? `rpl_${randomUUID()}` };
      const at = clock.now().toISOString();
      return localWrite(
        (e) => e.consumeUsage(p),
        // What the replica granted happened: the sidecar records it, it does not decide again.
        (result) => {
          const granted = (result as Partial<Consumption> | undefined)?.granted;
          if (typeof granted !== 'number') throw new TesseraError('INTERNAL', 'consumeUsage: the local engine\'s transaction returned no granted amount; nothing was recorded');
          if (granted === 0) return [];
          // An entity's consumption is delivered as a report for that entity: the sidecar moves its cell and the pool.
          const body = {
            customerId: p.customerId,
            featureId: p.featureId,
            ...(p.resourceId ? { resourceId: p.resourceId } : {}),
            ...(p.entityId ? { entityId: p.entityId } : {}),
            value: granted,
            updateBehavior: 'DELTA',
            idempotencyKey: p.idempotencyKey,
            timestamp: at,
          };
          return [{ dedupeKey: `usage:${p.customerId}:${p.idempotencyKey}`, kind: 'usage', customerId: p.customerId, body }];
        },
      );
    },

    async syncNow(): Promise<void> {
      if (!state.synced) await snapshot(state);
      await catchUp(state);
    },

    syncState(): ReplicaSyncState {
      const { lastSyncAt } = state;
      return {
        synced: state.synced,
        lastSeq: state.lastSeq,
        lastSyncAt: lastSyncAt === null ? null : new Date(lastSyncAt),
        lagMs: lastSyncAt === null ? null : Math.max(0, clock.nowMs() - lastSyncAt),
        outboxDepth: outbox.depth(),
        failedDeliveries: outbox.failedCount(),
        online: state.online === true,
      };
    },

    whenSynced(timeoutMs = 30_000): Promise<void> {
      return waitFor(() => state.synced, timeoutMs, 'the replica did not sync');
    },

    async drained(timeoutMs = 30_000): Promise<void> {
      // The counted depth first (no read), then the table itself, which is the authority.
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        await waitFor(() => outbox.depth() <= 0, Math.max(0, deadline - Date.now()), 'the outbox did not drain');
        if ((await outbox.exactDepth()) === 0) return;
        await new Promise((r) => setTimeout(r, 20));
      }
    },

    failedDeliveries: () => outbox.failed(),

    on(event: string, handler: Parameters<EventEmitter["on"]>[1]) {
      emitter.on(event, handler);
      return replica;
    },
    off(event: string, handler: Parameters<EventEmitter["on"]>[1]) {
      emitter.off(event, handler);
      return replica;
    },

    async close(): Promise<void> {
      if (state.closed) return;
      state.closed = true;
      stopMetrics();
      stop.abort();
      state.wakeDelivery();
      await Promise.allSettled(loops);
      await mutex.run(async () => undefined);
      if (state.engine) await state.engine.close();
      else await store.close();
      await fallbackEngine.close();
    },
  };

  function waitFor(done: () => boolean, timeoutMs: number, what: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const deadline = Date.now() + timeoutMs;
      const tick = () => {
        if (done()) return resolve();
        if (state.closed) return reject(new TesseraError('OFFLINE', `${what}: the replica is closed`));
        if (Date.now() >= deadline) return reject(new TesseraError('OFFLINE', `${what} within ${timeoutMs} ms`, { timeoutMs }));
        setTimeout(tick, 20);
      };
      tick();
    });
  }

  return replica as unknown as Replica;
}

/** The same as `createReplica`: the HTTP-sync store of DESIGN.md, as an object with the engine's checks. */
export const httpSyncStore = createReplica;

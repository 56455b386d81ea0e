/**
 * The air-gapped replica (the HTTP-sync adapter): a local SQLite copy of what checks need, kept
 * from a sidecar's change feed, that answers checks in process and queues usage durably while
 * the sidecar cannot be reached. See packages/http/README.md#replicas.
 */
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import {
  createEngine,
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
  type Store,
  type Subscription,
} from '@tessera/core';
import { createClient } from '../client.js';
import { METHODS, type MethodName } from '../methods.js';
import { deliveryLoop } from './delivery.js';
import { Outbox } from './outbox.js';
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
 * reached: checks then answer from the file, or from `fallback` when it has never synced.
 */
export async function createReplica(options: ReplicaOptions): Promise<Replica> {
  if (!options || typeof options.replica !== 'string' || options.replica === '') {
    throw new TesseraError('INVALID_ARGUMENT', 'replica: give the path of the local SQLite replica file', { field: 'replica' });
  }
  const clock = options.clock ?? systemClock;
  const timeoutMs = options.timeoutMs ?? 5_000;
  const pollMs = options.pollIntervalMs ?? 25_000;
  const maxBackoffMs = options.maxBackoffMs ?? 5_000;
  const client = createClient({ url: options.url, apiKey: options.apiKey, timeoutMs, ...(options.fetch ? { fetch: options.fetch } : {}) });
  const transport = new ReplicaTransport(options.url, options.apiKey, timeoutMs, options.fetch);
  // The SQLite adapter is an optional peer of @tessera/http: loaded only when a replica opens.
  const { sqliteStore } = await import('@tessera/sqlite').catch((e: unknown) => {
    throw Object.assign(new TesseraError('STORE_UNAVAILABLE', `createReplica: the replica file needs @tessera/sqlite: npm install @tessera/sqlite (${(e as Error).message})`), { cause: e });
  });
  const outbox = await Outbox.open(options.outbox ?? `${options.replica}.outbox`);
  const store: Store = sqliteStore({ filename: options.replica });
  await store.open();
  const fallbackEngine = await createEngine({ offline: true, ...(options.fallback ? { fallback: options.fallback } : {}) });

  const emitter = new EventEmitter();
  const stop = new AbortController();
  const mutex = new Mutex();
  const state: ReplicaState = {
    clock,
    pollMs,
    maxBackoffMs,
    client,
    transport,
    outbox,
    store,
    emitter,
    stop,
    mutex,
    engine: undefined,
    synced: outbox.getMeta('synced') === '1',
    lastSeq: Number(outbox.getMeta('lastSeq') ?? 0),
    lastSyncAt: outbox.getMeta('lastSyncAt') ? Number(outbox.getMeta('lastSyncAt')) : null,
    online: null,
    closed: false,
    inflight: new Map<string, number>(),
    acks: 0,
    ackedAt: new Map<string, number>(),
    wakeDelivery: () => {},
  };

  if (state.synced) state.engine = await createEngine({ store, clock, followIntervalMs: 0 });

  const loops = [followLoop(state), deliveryLoop(state)];

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

  /** Runs a local usage write and queues what it delivers before resolving. */
  async function localWrite<T>(customerIds: string[], apply: (engine: Engine) => Promise<T>, queue: (result: T) => Parameters<Outbox['append']>[0]): Promise<T> {
    const e = local();
    const { inflight } = state;
    for (const id of customerIds) inflight.set(id, (inflight.get(id) ?? 0) + 1);
    try {
      const result = await apply(e);
      outbox.append(queue(result));
      state.wakeDelivery();
      return result;
    } finally {
      for (const id of customerIds) {
        const n = (inflight.get(id) ?? 1) - 1;
        if (n === 0) inflight.delete(id);
        else inflight.set(id, n);
      }
    }
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
            if (state.synced) await catchUp(state).catch(() => undefined);
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
    async getEntitlements(params: { customerId: string; resourceId?: string } | string, resourceId?: string): Promise<Entitlement[]> {
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
      const p: ReportUsageParams = { ...params, idempotencyKey: params?.idempotencyKey ?? `rpl_${randomUUID()}` };
      return localWrite(
        [String(p.customerId)],
        (e) => e.reportUsage(p),
        (r) => [
          {
            dedupeKey: `usage:${p.customerId}:${p.idempotencyKey}`,
            kind: 'usage',
            customerId: p.customerId,
            // The local result's timestamp: the sidecar counts it in the same window, however late it arrives.
            body: { ...p, timestamp: r.timestamp.toISOString() },
          },
        ],
      );
    },

    async reportEvent(events: RawEvent | RawEvent[]): Promise<ReportEventResult> {
      const list = (Array.isArray(events) ? events : [events]).map((ev) => ({
        ...ev,
        idempotencyKey: ev?.idempotencyKey ?? `rpl_${randomUUID()}`,
        timestamp: ev?.timestamp ?? clock.now().toISOString(),
      })) as RawEvent[];
      return localWrite(
        [...new Set(list.map((ev) => String(ev.customerId)))],
        (e) => e.reportEvent(Array.isArray(events) ? list : list[0]!),
        () => list.map((ev) => ({ dedupeKey: `event:${ev.idempotencyKey}`, kind: 'event' as const, customerId: ev.customerId, body: { ...ev } as Record<string, unknown> })),
      );
    },

    async consumeUsage(params: ConsumeUsageParams): Promise<Consumption> {
      const p: ConsumeUsageParams = { ...params, idempotencyKey: params?.idempotencyKey ?? `rpl_${randomUUID()}` };
      const at = clock.now().toISOString();
      return localWrite(
        [String(p.customerId)],
        (e) => e.consumeUsage(p),
        // What the replica granted happened: the sidecar records it, it does not decide again.
        (r) =>
          r.granted === 0
            ? []
            : [
                {
                  dedupeKey: `usage:${p.customerId}:${p.idempotencyKey}`,
                  kind: 'usage',
                  customerId: p.customerId,
                  body: { customerId: p.customerId, featureId: p.featureId, ...(p.resourceId ? { resourceId: p.resourceId } : {}), value: r.granted, updateBehavior: 'DELTA', idempotencyKey: p.idempotencyKey, timestamp: at },
                },
              ],
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
        failedDeliveries: outbox.failed().length,
        online: state.online === true,
      };
    },

    whenSynced(timeoutMs = 30_000): Promise<void> {
      return waitFor(() => state.synced, timeoutMs, 'the replica did not sync');
    },

    drained(timeoutMs = 30_000): Promise<void> {
      return waitFor(() => outbox.depth() === 0, timeoutMs, 'the outbox did not drain');
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
      stop.abort();
      state.wakeDelivery();
      await Promise.allSettled(loops);
      await mutex.run(async () => undefined);
      if (state.engine) await state.engine.close();
      else await store.close();
      await fallbackEngine.close();
      outbox.close();
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

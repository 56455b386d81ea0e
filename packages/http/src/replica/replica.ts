/**
 * The air-gapped replica (the HTTP-sync adapter): a local SQLite copy of what checks need, kept
 * from a sidecar's change feed, that answers checks in process and queues usage durably while
 * the sidecar cannot be reached. See packages/http/README.md#replicas.
 */
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import {
  createEngine,
  isTesseraError,
  Mutex,
  systemClock,
  TesseraError,
  type Clock,
  type Consumption,
  type ConsumeUsageParams,
  type Customer,
  type Engine,
  type Entitlement,
  type Fallback,
  type GetEntitlementParams,
  type RawEvent,
  type ReportEventResult,
  type ReportedUsage,
  type ReportUsageParams,
  type Store,
  type Subscription,
  type CatalogVersionRecord,
} from '@tessera/core';
import { sqliteStore } from '@tessera/sqlite';
import { createClient, type FetchLike, type TesseraClient } from '../client/client.js';
import { METHODS, type MethodName } from '../methods.js';
import { Outbox, type FailedEntry, type OutboxEntry } from './outbox.js';
import { MAX_REPLICA_CUSTOMERS, type CustomerExport } from './records.js';
import { ReplicaTransport } from './transport.js';

/** Options of `createReplica`. */
export interface ReplicaOptions {
  /** The sidecar's base URL, e.g. `http://127.0.0.1:8787`. */
  url: string;
  /** A full-access key (a read-only key syncs and answers checks, but cannot deliver usage or forward writes). */
  apiKey: string;
  /** The local SQLite replica file (created when missing). */
  replica: string;
  /** The outbox and sync bookkeeping file; `<replica>.outbox` by default. */
  outbox?: string;
  /** Check answers by feature id while the replica has never synced (isFallback: true). */
  fallback?: Fallback;
  /** How long each change-feed request waits on the sidecar for a change (long poll), in ms; 25,000 by default. */
  pollIntervalMs?: number;
  /** Time source of the local engine; `systemClock` by default. */
  clock?: Clock;
  /** How long one request to the sidecar may take before it counts as OFFLINE, in ms; 5,000 by default. */
  timeoutMs?: number;
  /** Longest wait between retries (delivery, sync), in ms; doubles from 100 up to this; 5,000 by default. */
  maxBackoffMs?: number;
  /** Another HTTP stack (tests: hono's `app.request`). */
  fetch?: FetchLike;
}

/** Where a replica stands. */
export interface ReplicaSyncState {
  /** True once a snapshot has been taken (ever: it survives restarts). */
  synced: boolean;
  /** The sidecar's change seq the replica has applied. */
  lastSeq: number;
  /** When the replica last heard from the change feed (null: never in this process or before). */
  lastSyncAt: Date | null;
  /** Milliseconds since `lastSyncAt` (null when never). */
  lagMs: number | null;
  /** Usage reports and events acknowledged locally and not yet acknowledged by the sidecar. */
  outboxDepth: number;
  /** Entries the sidecar refused for good (see `failedDeliveries()`). */
  failedDeliveries: number;
  /** Whether the last request to the sidecar got an answer. */
  online: boolean;
}

/** A check answered before the first sync: from the fallback values, saying why. */
export type ReplicaFallbackEntitlement = Entitlement & { fallbackReason?: 'ReplicaNotSynced' };

type CheckName = 'getEntitlement' | 'getBooleanEntitlement' | 'getNumericEntitlement' | 'getMeteredEntitlement' | 'getEnumEntitlement';
type LocalName = CheckName | 'getEntitlements' | 'getCustomer' | 'getActiveSubscriptions' | 'reportUsage' | 'reportEvent' | 'consumeUsage' | 'syncNow';
/** Methods the replica forwards to the sidecar as they are. */
export type ForwardedMethodName = Exclude<MethodName, LocalName>;

/** Events of a replica (`replica.on(name, handler)`). */
export interface ReplicaEventMap {
  /** The sidecar answered after having been unreachable (or for the first time). */
  online: [];
  /** A request to the sidecar failed for want of an answer. */
  offline: [{ code: string; message: string }];
  /** A snapshot or a page of the change feed was applied. */
  synced: [{ lastSeq: number }];
  /** Outbox entries were acknowledged by the sidecar. */
  delivered: [{ count: number; outboxDepth: number }];
  /** The sidecar refused an entry for good; it moved to `failedDeliveries()`. */
  deliveryFailed: [FailedEntry];
  /** A sync step failed with something else than OFFLINE (it is retried). */
  syncError: [unknown];
}

/**
 * A replica: the engine's checks answered from the local file, usage writes applied locally and
 * queued for the sidecar, every other method forwarded to the sidecar (OFFLINE when it cannot
 * be reached).
 */
export type Replica = Pick<TesseraClient, ForwardedMethodName> & {
  getEntitlement(params: GetEntitlementParams): Promise<Entitlement>;
  getBooleanEntitlement(params: GetEntitlementParams): Promise<Entitlement>;
  getNumericEntitlement(params: GetEntitlementParams): Promise<Entitlement>;
  getMeteredEntitlement(params: GetEntitlementParams): Promise<Entitlement>;
  getEnumEntitlement(params: GetEntitlementParams): Promise<Entitlement>;
  getEntitlements(params: { customerId: string; resourceId?: string } | string, resourceId?: string): Promise<Entitlement[]>;
  getCustomer(customerId: string): Promise<Customer>;
  getActiveSubscriptions(params: { customerId: string; resourceId?: string | string[] }): Promise<Subscription[]>;
  /** Applied locally, queued durably, delivered in order with its idempotency key (generated when absent). */
  reportUsage(params: ReportUsageParams): Promise<ReportedUsage>;
  /** Metered locally, queued durably, delivered in order. */
  reportEvent(events: RawEvent | RawEvent[]): Promise<ReportEventResult>;
  /** Decided against the local replica; the granted amount is delivered as a DELTA usage report. */
  consumeUsage(params: ConsumeUsageParams): Promise<Consumption>;
  /** Pulls the change feed now (no wait) until caught up. Throws OFFLINE when the sidecar cannot be reached. */
  syncNow(): Promise<void>;
  syncState(): ReplicaSyncState;
  /** Resolves once a snapshot has been taken; rejects after `timeoutMs`. */
  whenSynced(timeoutMs?: number): Promise<void>;
  /** Resolves once the outbox is empty; rejects after `timeoutMs`. */
  drained(timeoutMs?: number): Promise<void>;
  /** Entries the sidecar refused for good (INVALID_ARGUMENT, CUSTOMER_NOT_FOUND...), oldest first. */
  failedDeliveries(): FailedEntry[];
  on<K extends keyof ReplicaEventMap>(event: K, handler: (...args: ReplicaEventMap[K]) => void): Replica;
  off<K extends keyof ReplicaEventMap>(event: K, handler: (...args: ReplicaEventMap[K]) => void): Replica;
  /** Stops syncing and delivering (the outbox keeps what is left) and closes the files. */
  close(): Promise<void>;
};

const DELIVERY_BATCH = 200;
const MIN_BACKOFF_MS = 100;
/** Errors after which a delivery is retried; any other code means the sidecar refused the entry. */
const TRANSIENT = new Set(['OFFLINE', 'STORE_UNAVAILABLE', 'INTERNAL', 'UNAUTHORIZED']);

const notSynced = (what: string) =>
  new TesseraError('OFFLINE', `${what}: the replica has never synced from the sidecar; it answers checks from fallback values until it has`, { reason: 'ReplicaNotSynced' });

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });

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
  const outbox = new Outbox(options.outbox ?? `${options.replica}.outbox`);
  const store: Store = sqliteStore({ filename: options.replica });
  await store.open();
  const fallbackEngine = await createEngine({ offline: true, ...(options.fallback ? { fallback: options.fallback } : {}) });

  const emitter = new EventEmitter();
  const stop = new AbortController();
  const mutex = new Mutex();
  let engine: Engine | undefined;
  let synced = outbox.getMeta('synced') === '1';
  let lastSeq = Number(outbox.getMeta('lastSeq') ?? 0);
  let lastSyncAt: number | null = outbox.getMeta('lastSyncAt') ? Number(outbox.getMeta('lastSyncAt')) : null;
  /** Null until the first request to the sidecar answered or failed. */
  let online: boolean | null = null;
  let closed = false;
  /** Local usage writes under way per customer: between their local commit and their outbox append. */
  const inflight = new Map<string, number>();
  /** Acknowledged deliveries, counted, and the count at each customer's latest one. */
  let acks = 0;
  const ackedAt = new Map<string, number>();
  let wakeDelivery: () => void = () => {};

  const setOnline = (value: boolean, error?: unknown) => {
    if (online === value) return;
    online = value;
    if (value) emitter.emit('online');
    else emitter.emit('offline', { code: isTesseraError(error) ? error.code : 'OFFLINE', message: error instanceof Error ? error.message : String(error) });
  };

  if (synced) engine = await createEngine({ store, clock, followIntervalMs: 0 });

  // ---- writing what the sidecar sent into the local store ----

  async function writeCatalogs(versions: CatalogVersionRecord[]): Promise<boolean> {
    return store.transaction('write', async (tx) => {
      const have = new Set((await tx.listCatalogVersions()).map((v) => v.version));
      let added = false;
      for (const v of versions.sort((a, b) => a.version - b.version)) {
        if (have.has(v.version)) continue;
        await tx.insertCatalogVersion(v);
        // The local engine learns of it through its own change log (engine.syncNow()).
        await tx.appendChange({ at: clock.nowMs(), kind: 'catalog.published', customerId: null, entityId: String(v.version), payload: { version: v.version, source: 'replica' } });
        added = true;
      }
      return added;
    });
  }

  /**
   * Writes customers' records as the sidecar has them. Usage cells of a customer with writes not
   * yet acknowledged by the sidecar (queued, under way, or acknowledged after `ackMark`, the
   * acknowledgement count when the fetch started) stay as they are locally: the sidecar's cells
   * lack those writes, and the change their delivery causes brings the cells again.
   */
  async function writeCustomers(exports: CustomerExport[], ackMark: number): Promise<void> {
    if (exports.length === 0) return;
    await store.transaction('write', async (tx) => {
      for (const ex of exports) {
        const id = ex.customerId;
        if (ex.customer) await tx.putCustomer(ex.customer);
        for (const s of ex.subscriptions) await tx.putSubscription(s);
        const keepLocalUsage = (inflight.get(id) ?? 0) > 0 || outbox.hasPending(id) || (ackedAt.get(id) ?? 0) > ackMark;
        if (!keepLocalUsage) for (const u of ex.usage) await tx.putUsage(u);
        for (const g of ex.promotionalGrants) await tx.putPromotionalGrant(g);
        for (const g of ex.creditGrants) await tx.putCreditGrant(g);
        for (const r of ex.reservations) await tx.putReservation(r);
        await tx.appendChange({ at: clock.nowMs(), kind: 'customer.updated', customerId: id, entityId: null, payload: { source: 'replica' } });
      }
    });
  }

  async function fetchCustomers(ids: readonly string[]): Promise<void> {
    for (let i = 0; i < ids.length; i += MAX_REPLICA_CUSTOMERS) {
      const mark = acks;
      const { customers } = await transport.customers(ids.slice(i, i + MAX_REPLICA_CUSTOMERS), stop.signal);
      await writeCustomers(customers, mark);
    }
  }

  function noteSynced(seq: number): void {
    lastSeq = seq;
    lastSyncAt = clock.nowMs();
    outbox.setMeta('lastSeq', String(seq));
    outbox.setMeta('lastSyncAt', String(lastSyncAt));
    emitter.emit('synced', { lastSeq: seq });
  }

  async function snapshot(): Promise<void> {
    await mutex.run(async () => {
      if (synced) return;
      const snap = await transport.snapshot(stop.signal, true);
      await writeCatalogs(snap.catalogVersions);
      await fetchCustomers(snap.customerIds ?? []);
      engine ??= await createEngine({ store, clock, followIntervalMs: 0 });
      await engine.syncNow();
      synced = true;
      outbox.setMeta('synced', '1');
      noteSynced(snap.lastChangeSeq);
    });
  }

  /** One page of the change feed after `lastSeq`; applied unless another pull applied one meanwhile. Returns whether it held changes. */
  async function pull(waitMs: number): Promise<boolean> {
    const after = lastSeq;
    const page = await transport.changes(after, waitMs, stop.signal);
    return mutex.run(async () => {
      if (lastSeq !== after) return true;
      const ids = new Set<string>();
      let catalog = false;
      for (const c of page.changes) {
        if (c.kind === 'catalog.published') catalog = true;
        else if (c.customerId !== null) ids.add(c.customerId);
      }
      if (catalog) await writeCatalogs((await transport.snapshot(stop.signal, false)).catalogVersions);
      await fetchCustomers([...ids]);
      await engine!.syncNow();
      noteSynced(page.nextAfter);
      return page.changes.length > 0;
    });
  }

  /** Re-reads customers now (after their outbox entries were acknowledged). */
  function refresh(ids: string[]): void {
    if (ids.length === 0 || !engine) return;
    void mutex
      .run(async () => {
        await fetchCustomers(ids);
        await engine!.syncNow();
      })
      .catch(() => undefined);
  }

  // ---- background loops ----

  async function followLoop(): Promise<void> {
    let backoff = MIN_BACKOFF_MS;
    while (!closed) {
      try {
        if (!synced) await snapshot();
        // Right after (re)connecting, a quick read: `online` should not wait for a long poll.
        await pull(online ? pollMs : 0);
        setOnline(true);
        backoff = MIN_BACKOFF_MS;
      } catch (e) {
        if (closed) return;
        if (isTesseraError(e) && e.code === 'OFFLINE') setOnline(false, e);
        else emitter.emit('syncError', e);
        await sleep(backoff, stop.signal);
        backoff = Math.min(backoff * 2, maxBackoffMs);
      }
    }
  }

  async function send(batch: OutboxEntry[]): Promise<void> {
    if (batch[0]!.kind === 'usage') {
      if (batch.length === 1) await client.reportUsage(batch[0]!.body as unknown as ReportUsageParams);
      else await client.reportUsageBulk({ usages: batch.map((e) => e.body as unknown as ReportUsageParams) });
    } else {
      await client.reportEvent(batch.map((e) => e.body as unknown as RawEvent));
    }
  }

  async function deliveryLoop(): Promise<void> {
    let backoff = MIN_BACKOFF_MS;
    /** After a batch was refused, entries up to this seq go one at a time, to find the one refused. */
    let singleUpTo = 0;
    while (!closed) {
      const peeked = outbox.peek(DELIVERY_BATCH);
      if (peeked.length === 0) {
        await new Promise<void>((resolve) => {
          wakeDelivery = resolve;
          setTimeout(resolve, 1_000).unref?.();
        });
        continue;
      }
      const first = peeked[0]!;
      // In order: the longest run of one kind from the head goes in one request.
      const otherKind = peeked.findIndex((e) => e.kind !== first.kind);
      const batch = first.seq <= singleUpTo ? [first] : otherKind < 0 ? peeked : peeked.slice(0, otherKind);
      try {
        await send(batch);
        outbox.remove(batch.map((e) => e.seq));
        acks++;
        const customers = new Set(batch.map((e) => e.customerId));
        for (const id of customers) ackedAt.set(id, acks);
        setOnline(true);
        backoff = MIN_BACKOFF_MS;
        emitter.emit('delivered', { count: batch.length, outboxDepth: outbox.depth() });
        refresh([...customers].filter((id) => !outbox.hasPending(id)));
      } catch (e) {
        if (closed) return;
        const code = isTesseraError(e) ? e.code : 'INTERNAL';
        if (TRANSIENT.has(code)) {
          if (code === 'OFFLINE') setOnline(false, e);
          await sleep(backoff, stop.signal);
          backoff = Math.min(backoff * 2, maxBackoffMs);
        } else if (batch.length > 1) {
          singleUpTo = batch.at(-1)!.seq;
        } else {
          outbox.fail(first, code, (e as Error).message, clock.nowMs());
          const failed = outbox.failed().find((f) => f.seq === first.seq);
          if (failed) emitter.emit('deliveryFailed', failed);
        }
      }
    }
  }

  const loops = [followLoop(), deliveryLoop()];

  // ---- the API ----

  const local = (): Engine => {
    if (!engine) throw notSynced('this call');
    return engine;
  };

  async function check(name: CheckName, params: GetEntitlementParams): Promise<Entitlement> {
    if (engine) return engine[name](params);
    const e = (await fallbackEngine[name](params)) as ReplicaFallbackEntitlement;
    e.fallbackReason = 'ReplicaNotSynced';
    return e;
  }

  /** Runs a local usage write and queues what it delivers before resolving. */
  async function localWrite<T>(customerIds: string[], apply: (engine: Engine) => Promise<T>, queue: (result: T) => Parameters<Outbox['append']>[0]): Promise<T> {
    const e = local();
    for (const id of customerIds) inflight.set(id, (inflight.get(id) ?? 0) + 1);
    try {
      const result = await apply(e);
      outbox.append(queue(result));
      wakeDelivery();
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
            if (synced) await catchUp().catch(() => undefined);
            return result;
          }
        : call;
  }

  /** Applies the change feed up to the sidecar's newest change now. */
  async function catchUp(): Promise<void> {
    while (await pull(0));
  }

  const replica = {
    ...forwarded,
    getEntitlement: (p: GetEntitlementParams) => check('getEntitlement', p),
    getBooleanEntitlement: (p: GetEntitlementParams) => check('getBooleanEntitlement', p),
    getNumericEntitlement: (p: GetEntitlementParams) => check('getNumericEntitlement', p),
    getMeteredEntitlement: (p: GetEntitlementParams) => check('getMeteredEntitlement', p),
    getEnumEntitlement: (p: GetEntitlementParams) => check('getEnumEntitlement', p),
    async getEntitlements(params: { customerId: string; resourceId?: string } | string, resourceId?: string): Promise<Entitlement[]> {
      if (engine) return engine.getEntitlements(params, resourceId);
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
      if (!synced) await snapshot();
      await catchUp();
    },

    syncState(): ReplicaSyncState {
      return {
        synced,
        lastSeq,
        lastSyncAt: lastSyncAt === null ? null : new Date(lastSyncAt),
        lagMs: lastSyncAt === null ? null : Math.max(0, clock.nowMs() - lastSyncAt),
        outboxDepth: outbox.depth(),
        failedDeliveries: outbox.failed().length,
        online: online === true,
      };
    },

    whenSynced(timeoutMs = 30_000): Promise<void> {
      return waitFor(() => synced, timeoutMs, 'the replica did not sync');
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
      if (closed) return;
      closed = true;
      stop.abort();
      wakeDelivery();
      await Promise.allSettled(loops);
      await mutex.run(async () => undefined);
      if (engine) await engine.close();
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
        if (closed) return reject(new TesseraError('OFFLINE', `${what}: the replica is closed`));
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

import { systemClock } from '../clock.js';
import { TesseraError } from '../errors.js';
import { createEmitter } from '../events.js';
import type { Store } from '../store/store.js';
import { publishCatalog, publishedFrom, requireLatest, toCatalog } from './catalog.js';
import type { EngineContext, PublishedCatalog } from './context.js';
import { Engine, type EngineOptions } from './engine.js';
import { ChangeFollower } from './follow.js';
import { offlineStore, type Fallback } from './offline.js';
import { Params } from './params.js';
import { DEFAULT_EVENT_LIMITS, type EventLimits } from './raw-events.js';
import { ViewCache } from './view.js';

function readFallback(p: Params): Fallback {
  const f = p.optObject('fallback')!;
  const out: Fallback = {};
  for (const featureId of Object.keys(f.raw)) {
    const e = f.optObject(featureId, ['hasAccess', 'value', 'usageLimit', 'isUnlimited', 'enumValues'])!;
    const hasAccess = e.optBoolean('hasAccess');
    if (hasAccess === undefined) e.fail('hasAccess', 'is required');
    const entry: Fallback[string] = { hasAccess: hasAccess! };
    const value = e.optNumber('value');
    if (value !== undefined) entry.value = value;
    const usageLimit = e.optNumber('usageLimit', { min: 0 });
    if (usageLimit !== undefined) entry.usageLimit = usageLimit;
    const isUnlimited = e.optBoolean('isUnlimited');
    if (isUnlimited !== undefined) entry.isUnlimited = isUnlimited;
    const values = e.optArray('enumValues', (v) => String(v));
    if (values) entry.enumValues = values;
    out[featureId] = entry;
  }
  return out;
}

/**
 * Opens the store, loads the catalog versions and publishes `catalog` when it changed.
 * Throws INVALID_ARGUMENT for a bad catalog or when neither the store nor the options hold one.
 */
export async function createEngine(options: EngineOptions): Promise<Engine> {
  const p = new Params(options, 'createEngine', ['store', 'catalog', 'clock', 'cache', 'newId', 'events', 'paymentProvider', 'billingProvider', 'followIntervalMs', 'offline', 'fallback']);
  const offline = p.optBoolean('offline') ?? false;
  const fallback = p.optObject('fallback') === undefined ? undefined : readFallback(p);
  const followIntervalMs = p.optNumber('followIntervalMs', { min: 0, integer: true });
  const ev = p.optObject('events', ['maxFutureMs', 'maxLatenessMs', 'maxBatch']);
  const eventLimits: EventLimits = {
    maxFutureMs: ev?.optNumber('maxFutureMs', { min: 0 }) ?? DEFAULT_EVENT_LIMITS.maxFutureMs,
    maxLatenessMs: ev?.optNumber('maxLatenessMs', { min: 0 }) ?? DEFAULT_EVENT_LIMITS.maxLatenessMs,
    maxBatch: ev?.optNumber('maxBatch', { min: 1, integer: true }) ?? DEFAULT_EVENT_LIMITS.maxBatch,
  };
  if (offline && options.store) p.fail('store', 'leave it out with offline: true (an offline engine has no store)');
  const chosen = offline ? offlineStore() : options.store;
  if (!chosen || typeof chosen.transaction !== 'function') p.fail('store', 'must be a Store, e.g. memoryStore() or sqliteStore({ filename })');
  const store: Store = chosen!;
  const clock = options.clock ?? systemClock;
  if (typeof clock.nowMs !== 'function') p.fail('clock', 'must be a Clock with now() and nowMs()');
  const maxCustomers = p.optObject('cache', ['maxCustomers'])?.optNumber('maxCustomers', { min: 1, integer: true }) ?? 100_000;
  const catalogInput = options.catalog === undefined ? undefined : toCatalog(options.catalog);
  await store.open();
  const catalogs = new Map<number, PublishedCatalog>();
  if (!offline) for (const rec of await store.transaction('read', (tx) => tx.listCatalogVersions())) catalogs.set(rec.version, publishedFrom(rec));
  if (offline && catalogInput) catalogs.set(1, { record: { version: 1, publishedAt: 0, definition: catalogInput.definition, planVersions: {}, addonVersions: {} }, catalog: catalogInput });
  let latest: PublishedCatalog | undefined = catalogs.size > 0 ? requireLatest(catalogs) : undefined;
  // Web Crypto rather than node:crypto: core stays free of Node built-ins (bundlers, edge runtimes).
  const newId = options.newId ?? ((prefix: string) => `${prefix}_${globalThis.crypto.randomUUID().replaceAll('-', '')}`);
  const ctx: EngineContext = {
    store,
    clock,
    views: new ViewCache(maxCustomers),
    emitter: createEmitter(),
    catalogs,
    latest: () => {
      if (!latest && offline) throw new TesseraError('OFFLINE', 'the engine runs offline without a catalog: only checks answer, from fallback values');
      if (!latest) throw new TesseraError('INVALID_ARGUMENT', 'catalog: none published yet; pass `catalog` to createEngine', { field: 'catalog' });
      return latest;
    },
    latestOrUndefined: () => latest,
    offline,
    fallback,
    addCatalog: (published) => {
      catalogs.set(published.record.version, published);
      if (!latest || published.record.version > latest.record.version) latest = published;
    },
    newId,
    paymentProvider: options.paymentProvider,
    billingProvider: options.billingProvider,
  };
  if (offline) return new Engine(ctx, eventLimits);
  const follower = new ChangeFollower(ctx, followIntervalMs ?? (store.kind === 'memory' ? 0 : 200));
  await follower.start();
  ctx.onOwnChange = (seq) => follower.noteOwn(seq);
  if (catalogInput) await publishCatalog(ctx, catalogInput);
  ctx.latest();
  return new Engine(ctx, eventLimits, follower);
}

import { systemClock } from '../../clock.js';
import { TesseraError } from '../../errors.js';
import { createEmitter } from '../../events.js';
import type { CatalogIds } from '../../catalog/ids.js';
import type { Store } from '../../store/store.js';
import { publishCatalog, publishedFrom, requireLatest, toCatalog } from './catalog.js';
import type { EngineContext, PublishedCatalog } from './context.js';
import { Engine, type EngineOptions } from '../engine.js';
import { ChangeFollower } from './follow.js';
import { offlineStore, type Fallback } from '../checks/offline.js';
import { Params } from './params.js';
import { DEFAULT_EVENT_LIMITS, type EventLimits } from '../usage/raw-events.js';
import { ViewCache } from '../checks/view.js';
import { DEFAULT_LATE_USAGE_GRACE_MS } from '../usage/late-usage.js';
import { readWebhookOptions, startWebhookPoller } from '../alerts/webhooks.js';
import { createReporter } from './report.js';
import { isLogger, safeLog, type Logger } from '../../logger.js';
import { EngineMetrics } from './metrics.js';
import { importOpenTelemetry, isOpenTelemetryApi, Telemetry, tracedClass, type OpenTelemetryApi } from './telemetry.js';

/** The longest grace for late usage: 100 years, so that window end + grace stays a valid instant. */
const MAX_GRACE_MS = 100 * 365 * 86_400_000;

/** Each traced engine's Telemetry; the traced class is one for the process (telemetry.ts). */
const telemetries = new WeakMap<object, Telemetry>();
let Traced: typeof Engine | undefined;

/**
 * The OpenTelemetry API the `telemetry` option asks for, or undefined for none. Read by hand, not
 * through Params: `api` is a module object (functions), which a JSON-safety check would refuse.
 */
async function telemetryApi(p: Params, raw: unknown, logger: Logger | undefined): Promise<{ api: OpenTelemetryApi; customerIds: boolean } | undefined> {
  if (raw === false) return undefined;
  if (raw === undefined) {
    const api = await importOpenTelemetry(logger);
    return api && { api, customerIds: false };
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) p.fail('telemetry', 'must be false or an object { api?, customerIds? }');
  const t = raw as { api?: unknown; customerIds?: unknown };
  const unknown = Object.keys(t).find((k) => k !== 'api' && k !== 'customerIds');
  if (unknown !== undefined) p.fail('telemetry', `unknown option ${JSON.stringify(unknown)}; allowed: api, customerIds`);
  if (t.api !== undefined && !isOpenTelemetryApi(t.api)) p.fail('telemetry.api', "must be the @opentelemetry/api module (import * as otel from '@opentelemetry/api')");
  if (t.customerIds !== undefined && typeof t.customerIds !== 'boolean') p.fail('telemetry.customerIds', 'must be a boolean');
  const api = t.api === undefined ? await importOpenTelemetry(logger) : (t.api as OpenTelemetryApi);
  return api && { api, customerIds: t.customerIds === true };
}

function safeLogListener(logger: Logger | undefined, e: unknown): void {
  if (logger) safeLog(logger, 'error', { err: e, source: 'listener', method: 'error listener' }, 'tessera: an error listener threw');
  else console.error('tessera: an error listener threw', e);
}

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
export async function createEngine<Ids extends CatalogIds = CatalogIds>(options: EngineOptions<Ids>): Promise<Engine<Ids>> {
  const p = new Params(options, 'createEngine', ['store', 'catalog', 'clock', 'cache', 'newId', 'events', 'paymentProvider', 'billingProvider', 'followIntervalMs', 'offline', 'fallback', 'logger', 'telemetry', 'webhooks', 'lateUsageGraceMs']);
  if (options.logger !== undefined && !isLogger(options.logger)) p.fail('logger', 'must have debug, info, warn and error methods (pino and console fit)');
  const logger: Logger | undefined = options.logger;
  const offline = p.optBoolean('offline') ?? false;
  const fallback = p.optObject('fallback') === undefined ? undefined : readFallback(p);
  const followIntervalMs = p.optNumber('followIntervalMs', { min: 0, integer: true });
  const ev = p.optObject('events', ['maxFutureMs', 'maxLatenessMs', 'maxBatch']);
  const eventLimits: EventLimits = {
    maxFutureMs: ev?.optNumber('maxFutureMs', { min: 0 }) ?? DEFAULT_EVENT_LIMITS.maxFutureMs,
    maxLatenessMs: ev?.optNumber('maxLatenessMs', { min: 0 }) ?? DEFAULT_EVENT_LIMITS.maxLatenessMs,
    maxBatch: ev?.optNumber('maxBatch', { min: 1, integer: true }) ?? DEFAULT_EVENT_LIMITS.maxBatch,
  };
  const lateUsageGraceMs = p.optNumber('lateUsageGraceMs', { min: 0, max: MAX_GRACE_MS, integer: true }) ?? DEFAULT_LATE_USAGE_GRACE_MS;
  if (offline && options.store) p.fail('store', 'leave it out with offline: true (an offline engine has no store)');
  const chosen = offline ? offlineStore() : options.store;
  if (!chosen || typeof chosen.transaction !== 'function') p.fail('store', 'must be a Store, e.g. memoryStore() or sqliteStore({ filename })');
  const store: Store = chosen!;
  const clock = options.clock ?? systemClock;
  if (typeof clock.nowMs !== 'function') p.fail('clock', 'must be a Clock with now() and nowMs()');
  const maxCustomers = p.optObject('cache', ['maxCustomers'])?.optNumber('maxCustomers', { min: 1, integer: true }) ?? 100_000;
  const catalogInput = options.catalog === undefined ? undefined : toCatalog(options.catalog);
  const otel = await telemetryApi(p, options.telemetry, logger);
  const webhooks = readWebhookOptions(options.webhooks);
  if (webhooks && offline) p.fail('webhooks', 'an offline engine writes nothing and has no alerts to deliver: leave it out');
  await store.open();
  const catalogs = new Map<number, PublishedCatalog>();
  if (!offline) for (const rec of await store.transaction('read', (tx) => tx.listCatalogVersions())) catalogs.set(rec.version, publishedFrom(rec));
  if (offline && catalogInput) catalogs.set(1, { record: { version: 1, publishedAt: 0, definition: catalogInput.definition, planVersions: {}, addonVersions: {} }, catalog: catalogInput });
  let latest: PublishedCatalog | undefined = catalogs.size > 0 ? requireLatest(catalogs) : undefined;
  // Web Crypto rather than node:crypto: core stays free of Node built-ins (bundlers, edge runtimes).
  const newId = options.newId ?? ((prefix: string) => `${prefix}_${globalThis.crypto.randomUUID().replaceAll('-', '')}`);
  // The emitter reports a throwing listener through the reporter, which emits `error` on it; a
  // throwing `error` listener is logged only (reporting it again would loop).
  const emitter = createEmitter((e, event) => {
    if (event === 'error') safeLogListener(logger, e);
    else reportError(e, { source: 'listener', method: `${event} listener` });
  });
  const reportError = createReporter(() => emitter, logger, clock);
  const views = new ViewCache(maxCustomers);
  const metrics = new EngineMetrics(store.kind, views, clock);
  const ctx: EngineContext = {
    store,
    clock,
    views,
    emitter,
    reportError,
    logger,
    metrics,
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
    webhooks,
    lateUsageGraceMs,
  };
  if (offline) return construct<Ids>(ctx, otel, eventLimits);
  const follower = new ChangeFollower(ctx, followIntervalMs ?? (store.kind === 'memory' ? 0 : 200));
  await follower.start();
  ctx.onOwnChange = (seq) => follower.noteOwn(seq);
  if (catalogInput) await publishCatalog(ctx, catalogInput);
  ctx.latest();
  startWebhookPoller(ctx);
  return construct<Ids>(ctx, otel, eventLimits, follower);
}

/** The plain engine, or with telemetry the traced class (a span per call, telemetry.ts). */
function construct<Ids extends CatalogIds>(ctx: EngineContext, otel: { api: OpenTelemetryApi; customerIds: boolean } | undefined, eventLimits: EventLimits, follower?: ChangeFollower): Engine<Ids> {
  if (!otel) return new Engine<Ids>(ctx, eventLimits, follower);
  // Made last, so that a createEngine that fails leaves no instruments reading a dead engine.
  ctx.telemetry = new Telemetry(otel.api, ctx.metrics, otel.customerIds);
  Traced ??= tracedClass(Engine, (instance) => telemetries.get(instance));
  const engine = new Traced(ctx, eventLimits, follower);
  telemetries.set(engine, ctx.telemetry);
  return engine as Engine<Ids>;
}

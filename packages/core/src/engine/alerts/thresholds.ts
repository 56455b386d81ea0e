/**
 * Usage threshold alerts (docs/alerts.md): after a write raised a usage cell, the thresholds it
 * crossed are announced once per threshold and usage window. "Once" is decided in the store: an
 * idempotency record per (customer, resource, feature, window, threshold) is inserted in the same
 * transaction as the usage, and only the transaction that inserted it emits the event (after its
 * commit) and commits its webhook deliveries. Write transactions are serializable, across
 * processes too, so two writers never both find the record missing.
 */
import { TesseraError } from '../../errors.js';
import type { UsageThresholdReachedEvent } from '../../events.js';
import type { UsageKey } from '../../records.js';
import { crossedPercents, unitePercents } from '../../rules/alerts.js';
import type { ResolvedEntitlement } from '../../rules/entitlements.js';
import { usagePeriod } from '../../rules/windows.js';
import { MAX_USAGE_ALERTS } from '../../catalog/validate-features.js';
import { requireLiveCustomer } from '../runtime/lookups.js';
import { Params } from '../runtime/params.js';
import { write, type EngineContext, type WriteEffects } from '../runtime/context.js';
import { enqueueWebhook } from './webhooks.js';
import type { CustomerView } from '../checks/view.js';

/** Where a customer's own thresholds are kept: one idempotency record per customer and feature. */
const customerScope = (customerId: string): string => `usageAlerts:${customerId}`;
/** Where announced crossings are kept (the record that makes them happen once). */
const firedScope = (customerId: string): string => `alertFired:${customerId}`;

/** One usage cell a write raised: its entitlement (limit and catalog thresholds), and usage before and after. */
export interface UsageRise {
  e: ResolvedEntitlement | undefined;
  key: UsageKey;
  before: number;
  after: number;
}

/**
 * Announces the thresholds the rises of one write crossed, inside the write's transaction. The
 * catalog's thresholds come with each entitlement; customers' own and the crossings already
 * announced are read in one batched store call each (a bulk write pays two reads, not two per row).
 * Rises are taken in order: a batch that lowers and raises a cell again announces a threshold once.
 */
export async function noteUsageThresholds(ctx: EngineContext, fx: WriteEffects, rises: readonly UsageRise[]): Promise<void> {
  const live = rises.filter((r) => r.e && !r.e.isUnlimited && r.e.usageLimit !== null && r.e.usageLimit > 0 && r.after > r.before);
  if (live.length === 0) return;
  const own = await ownThresholds(ctx, fx, live);
  const candidates: { rise: UsageRise; threshold: number; fired: { scope: string; key: string } }[] = [];
  for (const rise of live) {
    const mine = own.get(`${rise.key.customerId}\u0000${rise.key.featureId}`);
    if (!rise.e!.usageAlerts && !mine?.length) continue;
    for (const threshold of crossedPercents(unitePercents(rise.e!.usageAlerts, mine), rise.e!.usageLimit!, rise.before, rise.after)) {
      // JSON: unambiguous whatever the ids hold, and free of NUL (PostgreSQL text refuses it).
      const key = JSON.stringify([rise.key.resourceId, rise.key.featureId, rise.key.windowStart, threshold]);
      candidates.push({ rise, threshold, fired: { scope: firedScope(rise.key.customerId), key } });
    }
  }
  if (candidates.length === 0) return;
  const firedKeys = uniqueKeys(candidates.map((c) => c.fired));
  const stored = await fx.tx.getIdempotencies(firedKeys);
  const done = new Set(firedKeys.filter((_, i) => stored[i] !== undefined).map(idOf));
  for (const { rise, threshold, fired } of candidates) {
    if (done.has(idOf(fired))) continue;
    done.add(idOf(fired));
    const id = ctx.newId('evt');
    await fx.tx.putIdempotency({ ...fired, result: { id }, createdAt: fx.now });
    await announce(ctx, fx, rise, threshold, id);
  }
}

const idOf = (k: { scope: string; key: string }): string => `${k.scope}\u0000${k.key}`;

/**
 * Customers' own thresholds kept per cached customer view, by feature (undefined: none set). A
 * view is dropped when its customer's thresholds change (setUsageAlerts in this process, the
 * change feed's customer.updated from another), and the entries go with it. docs/alerts.md#thresholds
 */
const ownCache = new WeakMap<CustomerView, Map<string, number[] | undefined>>();

/**
 * The own thresholds of each rise's customer and feature, keyed `customerId NUL featureId`: from
 * the cached view when it holds them, the rest read in one batched store call and kept, after the
 * commit, in the view cached at the time of the read (a view dropped meanwhile is never read again),
 * unless the customer's view changed since the write began: its snapshot may predate that view.
 */
async function ownThresholds(ctx: EngineContext, fx: WriteEffects, live: readonly UsageRise[]): Promise<Map<string, number[] | undefined>> {
  const own = new Map<string, number[] | undefined>();
  const missing: { scope: string; key: string; customerId: string; id: string }[] = [];
  const asked = new Set<string>();
  for (const { key } of live) {
    const id = `${key.customerId}\u0000${key.featureId}`;
    if (own.has(id) || asked.has(id)) continue;
    asked.add(id);
    const cached = ctx.views.get(key.customerId);
    const kept = cached && ownCache.get(cached);
    if (kept?.has(key.featureId)) own.set(id, kept.get(key.featureId));
    else missing.push({ scope: customerScope(key.customerId), key: key.featureId, customerId: key.customerId, id });
  }
  if (missing.length === 0) return own;
  // A view dropped since the write began (setUsageAlerts) may have been loaded again after this
  // write's snapshot: what is read here can be older than it, and is then not kept in it.
  const views = missing.map((m) => (ctx.views.changedSince(m.customerId, fx.generation) ? undefined : ctx.views.get(m.customerId)));
  const stored = await fx.tx.getIdempotencies(missing.map((m) => ({ scope: m.scope, key: m.key })));
  for (let i = 0; i < missing.length; i++) {
    const m = missing[i]!;
    const percents = (stored[i]?.result as { percents?: number[] } | undefined)?.percents;
    own.set(m.id, percents);
    const view = views[i];
    // Kept only once the write commits: a rolled-back transaction may have read what it wrote itself.
    if (view) {
      fx.after(() => {
        let kept = ownCache.get(view);
        if (!kept) ownCache.set(view, (kept = new Map()));
        kept.set(m.key, percents);
      });
    }
  }
  return own;
}

function uniqueKeys(keys: readonly { scope: string; key: string }[]): { scope: string; key: string }[] {
  const seen = new Map<string, { scope: string; key: string }>();
  for (const k of keys) if (!seen.has(idOf(k))) seen.set(idOf(k), k);
  return [...seen.values()];
}

/** Emits the event after the commit and commits its webhook deliveries. */
async function announce(ctx: EngineContext, fx: WriteEffects, rise: UsageRise, threshold: number, id: string): Promise<void> {
  const { key, e } = rise;
  const period = usagePeriod(key.windowStart, key.windowEnd);
  const event: UsageThresholdReachedEvent = {
    id,
    customerId: key.customerId,
    featureId: key.featureId,
    resourceId: key.resourceId === '' ? null : key.resourceId,
    threshold,
    usageLimit: e!.usageLimit!,
    currentUsage: rise.after,
    windowStart: period.usagePeriodStart,
    windowEnd: period.usagePeriodEnd,
    source: e!.usageAlerts?.includes(threshold) ? 'catalog' : 'customer',
    at: new Date(fx.now),
  };
  fx.emit('usageThresholdReached', event);
  await enqueueWebhook(ctx, fx, { id, customerId: key.customerId, type: 'usage.threshold_reached', data: toWebhookData(event) });
}

/** The event as JSON for a webhook body: dates as ISO 8601 strings. */
function toWebhookData(e: UsageThresholdReachedEvent): Record<string, unknown> {
  return {
    ...e,
    windowStart: e.windowStart?.toISOString() ?? null,
    windowEnd: e.windowEnd?.toISOString() ?? null,
    at: e.at.toISOString(),
  };
}

/** Params of `setUsageAlerts`. */
export interface SetUsageAlertsParams {
  customerId: string;
  featureId: string;
  /** Percents of the usage limit (80 = 80%), in (0, 1000]; [] removes the customer's own. */
  percents: number[];
}

/** A customer's own thresholds for a feature, in addition to the catalog's. */
export interface UsageAlerts {
  customerId: string;
  featureId: string;
  /** Ascending, distinct. */
  percents: number[];
}

/**
 * Sets a customer's own usage thresholds for a METERED feature (they add to the catalog's).
 * Throws CUSTOMER_NOT_FOUND, FEATURE_NOT_FOUND, or INVALID_ARGUMENT (not METERED, bad percents).
 */
export async function setUsageAlerts(ctx: EngineContext, params: unknown): Promise<UsageAlerts> {
  const p = new Params(params, 'setUsageAlerts', ['customerId', 'featureId', 'percents']);
  const customerId = p.id('customerId');
  const featureId = p.id('featureId');
  const percents = p.array('percents', (v, path) => {
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0 || v > 1000) {
      throw new TesseraError('INVALID_ARGUMENT', `${path}: must be a percent of the usage limit in (0, 1000], such as 80`, { field: path, ...(typeof v === 'number' ? { value: v } : {}) });
    }
    return v;
  }, MAX_USAGE_ALERTS);
  const unique = unitePercents(percents);
  if (unique.length !== percents.length) p.fail('percents', 'lists a percent twice: remove one');
  const feature = ctx.latest().catalog.features.get(featureId);
  if (!feature) throw new TesseraError('FEATURE_NOT_FOUND', `setUsageAlerts.featureId: no feature "${featureId}" in the catalog`, { field: 'featureId', value: featureId });
  if (feature.type !== 'METERED') p.fail('featureId', `feature "${featureId}" is ${feature.type}; usage alerts are for METERED features`);
  return write(ctx, async (fx) => {
    await requireLiveCustomer(fx.tx, customerId, 'setUsageAlerts.customerId');
    await fx.tx.putIdempotency({ scope: customerScope(customerId), key: featureId, result: { percents: unique }, createdAt: fx.now });
    await fx.change('customer.updated', customerId, customerId, { usageAlerts: { featureId, percents: unique } });
    // Drops the cached view and the own thresholds it keeps (ownCache); other processes drop theirs on the change.
    fx.invalidate(customerId);
    return { customerId, featureId, percents: unique };
  });
}

import type { CatalogIds } from '../../catalog/ids.js';
import { TesseraError } from '../../errors.js';
import { customerNotFound, isLive } from '../runtime/lookups.js';
import type { ResolvedEntitlement } from '../../rules/entitlements.js';
import type { FeatureDefinition } from '../../catalog/types.js';
import { ALL_TIME, usagePeriod, usageWindow, type Window } from '../../rules/windows.js';
import type { CustomerRecord, EntityRecord, IdempotencyRecord, UsageKey } from '../../records.js';
import { entityNotFound } from '../entities/entity-lookup.js';
import { usagePayload } from './usage-payload.js';
import { write, type EngineContext, type WriteEffects } from '../runtime/context.js';
import { customerView } from '../checks/entitlements.js';
import { MAX_USAGE, Params, requireSafeUsage } from '../runtime/params.js';
import { BatchWrites } from './usage-cells.js';
import { usageKeyId } from '../../store/usage-keys.js';
import { closedPastGrace, DEFAULT_LATE_USAGE_GRACE_MS, lateUsageRefused } from './late-usage.js';
import { burnInTx } from '../billing/credits.js';
import { Decimal } from '../../money.js';
import { cachedCell, dropCarried, type CustomerView } from '../checks/view.js';
import { noteUsageThresholds, type UsageRise } from '../alerts/thresholds.js';
import { isLimitCellEntity, limitKeys } from './limit-cells.js';

/** One calculated-usage report. */
export interface ReportUsageParams<Ids extends CatalogIds = CatalogIds> {
  customerId: string;
  featureId: Ids['feature'];
  /** DELTA: added (may be negative, never taking usage below 0). SET: the new usage (>= 0). */
  value: number;
  resourceId?: string;
  /** The entity the usage is for (docs/entities.md): counted in its cell and in the customer's pooled cell. */
  entityId?: string;
  updateBehavior?: 'DELTA' | 'SET';
  /** A retry with the same key changes nothing and returns the first result. */
  idempotencyKey?: string;
  /** When the usage happened (default now); counts in the window containing it. */
  timestamp?: Date | string;
}

/** The usage after a report, in the window the report counted in. */
export interface ReportedUsage {
  customerId: string;
  featureId: string;
  resourceId: string | null;
  /** The usage in the cell reported to: the entity's when `entityId` was given, else the customer's. */
  currentUsage: number;
  /** With `entityId` only: the entity, and the customer's pooled usage after the report. */
  entityId?: string;
  pooledUsage?: number;
  /** Absent for features that never reset. */
  usagePeriodStart: Date | null;
  usagePeriodEnd: Date | null;
  timestamp: Date;
}

interface UsageInput {
  customerId: string;
  featureId: string;
  resourceId: string;
  entityId: string;
  value: number;
  behavior: 'DELTA' | 'SET';
  idempotencyKey: string | undefined;
  timestamp: number | undefined;
}

const USAGE_FIELDS = ['customerId', 'featureId', 'value', 'resourceId', 'entityId', 'updateBehavior', 'idempotencyKey', 'timestamp'];
/** Idempotency keys are per customer: two customers may use the same key. */
const scopeOf = (customerId: string) => `reportUsage:${customerId}`;

function readUsage(value: unknown, path: string): UsageInput {
  const p = new Params(value, path, USAGE_FIELDS);
  const behavior = p.optEnum('updateBehavior', ['DELTA', 'SET'] as const) ?? 'DELTA';
  const v = p.number('value', { min: -MAX_USAGE, max: MAX_USAGE });
  if (behavior === 'SET' && v < 0) p.fail('value', 'must be at least 0 with updateBehavior SET');
  return {
    customerId: p.id('customerId'),
    featureId: p.id('featureId'),
    resourceId: p.optId('resourceId') ?? '',
    entityId: p.optId('entityId') ?? '',
    value: v,
    behavior,
    idempotencyKey: p.optId('idempotencyKey'),
    timestamp: p.optInstant('timestamp'),
  };
}

/** Reports calculated usage of a METERED feature. See `Engine.reportUsage`. */
export async function reportUsage(ctx: EngineContext, params: unknown): Promise<ReportedUsage> {
  const input = readUsage(params, 'reportUsage');
  const [result] = await applyReports(ctx, [input]);
  return result!;
}

/** Reports many usages atomically: all are recorded or, on any error, none. */
export async function reportUsageBulk(ctx: EngineContext, params: unknown): Promise<ReportedUsage[]> {
  const p = new Params(params, 'reportUsageBulk', ['usages']);
  const inputs = p.array('usages', (u, path) => readUsage(u, path), 100_000);
  if (inputs.length === 0) return [];
  return applyReports(ctx, inputs);
}

/** What one usage of a batch does, decided before any cell is read. */
type Plan =
  | { kind: 'error'; error: TesseraError }
  | { kind: 'replay'; result: ReportedUsage }
  /** The same idempotency key as usage `of`, earlier in the batch: its result. */
  | { kind: 'repeat'; of: number }
  /** `key` is the cell reported to; `pool` the customer's pooled cell when `key` is an entity's. */
  | { kind: 'apply'; key: UsageKey; id: string; pool: UsageKey | undefined; limits: UsageKey[] | undefined; at: number; customer: CustomerRecord; feature: FeatureDefinition; e: ResolvedEntitlement | undefined };

/**
 * Applies reports in one write transaction, in three steps so that a batch reads its customers
 * and its cells in one store call each (one statement per hundred rows where statements are round
 * trips): plan every usage (validation, replays, the cell it counts in), read the cells, then
 * apply in order. Errors surface as if applied one by one: the first usage in order that fails.
 */
async function applyReports(ctx: EngineContext, inputs: UsageInput[]): Promise<ReportedUsage[]> {
  // Views are loaded before the write transaction: the store runs one transaction at a time.
  const views = new Map<string, CustomerView>();
  for (const u of inputs) if (!views.has(u.customerId)) views.set(u.customerId, await customerView(ctx, u.customerId));
  return write(ctx, async (fx) => {
    const ids = [...views.keys()];
    const found = await fx.tx.getCustomers(ids);
    const customers = new Map<string, CustomerRecord | undefined>(ids.map((id, i) => [id, found[i]]));
    const entities = new Map<string, EntityRecord | undefined>();
    for (const u of inputs) {
      const id = `${u.customerId}\u0000${u.entityId}`;
      if (u.entityId !== '' && !entities.has(id)) entities.set(id, await fx.tx.getEntity(u.customerId, u.entityId));
    }
    const pathOf = (i: number) => (inputs.length > 1 ? `usages[${i}]` : 'reportUsage');
    // The first usage of each idempotency key, and what the store kept for the keys (one call).
    const firstWithKey = new Map<string, number>();
    const firstOf = inputs.map((u, i) => {
      if (u.idempotencyKey === undefined) return undefined;
      const id = `${u.customerId}\u0000${u.idempotencyKey}`;
      if (!firstWithKey.has(id)) firstWithKey.set(id, i);
      return firstWithKey.get(id)!;
    });
    const keyed = [...firstWithKey.values()];
    const kept = await fx.tx.getIdempotencies(keyed.map((i) => ({ scope: scopeOf(inputs[i]!.customerId), key: inputs[i]!.idempotencyKey! })));
    const replays = new Map<number, ReportedUsage | undefined>(keyed.map((i, n) => [i, kept[n] && replayOf(kept[n])]));
    const plans: Plan[] = [];
    for (let i = 0; i < inputs.length; i++) {
      const u = inputs[i]!;
      const first = firstOf[i];
      if (first !== undefined && first !== i) {
        plans.push({ kind: 'repeat', of: first });
        continue;
      }
      const again = replays.get(i);
      if (again) {
        plans.push({ kind: 'replay', result: again });
        continue;
      }
      const entity = u.entityId === '' ? undefined : entities.get(`${u.customerId}\u0000${u.entityId}`);
      plans.push(planOne(ctx, fx, views.get(u.customerId)!, customers.get(u.customerId), entity, u, pathOf(i)));
    }
    const writes = new BatchWrites(fx.tx, fx.now);
    const keys: UsageKey[] = [];
    const keyIds: string[] = [];
    for (const p of plans) {
      if (p.kind === 'error') break;
      if (p.kind !== 'apply') continue;
      keys.push(p.key);
      keyIds.push(p.id);
      for (const k of p.pool ? [p.pool, ...(p.limits ?? [])] : (p.limits ?? [])) {
        keys.push(k);
        keyIds.push(usageKeyId(k));
      }
    }
    await writes.load(keys, keyIds);
    const out: ReportedUsage[] = [];
    const rises: UsageRise[] = [];
    for (let i = 0; i < inputs.length; i++) {
      const p = plans[i]!;
      if (p.kind === 'error') throw p.error;
      if (p.kind === 'replay') out.push(p.result);
      else if (p.kind === 'repeat') out.push(out[p.of]!);
      else {
        const u = inputs[i]!;
        const result = await applyOne(ctx, fx, writes, p, u, pathOf(i), rises);
        if (u.idempotencyKey !== undefined) writes.remember({ scope: scopeOf(u.customerId), key: u.idempotencyKey, result: serialise(result), createdAt: fx.now });
        out.push(result);
      }
    }
    await writes.flush();
    await noteUsageThresholds(ctx, fx, rises);
    return out;
  });
}

/** The entitlement in force for a usage at `at` (cached for now, computed for past instants). */
export function entitlementFor(view: CustomerView, resourceId: string, featureId: string, at: number, now: number): ResolvedEntitlement | undefined {
  // An event stamped a few ms before the write's `now` (the usual case) is still inside the period
  // the cached resolution covers: no need to resolve again per event.
  const current = view.resource(resourceId, now);
  return at === now || view.holdsAt(at) ? current.entitlements.get(featureId) : view.entitlementsAt(resourceId, at).get(featureId);
}

const lastWindow = new WeakMap<ResolvedEntitlement, Window>();

/**
 * The usage window that a report at `at` counts in (docs/conventions.md#usage-windows). The last
 * window of each resolved entitlement is remembered: consecutive reports mostly fall in it, and
 * computing a calendar window costs more than the rest of a bulk row.
 */
export function windowFor(e: ResolvedEntitlement | undefined, at: number): Window {
  if (!e) return ALL_TIME;
  const last = lastWindow.get(e);
  if (last && at >= last.start && at < last.end) return last;
  const w = usageWindow(e.window, at);
  lastWindow.set(e, w);
  return w;
}

/** Validates one usage against its customer and the catalog and finds the cell it counts in. */
function planOne(ctx: EngineContext, fx: WriteEffects, view: CustomerView, customer: CustomerRecord | undefined, entity: EntityRecord | undefined, u: UsageInput, path: string): Plan {
  if (!isLive(customer)) return { kind: 'error', error: customerNotFound(u.customerId, `${path}.customerId`, `${path}.customerId`) };
  if (u.entityId !== '' && (!entity || entity.deletedAt !== null)) return { kind: 'error', error: entityNotFound(u.customerId, u.entityId, `${path}.entityId`, `${path}.entityId`) };
  const feature = ctx.latest().catalog.features.get(u.featureId);
  if (!feature) {
    const error = new TesseraError('FEATURE_NOT_FOUND', `${path}.featureId: no feature "${u.featureId}" in the catalog`, {
      field: `${path}.featureId`,
      value: u.featureId,
    });
    return { kind: 'error', error };
  }
  if (feature.type !== 'METERED' || feature.meter) {
    const why = feature.type !== 'METERED' ? `is ${feature.type}; only METERED features take usage` : 'is fed by a meter over raw events; use reportEvent';
    return {
      kind: 'error',
      error: new TesseraError('INVALID_ARGUMENT', `${path}.featureId: feature "${u.featureId}" ${why}`, { field: `${path}.featureId`, value: u.featureId }),
    };
  }
  const at = u.timestamp ?? fx.now;
  const e = entitlementFor(view, u.resourceId, u.featureId, at, fx.now);
  const w = windowFor(e, at);
  // A report into a window closed past the grace is refused, and with it the whole batch (docs/metering.md#late-usage).
  const grace = ctx.lateUsageGraceMs ?? DEFAULT_LATE_USAGE_GRACE_MS;
  if (closedPastGrace(w, fx.now, grace)) return { kind: 'error', error: lateUsageRefused(path, w, at, grace) };
  const key: UsageKey = { customerId: u.customerId, resourceId: u.resourceId, entityId: u.entityId, featureId: u.featureId, windowStart: w.start, windowEnd: w.end };
  return { kind: 'apply', key, id: usageKeyId(key), pool: u.entityId === '' ? undefined : { ...key, entityId: '' }, limits: limitKeys(e, key, at), at, customer, feature, e };
}

/** Applies one planned usage to its (loaded) cell; throws when a DELTA would take usage below 0. */
async function applyOne(
  ctx: EngineContext,
  fx: WriteEffects,
  writes: BatchWrites,
  p: Extract<Plan, { kind: 'apply' }>,
  u: UsageInput,
  path: string,
  rises: UsageRise[],
): Promise<ReportedUsage> {
  const { key, pool, feature } = p;
  const rec = writes.loaded(key, p.id);
  const value = u.behavior === 'SET' ? u.value : rec.value + u.value;
  requireSafeUsage(value, `${path}.value`);
  if (value < 0) {
    throw new TesseraError('INVALID_ARGUMENT', `${path}.value: usage would become ${value}; a DELTA may not take usage below 0 (it is ${rec.value})`, {
      field: `${path}.value`,
      value: u.value,
    });
  }
  const added = value - rec.value;
  // An entity's usage is the pool's too: the pooled cell moves by what the entity's moved (docs/entities.md).
  const poolRec = pool ? writes.loaded(pool) : undefined;
  if (poolRec) {
    const pooled = poolRec.value + added;
    requireSafeUsage(pooled, `${path}.value`);
    if (pooled < 0) {
      throw new TesseraError('INVALID_ARGUMENT', `${path}.value: the customer's pooled usage would become ${pooled} (it is ${poolRec.value}); report less`, {
        field: `${path}.value`,
        value: u.value,
      });
    }
    poolRec.value = pooled;
  }
  rec.value = value;
  // Reported usage already happened: it burns what credits there are (docs/credits.md#features).
  if (feature.creditCost && added > 0) {
    await burnInTx(ctx, fx, p.customer, feature.creditCost.currencyId, new Decimal(feature.creditCost.amount).times(added), u.idempotencyKey ?? `usage:${u.featureId}`, true);
  }
  for (const [k, r] of poolRec ? ([[key, rec], [pool!, poolRec]] as const) : ([[key, rec]] as const)) {
    fx.queueChange('usage.updated', u.customerId, u.featureId, usagePayload(k, r.value));
    noteUsage(ctx, fx, k, r.value);
  }
  if (p.limits) moveLimitCells(ctx, fx, writes, p.limits, added);
  // Thresholds are percents of the pooled limit: they watch the customer's own cell (docs/alerts.md).
  const watched = poolRec ? { key: pool!, after: poolRec.value } : { key, after: value };
  rises.push({ e: p.e, key: watched.key, before: watched.after - added, after: watched.after });
  const out: ReportedUsage = {
    customerId: u.customerId,
    featureId: u.featureId,
    resourceId: u.resourceId === '' ? null : u.resourceId,
    currentUsage: value,
    ...usagePeriod(key.windowStart, key.windowEnd),
    timestamp: new Date(p.at),
  };
  if (poolRec) {
    out.entityId = u.entityId;
    out.pooledUsage = poolRec.value;
  }
  return out;
}

/**
 * Moves the cells of further limits (docs/limits.md) by what the reported cell moved. Reported
 * usage already happened, so it is recorded even past a limit, as it is for the primary; a cell
 * never goes below 0 (a limit added after usage was recorded has a cell that started later).
 */
function moveLimitCells(ctx: EngineContext, fx: WriteEffects, writes: BatchWrites, keys: readonly UsageKey[], added: number): void {
  for (const k of keys) {
    const r = writes.loaded(k);
    r.value = Math.max(0, r.value + added);
    fx.queueChange('usage.updated', k.customerId, k.featureId, usagePayload(k, r.value));
    noteUsage(ctx, fx, k, r.value);
  }
}

/** After commit: refresh the cached cell (keeping its held quota) and tell listeners. */
export function noteUsage(ctx: EngineContext, fx: WriteEffects, key: UsageKey, value: number): void {
  fx.after(() => {
    // A cell load that read before this commit must not install its older value.
    ctx.views.touch(key.customerId);
    const view = ctx.views.get(key.customerId);
    // Only the customer's own cells are cached; an entity's is read from the store by its checks.
    const cell = key.entityId === '' || isLimitCellEntity(key.entityId) ? cachedCell(view?.cachedResource(key.resourceId), key.featureId, key.windowStart, key.windowEnd) : undefined;
    if (cell) cell.value = value;
    // Late usage in a closed window moves the rollover chain after it: read the carried balance again (docs/rollovers.md#late-usage).
    else if (key.entityId === '' && key.windowEnd <= fx.now) dropCarried(view?.cachedResource(key.resourceId), key.featureId);
  });
  const now = fx.now;
  fx.emitLazy('usageUpdated', () => ({
    customerId: key.customerId,
    resourceId: key.resourceId === '' ? null : key.resourceId,
    featureId: key.featureId,
    ...(key.entityId === '' || isLimitCellEntity(key.entityId) ? {} : { entityId: key.entityId }),
    currentUsage: value,
    ...usagePeriod(key.windowStart, key.windowEnd),
    at: new Date(now),
  }));
}

function serialise(r: ReportedUsage): unknown {
  return {
    ...r,
    usagePeriodStart: r.usagePeriodStart?.getTime() ?? null,
    usagePeriodEnd: r.usagePeriodEnd?.getTime() ?? null,
    timestamp: r.timestamp.getTime(),
  };
}

/** The first result stored under an idempotency key, as reportUsage returned it. */
function replayOf(rec: IdempotencyRecord): ReportedUsage {
  const r = rec.result as Record<string, unknown>;
  const entity = typeof r.entityId === 'string' ? { entityId: r.entityId, pooledUsage: r.pooledUsage as number } : {};
  return {
    ...entity,
    customerId: r.customerId as string,
    featureId: r.featureId as string,
    resourceId: (r.resourceId as string | null) ?? null,
    currentUsage: r.currentUsage as number,
    usagePeriodStart: r.usagePeriodStart === null ? null : new Date(r.usagePeriodStart as number),
    usagePeriodEnd: r.usagePeriodEnd === null ? null : new Date(r.usagePeriodEnd as number),
    timestamp: new Date(r.timestamp as number),
  };
}

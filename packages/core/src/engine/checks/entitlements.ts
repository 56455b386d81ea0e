import type { FeatureDefinition, FeatureType } from '../../catalog/types.js';
import { decideMetered, enumCovers, type ResolvedEntitlement } from '../../rules/entitlements.js';
import { usageWindow } from '../../rules/windows.js';
import { balanceAt } from '../../rules/credits.js';
import { Decimal } from '../../money.js';
import type { EngineContext } from '../runtime/context.js';
import { MAX_ID_LENGTH, Params } from '../runtime/params.js';
import { fallbackEntitlement } from './offline.js';
import { isTesseraError } from '../../errors.js';
import { CustomerView, freshCell, keepCell, type CheckSlot, type ResourceView, type UsageCell } from './view.js';
import { readUsageCell } from '../usage/usage-cells.js';
import { limitKeys } from '../usage/limit-cells.js';
import { readCarried } from '../usage/rollover-cells.js';
import { answerRollover } from './rollover-check.js';
import { answerLimits } from './limits-check.js';
import type { StoreTx } from '../../store/store.js';
import type { UsageKey } from '../../records.js';
import { featureInfo } from './feature-info.js';
import { FixedDate } from './fixed-date.js';

export type * from './entitlement-types.js';
import type { AccessDeniedReason, Entitlement, MeteredEntitlement } from './entitlement-types.js';
import { perEntityLimit } from '../entities/entity-lookup.js';
import { hasSpendCaps, readSpendCaps, rememberSpendCaps, withSpendCap } from '../billing/spend-caps.js';

interface CheckInput {
  customerId: string;
  featureId: string;
  resourceId: string;
  /** '' for the customer's own figures; an entity id for that entity's (docs/entities.md#checks). */
  entityId: string;
  requestedUsage: number;
  requestedValues: string[];
}

const NO_VALUES: string[] = [];

const CONTROL = /[\u0000-\u001f\u007f]/;
const cleanId = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && v.length <= MAX_ID_LENGTH && !CONTROL.test(v);

/** Validates check params. Cheap on purpose: it runs on every check. */
export function readCheck(params: unknown, method: string): CheckInput {
  // The common shape, validated without allocating a reader; anything else takes the full path.
  if (typeof params === 'object' && params !== null) {
    const o = params as { customerId?: unknown; featureId?: unknown; resourceId?: unknown; entityId?: unknown; options?: unknown };
    if (cleanId(o.customerId) && cleanId(o.featureId) && o.options === undefined && o.entityId === undefined && (o.resourceId === undefined || cleanId(o.resourceId))) {
      return { customerId: o.customerId, featureId: o.featureId, resourceId: o.resourceId ?? '', entityId: '', requestedUsage: 0, requestedValues: NO_VALUES };
    }
  }
  const p = new Params(params, method);
  const customerId = p.id('customerId');
  const featureId = p.id('featureId');
  const resourceId = p.optId('resourceId') ?? '';
  const entityId = p.optId('entityId') ?? '';
  let requestedUsage = 0;
  let requestedValues = NO_VALUES;
  const options = p.optObject('options', ['requestedUsage', 'requestedValues']);
  if (options) {
    requestedUsage = options.optNumber('requestedUsage', { min: 0 }) ?? 0;
    requestedValues =
      options.optArray('requestedValues', (v, path) => {
        if (typeof v !== 'string') options.fail('requestedValues', `${path} must be a string`);
        return v as string;
      }) ?? NO_VALUES;
  }
  return { customerId, featureId, resourceId, entityId, requestedUsage, requestedValues };
}

/** The cached view of a customer, loading it from the store on a miss. */
export async function customerView(ctx: EngineContext, customerId: string): Promise<CustomerView> {
  const hit = ctx.views.get(customerId);
  if (hit) {
    ctx.metrics.viewHits++;
    return hit;
  }
  const gen = ctx.views.generation;
  ctx.metrics.viewMisses++;
  const view = await ctx.store.transaction('read', (tx) => loadView(ctx, tx, customerId));
  ctx.views.install(customerId, view, gen);
  return view;
}

/** Reads a customer's view in a transaction already open (not cached: the caller decides). */
export async function loadView(ctx: EngineContext, tx: StoreTx, customerId: string): Promise<CustomerView> {
  const customer = await tx.getCustomer(customerId);
  if (!customer) return new CustomerView(undefined, [], ctx.catalogs, () => ctx.latest().catalog.features);
  const subs = await tx.listSubscriptionsByCustomer(customerId);
  const promotions = await tx.listPromotionalGrants(customerId);
  const credits = await tx.listCreditGrants(customerId);
  const overrides = await tx.listEntitlementOverrides(customerId);
  const view = new CustomerView(customer, subs, ctx.catalogs, () => ctx.latest().catalog.features, promotions, credits, overrides);
  rememberSpendCaps(view, await readSpendCaps(tx, customerId));
  return view;
}

/** A usage cell read for a check, with its further limits' cells (docs/limits.md) when it has some. */
interface CellRead {
  cell: UsageCell;
  limits: UsageCell[] | undefined;
}

/** The usage cell of a feature at `now` (and its further limits' cells), from the view or else from the store. */
async function currentCell(ctx: EngineContext, input: CheckInput, view: CustomerView, rv: ResourceView, e: ResolvedEntitlement, now: number): Promise<CellRead> {
  const hit = freshCell(rv, input.featureId, now);
  if (hit) return { cell: hit, limits: undefined };
  const gen = ctx.views.generation;
  const w = usageWindow(e.window, now);
  const key = { customerId: input.customerId, resourceId: input.resourceId, entityId: '', featureId: input.featureId, windowStart: w.start, windowEnd: w.end };
  const read = await ctx.store.transaction('read', (tx) => readCells(tx, view, e, key, now));
  if (!ctx.views.changedSince(input.customerId, gen)) keepCell(view, rv, input.featureId, read.cell, read.limits);
  return read;
}

/**
 * Reads the customer's cell `key` and the cells of `e`'s further limits at `now`, in one read
 * transaction; with a rollover, the chunks carried into the window too (docs/rollovers.md).
 */
async function readCells(tx: StoreTx, view: CustomerView, e: ResolvedEntitlement, key: UsageKey, now: number): Promise<CellRead> {
  const cell = await readUsageCell(tx, key, now);
  if (e.rollover !== undefined) {
    const r = await readCarried(tx, view, e, key, now);
    // A past window's hold that lapses gives its quota back to the rollover: the cell is stale then.
    if (r !== undefined) {
      cell.carried = r.carried;
      cell.heldUntil = Math.min(cell.heldUntil, r.heldUntil);
    }
  }
  const keys = limitKeys(e, key, now);
  if (keys === undefined) return { cell, limits: undefined };
  const limits: UsageCell[] = [];
  for (const k of keys) limits.push(await readUsageCell(tx, k, now, true));
  return { cell, limits };
}

/**
 * Evaluates a check. `expected` set: a feature of another type denies with FeatureTypeMismatch.
 * Never throws for a normal "no".
 */
export async function evaluate(ctx: EngineContext, input: CheckInput, expected?: FeatureType): Promise<Entitlement> {
  if (ctx.offline) return fallbackEntitlement(ctx.fallback ?? {}, input, expected ?? ctx.latestOrUndefined?.()?.catalog.features.get(input.featureId)?.type);
  // Without fallback values nothing is caught: one promise layer less.
  if (!ctx.fallback) return evaluateOnline(ctx, input, expected);
  try {
    return await evaluateOnline(ctx, input, expected);
  } catch (e) {
    // A broken store is not a "no": with fallback values configured, checks keep answering.
    if (ctx.fallback && isTesseraError(e) && (e.code === 'STORE_UNAVAILABLE' || e.code === 'OFFLINE')) {
      return fallbackEntitlement(ctx.fallback, input, expected ?? ctx.latest().catalog.features.get(input.featureId)?.type);
    }
    throw e;
  }
}

async function evaluateOnline(ctx: EngineContext, input: CheckInput, expected?: FeatureType): Promise<Entitlement> {
  const now = ctx.clock.nowMs();
  const cached = ctx.views.get(input.customerId);
  if (cached) ctx.metrics.viewHits++;
  const view = cached ?? (await customerView(ctx, input.customerId));
  if (input.entityId !== '') {
    const forEntity = await entityCheck(ctx, view, input, expected, now);
    if (forEntity) return withSpendCap(ctx, view, forEntity, input.requestedUsage, now);
  }
  const first = decide(ctx, view, input, expected, now, undefined);
  if (first !== NEED_CELL) return withSpendCap(ctx, view, first, input.requestedUsage, now);
  const rv = view.resource(input.resourceId, now);
  const read = await currentCell(ctx, input, view, rv, rv.entitlements.get(input.featureId)!, now);
  return withSpendCap(ctx, view, decide(ctx, view, input, expected, now, read.cell, read.limits) as Entitlement, input.requestedUsage, now);
}

/**
 * Answers a check synchronously when the customer's view (and, for METERED, the usage cell) is
 * cached, which is what a warm check is; undefined when the store must be read.
 */
export function evaluateCached(ctx: EngineContext, input: CheckInput, expected?: FeatureType): Entitlement | undefined {
  // Entity cells are not cached: an entity's check reads the store (docs/entities.md#checks).
  if (ctx.offline || input.entityId !== '') return undefined;
  const view = ctx.views.get(input.customerId);
  // A spend cap's spend is read from the store (docs/spend-caps.md#checks).
  if (!view || hasSpendCaps(view)) return undefined;
  const r = decide(ctx, view, input, expected, ctx.clock.nowMs(), undefined);
  return r === NEED_CELL ? undefined : r;
}

/** What `decide` returns for a METERED feature whose usage cell it was not given (and has not cached). */
export const NEED_CELL = Symbol('needs the usage cell');

/** The check itself, from a view; METERED needs a fresh usage cell (given, or cached in the view). Also the as-of path's (as-of.ts). */
export function decide(
  ctx: EngineContext,
  view: CustomerView,
  input: CheckInput,
  expected: FeatureType | undefined,
  now: number,
  given: UsageCell | undefined,
  givenLimits?: readonly UsageCell[],
): Entitlement | typeof NEED_CELL {
  if (!view.live) return deny(input, view.customer ? 'CustomerIsArchived' : 'CustomerNotFound', ctx.latest().catalog.features.get(input.featureId), expected);
  const rv = view.resource(input.resourceId, now);
  // An entitled feature has a slot holding all the check reads; every denial below it is rarer.
  const slot = rv.known ? view.slotOf(rv, input.featureId) : undefined;
  if (slot === undefined) return denyUnentitled(ctx, rv, input, expected);
  return answer(view, slot, input, expected, now, given, givenLimits);
}

/**
 * The warm path of the commonest check: ids only, customer level, the view cached, the feature
 * entitled (and for METERED its usage cell fresh). The ids need no validation here: a key of the
 * view cache was validated when its view was loaded, and a slot's key is a catalog feature id.
 * Undefined sends the check down the validated path (readCheck, then evaluateCached or evaluate).
 */
export function warmCheck(ctx: EngineContext, params: unknown, expected: FeatureType | undefined): Entitlement | undefined {
  if (ctx.offline || typeof params !== 'object' || params === null) return undefined;
  const o = params as { customerId?: unknown; featureId?: unknown; resourceId?: unknown; entityId?: unknown; options?: unknown };
  const customerId = o.customerId;
  const featureId = o.featureId;
  if (typeof customerId !== 'string' || typeof featureId !== 'string' || o.resourceId !== undefined || o.options !== undefined || o.entityId !== undefined) return undefined;
  const view = ctx.views.get(customerId);
  if (view === undefined || !view.live) return undefined;
  const now = ctx.clock.nowMs();
  const slot = view.baseSlots(now).get(featureId);
  // A spend cap's spend is read from the store (docs/spend-caps.md#checks).
  if (slot === undefined || (slot.type === 'METERED' && hasSpendCaps(view))) return undefined;
  const r = answer(view, slot, { customerId, featureId, resourceId: '', entityId: '', requestedUsage: 0, requestedValues: NO_VALUES }, expected, now, undefined);
  return r === NEED_CELL ? undefined : r;
}

/** The answer for an entitled feature (a slot of the resource's view). */
function answer(
  view: CustomerView,
  slot: CheckSlot,
  input: CheckInput,
  expected: FeatureType | undefined,
  now: number,
  given: UsageCell | undefined,
  givenLimits?: readonly UsageCell[],
): Entitlement | typeof NEED_CELL {
  const feature = slot.feature;
  // Shaped as the type asked for, so a typed getter's result always has its fields; the feature's
  // own type is in `feature.type` (docs/conventions.md#typed-checks).
  if (expected && slot.type !== expected) return deny(input, 'FeatureTypeMismatch', feature, expected);
  const e = slot.entitlement;
  const info = slot.info;
  const resourceId = input.resourceId === '' ? null : input.resourceId;
  // Results are built as whole literals of one shape each: spreading and then adding fields made
  // V8 fall back to slow objects and cost more than the rest of the check.
  switch (slot.type) {
    case 'BOOLEAN':
      return { customerId: input.customerId, resourceId, featureId: input.featureId, hasAccess: true, feature: info, isFallback: false, type: 'BOOLEAN', overrideId: slot.overrideId };
    case 'NUMERIC':
      return {
        customerId: input.customerId,
        resourceId,
        featureId: input.featureId,
        hasAccess: true,
        feature: info,
        isFallback: false,
        type: 'NUMERIC',
        value: e.value,
        isUnlimited: e.isUnlimited,
        overrideId: slot.overrideId,
      };
    case 'ENUM': {
      const ok = enumCovers(e, input.requestedValues);
      return {
        customerId: input.customerId,
        resourceId,
        featureId: input.featureId,
        hasAccess: ok,
        accessDeniedReason: ok ? undefined : 'RequestedValuesMismatch',
        feature: info,
        isFallback: false,
        type: 'ENUM',
        enumValues: e.enumValues,
        requestedValues: input.requestedValues,
        overrideId: slot.overrideId,
      };
    }
    case 'METERED': {
      const cell = given ?? (slot.fresh(now) ? slot : undefined);
      if (!cell) return NEED_CELL;
      if (slot.limits !== undefined) {
        const credits = slot.creditCost;
        return answerLimits(slot, input, cell, given === undefined ? undefined : givenLimits, () => credits !== undefined && !creditsCover(view, credits, input.requestedUsage, now));
      }
      if (cell.carried !== undefined) {
        const credits = slot.creditCost;
        return answerRollover(slot, input, cell, cell.carried, () => credits !== undefined && !creditsCover(view, credits, input.requestedUsage, now));
      }
      const currentUsage = cell.value + cell.held;
      let denied: AccessDeniedReason | undefined = decideMetered(slot, currentUsage, input.requestedUsage);
      if (!denied && slot.creditCost && !creditsCover(view, slot.creditCost, input.requestedUsage, now)) denied = 'InsufficientCredits';
      const windowed = slot.resetPeriod !== null;
      return {
        customerId: input.customerId,
        resourceId,
        featureId: input.featureId,
        hasAccess: denied === undefined,
        accessDeniedReason: denied,
        feature: info,
        isFallback: false,
        type: 'METERED',
        usageLimit: slot.usageLimit,
        currentUsage,
        requestedUsage: input.requestedUsage,
        hasSoftLimit: slot.hasSoftLimit,
        isUnlimited: slot.isUnlimited,
        resetPeriod: slot.resetPeriod,
        // Shared by every check in the window, and read-only (docs/conventions.md#check-results).
        usagePeriodStart: windowed ? (cell === slot ? slot.startDate : new FixedDate(cell.start)) : undefined,
        usagePeriodEnd: windowed ? (cell === slot ? slot.endDate : new FixedDate(cell.end)) : undefined,
        overrideId: slot.overrideId,
      };
    }
  }
}

/** The denial for a live customer's feature that has no slot: unknown feature or resource, or no entitlement. */
function denyUnentitled(ctx: EngineContext, rv: ResourceView, input: CheckInput, expected: FeatureType | undefined): Entitlement {
  const feature = ctx.latest().catalog.features.get(input.featureId);
  if (!feature) return deny(input, 'FeatureNotFound', undefined, expected);
  if (expected && feature.type !== expected) return deny(input, 'FeatureTypeMismatch', feature, expected);
  if (!rv.known) return deny(input, 'CustomerResourceNotFound', feature, expected);
  return deny(input, rv.hasActiveSubscription ? 'NoFeatureEntitlementInSubscription' : 'NoActiveSubscription', feature, expected);
}

/**
 * Whether the balance pays for `units` of a feature that costs credits (docs/credits.md#features):
 * balance >= units x cost, and with nothing requested, a positive balance.
 */
function creditsCover(view: CustomerView, cost: { currencyId: string; amount: string }, units: number, now: number): boolean {
  const balance = new Decimal(balanceAt(view.credits.filter((g) => g.currencyId === cost.currencyId), now));
  return units === 0 ? balance.gt(0) : balance.gte(new Decimal(cost.amount).times(units));
}

function deny(input: CheckInput, reason: AccessDeniedReason, feature: FeatureDefinition | undefined, type: FeatureType | undefined): Entitlement {
  const customerId = input.customerId;
  const resourceId = input.resourceId === '' ? null : input.resourceId;
  const featureId = input.featureId;
  const info = feature ? featureInfo(feature) : undefined;
  switch (type ?? feature?.type) {
    case 'BOOLEAN':
      return { customerId, resourceId, featureId, hasAccess: false, accessDeniedReason: reason, feature: info, isFallback: false, type: 'BOOLEAN' };
    case 'NUMERIC':
      return { customerId, resourceId, featureId, hasAccess: false, accessDeniedReason: reason, feature: info, isFallback: false, type: 'NUMERIC', value: null, isUnlimited: false };
    case 'METERED':
      return {
        customerId,
        resourceId,
        featureId,
        hasAccess: false,
        accessDeniedReason: reason,
        feature: info,
        isFallback: false,
        type: 'METERED',
        usageLimit: null,
        currentUsage: 0,
        requestedUsage: 0,
        hasSoftLimit: false,
        isUnlimited: false,
        resetPeriod: null,
      };
    case 'ENUM':
      return { customerId, resourceId, featureId, hasAccess: false, accessDeniedReason: reason, feature: info, isFallback: false, type: 'ENUM', enumValues: [], requestedValues: [] };
    default:
      return { customerId, resourceId, featureId, hasAccess: false, accessDeniedReason: reason, feature: info, isFallback: false, type: undefined };
  }
}

/**
 * The check of an entity (docs/entities.md#checks): for a METERED feature the customer is
 * entitled to, reads the entity and both cells from the store and answers the entity's figures
 * (its per-entity limit and usage; the pooled ones when no per-entity limit applies to it), denying
 * when either the entity's or the pooled limit is reached; `entity` and `pooled` give both.
 * Undefined for every other check, which the entity does not change.
 */
async function entityCheck(ctx: EngineContext, view: CustomerView, input: CheckInput, expected: FeatureType | undefined, now: number): Promise<Entitlement | undefined> {
  if (!view.live) return undefined;
  const rv = view.resource(input.resourceId, now);
  const slot = rv.known ? view.slotOf(rv, input.featureId) : undefined;
  if (!slot || slot.type !== 'METERED' || (expected && expected !== 'METERED')) return undefined;
  const w = usageWindow(slot.entitlement.window, now);
  const key = { customerId: input.customerId, resourceId: input.resourceId, entityId: '', featureId: input.featureId, windowStart: w.start, windowEnd: w.end };
  const read = await ctx.store.transaction('read', async (tx) => {
    const entity = await tx.getEntity(input.customerId, input.entityId);
    if (!entity || entity.deletedAt !== null) return undefined;
    const cells = await readCells(tx, view, slot.entitlement, key, now);
    return { entity, pooled: cells.cell, limits: cells.limits, own: await readUsageCell(tx, { ...key, entityId: input.entityId }, now) };
  });
  if (!read) return { ...deny(input, 'EntityNotFound', slot.feature, 'METERED'), entityId: input.entityId } as Entitlement;
  // Further limits bound the customer as a whole (docs/limits.md#entities): they are in the pooled answer.
  const pooled = answer(view, slot, input, expected, now, read.pooled, read.limits) as MeteredEntitlement;
  const limit = perEntityLimit(slot.entitlement, read.entity);
  const used = read.own.value + read.own.held;
  const own = limit === null ? undefined : decideMetered({ isUnlimited: false, hasSoftLimit: slot.hasSoftLimit, usageLimit: limit }, used, input.requestedUsage);
  const denied = own ?? pooled.accessDeniedReason;
  const result: MeteredEntitlement = {
    ...pooled,
    hasAccess: denied === undefined,
    accessDeniedReason: denied,
    entity: { entityId: input.entityId, usageLimit: limit, currentUsage: used },
    pooled: { usageLimit: pooled.usageLimit, currentUsage: pooled.currentUsage, isUnlimited: pooled.isUnlimited },
  };
  if (limit !== null) {
    result.usageLimit = limit;
    result.currentUsage = used;
    result.isUnlimited = false;
  }
  return result;
}

/** Every feature the customer is entitled to (for a resource, or as one entity sees it), evaluated at now. */
export async function evaluateAll(ctx: EngineContext, customerId: string, resourceId: string, entityId = ''): Promise<Entitlement[]> {
  const view = await customerView(ctx, customerId);
  if (!view.customer || view.customer.archivedAt !== null) return [];
  const rv = view.resource(resourceId, ctx.clock.nowMs());
  const out: Entitlement[] = [];
  for (const featureId of [...rv.entitlements.keys()].sort()) {
    out.push(await evaluate(ctx, { customerId, featureId, resourceId, entityId, requestedUsage: 0, requestedValues: NO_VALUES }));
  }
  return out;
}

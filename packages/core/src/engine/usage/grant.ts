// How much of a request for quota fits, decided inside the write transaction (consumeUsage,
// reserveUsage, createEntity's seat), and recording what was granted.
import { TesseraError } from '../../errors.js';
import { requireLiveCustomer } from '../runtime/lookups.js';
import { usagePeriod } from '../../rules/windows.js';
import type { UsageKey, UsageRecord } from '../../records.js';
import type { EngineContext, WriteEffects } from '../runtime/context.js';
import { requireSafeUsage } from '../runtime/params.js';
import { emptyUsage, readUsageState } from './usage-cells.js';
import { entitlementFor, noteUsage, windowFor } from './usage.js';
import { usagePayload } from './usage-payload.js';
import type { CustomerView, UsageCell } from '../checks/view.js';
import { perEntityLimit, requireLiveEntity } from '../entities/entity-lookup.js';
import type { CellStanding, Consumption, OverageMode } from './consumption.js';
import { spendCapGate } from '../billing/spend-caps.js';
import { limitKeys } from './limit-cells.js';
import { readCarried } from './rollover-cells.js';
import { rolloverBalance } from '../../rules/rollover.js';
import { rolloverShown } from '../checks/rollover-check.js';
import type { ResolvedEntitlement } from '../../rules/entitlements.js';
import type { ResetPeriod } from '../../catalog/types.js';

/** A request for quota; `entityId` '' for the customer's own. */
export interface Ask {
  customerId: string;
  featureId: string;
  resourceId: string;
  entityId: string;
  amount: number;
  overage: OverageMode;
  idempotencyKey: string | undefined;
}

/** One cell a grant reads and may write: its key, what it held when read, and its bound. */
export interface GrantCell {
  key: UsageKey;
  cell: UsageCell;
  record: UsageRecord | undefined;
  /** The hard limit (Infinity when unlimited or soft), and the limit to show (null when none). */
  bound: number;
  shown: number | null;
  /** The reset period of the limit the cell counts for (docs/limits.md). */
  resetPeriod: ResetPeriod | null;
}

function standing(c: GrantCell, extra: number): CellStanding {
  const used = c.cell.value + c.cell.held + extra;
  return { currentUsage: used, usageLimit: c.shown, remaining: c.bound === Infinity ? null : c.bound - used };
}

/**
 * Decides, inside the write transaction, how much of `ask.amount` fits: reads the cells fresh
 * (recorded usage + live holds), so concurrent callers, also in other processes, never exceed a
 * hard limit. With an entity, the amount must fit both the entity's per-entity limit and the
 * pooled limit (docs/entities.md). Throws USAGE_LIMIT_EXCEEDED in REJECT mode when it does not fit.
 */
export async function grant(ctx: EngineContext, fx: WriteEffects, view: CustomerView, ask: Ask, method: string) {
  await requireLiveCustomer(fx.tx, ask.customerId, `${method}.customerId`);
  const entity = ask.entityId === '' ? undefined : await requireLiveEntity(fx.tx, ask.customerId, ask.entityId, `${method}.entityId`);
  const feature = ctx.latest().catalog.features.get(ask.featureId);
  if (!feature) throw new TesseraError('FEATURE_NOT_FOUND', `${method}.featureId: no feature "${ask.featureId}"`, { field: 'featureId', value: ask.featureId });
  if (feature.type !== 'METERED' || feature.meter) {
    throw new TesseraError('INVALID_ARGUMENT', `${method}.featureId: "${ask.featureId}" must be a METERED feature fed by reported usage`, { field: 'featureId' });
  }
  const e = entitlementFor(view, ask.resourceId, ask.featureId, fx.now, fx.now);
  if (!e) {
    throw new TesseraError('USAGE_LIMIT_EXCEEDED', `${method}: customer "${ask.customerId}" has no entitlement to "${ask.featureId}"`, {
      field: 'featureId',
      reason: view.resource(ask.resourceId, fx.now).hasActiveSubscription ? 'NoFeatureEntitlementInSubscription' : 'NoActiveSubscription',
      available: 0,
      requested: ask.amount,
    });
  }
  const w = windowFor(e, fx.now);
  const soft = e.isUnlimited || e.hasSoftLimit;
  const read = async (key: UsageKey, limit: number | null, resetPeriod = e.resetPeriod, byCreation = false): Promise<GrantCell> => {
    const { cell, record } = await readUsageState(fx.tx, key, fx.now, byCreation);
    return { key, cell, record, bound: limit === null || e.hasSoftLimit ? Infinity : limit, shown: limit, resetPeriod };
  };
  const pooledKey: UsageKey = { customerId: ask.customerId, resourceId: ask.resourceId, entityId: '', featureId: ask.featureId, windowStart: w.start, windowEnd: w.end };
  // A rollover adds its carried balance to the limit, read in this transaction (docs/rollovers.md#consumption).
  const carried = e.rollover !== undefined ? (await readCarried(fx.tx, view, e, pooledKey, fx.now))?.carried : undefined;
  const limit = e.usageLimit === null ? null : e.usageLimit + rolloverBalance(carried);
  // A soft limit is shown but bounds nothing (read() makes its bound Infinity).
  const pooled = await read(pooledKey, soft ? (e.isUnlimited ? null : limit) : (limit ?? 0));
  const own = entity ? await read({ ...pooledKey, entityId: entity.entityId }, perEntityLimit(e, entity)) : undefined;
  // Further limits (docs/limits.md): the customer's cell of each limit's window must fit the amount too.
  const limits = await readLimitCells(e, pooledKey, fx.now, read);
  const left = (c: GrantCell) => Math.max(0, c.bound - c.cell.value - c.cell.held);
  let tightest = own && left(own) < left(pooled) ? own : pooled;
  if (limits) for (const c of limits) if (left(c) < left(tightest)) tightest = c;
  const available = left(tightest);
  let granted = ask.amount;
  if (ask.amount > available) {
    if (ask.overage === 'REJECT') {
      const which =
        tightest === own
          ? `entity "${ask.entityId}" has ${available} left of its ${own.shown}`
          : `only ${available} left of ${tightest.shown}${limits ? ` per ${tightest.resetPeriod}` : ''}`;
      throw new TesseraError('USAGE_LIMIT_EXCEEDED', `${method}.amount: ${ask.amount} requested but ${which}; ask for less or use overage CAP`, {
        field: 'amount',
        reason: 'RequestedUsageExceedingLimit',
        available,
        requested: ask.amount,
        ...(limits ? { resetPeriod: tightest.resetPeriod } : {}),
      });
    }
    granted = available;
  }
  // Within the limits; now what it would cost (docs/spend-caps.md), from the cells read above.
  granted = await spendCapGate(ctx, fx, view, ask, pooled.cell.held, granted, method);
  // Unlimited and soft limits do not bound the total: keep it a safe number (docs/conventions.md#boundary).
  requireSafeUsage(pooled.cell.value + pooled.cell.held + granted, `${method}.amount`);
  const cells = own ? [own, pooled] : [pooled];
  if (limits) cells.push(...limits);
  const shape = (extra: number): Consumption => {
    const top = standing(own && own.shown !== null ? own : pooled, extra);
    const out: Consumption = {
      customerId: ask.customerId,
      featureId: ask.featureId,
      resourceId: ask.resourceId === '' ? null : ask.resourceId,
      requested: ask.amount,
      granted,
      currentUsage: top.currentUsage,
      usageLimit: top.usageLimit,
      remaining: top.remaining,
      ...usagePeriod(w.start, w.end),
    };
    if (own) {
      out.entity = { entityId: own.key.entityId, ...standing(own, extra) };
      out.pooled = standing(pooled, extra);
    }
    if (limits) out.limits = [pooled, ...limits].map((c) => ({ resetPeriod: c.resetPeriod, ...standing(c, extra), ...usagePeriod(c.key.windowStart, c.key.windowEnd) }));
    if (carried !== undefined) out.rollover = rolloverShown(carried, pooled.cell.value + pooled.cell.held + extra);
    return out;
  };
  return { key: (own ?? pooled).key, pooled, cells, granted, shape, e };
}

/** The cells of `e`'s further limits (docs/limits.md) beside the customer's cell `pooledKey`; undefined when it has none. */
async function readLimitCells(
  e: ResolvedEntitlement,
  pooledKey: UsageKey,
  now: number,
  read: (key: UsageKey, limit: number | null, resetPeriod: ResetPeriod, byCreation: boolean) => Promise<GrantCell>,
): Promise<GrantCell[] | undefined> {
  const keys = limitKeys(e, pooledKey, now);
  if (keys === undefined) return undefined;
  const out: GrantCell[] = [];
  // Holds record the primary window only: in a further limit's cell they count by when they were made.
  for (let i = 0; i < keys.length; i++) out.push(await read(keys[i]!, e.limits![i]!.usageLimit, e.limits![i]!.resetPeriod, true));
  return out;
}

/**
 * Records `granted` units on the cells of a grant (the entity's and the pooled one) in the write
 * transaction: the change log, the cached cells and the listeners hear of each.
 */
export async function recordGranted(ctx: EngineContext, fx: WriteEffects, cells: readonly GrantCell[], granted: number): Promise<void> {
  if (granted <= 0) return;
  for (const c of cells) {
    // The record the grant read in this transaction: nothing else wrote the cell since.
    const rec = c.record ?? emptyUsage(c.key, fx.now);
    rec.value += granted;
    rec.updatedAt = fx.now;
    await fx.tx.putUsage(rec);
    await fx.change('usage.updated', c.key.customerId, c.key.featureId, usagePayload(c.key, rec.value));
    noteUsage(ctx, fx, c.key, rec.value);
  }
}

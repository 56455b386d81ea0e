import { TesseraError } from '../../errors.js';
import { requireLiveCustomer } from '../runtime/lookups.js';
import { usagePeriod } from '../../rules/windows.js';
import type { ReservationRecord, UsageKey } from '../../records.js';
import { write, type EngineContext, type WriteEffects } from '../runtime/context.js';
import { customerView } from '../checks/entitlements.js';
import { MAX_USAGE, Params, requireSafeUsage } from '../runtime/params.js';
import { emptyUsage, readUsageCell, readUsageState } from './usage-cells.js';
import { entitlementFor, noteUsage, windowFor } from './usage.js';
import { dropCell, type CustomerView } from '../checks/view.js';
import { burnInTx } from '../billing/credits.js';
import { issueCycleCredits } from '../billing/credit-cycles.js';
import { balanceAt } from '../../rules/credits.js';
import { Decimal } from '../../money.js';

/** REJECT: all or nothing (default). CAP: grant what is left of the limit. */
export type OverageMode = 'REJECT' | 'CAP';

/** What a consumption or reservation granted, and where the feature stands after it. */
export interface Consumption {
  customerId: string;
  featureId: string;
  resourceId: string | null;
  requested: number;
  granted: number;
  /** Recorded usage plus live holds in the window, after this call. */
  currentUsage: number;
  usageLimit: number | null;
  /** Left under the limit after this call; null when unlimited or soft-limited. */
  remaining: number | null;
  usagePeriodStart: Date | null;
  usagePeriodEnd: Date | null;
}

/** A held quota. */
export interface Reservation extends Consumption {
  reservationId: string;
  status: 'HELD' | 'COMMITTED' | 'RELEASED' | 'EXPIRED';
  expiresAt: Date;
  committedAmount: number | null;
}

const MAX_HOLD_MS = 7 * 86_400_000;

interface Ask {
  customerId: string;
  featureId: string;
  resourceId: string;
  amount: number;
  overage: OverageMode;
  idempotencyKey: string | undefined;
}

function readAsk(p: Params): Ask {
  return {
    customerId: p.id('customerId'),
    featureId: p.id('featureId'),
    resourceId: p.optId('resourceId') ?? '',
    amount: p.number('amount', { min: 0, max: MAX_USAGE }),
    overage: p.optEnum('overage', ['REJECT', 'CAP'] as const) ?? 'REJECT',
    idempotencyKey: p.optId('idempotencyKey'),
  };
}

/**
 * Decides, inside the write transaction, how much of `ask.amount` fits: reads the cell fresh
 * (recorded usage + live holds), so concurrent callers, also in other processes, never exceed a
 * hard limit. Throws USAGE_LIMIT_EXCEEDED in REJECT mode when it does not fit.
 */
async function grant(ctx: EngineContext, fx: WriteEffects, view: CustomerView, ask: Ask, method: string) {
  await requireLiveCustomer(fx.tx, ask.customerId, `${method}.customerId`);
  const feature = ctx.latest().catalog.features.get(ask.featureId);
  if (!feature) throw new TesseraError('FEATURE_NOT_FOUND', `${method}.featureId: no feature "${ask.featureId}"`, { field: 'featureId', value: ask.featureId });
  if (feature.type !== 'METERED' || feature.meter) {
    throw new TesseraError('INVALID_ARGUMENT', `${method}.featureId: "${ask.featureId}" must be a METERED feature fed by reported usage`, { field: 'featureId' });
  }
  const e = entitlementFor(view, ask.resourceId, ask.featureId, fx.now, fx.now);
  if (!e) {
    throw new TesseraError('USAGE_LIMIT_EXCEEDED', `${method}: customer "${ask.customerId}" has no entitlement to "${ask.featureId}"`, {
      field: 'featureId',
      reason: 'NoFeatureEntitlementInSubscription',
      available: 0,
      requested: ask.amount,
    });
  }
  const w = windowFor(e, fx.now);
  const key: UsageKey = { customerId: ask.customerId, resourceId: ask.resourceId, featureId: ask.featureId, windowStart: w.start, windowEnd: w.end };
  const { cell, record } = await readUsageState(fx.tx, key, fx.now);
  const used = cell.value + cell.held;
  const bounded = !e.isUnlimited && !e.hasSoftLimit;
  const available = bounded ? Math.max(0, (e.usageLimit ?? 0) - used) : Infinity;
  let granted = ask.amount;
  if (ask.amount > available) {
    if (ask.overage === 'REJECT') {
      throw new TesseraError('USAGE_LIMIT_EXCEEDED', `${method}.amount: ${ask.amount} requested but only ${available} left of ${e.usageLimit}; ask for less or use overage CAP`, {
        field: 'amount',
        available,
        requested: ask.amount,
      });
    }
    granted = available;
  }
  // Unlimited and soft limits do not bound the total: keep it a safe number (docs/conventions.md#boundary).
  requireSafeUsage(used + granted, `${method}.amount`);
  const shape = (extra: number): Consumption => ({
    customerId: ask.customerId,
    featureId: ask.featureId,
    resourceId: ask.resourceId === '' ? null : ask.resourceId,
    requested: ask.amount,
    granted,
    currentUsage: used + extra,
    usageLimit: bounded ? (e.usageLimit ?? 0) : e.isUnlimited ? null : e.usageLimit,
    remaining: bounded ? (e.usageLimit ?? 0) - used - extra : null,
    ...usagePeriod(w.start, w.end),
  });
  return { key, cell, record, granted, shape };
}

async function replayed<T>(fx: WriteEffects, scope: string, key: string | undefined): Promise<T | undefined> {
  if (key === undefined) return undefined;
  const rec = await fx.tx.getIdempotency(scope, key);
  return rec ? (revive(rec.result) as T) : undefined;
}

function revive(v: unknown): unknown {
  const r = { ...(v as Record<string, unknown>) };
  for (const k of ['usagePeriodStart', 'usagePeriodEnd', 'expiresAt']) if (typeof r[k] === 'number') r[k] = new Date(r[k] as number);
  return r;
}

function freeze(v: object): unknown {
  const r: Record<string, unknown> = { ...v };
  for (const [k, x] of Object.entries(r)) if (x instanceof Date) r[k] = x.getTime();
  return r;
}

/**
 * Burns the credits `units` of a feature cost (docs/credits.md#features): REJECT needs them all
 * (else USAGE_LIMIT_EXCEEDED, reason InsufficientCredits); CAP grants the whole units they pay for.
 */
async function payWithCredits(ctx: EngineContext, fx: WriteEffects, ask: Ask, cost: { currencyId: string; amount: string }, units: number): Promise<number> {
  const customer = (await fx.tx.getCustomer(ask.customerId))!;
  const paid = await affordable(ctx, fx, ask, cost, units);
  if (paid > 0) await burnInTx(ctx, fx, customer, cost.currencyId, new Decimal(cost.amount).times(paid), ask.idempotencyKey ?? `consume:${ask.featureId}`, false);
  return paid;
}

/** How many of `units` the balance pays for: all, or (CAP) the whole units it covers; REJECT throws when short. */
async function affordable(ctx: EngineContext, fx: WriteEffects, ask: Ask, cost: { currencyId: string; amount: string }, units: number): Promise<number> {
  const price = new Decimal(cost.amount);
  // Credits of a cycle that started since the last tick count (docs/credits.md#credits-on-a-cycle).
  await issueCycleCredits(ctx, fx, ask.customerId, cost.currencyId);
  const balance = new Decimal(balanceAt(await fx.tx.listCreditGrants(ask.customerId, cost.currencyId), fx.now));
  let paid = units;
  if (balance.lt(price.times(units))) {
    if (ask.overage === 'REJECT') {
      throw new TesseraError('USAGE_LIMIT_EXCEEDED', `amount: ${units} units cost ${price.times(units)} ${cost.currencyId} credits, the balance is ${balance}`, {
        field: 'amount',
        reason: 'InsufficientCredits',
        balance: balance.toString(),
      });
    }
    paid = price.isZero() ? units : Math.min(units, balance.div(price).floor().toNumber());
  }
  return paid;
}

/** Drops the cached cell so the next check reads holds and usage afresh. */
function forgetCell(ctx: EngineContext, fx: WriteEffects, key: UsageKey): void {
  fx.after(() => {
    ctx.views.touch(key.customerId);
    dropCell(ctx.views.get(key.customerId)?.cachedResource(key.resourceId), key.featureId);
  });
}

/**
 * `consumeUsage`: checks and records in one transaction. REJECT throws USAGE_LIMIT_EXCEEDED when
 * the amount does not fit; CAP records what is left. Unlimited and soft limits grant everything.
 */
export async function consumeUsage(ctx: EngineContext, params: unknown): Promise<Consumption> {
  const ask = readAsk(new Params(params, 'consumeUsage', ['customerId', 'featureId', 'resourceId', 'amount', 'overage', 'idempotencyKey']));
  const view = await customerView(ctx, ask.customerId);
  return write(ctx, async (fx) => {
    const again = await replayed<Consumption>(fx, `consumeUsage:${ask.customerId}`, ask.idempotencyKey);
    if (again) return again;
    const g = await grant(ctx, fx, view, ask, 'consumeUsage');
    const { key, shape } = g;
    let granted = g.granted;
    const feature = ctx.latest().catalog.features.get(ask.featureId)!;
    if (feature.creditCost && granted > 0) granted = await payWithCredits(ctx, fx, ask, feature.creditCost, granted);
    // The record grant() read in this transaction: nothing else wrote the cell since.
    const rec = g.record ?? emptyUsage(key, fx.now);
    rec.value += granted;
    rec.updatedAt = fx.now;
    if (granted > 0) {
      await fx.tx.putUsage(rec);
      await fx.change('usage.updated', key.customerId, key.featureId, { resourceId: key.resourceId, windowStart: key.windowStart, windowEnd: key.windowEnd, value: rec.value });
      noteUsage(ctx, fx, key, rec.value);
    }
    const result = { ...shape(granted), granted };
    if (ask.idempotencyKey !== undefined) await fx.tx.putIdempotency({ scope: `consumeUsage:${ask.customerId}`, key: ask.idempotencyKey, result: freeze(result), createdAt: fx.now });
    return result;
  });
}

function toReservation(r: ReservationRecord, base: Consumption, now: number): Reservation {
  const expired = r.status === 'HELD' && r.expiresAt <= now;
  return { ...base, reservationId: r.id, status: expired ? 'EXPIRED' : r.status, expiresAt: new Date(r.expiresAt), committedAmount: r.committedAmount };
}

/**
 * `reserveUsage`: holds quota until committed, released or `expiresIn` milliseconds pass (no job:
 * expired holds stop counting). Held quota counts against checks and other consumers.
 */
export async function reserveUsage(ctx: EngineContext, params: unknown): Promise<Reservation> {
  const p = new Params(params, 'reserveUsage', ['customerId', 'featureId', 'resourceId', 'amount', 'overage', 'idempotencyKey', 'expiresIn']);
  const ask = readAsk(p);
  const expiresIn = p.number('expiresIn', { min: 1, integer: true });
  if (expiresIn > MAX_HOLD_MS) p.fail('expiresIn', `must be at most ${MAX_HOLD_MS} ms (7 days)`);
  const view = await customerView(ctx, ask.customerId);
  return write(ctx, async (fx) => {
    const again = await replayed<Reservation>(fx, `reserveUsage:${ask.customerId}`, ask.idempotencyKey);
    if (again) return again;
    const g = await grant(ctx, fx, view, ask, 'reserveUsage');
    const { key, shape } = g;
    let granted = g.granted;
    // A hold of a feature that costs credits must be payable; the credits burn when it is committed.
    const cost = ctx.latest().catalog.features.get(ask.featureId)!.creditCost;
    if (cost && granted > 0) granted = await affordable(ctx, fx, ask, cost, granted);
    const rec: ReservationRecord = {
      id: ctx.newId('res'),
      ...key,
      amount: granted,
      expiresAt: fx.now + expiresIn,
      status: 'HELD',
      committedAmount: null,
      createdAt: fx.now,
      updatedAt: fx.now,
    };
    await fx.tx.putReservation(rec);
    await fx.change('reservation.updated', key.customerId, rec.id, { status: 'HELD', amount: granted, featureId: key.featureId });
    forgetCell(ctx, fx, key);
    const result = toReservation(rec, { ...shape(granted), granted }, fx.now);
    if (ask.idempotencyKey !== undefined) await fx.tx.putIdempotency({ scope: `reserveUsage:${ask.customerId}`, key: ask.idempotencyKey, result: freeze(result), createdAt: fx.now });
    return result;
  });
}

async function settle(ctx: EngineContext, params: unknown, method: 'commitReservation' | 'releaseReservation'): Promise<Reservation> {
  const p = new Params(params, method, method === 'commitReservation' ? ['reservationId', 'amount'] : ['reservationId']);
  const id = p.id('reservationId');
  const amount = method === 'commitReservation' ? p.optNumber('amount', { min: 0, max: MAX_USAGE }) : undefined;
  return write(ctx, async (fx) => {
    const r = await fx.tx.getReservation(id);
    if (!r) throw new TesseraError('RESERVATION_NOT_FOUND', `${method}.reservationId: no reservation "${id}"`, { field: 'reservationId', value: id });
    const key: UsageKey = { customerId: r.customerId, resourceId: r.resourceId, featureId: r.featureId, windowStart: r.windowStart, windowEnd: r.windowEnd };
    const expired = r.status === 'HELD' && r.expiresAt <= fx.now;
    const base = async (): Promise<Consumption> => {
      const cell = await readUsageCell(fx.tx, key, fx.now);
      return {
        customerId: r.customerId,
        featureId: r.featureId,
        resourceId: r.resourceId === '' ? null : r.resourceId,
        requested: r.amount,
        granted: r.amount,
        currentUsage: cell.value + cell.held,
        usageLimit: null,
        remaining: null,
        ...usagePeriod(r.windowStart, r.windowEnd),
      };
    };
    if (method === 'releaseReservation') {
      if (r.status === 'COMMITTED') throw new TesseraError('CONFLICT', `releaseReservation: reservation "${id}" was committed`, { field: 'reservationId', status: r.status });
      if (r.status === 'HELD' && !expired) {
        r.status = 'RELEASED';
        r.updatedAt = fx.now;
        await fx.tx.putReservation(r);
        await fx.change('reservation.updated', r.customerId, r.id, { status: 'RELEASED' });
        forgetCell(ctx, fx, key);
      }
      return toReservation(r, await base(), fx.now);
    }
    if (r.status === 'COMMITTED') return toReservation(r, await base(), fx.now);
    if (r.status === 'RELEASED' || expired) {
      throw new TesseraError('CONFLICT', `commitReservation: reservation "${id}" is ${expired ? 'expired' : 'released'}; reserve again`, { field: 'reservationId' });
    }
    const used = amount ?? r.amount;
    if (used > r.amount) p.fail('amount', `must be at most the ${r.amount} reserved`);
    // The hold leaves and the usage arrives in one write, so the quota never counts twice or not at all.
    r.status = 'COMMITTED';
    r.committedAmount = used;
    r.updatedAt = fx.now;
    await fx.tx.putReservation(r);
    const rec = (await fx.tx.getUsage(key)) ?? emptyUsage(key, fx.now);
    requireSafeUsage(rec.value + used, 'commitReservation.amount');
    rec.value += used;
    rec.updatedAt = fx.now;
    await fx.tx.putUsage(rec);
    await fx.change('usage.updated', key.customerId, key.featureId, { resourceId: key.resourceId, windowStart: key.windowStart, windowEnd: key.windowEnd, value: rec.value });
    // Committed usage is recorded usage: a feature that costs credits burns them (what there is, as reportUsage).
    const cost = ctx.latest().catalog.features.get(r.featureId)?.creditCost;
    const customer = await fx.tx.getCustomer(r.customerId);
    if (cost && customer && used > 0) await burnInTx(ctx, fx, customer, cost.currencyId, new Decimal(cost.amount).times(used), `reservation:${r.id}`, true);
    noteUsage(ctx, fx, key, rec.value);
    forgetCell(ctx, fx, key);
    return toReservation(r, await base(), fx.now);
  });
}

/** `commitReservation`: records the held amount (or a smaller `amount`) as usage; the rest returns. */
export function commitReservation(ctx: EngineContext, params: unknown): Promise<Reservation> {
  return settle(ctx, params, 'commitReservation');
}

/** `releaseReservation`: gives the held quota back. Idempotent; CONFLICT once committed. */
export function releaseReservation(ctx: EngineContext, params: unknown): Promise<Reservation> {
  return settle(ctx, params, 'releaseReservation');
}

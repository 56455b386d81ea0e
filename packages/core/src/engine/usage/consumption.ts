import { TesseraError } from '../../errors.js';
import { usagePeriod } from '../../rules/windows.js';
import type { ReservationRecord, UsageKey } from '../../records.js';
import { write, type EngineContext, type WriteEffects } from '../runtime/context.js';
import { customerView, loadView } from '../checks/entitlements.js';
import { isLimitCellEntity, limitKeys } from './limit-cells.js';
import { MAX_USAGE, Params, requireSafeUsage } from '../runtime/params.js';
import { emptyUsage, readUsageCell } from './usage-cells.js';
import { entitlementFor, noteUsage } from './usage.js';
import { usagePayload } from './usage-payload.js';
import { noteUsageThresholds } from '../alerts/thresholds.js';
import { dropCell, type CustomerView } from '../checks/view.js';
import { grant, recordGranted, type Ask } from './grant.js';
import { burnInTx } from '../billing/credits.js';
import { issueCycleCredits } from '../billing/credit-cycles.js';
import { balanceAt } from '../../rules/credits.js';
import { Decimal } from '../../money.js';
import type { ResetPeriod } from '../../catalog/types.js';
import type { RolloverShown } from '../checks/entitlement-types.js';
import type { StoreTransactionOptions } from '../../store/store.js';

/** REJECT: all or nothing (default). CAP: grant what is left of the limit. */
export type OverageMode = 'REJECT' | 'CAP';

/** Where one cell (an entity's, or the customer's pooled one) stands after a call (docs/entities.md#usage-consumption-and-reservations). */
export interface CellStanding {
  /** Recorded usage plus live holds in the window, after this call. */
  currentUsage: number;
  /** null when unlimited (or, for an entity, when no per-entity limit applies to it). */
  usageLimit: number | null;
  /** Left under the limit after this call; null when unbounded or soft-limited. */
  remaining: number | null;
}

/**
 * What a consumption or reservation granted, and where the feature stands after it. With an
 * `entityId` the top-level figures are the entity's when a per-entity limit applies to it, else the
 * pooled ones; `entity` and `pooled` give both (docs/entities.md#usage-consumption-and-reservations).
 */
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
  /** With `entityId` only: the entity's cell. */
  entity?: CellStanding & { entityId: string };
  /** With `entityId` only: the customer's pooled cell. */
  pooled?: CellStanding;
  /**
   * With further limits only (docs/limits.md): the customer's cell of every limit, the primary
   * first; `granted` fitted all of them.
   */
  limits?: (CellStanding & { resetPeriod: ResetPeriod | null; usagePeriodStart: Date | null; usagePeriodEnd: Date | null })[];
  /**
   * With a rollover only (docs/rollovers.md): the customer's carried balance after this call;
   * `usageLimit` (the customer's) is then the base limit plus `rollover.balance`.
   */
  rollover?: RolloverShown;
}

/** A held quota. */
export interface Reservation extends Consumption {
  reservationId: string;
  status: 'HELD' | 'COMMITTED' | 'RELEASED' | 'EXPIRED';
  expiresAt: Date;
  committedAmount: number | null;
}

const MAX_HOLD_MS = 7 * 86_400_000;

function readAsk(p: Params): Ask {
  return {
    customerId: p.id('customerId'),
    featureId: p.id('featureId'),
    resourceId: p.optId('resourceId') ?? '',
    entityId: p.optId('entityId') ?? '',
    amount: p.number('amount', { min: 0, max: MAX_USAGE }),
    overage: p.optEnum('overage', ['REJECT', 'CAP'] as const) ?? 'REJECT',
    idempotencyKey: p.optId('idempotencyKey'),
  };
}

/**
 * Consumptions and reservations of one customer's feature all read and write its pooled cell:
 * on a store whose writers run side by side they would conflict and run again, so they take
 * turns instead (store.ts StoreTransactionOptions; docs/conventions.md#several-processes-on-one-store).
 */
function quotaTurn(ask: Ask): StoreTransactionOptions {
  return { turnKey: JSON.stringify(['quota', ask.customerId, ask.resourceId, ask.featureId]) };
}

async function replayed<T>(fx: WriteEffects, scope: string, key: string | undefined): Promise<T | undefined> {
  if (key === undefined) return undefined;
  const rec = await fx.tx.getIdempotency(scope, key);
  return rec ? (revive(rec.result) as T) : undefined;
}

function revive(v: unknown): unknown {
  const r = { ...(v as Record<string, unknown>) };
  for (const k of ['usagePeriodStart', 'usagePeriodEnd', 'expiresAt']) if (typeof r[k] === 'number') r[k] = new Date(r[k] as number);
  // Further limits' windows (docs/limits.md), stored as epoch ms like the top-level ones.
  if (Array.isArray(r.limits)) r.limits = r.limits.map(revive);
  if (r.rollover !== undefined) {
    const ro = r.rollover as { expiries: { amount: number; expiresAt: number }[] };
    r.rollover = { ...ro, expiries: ro.expiries.map((x) => ({ amount: x.amount, expiresAt: new Date(x.expiresAt) })) };
  }
  return r;
}

function freeze(v: object): unknown {
  const r: Record<string, unknown> = { ...v };
  for (const [k, x] of Object.entries(r)) if (x instanceof Date) r[k] = x.getTime();
  if (Array.isArray(r.limits)) r.limits = r.limits.map((l: object) => freeze(l));
  if (r.rollover !== undefined) {
    const ro = r.rollover as RolloverShown;
    r.rollover = { ...ro, expiries: ro.expiries.map((x) => ({ amount: x.amount, expiresAt: x.expiresAt.getTime() })) };
  }
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

/** Drops the cached cell so the next check reads holds and usage afresh (only pooled cells are cached). */
function forgetCell(ctx: EngineContext, fx: WriteEffects, key: UsageKey): void {
  fx.after(() => {
    ctx.views.touch(key.customerId);
    if (key.entityId === '' || isLimitCellEntity(key.entityId)) dropCell(ctx.views.get(key.customerId)?.cachedResource(key.resourceId), key.featureId);
  });
}


/** Grants, pays (credits) and records a consumption inside a write transaction (consumeUsage, createEntity's seat). */
export async function consumeInTx(ctx: EngineContext, fx: WriteEffects, view: CustomerView, ask: Ask, method: string): Promise<Consumption> {
  const g = await grant(ctx, fx, view, ask, method);
  let granted = g.granted;
  const feature = ctx.latest().catalog.features.get(ask.featureId)!;
  if (feature.creditCost && granted > 0) granted = await payWithCredits(ctx, fx, ask, feature.creditCost, granted);
  // Thresholds are percents of the pooled limit: they watch the customer's own cell (docs/alerts.md).
  const pooled = g.pooled;
  const before = pooled.record?.value ?? 0;
  await recordGranted(ctx, fx, g.cells, granted);
  if (granted > 0) await noteUsageThresholds(ctx, fx, [{ e: g.e, key: pooled.key, before, after: before + granted }]);
  return { ...g.shape(granted), granted };
}

/**
 * `consumeUsage`: checks and records in one transaction. REJECT throws USAGE_LIMIT_EXCEEDED when
 * the amount does not fit; CAP records what is left. Unlimited and soft limits grant everything.
 */
export async function consumeUsage(ctx: EngineContext, params: unknown): Promise<Consumption> {
  const ask = readAsk(new Params(params, 'consumeUsage', ['customerId', 'featureId', 'resourceId', 'entityId', 'amount', 'overage', 'idempotencyKey']));
  const view = await customerView(ctx, ask.customerId);
  return write(ctx, async (fx) => {
    const again = await replayed<Consumption>(fx, `consumeUsage:${ask.customerId}`, ask.idempotencyKey);
    if (again) return again;
    const result = await consumeInTx(ctx, fx, view, ask, 'consumeUsage');
    if (ask.idempotencyKey !== undefined) await fx.tx.putIdempotency({ scope: `consumeUsage:${ask.customerId}`, key: ask.idempotencyKey, result: freeze(result), createdAt: fx.now });
    return result;
  }, quotaTurn(ask));
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
  const p = new Params(params, 'reserveUsage', ['customerId', 'featureId', 'resourceId', 'entityId', 'amount', 'overage', 'idempotencyKey', 'expiresIn']);
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
    await fx.change('reservation.updated', key.customerId, rec.id, { status: 'HELD', amount: granted, featureId: key.featureId, entityId: key.entityId });
    for (const c of g.cells) forgetCell(ctx, fx, c.key);
    const result = toReservation(rec, { ...shape(granted), granted }, fx.now);
    if (ask.idempotencyKey !== undefined) await fx.tx.putIdempotency({ scope: `reserveUsage:${ask.customerId}`, key: ask.idempotencyKey, result: freeze(result), createdAt: fx.now });
    return result;
  }, quotaTurn(ask));
}

async function settle(ctx: EngineContext, params: unknown, method: 'commitReservation' | 'releaseReservation'): Promise<Reservation> {
  const p = new Params(params, method, method === 'commitReservation' ? ['reservationId', 'amount'] : ['reservationId']);
  const id = p.id('reservationId');
  const amount = method === 'commitReservation' ? p.optNumber('amount', { min: 0, max: MAX_USAGE }) : undefined;
  return write(ctx, async (fx) => {
    const r = await fx.tx.getReservation(id);
    if (!r) throw new TesseraError('RESERVATION_NOT_FOUND', `${method}.reservationId: no reservation "${id}"`, { field: 'reservationId', value: id });
    const key: UsageKey = { customerId: r.customerId, resourceId: r.resourceId, entityId: r.entityId, featureId: r.featureId, windowStart: r.windowStart, windowEnd: r.windowEnd };
    // A hold for an entity held the pooled quota too: both cells change (docs/entities.md#reservations).
    const keys = r.entityId === '' ? [key] : [key, { ...key, entityId: '' }];
    // And the cells of further limits, in the windows containing the instant it was made (docs/limits.md#reservations).
    if (method === 'commitReservation') keys.push(...(await heldLimitKeys(ctx, fx, r, key)));
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
        for (const k of keys) forgetCell(ctx, fx, k);
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
    for (const k of keys) {
      const rec = (await fx.tx.getUsage(k)) ?? emptyUsage(k, fx.now);
      requireSafeUsage(rec.value + used, 'commitReservation.amount');
      rec.value += used;
      rec.updatedAt = fx.now;
      await fx.tx.putUsage(rec);
      await fx.change('usage.updated', k.customerId, k.featureId, usagePayload(k, rec.value));
      noteUsage(ctx, fx, k, rec.value);
      forgetCell(ctx, fx, k);
    }
    // Committed usage is recorded usage: a feature that costs credits burns them (what there is, as reportUsage).
    const cost = ctx.latest().catalog.features.get(r.featureId)?.creditCost;
    const customer = await fx.tx.getCustomer(r.customerId);
    if (cost && customer && used > 0) await burnInTx(ctx, fx, customer, cost.currencyId, new Decimal(cost.amount).times(used), `reservation:${r.id}`, true);
    return toReservation(r, await base(), fx.now);
  });
}

/** The cells of further limits a hold counts in: those of the entitlement in force when it was made, at that instant. */
async function heldLimitKeys(ctx: EngineContext, fx: WriteEffects, r: ReservationRecord, key: UsageKey): Promise<UsageKey[]> {
  // The cached view when there is one; else read in this transaction (a write may not open another).
  const view = ctx.views.get(r.customerId) ?? (await loadView(ctx, fx.tx, r.customerId));
  const e = entitlementFor(view, r.resourceId, r.featureId, r.createdAt, fx.now);
  return limitKeys(e, key, r.createdAt) ?? [];
}

/** `commitReservation`: records the held amount (or a smaller `amount`) as usage; the rest returns. */
export function commitReservation(ctx: EngineContext, params: unknown): Promise<Reservation> {
  return settle(ctx, params, 'commitReservation');
}

/** `releaseReservation`: gives the held quota back. Idempotent; CONFLICT once committed. */
export function releaseReservation(ctx: EngineContext, params: unknown): Promise<Reservation> {
  return settle(ctx, params, 'releaseReservation');
}

/**
 * Spend caps (docs/spend-caps.md): a customer's bound on what metered usage may cost in a billing
 * period, for all its usage or one feature's. Stored as one idempotency record per customer (scope
 * `spendCaps`, key the customer id) holding every cap, so no table and no migration: the same
 * record type per-customer alert thresholds use. The decision is rules/spend-caps.ts; this file
 * reads what it needs (inside the write transaction for consumptions and reservations) and calls it.
 */
import type { FeatureType } from '../../catalog/types.js';
import { TesseraError } from '../../errors.js';
import { Decimal, currencyDigits, isDecimalString } from '../../money.js';
import type { CustomerRecord, SubscriptionRecord } from '../../records.js';
import { grantsAt } from '../../rules/lifecycle.js';
import { selectPrices, type ResolvedPrice } from '../../rules/pricing.js';
import { capStanding, spendPeriod, unitsWithinCap, usageSpend, withinCap, type SpendCapStanding } from '../../rules/spend-caps.js';
import type { Window } from '../../rules/windows.js';
import type { StoreTx } from '../../store/store.js';
import type { CustomerView } from '../checks/view.js';
import type { Entitlement, MeteredEntitlement } from '../checks/entitlement-types.js';
import { requireLiveCustomer } from '../runtime/lookups.js';
import { Params } from '../runtime/params.js';
import { write, type EngineContext, type WriteEffects } from '../runtime/context.js';
import { billingCountry } from './billing.js';

const SCOPE = 'spendCaps';
/** Caps beyond this are a mistake, not a bound (and keep every sum well inside decimal.js's 40 digits). */
const MAX_CAP = new Decimal('1e15');

/** One stored cap: `featureId` null for the customer-wide one. */
interface StoredCap {
  featureId: string | null;
  amount: string;
  currency: string;
}

/** A cap as `setSpendCap` returns it. */
export interface SpendCapSetting {
  customerId: string;
  /** null: the cap bounds the usage of every feature together. */
  featureId: string | null;
  /** Decimal string in `currency`. */
  amount: string;
  currency: string;
}

/** A cap with its spend in the current billing period, as `getSpendCaps` and checks show it. */
export interface SpendCap extends SpendCapStanding {
  /** null for the customer-wide cap. */
  featureId: string | null;
}

/** The caps of a customer, from its record (none when it has no record). */
export async function readSpendCaps(tx: StoreTx, customerId: string): Promise<StoredCap[]> {
  const rec = await tx.getIdempotency(SCOPE, customerId);
  return ((rec?.result as { caps?: StoredCap[] } | undefined)?.caps ?? []).slice();
}

// The caps loaded with a cached view (checks answer from the view): a WeakMap so the view's class
// stays as it is and the caps go with the view when it is dropped or invalidated.
const viewCaps = new WeakMap<CustomerView, StoredCap[]>();

/** Keeps the caps read with a view; called where views are loaded (checks/entitlements.ts). */
export function rememberSpendCaps(view: CustomerView, caps: StoredCap[]): void {
  if (caps.length > 0) viewCaps.set(view, caps);
}

/** True when a cap applies to the customer of `view`: its checks then take the store path. */
export function hasSpendCaps(view: CustomerView): boolean {
  return viewCaps.has(view);
}

/** A subscription in force whose plan prices usage, with its current billing period. */
interface PricedSubscription {
  sub: SubscriptionRecord;
  period: Window;
  /** The plan's USAGE_BASED prices for the billing period, in the billing country, as invoices select them. */
  prices: ResolvedPrice[];
  currency: string;
}

function pricedSubscriptions(ctx: EngineContext, customer: CustomerRecord, subs: readonly SubscriptionRecord[], now: number): PricedSubscription[] {
  const out: PricedSubscription[] = [];
  for (const sub of subs) {
    if (!sub.billingPeriod || !grantsAt(sub, now)) continue;
    const plan = (ctx.catalogs.get(sub.catalogVersion)?.catalog ?? ctx.latest().catalog).plans.get(sub.planId);
    // Only a PAID plan's usage lines are invoiced (rules/pricing.ts pricePlan).
    if (plan?.pricingType !== 'PAID') continue;
    const prices = selectPrices(plan.prices, sub.billingPeriod, billingCountry(sub, customer)).filter((p) => p.billingModel === 'USAGE_BASED' && p.featureId);
    if (prices.length === 0) continue;
    out.push({ sub, period: spendPeriod(sub.billingAnchor, sub.billingPeriod, now), prices, currency: prices[0]!.currency });
  }
  return out;
}

/** Recorded usage of a feature in a billing period: the windows that start in it (docs/pricing.md#usage-in-arrears). */
async function periodUsage(tx: StoreTx, customerId: string, resourceId: string, featureId: string, period: Window): Promise<{ total: number; cells: { windowStart: number; value: number }[] }> {
  const cells = (await tx.listUsage({ customerId, featureId, resourceId, entityId: '', from: period.start, to: period.end })).filter((c) => c.windowStart >= period.start && c.windowStart < period.end);
  return { total: cells.reduce((a, c) => a + c.value, 0), cells };
}

const priceFeatures = (p: PricedSubscription, featureId: string | null): string[] => [...new Set(p.prices.map((x) => x.featureId!))].filter((f) => featureId === null || f === featureId);

/** What usage under `cap` cost so far in the current billing periods, leaving out one (resource, feature) when given. */
async function spentUnder(tx: StoreTx, customerId: string, priced: readonly PricedSubscription[], cap: StoredCap, skip?: { resourceId: string; featureId: string }): Promise<Decimal> {
  let spent = new Decimal(0);
  for (const p of priced) {
    if (p.currency !== cap.currency) continue;
    for (const featureId of priceFeatures(p, cap.featureId)) {
      if (skip && skip.resourceId === p.sub.resourceId && skip.featureId === featureId) continue;
      const { total } = await periodUsage(tx, customerId, p.sub.resourceId, featureId, p.period);
      spent = spent.plus(usageSpend(p.prices.filter((x) => x.featureId === featureId), total, cap.currency));
    }
  }
  return spent;
}

/**
 * The caps that bound a feature's usage on a resource, with what they need to decide; undefined
 * when none. `caps` is read only when a price charges the feature's usage (a write of a feature
 * that costs nothing pays no read).
 */
async function capsFor(ctx: EngineContext, view: CustomerView, readCaps: () => StoredCap[] | Promise<StoredCap[]>, resourceId: string, featureId: string, now: number) {
  if (!view.customer) return undefined;
  const priced = pricedSubscriptions(ctx, view.customer, view.subscriptions, now);
  // Usage of a feature no price of its subscription charges costs nothing: no cap bounds it.
  const mine = priced.find((p) => p.sub.resourceId === resourceId && p.prices.some((x) => x.featureId === featureId));
  if (!mine) return undefined;
  const applying = (await readCaps()).filter((c) => (c.featureId === null || c.featureId === featureId) && c.currency === mine.currency);
  if (applying.length === 0) return undefined;
  return { priced, mine, applying, prices: mine.prices.filter((x) => x.featureId === featureId) };
}

interface CapDecision {
  /** Units of the request that fit under every cap. */
  fit: number;
  /** The whole request fits under every cap (a check's answer). */
  all: boolean;
  /** The cap with the least remaining, after the spend so far. */
  tightest: SpendCap;
}

async function decideCaps(tx: StoreTx, customerId: string, c: NonNullable<Awaited<ReturnType<typeof capsFor>>>, featureId: string, usage: number, requested: number): Promise<CapDecision> {
  let fit = requested;
  let all = true;
  let tightest: SpendCap | undefined;
  for (const cap of c.applying) {
    const amount = new Decimal(cap.amount);
    const elsewhere = cap.featureId === null ? await spentUnder(tx, customerId, c.priced, cap, { resourceId: c.mine.sub.resourceId, featureId }) : new Decimal(0);
    const req = { prices: c.prices, usage, spentElsewhere: elsewhere, cap: amount, currency: cap.currency };
    all &&= withinCap({ ...req, requested });
    fit = Math.min(fit, unitsWithinCap({ ...req, requested: fit }));
    const shown: SpendCap = { featureId: cap.featureId, ...capStanding(amount, usageSpend(c.prices, usage, cap.currency).plus(elsewhere), cap.currency) };
    if (!tightest || new Decimal(shown.remaining).lt(tightest.remaining)) tightest = shown;
  }
  return { fit, all, tightest: tightest! };
}

/**
 * The spend cap gate of a grant (usage/grant.ts), inside its write transaction: how many of the
 * `granted` units (already within the limits) the caps let through. Reads the caps and the period's
 * usage fresh in the transaction, so concurrent consumers never spend past a cap. `held` is the
 * quota live reservations hold in the current window. REJECT throws USAGE_LIMIT_EXCEEDED with
 * reason SpendCapReached when not all fit; CAP returns what fits.
 */
export async function spendCapGate(
  ctx: EngineContext,
  fx: WriteEffects,
  view: CustomerView,
  ask: { customerId: string; resourceId: string; featureId: string; overage: 'REJECT' | 'CAP' },
  held: number,
  granted: number,
  method: string,
): Promise<number> {
  if (granted <= 0) return granted;
  const c = await capsFor(ctx, view, () => readSpendCaps(fx.tx, ask.customerId), ask.resourceId, ask.featureId, fx.now);
  if (!c) return granted;
  const usage = (await periodUsage(fx.tx, ask.customerId, ask.resourceId, ask.featureId, c.mine.period)).total + held;
  const { fit, tightest } = await decideCaps(fx.tx, ask.customerId, c, ask.featureId, usage, granted);
  if (fit < granted && ask.overage === 'REJECT') {
    throw new TesseraError(
      'USAGE_LIMIT_EXCEEDED',
      `${method}.amount: ${granted} units would spend past the ${tightest.featureId === null ? 'customer' : `"${tightest.featureId}"`} spend cap of ${tightest.cap} ${tightest.currency} (${tightest.spent} spent); ${fit} fit; ask for less, use overage CAP or raise the cap`,
      { field: 'amount', reason: 'SpendCapReached', available: fit, requested: granted, spendCap: tightest },
    );
  }
  return fit;
}

/**
 * The spend cap part of a check (checks/entitlements.ts): for a METERED feature whose usage a cap
 * bounds, reads the period's usage and adds `spendCap`; denies with SpendCapReached when the
 * requested usage would spend past it. Returns `r` itself when no cap applies.
 */
export function withSpendCap(ctx: EngineContext, view: CustomerView, r: Entitlement, requested: number, now: number): Entitlement | Promise<Entitlement> {
  const caps = viewCaps.get(view);
  if (!caps || r.type !== 'METERED') return r;
  return spendCapped(ctx, view, caps, r, requested, now);
}

async function spendCapped(ctx: EngineContext, view: CustomerView, caps: StoredCap[], r: MeteredEntitlement, requested: number, now: number): Promise<Entitlement> {
  const c = await capsFor(ctx, view, () => caps, r.resourceId ?? '', r.featureId, now);
  if (!c) return r;
  return ctx.store.transaction('read', async (tx) => {
    const { total, cells } = await periodUsage(tx, r.customerId, r.resourceId ?? '', r.featureId, c.mine.period);
    // Live holds of the current window: the check's usage counts them, the stored cell does not.
    const shown = r.pooled?.currentUsage ?? r.currentUsage;
    const recorded = cells.find((x) => x.windowStart === r.usagePeriodStart?.getTime())?.value ?? 0;
    const held = r.usagePeriodStart ? Math.max(0, shown - recorded) : 0;
    const { all, tightest } = await decideCaps(tx, r.customerId, c, r.featureId, total + held, requested);
    const denied = r.hasAccess && !all;
    const out: MeteredEntitlement = { ...r, spendCap: tightest };
    if (denied) {
      out.hasAccess = false;
      out.accessDeniedReason = 'SpendCapReached';
    }
    return out;
  });
}

/** The spend caps of a customer with their spend in the current billing period. Throws CUSTOMER_NOT_FOUND. */
export async function getSpendCaps(ctx: EngineContext, params: unknown): Promise<SpendCap[]> {
  const p = new Params(params, 'getSpendCaps', ['customerId']);
  const customerId = p.id('customerId');
  const now = ctx.clock.nowMs();
  return ctx.store.transaction('read', async (tx) => {
    const customer = await requireLiveCustomer(tx, customerId, 'getSpendCaps.customerId');
    const caps = await readSpendCaps(tx, customerId);
    if (caps.length === 0) return [];
    const priced = pricedSubscriptions(ctx, customer, await tx.listSubscriptionsByCustomer(customerId), now);
    const out: SpendCap[] = [];
    for (const cap of sortCaps(caps)) out.push({ featureId: cap.featureId, ...capStanding(new Decimal(cap.amount), await spentUnder(tx, customerId, priced, cap), cap.currency) });
    return out;
  });
}

const sortCaps = (caps: StoredCap[]): StoredCap[] => caps.sort((a, b) => (a.featureId ?? '').localeCompare(b.featureId ?? ''));

function readCapTarget(ctx: EngineContext, p: Params): string | null {
  const featureId = p.optId('featureId') ?? null;
  if (featureId === null) return null;
  const feature = ctx.latest().catalog.features.get(featureId);
  if (!feature) throw new TesseraError('FEATURE_NOT_FOUND', `${p.path}.featureId: no feature "${featureId}" in the catalog`, { field: 'featureId', value: featureId });
  const type: FeatureType = feature.type;
  if (type !== 'METERED') p.fail('featureId', `feature "${featureId}" is ${type}; spend caps bound METERED features`);
  return featureId;
}

/**
 * Sets a customer's spend cap: for all its usage (no `featureId`) or one METERED feature's, in the
 * current billing period. `amount` is a non-negative decimal string; `currency` defaults to the
 * currency the customer's subscriptions bill usage in. Replaces a cap already set for the same
 * target. Throws CUSTOMER_NOT_FOUND, FEATURE_NOT_FOUND or INVALID_ARGUMENT, and writes nothing then.
 */
export async function setSpendCap(ctx: EngineContext, params: unknown): Promise<SpendCapSetting> {
  const p = new Params(params, 'setSpendCap', ['customerId', 'amount', 'currency', 'featureId']);
  const customerId = p.id('customerId');
  const rawAmount = p.raw.amount;
  if (!isDecimalString(rawAmount)) return p.fail('amount', `must be a plain decimal string such as '5.00' (no exponent, no spaces, not a JSON number)`, { value: typeof rawAmount === 'string' ? rawAmount : typeof rawAmount });
  const raw: string = rawAmount;
  const amount = new Decimal(raw);
  if (amount.isNegative() && !amount.isZero()) p.fail('amount', 'must not be negative (0 allows no spend at all)', { value: raw });
  if (amount.gte(MAX_CAP) || amount.decimalPlaces() > 10) p.fail('amount', `must be below ${MAX_CAP} with at most 10 decimal places`, { value: raw });
  const given = p.optId('currency');
  if (given !== undefined) {
    try {
      currencyDigits(given);
    } catch {
      p.fail('currency', `unknown currency "${given}"; use an ISO-4217 code such as 'USD'`, { value: given });
    }
  }
  const featureId = readCapTarget(ctx, p);
  return write(ctx, async (fx) => {
    const customer = await requireLiveCustomer(fx.tx, customerId, 'setSpendCap.customerId');
    const priced = pricedSubscriptions(ctx, customer, await fx.tx.listSubscriptionsByCustomer(customerId), fx.now);
    const currency = given ?? priced[0]?.currency;
    if (currency === undefined) return p.fail('currency', `customer "${customerId}" has no subscription that bills usage now; give the cap's currency`);
    const caps = (await readSpendCaps(fx.tx, customerId)).filter((c) => c.featureId !== featureId);
    // Stored as given ('5', '5.00'): the decimal string, never a float.
    caps.push({ featureId, amount: raw, currency });
    await fx.tx.putIdempotency({ scope: SCOPE, key: customerId, result: { caps: sortCaps(caps) }, createdAt: fx.now });
    await fx.change('customer.updated', customerId, customerId, { spendCap: { featureId, amount: raw, currency } });
    fx.invalidate(customerId);
    return { customerId, featureId, amount: raw, currency };
  });
}

/**
 * Removes a customer's spend cap (the customer-wide one without `featureId`). Idempotent:
 * `removed` is false when there was none. Throws CUSTOMER_NOT_FOUND, FEATURE_NOT_FOUND, INVALID_ARGUMENT.
 */
export async function removeSpendCap(ctx: EngineContext, params: unknown): Promise<{ customerId: string; featureId: string | null; removed: boolean }> {
  const p = new Params(params, 'removeSpendCap', ['customerId', 'featureId']);
  const customerId = p.id('customerId');
  const featureId = readCapTarget(ctx, p);
  return write(ctx, async (fx) => {
    await requireLiveCustomer(fx.tx, customerId, 'removeSpendCap.customerId');
    const all = await readSpendCaps(fx.tx, customerId);
    const caps = all.filter((c) => c.featureId !== featureId);
    if (caps.length === all.length) return { customerId, featureId, removed: false };
    await fx.tx.putIdempotency({ scope: SCOPE, key: customerId, result: { caps }, createdAt: fx.now });
    await fx.change('customer.updated', customerId, customerId, { spendCap: { featureId, removed: true } });
    fx.invalidate(customerId);
    return { customerId, featureId, removed: true };
  });
}

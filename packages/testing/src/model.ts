/**
 * A small reference model of the engine, for model-based tests (`checkEngineAgainstModel` in
 * model-check.ts runs it beside a real engine). Written from docs/conventions.md, sharing no code
 * with the engine: plain maps, its own month arithmetic.
 *
 * What it covers, for one product of the catalog (without `multipleSubscriptions`):
 * - customers (created with no subscription);
 * - subscriptions that take effect at once: provisioning a plan (trials skipped) replaces the
 *   current one, except a downgrade from a billed subscription (scheduled by the engine, so the
 *   model does not generate it); cancelling now starts the product's downgrade plan, if any;
 *   the usage anchor carries over from the subscription replaced. One subscription per customer
 *   is the engine's rule without trials (docs/conventions.md#one-subscription-in-force); the
 *   trial halves of that rule (a newer provisioning ends a trial, a conversion replaces) are not modelled;
 * - entitlements of the plan in force, with inheritance, a quantity bought per unit in place of the
 *   plan's own limit or value: BOOLEAN, NUMERIC (value or unlimited),
 *   METERED fed by `reportUsage` with a hard or soft limit or unlimited, resetting every month
 *   from the usage anchor or on calendar months, or never;
 * - usage: DELTA and SET reports in the window in force (the all-time cell without an
 *   entitlement), a DELTA below 0 refused, idempotency keys per customer (a retry returns the
 *   first result and changes nothing; a refused call leaves its key free).
 * Features it cannot predict (ENUM, meters, credit costs, other reset periods in any plan of the
 * product) are left out of its checks; add-ons, promotions, trials and invoices are not modelled.
 */
import type { BillingPeriod, CatalogDefinition, EntitlementDefinition, FeatureDefinition, PlanDefinition, ProductDefinition } from '@tessera/core';

/** A subscription in force in the model. */
export interface ModelSubscription {
  planId: string;
  /** Null for plans that are not PAID and for the downgrade plan a cancellation starts. */
  billingPeriod: BillingPeriod | null;
  /** Epoch ms MONTH windows count from. */
  usageAnchor: number;
  /** Units bought of each feature the plan prices PER_UNIT in the billing period. */
  quantities: Record<string, number>;
}

/** The result of a report, as replayed for a repeated idempotency key. */
export interface ModelReport {
  currentUsage: number;
  window: ModelWindow | null;
}

export interface ModelCustomer {
  sub: ModelSubscription | null;
  /** Usage per feature and window: `${featureId}|${start}|${end}`, or `${featureId}|all`. */
  usage: Map<string, number>;
  /** First result per idempotency key (keys are per customer). */
  keys: Map<string, ModelReport>;
}

/** The model's whole state. */
export interface EngineModel {
  now: number;
  customers: Map<string, ModelCustomer>;
}

export interface ModelWindow {
  start: number;
  end: number;
}

/** What the model expects a check to answer. */
export interface ExpectedCheck {
  hasAccess: boolean;
  accessDeniedReason?: string;
  value?: number | null;
  isUnlimited?: boolean;
  usageLimit?: number | null;
  hasSoftLimit?: boolean;
  currentUsage?: number;
  usagePeriodStart?: number;
  usagePeriodEnd?: number;
}

// ---------------------------------------------------------------------------------------------
// Calendar, written here rather than imported so that the model does not share the engine's code.

function addMonths(ms: number, months: number): number {
  const d = new Date(ms);
  const total = d.getUTCFullYear() * 12 + d.getUTCMonth() + months;
  const y = Math.floor(total / 12);
  const m = total - y * 12;
  const last = new Date(Date.UTC(y, m + 1, 0)).getUTCDate();
  return Date.UTC(y, m, Math.min(d.getUTCDate(), last), d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds(), d.getUTCMilliseconds());
}

/** The monthly window containing `at`, counted from `anchor` (every end computed from the anchor). */
function monthWindow(anchor: number, at: number): ModelWindow {
  const a = new Date(anchor);
  const b = new Date(at);
  let n = (b.getUTCFullYear() - a.getUTCFullYear()) * 12 + b.getUTCMonth() - a.getUTCMonth();
  while (addMonths(anchor, n) > at) n--;
  while (addMonths(anchor, n + 1) <= at) n++;
  return { start: addMonths(anchor, n), end: addMonths(anchor, n + 1) };
}

function calendarMonth(at: number): ModelWindow {
  const d = new Date(at);
  return { start: Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1), end: Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1) };
}

// ---------------------------------------------------------------------------------------------

/** The catalog as the model reads it: one product, its plans in order, the features it can predict. */
export class CatalogModel {
  readonly product: ProductDefinition;
  readonly plans: readonly PlanDefinition[];
  /** Features the model checks: BOOLEAN, NUMERIC, and METERED ones it can predict. */
  readonly features: readonly FeatureDefinition[];
  /** METERED features among them (reported with reportUsage). */
  readonly metered: readonly FeatureDefinition[];
  /** Features left out, with why. */
  readonly skipped: readonly { featureId: string; reason: string }[];
  private readonly byId: Map<string, PlanDefinition>;

  constructor(readonly definition: CatalogDefinition, productId?: string) {
    const product = productId
      ? definition.products.find((p) => p.id === productId)
      : definition.products.find((p) => !p.multipleSubscriptions && definition.plans.some((x) => x.productId === p.id));
    if (!product) throw new Error(productId ? `model: no product "${productId}" in the catalog` : 'model: the catalog needs a product with plans and without multipleSubscriptions');
    if (product.multipleSubscriptions) throw new Error(`model: product "${product.id}" has multipleSubscriptions, which the model does not cover`);
    this.product = product;
    this.plans = definition.plans.filter((p) => p.productId === product.id);
    this.byId = new Map(this.plans.map((p) => [p.id, p]));
    const skipped: { featureId: string; reason: string }[] = [];
    const features: FeatureDefinition[] = [];
    for (const f of definition.features) {
      const reason = this.whyNot(f);
      if (reason) skipped.push({ featureId: f.id, reason });
      else features.push(f);
    }
    this.features = features;
    this.metered = features.filter((f) => f.type === 'METERED');
    this.skipped = skipped;
  }

  private whyNot(f: FeatureDefinition): string | undefined {
    if (f.type === 'ENUM') return 'ENUM features are not modelled';
    if (f.type !== 'METERED') return undefined;
    if (f.meter) return 'fed by a meter over raw events';
    if (f.creditCost) return 'costs credits';
    for (const p of this.plans) {
      const e = this.entitlement(p.id, f.id);
      if (e && e.resetPeriod !== undefined && e.resetPeriod !== null && e.resetPeriod !== 'MONTH') return `plan "${p.id}" resets it every ${e.resetPeriod}`;
    }
    return undefined;
  }

  plan(planId: string): PlanDefinition | undefined {
    return this.byId.get(planId);
  }

  /** Position of a plan in its product (0 = lowest). */
  rank(planId: string): number {
    return this.plans.findIndex((p) => p.id === planId);
  }

  /** The plan's entitlement to a feature: its own, else its parent's (inherited whole). */
  entitlement(planId: string, featureId: string): EntitlementDefinition | undefined {
    const seen = new Set<string>();
    for (let plan = this.byId.get(planId); plan && !seen.has(plan.id); plan = plan.parentPlanId ? this.byId.get(plan.parentPlanId) : undefined) {
      seen.add(plan.id);
      const own = plan.entitlements?.find((e) => e.featureId === featureId);
      if (own) return own;
    }
    return undefined;
  }

  /**
   * The quantities a provisioning gives: one per feature the plan prices PER_UNIT in
   * `billingPeriod` (the engine requires them), `units` kept within the price's bounds.
   */
  quantities(planId: string, billingPeriod: BillingPeriod | null, units: number): Record<string, number> {
    const plan = this.byId.get(planId);
    const out: Record<string, number> = {};
    if (!plan || plan.pricingType !== 'PAID' || billingPeriod === null) return out;
    for (const p of plan.prices ?? []) {
      if (p.billingModel !== 'PER_UNIT' || p.billingPeriod !== billingPeriod || p.featureId === undefined || p.featureId in out) continue;
      out[p.featureId] = Math.min(p.maxUnitQuantity ?? Number.MAX_SAFE_INTEGER, Math.max(p.minUnitQuantity ?? 0, units));
    }
    return out;
  }

  /**
   * The entitlement a subscription gets: the plan's, except that a METERED or NUMERIC feature
   * bought per unit is granted the quantity bought, keeping the plan's reset period and soft
   * limit (docs/conventions.md#billable-quantities).
   */
  granted(sub: ModelSubscription, featureId: string): EntitlementDefinition | undefined {
    const e = this.entitlement(sub.planId, featureId);
    const bought = sub.quantities[featureId];
    const type = this.definition.features.find((f) => f.id === featureId)?.type;
    if (bought === undefined || (type !== 'METERED' && type !== 'NUMERIC')) return e;
    if (type === 'NUMERIC') return { featureId, value: bought };
    const out: EntitlementDefinition = { featureId, usageLimit: bought };
    if (e?.resetPeriod !== undefined) out.resetPeriod = e.resetPeriod;
    if (e?.resetPeriodConfiguration !== undefined) out.resetPeriodConfiguration = e.resetPeriodConfiguration;
    if (e?.hasSoftLimit !== undefined) out.hasSoftLimit = e.hasSoftLimit;
    return out;
  }

  /** The billing periods a plan is provisioned in: its prices' for a PAID plan, else [null]. */
  periods(planId: string): (BillingPeriod | null)[] {
    const plan = this.byId.get(planId);
    if (!plan || plan.pricingType !== 'PAID') return [null];
    const have = new Set((plan.prices ?? []).map((p) => p.billingPeriod));
    return (['MONTHLY', 'ANNUALLY'] as const).filter((p) => have.has(p));
  }
}

export function emptyModel(now: number): EngineModel {
  return { now, customers: new Map() };
}

/** The usage window of an entitlement at `at`; null: the all-time window. */
function windowOf(e: EntitlementDefinition | undefined, sub: ModelSubscription | null, at: number): ModelWindow | null {
  if (!e || !sub || e.resetPeriod !== 'MONTH') return null;
  return e.resetPeriodConfiguration?.monthlyAccordingTo === 'START_OF_THE_MONTH' ? calendarMonth(at) : monthWindow(sub.usageAnchor, at);
}

const cellKey = (featureId: string, w: ModelWindow | null): string => (w ? `${featureId}|${w.start}|${w.end}` : `${featureId}|all`);

/** Whether provisioning `planId` takes effect now (the engine schedules downgrades from a billed subscription). */
export function provisionsNow(cm: CatalogModel, c: ModelCustomer, planId: string): boolean {
  const cur = c.sub;
  return !(cur && cur.billingPeriod !== null && cur.planId !== planId && cm.rank(planId) < cm.rank(cur.planId));
}

/** Provisions `planId` now (see `provisionsNow`). */
export function provision(cm: CatalogModel, m: EngineModel, customerId: string, planId: string, billingPeriod: BillingPeriod | null, quantities: Record<string, number> = {}): void {
  const c = m.customers.get(customerId)!;
  const paid = cm.plan(planId)?.pricingType === 'PAID';
  c.sub = { planId, billingPeriod: paid ? billingPeriod : null, usageAnchor: c.sub?.usageAnchor ?? m.now, quantities };
}

/** Cancels the current subscription now; the product's downgrade plan (not the same plan) starts at once. */
export function cancel(cm: CatalogModel, m: EngineModel, customerId: string): void {
  const c = m.customers.get(customerId)!;
  const cur = c.sub!;
  const downgrade = cm.product.downgradePlanId;
  c.sub = downgrade && downgrade !== cur.planId && cm.plan(downgrade) ? { planId: downgrade, billingPeriod: null, usageAnchor: cur.usageAnchor, quantities: {} } : null;
}

/** What `reportUsage` returns, or the error code it throws; applies the report to the model. */
export function report(
  cm: CatalogModel,
  m: EngineModel,
  u: { customerId: string; featureId: string; value: number; behavior: 'DELTA' | 'SET'; key: string | undefined },
): ModelReport | { error: string } {
  const c = m.customers.get(u.customerId);
  if (!c) return { error: 'CUSTOMER_NOT_FOUND' };
  if (u.key !== undefined) {
    const first = c.keys.get(u.key);
    if (first) return first;
  }
  const e = c.sub ? cm.granted(c.sub, u.featureId) : undefined;
  const w = windowOf(e, c.sub, m.now);
  const key = cellKey(u.featureId, w);
  const next = u.behavior === 'SET' ? u.value : (c.usage.get(key) ?? 0) + u.value;
  if (next < 0) return { error: 'INVALID_ARGUMENT' };
  c.usage.set(key, next);
  const result: ModelReport = { currentUsage: next, window: w };
  if (u.key !== undefined) c.keys.set(u.key, result);
  return result;
}

/** What a check of `featureId` with `requestedUsage` answers now. */
export function check(cm: CatalogModel, m: EngineModel, customerId: string, featureId: string, requestedUsage: number): ExpectedCheck {
  const c = m.customers.get(customerId);
  if (!c) return { hasAccess: false, accessDeniedReason: 'CustomerNotFound' };
  if (!c.sub) return { hasAccess: false, accessDeniedReason: 'NoActiveSubscription' };
  const e = cm.granted(c.sub, featureId);
  if (!e) return { hasAccess: false, accessDeniedReason: 'NoFeatureEntitlementInSubscription' };
  const feature = cm.features.find((f) => f.id === featureId)!;
  if (feature.type === 'BOOLEAN') return { hasAccess: true };
  const unlimited = e.isUnlimited === true;
  if (feature.type === 'NUMERIC') return { hasAccess: true, value: unlimited ? null : (e.value ?? null), isUnlimited: unlimited };
  const w = windowOf(e, c.sub, m.now);
  const usage = c.usage.get(cellKey(featureId, w)) ?? 0;
  const soft = e.hasSoftLimit === true;
  const limit = unlimited ? null : (e.usageLimit ?? 0);
  const ok = unlimited || soft || usage + requestedUsage <= (limit ?? 0);
  const out: ExpectedCheck = { hasAccess: ok, usageLimit: limit, isUnlimited: unlimited, hasSoftLimit: soft, currentUsage: usage };
  if (!ok) out.accessDeniedReason = 'RequestedUsageExceedingLimit';
  if (w) {
    out.usagePeriodStart = w.start;
    out.usagePeriodEnd = w.end;
  }
  return out;
}

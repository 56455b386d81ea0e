/**
 * fast-check arbitraries for what customers do with a catalog: subscription parameters, usage
 * reports and raw event batches (scenarios are in `arbitraries-scenario.ts`).
 */
import fc from 'fast-check';
import type {
  BillingPeriod,
  Catalog,
  CatalogDefinition,
  FeatureDefinition,
  PlanDefinition,
  ProvisionSubscriptionParams,
  RawEvent,
  ReportUsageParams,
} from '@tessera/core';
import { compact, index, pick, toMs, weighted } from './choice.js';

/** A catalog as declared, or defined (`defineCatalog`): the arbitraries read the declaration. */
export type CatalogInput = CatalogDefinition | Catalog;

/** The declaration of a catalog given either way. */
export function definitionOf(catalog: CatalogInput): CatalogDefinition {
  return 'definition' in catalog && typeof catalog.definition === 'object' ? catalog.definition : (catalog as CatalogDefinition);
}

// ---------------------------------------------------------------------------------------------
// Subscription parameters

/** Options of `arbSubscriptionParams`. */
export interface SubscriptionParamsOptions {
  /** Customers to pick from, first one first; default ['c1']. */
  customerIds?: readonly string[];
  /** Plans to pick from; default every plan, in catalog order. */
  planIds?: readonly string[];
  /** Add compatible add-ons; default true. */
  addons?: boolean;
  /** Sometimes use a promotion code; default true. */
  promotionCodes?: boolean;
  /** Sometimes set a billing country (one with overrides or a tax rate); default true. */
  countries?: boolean;
  /** Resource ids for products with `multipleSubscriptions`; default ['r1', 'r2']. */
  resourceIds?: readonly string[];
}

/** What subscription parameters are made of; internal to the arbitraries. */
export interface SubscriptionSpec {
  customer: number;
  plan: number;
  period: number;
  quantities: number[];
  addons: { addon: number; quantity: number }[];
  promotionCode: number | undefined;
  country: number | undefined;
  resource: number;
}

export function subscriptionSpec(): fc.Arbitrary<SubscriptionSpec> {
  const small = fc
    .record({ kind: weighted<number | 'ANY'>([[1, 3], [5, 2], [10, 2], [2, 1], ['ANY', 2]]), any: fc.integer({ min: 0, max: 60 }) })
    .map(({ kind, any }) => (kind === 'ANY' ? any : kind));
  return fc.record({
    customer: index(),
    plan: index(),
    period: index(3),
    quantities: fc.array(small, { maxLength: 4 }),
    addons: fc.array(fc.record({ addon: index(), quantity: small }), { maxLength: 3 }),
    promotionCode: weighted<number | undefined>([
      [undefined, 3],
      [0, 1],
      [1, 1],
    ]),
    country: weighted<number | undefined>([
      [undefined, 3],
      [0, 1],
      [1, 1],
      [2, 1],
    ]),
    resource: index(),
  });
}

/** The billing periods a plan can be provisioned in (null for plans that are not PAID), MONTHLY first. */
export function periodsOf(plan: PlanDefinition): (BillingPeriod | null)[] {
  if (plan.pricingType !== 'PAID') return [null];
  const periods = new Set((plan.prices ?? []).map((p) => p.billingPeriod));
  return (['MONTHLY', 'ANNUALLY'] as const).filter((p) => periods.has(p));
}

/** The currency a plan bills in for a country (its first price of the period, overrides applied). */
function currencyOf(plan: PlanDefinition, period: BillingPeriod | null, country: string | undefined): string | undefined {
  const price = (plan.prices ?? []).find((p) => p.billingPeriod === period);
  return (country !== undefined ? price?.countryOverrides?.[country]?.currency : undefined) ?? price?.currency;
}

/** Countries a catalog says something about: price overrides and tax rates. */
export function countriesOf(def: CatalogDefinition): string[] {
  const out = new Set<string>();
  for (const owner of [...def.plans, ...(def.addons ?? [])]) for (const p of owner.prices ?? []) for (const c of Object.keys(p.countryOverrides ?? {})) out.add(c);
  for (const t of def.taxRates ?? []) out.add(t.countryCode);
  return [...out].sort();
}

/** Provisioning parameters from a spec, valid for `def`. */
export function buildSubscriptionParams(spec: SubscriptionSpec, def: CatalogDefinition, options: SubscriptionParamsOptions = {}, customerId?: string): ProvisionSubscriptionParams {
  const plans = options.planIds ? def.plans.filter((p) => options.planIds!.includes(p.id)) : def.plans;
  const plan = pick(plans, spec.plan);
  if (!plan) throw new Error('arbSubscriptionParams: the catalog has no plan to subscribe to');
  const period = pick(periodsOf(plan), spec.period) ?? null;
  const params: ProvisionSubscriptionParams = { customerId: customerId ?? pick(options.customerIds ?? ['c1'], spec.customer) ?? 'c1', planId: plan.id };
  if (period !== null) params.billingPeriod = period;
  const product = def.products.find((p) => p.id === plan.productId);
  if (product?.multipleSubscriptions) params.resourceId = pick(options.resourceIds ?? ['r1', 'r2'], spec.resource) ?? 'r1';

  const perUnit = (plan.prices ?? []).filter((p) => p.billingModel === 'PER_UNIT' && p.featureId !== undefined && (period === null || p.billingPeriod === period));
  const billable = new Map<string, number>();
  perUnit.forEach((price, i) => {
    if (billable.has(price.featureId!)) return;
    const min = price.minUnitQuantity ?? 0;
    const max = price.maxUnitQuantity ?? Number.MAX_SAFE_INTEGER;
    billable.set(price.featureId!, Math.min(max, Math.max(min, spec.quantities[i] ?? 1)));
  });
  if (billable.size > 0) params.billableFeatures = [...billable].map(([featureId, quantity]) => ({ featureId, quantity }));

  if (options.addons !== false && spec.addons.length > 0) {
    const byId = new Map((def.addons ?? []).map((a) => [a.id, a]));
    // An add-on with prices must have one for the subscription's billing period, and so must its dependencies.
    const usable = (id: string, seen = new Set<string>()): boolean => {
      const a = byId.get(id);
      if (!a || seen.has(id) || !(plan.compatibleAddonIds ?? []).includes(id)) return false;
      seen.add(id);
      if (period !== null && (a.prices ?? []).length > 0 && !(a.prices ?? []).some((p) => p.billingPeriod === period)) return false;
      return (a.dependencies ?? []).every((d) => usable(d, seen));
    };
    const compatible = (plan.compatibleAddonIds ?? []).filter((id) => usable(id));
    const chosen = new Map<string, number>();
    const add = (id: string, quantity: number): void => {
      if (chosen.has(id)) return;
      const max = byId.get(id)?.maxQuantity ?? 5;
      chosen.set(id, Math.max(1, Math.min(max, 5, quantity)));
      for (const d of byId.get(id)?.dependencies ?? []) add(d, 1);
    };
    for (const a of spec.addons) {
      const id = pick(compatible, a.addon);
      if (id !== undefined) add(id, a.quantity);
    }
    if (chosen.size > 0) params.addons = compatible.filter((id) => chosen.has(id)).map((addonId) => ({ addonId, quantity: chosen.get(addonId)! }));
  }

  const countries = options.countries === false ? [] : countriesOf(def);
  const country = spec.country === undefined ? undefined : pick(countries, spec.country);
  if (country !== undefined) params.billingCountryCode = country;

  if (options.promotionCodes !== false && spec.promotionCode !== undefined) {
    const currency = currencyOf(plan, period, country);
    const coupons = new Map((def.coupons ?? []).map((c) => [c.id, c]));
    // A FIXED coupon in another currency than the invoice is refused, so only matching codes are used.
    const codes = (def.promotionCodes ?? []).filter((p) => {
      const c = coupons.get(p.couponId);
      return p.active !== false && c !== undefined && (c.type !== 'FIXED' || c.currency === currency);
    });
    const code = pick(codes, spec.promotionCode);
    if (code) params.promotionCode = code.code;
  }
  return params;
}

/**
 * `provisionSubscription` parameters that fit `catalog`: a plan (catalog order), a billing
 * period it has a price for (PAID plans only), a quantity within bounds for each PER_UNIT price,
 * compatible add-ons priced in that period (with their dependencies, within `maxQuantity`), and
 * sometimes a billing country and a promotion code whose FIXED coupon is in the invoice's
 * currency. A code with `maxRedemptions` may still be refused once used up.
 * Shrinks to `{ customerId: 'c1', planId: <first plan>, billingPeriod: <its first period> }`
 * plus each PER_UNIT feature at 1 unit (or its minimum).
 */
export function arbSubscriptionParams(catalog: CatalogInput, options: SubscriptionParamsOptions = {}): fc.Arbitrary<ProvisionSubscriptionParams> {
  const def = definitionOf(catalog);
  if (def.plans.length === 0) throw new Error('arbSubscriptionParams: the catalog has no plans');
  return subscriptionSpec().map((spec) => buildSubscriptionParams(spec, def, options));
}

// ---------------------------------------------------------------------------------------------
// Usage

/** METERED features fed by `reportUsage` (no meter). */
export function reportableFeatures(def: CatalogDefinition): FeatureDefinition[] {
  return def.features.filter((f) => f.type === 'METERED' && !f.meter);
}

/** Options of `arbUsageSequence`. */
export interface UsageSequenceOptions {
  /** Default ['c1']. */
  customerIds?: readonly string[];
  /** Features to report; default every METERED feature without a meter. */
  featureIds?: readonly string[];
  /** Default 1. */
  minLength?: number;
  /** Default 20. */
  maxLength?: number;
  /** Idempotency keys come from a pool of this many per customer ('k1'...; up to 32), so that they repeat; 0: no keys. Default 3. */
  keys?: number;
  /** Negative DELTAs (a seat freed), never taking a running total below 0; default true. */
  negative?: boolean;
}

export interface UsageSpec {
  customer: number;
  feature: number;
  set: boolean;
  value: number;
  negative: boolean;
  key: number | undefined;
}

export function usageSpec(): fc.Arbitrary<UsageSpec> {
  return fc.record({
    customer: index(),
    feature: index(),
    set: weighted([
      [false, 3],
      [true, 1],
    ]),
    value: fc
      .record({ kind: weighted<number | 'ANY'>([[1, 3], [10, 2], [100, 1], [5, 1], ['ANY', 2]]), any: fc.integer({ min: 0, max: 1000 }) })
      .map(({ kind, any }) => (kind === 'ANY' ? any : kind)),
    negative: weighted([
      [false, 4],
      [true, 1],
    ]),
    // Keyed 3 times in 5; the number is reduced modulo the pool size, so every key of a pool of up to 32 is drawn.
    key: fc
      .record({
        keyed: weighted([
          [false, 2],
          [true, 3],
        ]),
        n: index(),
      })
      .map(({ keyed, n }) => (keyed ? n : undefined)),
  });
}

/**
 * Sequences of `reportUsage` calls on METERED features without a meter: DELTAs (round values
 * favoured, some negative but never taking that customer's and feature's running total below 0)
 * and SETs, with idempotency keys from a small pool so that retries happen (a retry returns the
 * first result and changes nothing, whatever value and behaviour it carries, even a DELTA that
 * would take usage below 0). Meant to be applied at one instant, in order: running totals assume
 * one usage window; `expectedUsage` says what each call must answer.
 * Shrinks to `[{ customerId: 'c1', featureId: <first such feature>, value: 1, updateBehavior: 'DELTA' }]`.
 * Throws at once when the catalog has no such feature.
 */
export function arbUsageSequence(catalog: CatalogInput, options: UsageSequenceOptions = {}): fc.Arbitrary<ReportUsageParams[]> {
  const def = definitionOf(catalog);
  const features = reportableFeatures(def).filter((f) => !options.featureIds || options.featureIds.includes(f.id));
  if (features.length === 0) throw new Error('arbUsageSequence: the catalog has no METERED feature fed by reportUsage (one without a meter)');
  const customers = options.customerIds ?? ['c1'];
  const keys = options.keys ?? 3;
  return fc.array(usageSpec(), { minLength: options.minLength ?? 1, maxLength: options.maxLength ?? 20 }).map((specs) => {
    const totals = new Map<string, number>();
    const used = new Set<string>();
    return specs.map((s) => {
      const customerId = pick(customers, s.customer)!;
      const featureId = pick(features, s.feature)!.id;
      const key = keys > 0 && s.key !== undefined ? `k${(s.key % keys) + 1}` : undefined;
      const replay = key !== undefined && used.has(`${customerId} ${key}`);
      const cell = `${customerId} ${featureId}`;
      const total = totals.get(cell) ?? 0;
      let value = s.value;
      // A retry is answered from its key before anything is applied, so its DELTA may go below what is there.
      if (!s.set && s.negative && options.negative !== false) value = replay ? -s.value : -Math.min(s.value, total);
      if (!replay) totals.set(cell, s.set ? value : total + value);
      if (key !== undefined) used.add(`${customerId} ${key}`);
      return compact<ReportUsageParams>({ customerId, featureId, value: value === 0 ? 0 : value, updateBehavior: s.set ? 'SET' : 'DELTA', idempotencyKey: key });
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Raw events

/** Options of `arbEventBatch`. */
export interface EventBatchOptions {
  /** Default ['c1']. */
  customerIds?: readonly string[];
  /** The engine's now: late events are dated before it. Default 2024-01-01T00:00:00Z. */
  now?: Date | string;
  /** Default 1. */
  minLength?: number;
  /** Default 20. */
  maxLength?: number;
  /** Events repeating an earlier event's idempotency key (the same event, or a retry carrying another value); default true. */
  duplicates?: boolean;
  /** Events dated minutes, hours or days (up to 34) before `now`; default true. */
  late?: boolean;
  /** Events older than the default lateness limit (36 to 60 days): stored, listed as TOO_LATE, not counted. Default false. */
  tooLate?: boolean;
}

interface EventSpec {
  customer: number;
  meter: number;
  value: number;
  duplicateOf: number | undefined;
  sameValue: boolean;
  lateness: 'NONE' | 'MINUTES' | 'HOURS' | 'DAYS' | 'TOO_LATE';
  amount: number;
  matchFilters: boolean;
}

/**
 * Batches of raw events for the catalog's meters (METERED features with a `meter`): the
 * aggregated dimension as a number, values the filters test for (EQUALS and IN) most of the
 * time, keys 'e1', 'e2'... with duplicates (an earlier key again) and late events (a timestamp
 * before `now`). Events on time carry no timestamp (the engine dates them now).
 * Shrinks to `[{ customerId: 'c1', eventName: <first meter's>, idempotencyKey: 'e1' }]`
 * (with `dimensions: { <field>: 1 }` for meters that aggregate a field).
 * Throws at once when the catalog has no meter.
 */
export function arbEventBatch(catalog: CatalogInput, options: EventBatchOptions = {}): fc.Arbitrary<RawEvent[]> {
  const def = definitionOf(catalog);
  const meters = def.features.flatMap((f) => (f.type === 'METERED' && f.meter ? [f.meter] : []));
  if (meters.length === 0) throw new Error('arbEventBatch: the catalog has no METERED feature with a meter');
  const customers = options.customerIds ?? ['c1'];
  const now = toMs(options.now ?? '2024-01-01T00:00:00Z');
  const lateness: [EventSpec['lateness'], number][] = [['NONE', 4]];
  if (options.late !== false) lateness.push(['MINUTES', 1], ['HOURS', 1], ['DAYS', 2]);
  if (options.tooLate) lateness.push(['TOO_LATE', 1]);
  const spec: fc.Arbitrary<EventSpec> = fc.record({
    customer: index(),
    meter: index(),
    value: fc
      .record({ kind: weighted<number | 'ANY'>([[1, 3], [10, 2], [100, 1], ['ANY', 2]]), any: fc.integer({ min: 0, max: 1000 }) })
      .map(({ kind, any }) => (kind === 'ANY' ? any : kind)),
    duplicateOf: options.duplicates === false ? fc.constant(undefined) : weighted<number | undefined>([[undefined, 4], [0, 1], [1, 1]]),
    sameValue: fc.boolean(),
    lateness: weighted(lateness),
    amount: fc.integer({ min: 1, max: 59 }),
    matchFilters: weighted([
      [true, 3],
      [false, 1],
    ]),
  });
  return fc.array(spec, { minLength: options.minLength ?? 1, maxLength: options.maxLength ?? 20 }).map((specs) => {
    const out: RawEvent[] = [];
    specs.forEach((s, i) => {
      const earlier = s.duplicateOf === undefined ? undefined : pick(out, s.duplicateOf);
      if (earlier && s.sameValue) {
        out.push({ ...earlier });
        return;
      }
      const meter = pick(meters, s.meter)!;
      const dimensions: Record<string, string | number | boolean> = {};
      if (meter.aggregation.field) dimensions[meter.aggregation.field] = s.value;
      if (s.matchFilters) {
        for (const c of meter.filters?.[0]?.conditions ?? []) {
          const v = Array.isArray(c.value) ? c.value[0] : c.value;
          if ((c.operator === 'EQUALS' || c.operator === 'IN') && v !== undefined) dimensions[c.field] = v;
        }
      }
      const event: RawEvent = {
        customerId: earlier?.customerId ?? pick(customers, s.customer)!,
        eventName: meter.eventName,
        idempotencyKey: earlier?.idempotencyKey ?? `e${i + 1}`,
      };
      if (Object.keys(dimensions).length > 0) event.dimensions = dimensions;
      const back =
        s.lateness === 'MINUTES' ? s.amount * 60_000 : s.lateness === 'HOURS' ? (s.amount % 24) * 3_600_000 + 3_600_000 : s.lateness === 'DAYS' ? ((s.amount % 34) + 1) * 86_400_000 : s.lateness === 'TOO_LATE' ? (36 + (s.amount % 25)) * 86_400_000 : 0;
      if (back > 0) event.timestamp = new Date(now - back).toISOString();
      out.push(event);
    });
    return out;
  });
}

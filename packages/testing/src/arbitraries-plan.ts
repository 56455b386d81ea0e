/**
 * fast-check arbitraries for plans and add-ons, and the builders `arbCatalog` places them with.
 * Built from specs with `map` only (no `chain`), so shrinking is deterministic.
 */
import fc from 'fast-check';
import type { AddonDefinition, BillingPeriod, EntitlementDefinition, FeatureDefinition, PlanDefinition, PriceDefinition, PriceModel, PricingType, ResetPeriod } from '@tessera/core';
import { DEFAULT_RESET_PERIODS, buildEntitlement, entitlementSpec, type EntitlementSpec } from './arbitraries-feature.js';
import { PRICE_MODELS, buildPrice, priceSpec, type PriceContext, type PriceSpec } from './arbitraries-price.js';
import { index, pick, weighted } from './choice.js';

/** The features plans refer to when `arbPlan` / `arbAddon` are given none. */
export const DEFAULT_FEATURES: readonly FeatureDefinition[] = [
  { id: 'sso', type: 'BOOLEAN' },
  { id: 'projects', type: 'NUMERIC' },
  { id: 'api-calls', type: 'METERED' },
  { id: 'seats', type: 'METERED' },
];

/** What a plan is made of before it is placed in a catalog. */
export interface PlanSpec {
  pricing: number;
  customPriced: boolean;
  prices: PriceSpec[];
  entitlements: EntitlementSpec[];
  parent: number | undefined;
  trial: { days: number; onEnd: 'CONVERT_TO_PAID' | 'DOWNGRADE' } | undefined;
  addons: number[];
}

/** What an add-on is made of. */
export interface AddonSpec {
  priced: boolean;
  price: PriceSpec;
  entitlements: EntitlementSpec[];
  maxQuantity: number | undefined;
  dependencies: number[];
}

/** The context a plan or add-on is built in: the catalog around it. */
export interface PlanContext {
  id: string;
  productId: string;
  features: readonly FeatureDefinition[];
  currency: string;
  countries: Readonly<Record<string, string>>;
  billingPeriods: readonly BillingPeriod[];
  models: readonly PriceModel[];
  usageBased: boolean;
  pricingTypes: readonly PricingType[];
  resetPeriods: readonly (ResetPeriod | null)[];
  trials: boolean;
  /** Plans this one may inherit from (earlier plans of its product). */
  parentIds: readonly string[];
  /** Add-ons of its product, in order (dependencies point backwards). */
  addons: readonly AddonDefinition[];
}

export function planSpec(currency: string): fc.Arbitrary<PlanSpec> {
  return fc.record({
    pricing: index(5),
    customPriced: fc.boolean(),
    prices: fc.array(priceSpec(currency), { minLength: 1, maxLength: 4 }),
    entitlements: fc.array(entitlementSpec(), { maxLength: 4 }),
    parent: weighted<number | undefined>([
      [undefined, 2],
      [0, 1],
      [1, 1],
    ]),
    trial: weighted<PlanSpec['trial']>([
      [undefined, 4],
      [{ days: 14, onEnd: 'CONVERT_TO_PAID' }, 1],
      [{ days: 7, onEnd: 'DOWNGRADE' }, 1],
      [{ days: 30, onEnd: 'CONVERT_TO_PAID' }, 1],
    ]),
    addons: fc.array(index(), { maxLength: 3 }),
  });
}

export function addonSpec(currency: string): fc.Arbitrary<AddonSpec> {
  return fc.record({
    priced: weighted([
      [true, 3],
      [false, 1],
    ]),
    price: priceSpec(currency),
    entitlements: fc.array(entitlementSpec(), { maxLength: 2 }),
    maxQuantity: weighted<number | undefined>([
      [undefined, 2],
      [5, 1],
      [1, 1],
      [10, 1],
    ]),
    dependencies: fc.array(index(), { maxLength: 2 }),
  });
}

const unitFeatures = (features: readonly FeatureDefinition[]): string[] =>
  features.filter((f) => f.type === 'NUMERIC' || f.type === 'METERED').map((f) => f.id);
const usageFeatures = (features: readonly FeatureDefinition[]): string[] => features.filter((f) => f.type === 'METERED').map((f) => f.id);

function buildEntitlements(specs: readonly EntitlementSpec[], ctx: PlanContext): EntitlementDefinition[] {
  const out = new Map<string, EntitlementDefinition>();
  for (const spec of specs) {
    const feature = pick(ctx.features, spec.feature);
    if (feature && !out.has(feature.id)) out.set(feature.id, buildEntitlement(spec, feature, { resetPeriods: ctx.resetPeriods }));
  }
  return [...out.values()];
}

function priceContext(ctx: PlanContext, owner: 'plan' | 'addon'): PriceContext {
  return {
    currency: ctx.currency,
    billingPeriods: ctx.billingPeriods,
    models: ctx.models,
    unitFeatureIds: owner === 'plan' ? unitFeatures(ctx.features) : [],
    usageFeatureIds: owner === 'plan' ? usageFeatures(ctx.features) : [],
    usageBased: owner === 'plan' && ctx.usageBased,
    countries: ctx.countries,
    owner,
    quantityBounds: owner === 'plan',
  };
}

/**
 * A catalog refuses a USAGE_BASED price whose feature the plan gives no reset period no longer
 * than the billing period (core docs/pricing.md#usage-in-arrears): such a feature without a reset
 * period, or with YEAR, resets every MONTH here, with an unlimited entitlement when the plan had
 * none for it.
 */
function withUsageWindows(entitlements: EntitlementDefinition[], prices: readonly PriceDefinition[]): EntitlementDefinition[] {
  const out = [...entitlements];
  for (const price of prices) {
    if (price.billingModel !== 'USAGE_BASED' || price.featureId === undefined) continue;
    const i = out.findIndex((e) => e.featureId === price.featureId);
    if (i < 0) out.push({ featureId: price.featureId, isUnlimited: true, resetPeriod: 'MONTH' });
    else if (!out[i]!.resetPeriod || out[i]!.resetPeriod === 'YEAR') {
      const { resetPeriodConfiguration: _config, ...rest } = out[i]!;
      out[i] = { ...rest, resetPeriod: 'MONTH' };
    }
  }
  return out;
}

/** The add-ons of `ids` with their dependencies, in catalog order. */
function withDependencies(ids: Iterable<string>, addons: readonly AddonDefinition[]): string[] {
  const byId = new Map(addons.map((a) => [a.id, a]));
  const out = new Set<string>();
  const visit = (id: string): void => {
    if (out.has(id)) return;
    out.add(id);
    for (const d of byId.get(id)?.dependencies ?? []) visit(d);
  };
  for (const id of ids) visit(id);
  return addons.map((a) => a.id).filter((id) => out.has(id));
}

/** A plan from a spec, valid in a catalog holding `ctx`'s features and add-ons. */
export function buildPlan(spec: PlanSpec, ctx: PlanContext): PlanDefinition {
  const pricingType = pick(ctx.pricingTypes, spec.pricing) ?? 'PAID';
  const plan: PlanDefinition = { id: ctx.id, productId: ctx.productId, pricingType };
  if (spec.parent !== undefined && ctx.parentIds.length > 0) plan.parentPlanId = pick(ctx.parentIds, spec.parent);
  if (pricingType === 'PAID' || (pricingType === 'CUSTOM' && spec.customPriced)) {
    const slots = new Set<string>();
    const prices: PriceDefinition[] = [];
    for (const s of spec.prices) {
      const price = buildPrice(s, priceContext(ctx, 'plan'));
      const slot = `${price.billingPeriod} ${price.billingModel} ${price.featureId ?? ''}`;
      if (slots.has(slot)) continue;
      slots.add(slot);
      prices.push(price);
    }
    plan.prices = prices;
  }
  const entitlements = withUsageWindows(buildEntitlements(spec.entitlements, ctx), plan.prices ?? []);
  if (entitlements.length > 0) plan.entitlements = entitlements;
  if (spec.trial && ctx.trials && pricingType !== 'FREE') plan.trial = { ...spec.trial };
  const compatible = withDependencies(
    spec.addons.flatMap((i) => {
      const a = pick(ctx.addons, i);
      return a ? [a.id] : [];
    }),
    ctx.addons,
  );
  if (compatible.length > 0) plan.compatibleAddonIds = compatible;
  return plan;
}

/** An add-on from a spec: priced in every billing period of `ctx` (so it fits any plan), or free. */
export function buildAddon(spec: AddonSpec, ctx: PlanContext, earlierIds: readonly string[]): AddonDefinition {
  const addon: AddonDefinition = { id: ctx.id, productId: ctx.productId };
  const entitlements = buildEntitlements(spec.entitlements, ctx);
  if (entitlements.length > 0) addon.entitlements = entitlements;
  if (spec.priced) {
    const models = ctx.models.length > 0 ? ctx.models : PRICE_MODELS;
    addon.prices = ctx.billingPeriods.map((billingPeriod) => {
      const price = buildPrice({ ...spec.price, period: 0 }, { ...priceContext(ctx, 'addon'), billingPeriods: [billingPeriod], models });
      return price;
    });
  }
  if (spec.maxQuantity !== undefined) addon.maxQuantity = spec.maxQuantity;
  const deps = [...new Set(spec.dependencies.flatMap((i) => (earlierIds.length > 0 ? [pick(earlierIds, i)!] : [])))];
  if (deps.length > 0) addon.dependencies = deps;
  return addon;
}

export const PLAN_IDS = ['starter', 'pro', 'team', 'enterprise'];
export const ADDON_IDS = ['extra-seats', 'storage', 'support'];
export const COUPON_IDS = ['launch', 'partner', 'loyalty'];
export const planId = (product: number, i: number): string => `${product === 0 ? '' : `app-${product + 1}-`}${PLAN_IDS[i] ?? `plan-${i + 1}`}`;
export const addonId = (product: number, i: number): string => `${product === 0 ? '' : `app-${product + 1}-`}${ADDON_IDS[i] ?? `addon-${i + 1}`}`;

/** Options shared by `arbPlan` and `arbAddon`. */
export interface PlanOptions {
  id?: string;
  productId?: string;
  /** Features the plan may entitle and price; default `DEFAULT_FEATURES`. */
  features?: readonly FeatureDefinition[];
  currency?: string;
  /** Country overrides every price gets (country to currency); default none. */
  countries?: Readonly<Record<string, string>>;
  billingPeriods?: readonly BillingPeriod[];
  models?: readonly PriceModel[];
  usageBased?: boolean;
  /** Pricing types in shrinking order; default PAID, FREE, CUSTOM. */
  pricingTypes?: readonly PricingType[];
  resetPeriods?: readonly (ResetPeriod | null)[];
  /** Allow trials; default true. */
  trials?: boolean;
  /** Plans it may inherit from; default none. */
  parentPlanIds?: readonly string[];
  /** Add-ons it may list as compatible (with their dependencies); default none. */
  addons?: readonly AddonDefinition[];
}

function planContext(options: PlanOptions, id: string): PlanContext {
  return {
    id: options.id ?? id,
    productId: options.productId ?? 'app',
    features: options.features ?? DEFAULT_FEATURES,
    currency: options.currency ?? 'USD',
    countries: options.countries ?? {},
    billingPeriods: options.billingPeriods ?? ['MONTHLY', 'ANNUALLY'],
    models: options.models ?? PRICE_MODELS,
    usageBased: options.usageBased ?? true,
    pricingTypes: options.pricingTypes ?? ['PAID', 'FREE', 'CUSTOM'],
    resetPeriods: options.resetPeriods ?? DEFAULT_RESET_PERIODS,
    trials: options.trials ?? true,
    parentIds: options.parentPlanIds ?? [],
    addons: options.addons ?? [],
  };
}

/**
 * Plans of a product: PAID (1 to 4 prices, one per billing period, model and feature), FREE or
 * CUSTOM; entitlements to some of `features`; sometimes a parent among `parentPlanIds`, a trial
 * (not on FREE plans), compatible add-ons (with their dependencies). Valid in a catalog that
 * declares the features, the parents and the add-ons.
 * Shrinks to `{ id: 'starter', productId: 'app', pricingType: 'PAID',
 * prices: [{ billingPeriod: 'MONTHLY', billingModel: 'FLAT_FEE', currency: 'USD', amount: '0.00' }] }`.
 */
export function arbPlan(options: PlanOptions = {}): fc.Arbitrary<PlanDefinition> {
  const ctx = planContext(options, 'starter');
  return planSpec(ctx.currency).map((spec) => buildPlan(spec, ctx));
}

/**
 * Add-ons of a product: free, or priced in every billing period (FLAT_FEE times the quantity
 * held, or PER_UNIT / PACKAGE / tiers over the quantity), with entitlements to some of
 * `features`, sometimes a `maxQuantity`.
 * Shrinks to `{ id: 'extra-seats', productId: 'app', prices: [{ billingPeriod: 'MONTHLY',
 * billingModel: 'FLAT_FEE', currency: 'USD', amount: '0.00' }, { ...ANNUALLY }] }`.
 */
export function arbAddon(options: Omit<PlanOptions, 'pricingTypes' | 'trials' | 'parentPlanIds' | 'addons'> = {}): fc.Arbitrary<AddonDefinition> {
  const ctx = planContext(options, 'extra-seats');
  return addonSpec(ctx.currency).map((spec) => buildAddon(spec, ctx, []));
}

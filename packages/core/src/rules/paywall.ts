/**
 * The paywall: what a pricing page shows, built from the catalog alone (docs/credits.md#paywall).
 * Pure: a catalog and the viewer's country and current plans in, plain data out.
 */
import type { Catalog } from '../catalog/catalog.js';
import { isCountryCode } from '../catalog/countries.js';
import type {
  AddonDefinition,
  BillingPeriod,
  EntitlementDefinition,
  FeatureDefinition,
  FeatureType,
  Metadata,
  PlanDefinition,
  PriceDefinition,
  PricingType,
  ProductDefinition,
  TrialDefinition,
} from '../catalog/types.js';
import { BILLING_PERIODS } from '../catalog/types.js';
import { invalidArgument } from '../errors.js';
import { type ResolvedPrice, resolvePrice } from './pricing.js';

/** What a paywall says about the feature of an entitlement. */
export interface PaywallFeature {
  id: string;
  displayName: string;
  type: FeatureType;
  units: string | null;
  unitsPlural: string | null;
  metadata: Metadata;
}

/** An entitlement of a plan or add-on with its feature. */
export interface PaywallEntitlement extends EntitlementDefinition {
  feature: PaywallFeature;
}

/** A price in the viewer's billing country (`billingCountryCode` null: the base price applies). */
export type PaywallPrice = ResolvedPrice;

export interface PaywallAddon {
  id: string;
  displayName: string;
  description: string | null;
  /** null: no bound. */
  maxQuantity: number | null;
  /** Add-on ids that must be bought with it. */
  dependencies: string[];
  entitlements: PaywallEntitlement[];
  prices: PaywallPrice[];
  metadata: Metadata;
}

export interface PaywallPlan {
  id: string;
  productId: string;
  displayName: string;
  description: string | null;
  /** Position within the product (0 = lowest; a move up the order is an upgrade). */
  order: number;
  pricingType: PricingType;
  parentPlanId: string | null;
  /** One of the viewer's current plans. */
  isCurrentPlan: boolean;
  trial: TrialDefinition | null;
  /** Own and inherited entitlements (the plan overriding its parents per feature). */
  entitlements: PaywallEntitlement[];
  /** Every price, both billing periods, in declared order, resolved for the billing country. */
  prices: PaywallPrice[];
  /** The billing periods the plan is sold in (those with a price), MONTHLY first. */
  billingPeriods: BillingPeriod[];
  compatibleAddons: PaywallAddon[];
  metadata: Metadata;
}

export interface PaywallProduct {
  id: string;
  displayName: string;
  description: string | null;
  metadata: Metadata;
  /** The first of the viewer's current plans in this product (even a hidden one), or null. */
  currentPlanId: string | null;
  plans: PaywallPlan[];
}

export interface Paywall {
  billingCountryCode: string | null;
  products: PaywallProduct[];
}

/** What `buildPaywall` needs. */
export interface PaywallInput {
  catalog: Catalog;
  /** Only this product; all products (in declared order) when absent. */
  productId?: string;
  /** ISO-3166-1 alpha-2; chooses each price's country override. Base prices when absent. */
  billingCountryCode?: string | null;
  /** Include plans marked `hidden` (default false). */
  includeHiddenPlans?: boolean;
  /** The viewer's current plan ids (from their active subscriptions). */
  currentPlanIds?: readonly string[];
}

/**
 * The paywall of one product or all: plans in product order with inherited entitlements and
 * their features, prices in the billing country (its override, else the base price), trial,
 * compatible add-ons, and which plans are the viewer's. Hidden plans are left out unless
 * `includeHiddenPlans`. Display names fall back to ids.
 * Throws `INVALID_ARGUMENT` for an unknown `productId` (details.field 'productId') or a
 * malformed `billingCountryCode`.
 */
export function buildPaywall(input: PaywallInput): Paywall {
  const { catalog } = input;
  let country: string | null = null;
  if (input.billingCountryCode !== undefined && input.billingCountryCode !== null) {
    const code = typeof input.billingCountryCode === 'string' ? input.billingCountryCode.toUpperCase() : input.billingCountryCode;
    if (!isCountryCode(code)) {
      throw invalidArgument('billingCountryCode', "must be an ISO-3166-1 alpha-2 country code such as 'DE'", { value: input.billingCountryCode });
    }
    country = code;
  }
  let products: ProductDefinition[];
  if (input.productId !== undefined) {
    const product = catalog.products.get(input.productId);
    if (!product) {
      throw invalidArgument('productId', `no product '${String(input.productId)}' in the catalog`, {
        value: input.productId,
        allowed: [...catalog.products.keys()],
      });
    }
    products = [product];
  } else {
    products = [...catalog.products.values()];
  }
  const current = new Set(input.currentPlanIds ?? []);
  return {
    billingCountryCode: country,
    products: products.map((product) => {
      const all = catalog.plansOfProduct(product.id);
      const shown = input.includeHiddenPlans ? all : all.filter((p) => !p.hidden);
      return {
        id: product.id,
        displayName: product.displayName ?? product.id,
        description: product.description ?? null,
        metadata: { ...(product.metadata ?? {}) },
        currentPlanId: all.find((p) => current.has(p.id))?.id ?? null,
        plans: shown.map((plan) => paywallPlan(catalog, plan, country, current.has(plan.id))),
      };
    }),
  };
}

function paywallPlan(catalog: Catalog, plan: PlanDefinition, country: string | null, isCurrentPlan: boolean): PaywallPlan {
  const prices = localPrices(plan.prices, country);
  return {
    id: plan.id,
    productId: plan.productId,
    displayName: plan.displayName ?? plan.id,
    description: plan.description ?? null,
    order: catalog.planRank(plan.id),
    pricingType: plan.pricingType,
    parentPlanId: plan.parentPlanId ?? null,
    isCurrentPlan,
    trial: plan.trial ? { ...plan.trial } : null,
    entitlements: withFeatures(catalog, catalog.planEntitlements(plan.id)),
    prices,
    billingPeriods: BILLING_PERIODS.filter((bp) => prices.some((p) => p.billingPeriod === bp)),
    compatibleAddons: (plan.compatibleAddonIds ?? []).flatMap((id) => {
      const addon = catalog.addons.get(id);
      return addon ? [paywallAddon(catalog, addon, country)] : [];
    }),
    metadata: { ...(plan.metadata ?? {}) },
  };
}

function paywallAddon(catalog: Catalog, addon: AddonDefinition, country: string | null): PaywallAddon {
  return {
    id: addon.id,
    displayName: addon.displayName ?? addon.id,
    description: addon.description ?? null,
    maxQuantity: addon.maxQuantity ?? null,
    dependencies: [...(addon.dependencies ?? [])],
    entitlements: withFeatures(catalog, addon.entitlements ?? []),
    prices: localPrices(addon.prices, country),
    metadata: { ...(addon.metadata ?? {}) },
  };
}

function localPrices(prices: readonly PriceDefinition[] | undefined, country: string | null): PaywallPrice[] {
  return (prices ?? []).map((p) => structuredClone(resolvePrice(p, country)));
}

function withFeatures(catalog: Catalog, entitlements: readonly EntitlementDefinition[]): PaywallEntitlement[] {
  return entitlements.flatMap((e) => {
    const feature = catalog.features.get(e.featureId);
    return feature ? [{ ...structuredClone(e), feature: featureInfo(feature) }] : [];
  });
}

function featureInfo(f: FeatureDefinition): PaywallFeature {
  return {
    id: f.id,
    displayName: f.displayName ?? f.id,
    type: f.type,
    units: f.units ?? null,
    unitsPlural: f.unitsPlural ?? null,
    metadata: { ...(f.metadata ?? {}) },
  };
}

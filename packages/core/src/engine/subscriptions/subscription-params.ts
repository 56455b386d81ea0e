import type { Catalog } from '../../catalog/catalog.js';
import type { CatalogIds } from '../../catalog/ids.js';
import type { BillingPeriod, PlanDefinition, ProductDefinition } from '../../catalog/types.js';
import { BILLING_PERIODS } from '../../catalog/types.js';
import { TesseraError } from '../../errors.js';
import type { BillableFeatureQuantity, SubscriptionAddon } from '../../records.js';
import { Params } from '../runtime/params.js';
import { perUnitPrices } from '../../rules/pricing.js';

/** Parameters of `provisionSubscription` (see API.md). */
export interface ProvisionSubscriptionParams<Ids extends CatalogIds = CatalogIds> {
  customerId: string;
  planId: Ids['plan'];
  billingPeriod?: BillingPeriod;
  resourceId?: string;
  /** One quantity per PER_UNIT price of the plan in the billing period (required; docs/pricing.md#per-unit-quantities). */
  billableFeatures?: { featureId: Ids['feature']; quantity: number }[];
  /** `quantity` defaults to 1, except on an add-on priced PER_UNIT, where it is required. */
  addons?: { addonId: Ids['addon']; quantity?: number }[];
  promotionCode?: string;
  billingCountryCode?: string;
  checkoutOptions?: Record<string, unknown>;
  skipTrial?: boolean;
  startDate?: Date | string;
  metadata?: Record<string, string>;
}

/** Validated provisioning input, resolved against the latest catalog. */
export interface SubscriptionInput {
  customerId: string;
  plan: PlanDefinition;
  product: ProductDefinition;
  billingPeriod: BillingPeriod | null;
  resourceId: string;
  billableFeatures: BillableFeatureQuantity[];
  addons: SubscriptionAddon[];
  promotionCode: string | null;
  billingCountryCode: string | null;
  skipTrial: boolean;
  startDate: number | undefined;
  metadata: Record<string, string>;
}

export const SUBSCRIPTION_FIELDS = [
  'customerId',
  'planId',
  'billingPeriod',
  'resourceId',
  'billableFeatures',
  'addons',
  'promotionCode',
  'billingCountryCode',
  'checkoutOptions',
  'skipTrial',
  'startDate',
  'metadata',
];

/** ISO-3166-1 alpha-2 shape; the catalog's country list is the authority where one is given. */
export function readCountry(p: Params, key: string): string | null {
  const v = p.optString(key, 2);
  if (v === undefined || v === null) return null;
  if (!/^[A-Z]{2}$/.test(v)) p.fail(key, 'must be an ISO-3166-1 alpha-2 country code such as US or DE');
  return v;
}

/** Reads add-on quantities, checking them against the plan (compatibility, max quantity, dependencies). */
export function readAddons(p: Params, catalog: Catalog, plan: PlanDefinition): SubscriptionAddon[] {
  const addons =
    p.optArray('addons', (item, path) => {
      const a = new Params(item, path, ['addonId', 'quantity']);
      const quantity = a.optNumber('quantity', { min: 1, integer: true });
      return { addonId: a.id('addonId'), quantity: quantity ?? 1, given: quantity !== undefined };
    }) ?? [];
  const ids = new Set<string>();
  addons.forEach((a, i) => {
    const field = `${p.at('addons')}[${i}].addonId`;
    if (ids.has(a.addonId)) throw new TesseraError('INVALID_ARGUMENT', `${field}: add-on "${a.addonId}" is listed twice; give one entry with a quantity`, { field });
    ids.add(a.addonId);
    const def = catalog.addons.get(a.addonId);
    if (!def) throw new TesseraError('ADDON_NOT_FOUND', `${field}: no add-on "${a.addonId}" in the catalog`, { field, value: a.addonId });
    // Its quantity is the unit count of a PER_UNIT price: bought units are said, never defaulted.
    const perUnit = (def.prices ?? []).find((x) => x.billingModel === 'PER_UNIT');
    if (perUnit && !a.given) {
      const what = perUnit.featureId ? ` of "${perUnit.featureId}"` : '';
      throw new TesseraError('INVALID_ARGUMENT', `${p.at('addons')}[${i}].quantity: add-on "${a.addonId}" is priced per unit${what}; give the quantity bought`, {
        field: `${p.at('addons')}[${i}].quantity`,
        addonId: a.addonId,
        ...(perUnit.featureId ? { featureId: perUnit.featureId } : {}),
      });
    }
    if (!(plan.compatibleAddonIds ?? []).includes(a.addonId)) {
      throw new TesseraError('ADDON_NOT_COMPATIBLE', `${field}: add-on "${a.addonId}" is not compatible with plan "${plan.id}"`, {
        field,
        value: a.addonId,
        allowed: plan.compatibleAddonIds ?? [],
      });
    }
    if (def.maxQuantity !== undefined && a.quantity > def.maxQuantity) {
      throw new TesseraError('ADDON_QUANTITY_EXCEEDED', `${p.at('addons')}[${i}].quantity: at most ${def.maxQuantity} of "${a.addonId}"`, {
        field: `${p.at('addons')}[${i}].quantity`,
        value: a.quantity,
        max: def.maxQuantity,
      });
    }
  });
  addons.forEach((a, i) => {
    for (const dep of catalog.addons.get(a.addonId)?.dependencies ?? []) {
      if (!ids.has(dep)) {
        const field = `${p.at('addons')}[${i}].addonId`;
        throw new TesseraError('ADDON_NOT_COMPATIBLE', `${field}: add-on "${a.addonId}" requires add-on "${dep}" on the same subscription`, {
          field,
          value: a.addonId,
          requires: dep,
        });
      }
    }
  });
  return addons.map(({ addonId, quantity }) => ({ addonId, quantity }));
}

/** Reads billable feature quantities, checking each against the plan's PER_UNIT prices. */
export function readBillableFeatures(p: Params, plan: PlanDefinition, billingPeriod: BillingPeriod | null): BillableFeatureQuantity[] {
  const list =
    p.optArray('billableFeatures', (item, path) => {
      const b = new Params(item, path, ['featureId', 'quantity']);
      return { featureId: b.id('featureId'), quantity: b.number('quantity', { min: 0, integer: true }) };
    }) ?? [];
  const seen = new Set<string>();
  list.forEach((b, i) => {
    const field = `${p.at('billableFeatures')}[${i}]`;
    if (seen.has(b.featureId)) throw new TesseraError('INVALID_ARGUMENT', `${field}.featureId: "${b.featureId}" is listed twice`, { field });
    seen.add(b.featureId);
    const price = (plan.prices ?? []).find(
      (x) => x.billingModel === 'PER_UNIT' && x.featureId === b.featureId && (billingPeriod === null || x.billingPeriod === billingPeriod),
    );
    if (!price) {
      throw new TesseraError('INVALID_ARGUMENT', `${field}.featureId: plan "${plan.id}" has no per-unit price for "${b.featureId}"`, {
        field: `${field}.featureId`,
        value: b.featureId,
      });
    }
    if (price.minUnitQuantity !== undefined && b.quantity < price.minUnitQuantity) {
      throw new TesseraError('INVALID_ARGUMENT', `${field}.quantity: at least ${price.minUnitQuantity} units of "${b.featureId}"`, { field: `${field}.quantity` });
    }
    if (price.maxUnitQuantity !== undefined && b.quantity > price.maxUnitQuantity) {
      throw new TesseraError('INVALID_ARGUMENT', `${field}.quantity: at most ${price.maxUnitQuantity} units of "${b.featureId}"`, { field: `${field}.quantity` });
    }
  });
  return list;
}

/**
 * Requires a quantity for every PER_UNIT price of a paid plan in its billing period
 * (docs/pricing.md#per-unit-quantities): the quantity is what is billed and what is granted, and
 * a declared minimum is a bound, never a default. Throws INVALID_ARGUMENT naming the feature.
 */
export function requireQuantities(plan: PlanDefinition, billingPeriod: BillingPeriod | null, list: readonly BillableFeatureQuantity[], field: string): void {
  if (plan.pricingType !== 'PAID' || billingPeriod === null) return;
  for (const price of perUnitPrices(plan, billingPeriod)) {
    const featureId = price.featureId;
    if (list.some((b) => b.featureId === featureId)) continue;
    const min = price.minUnitQuantity;
    const max = price.maxUnitQuantity;
    const bounds = min !== undefined || max !== undefined ? ` (${min ?? 0} to ${max ?? 'unbounded'})` : '';
    throw new TesseraError(
      'INVALID_ARGUMENT',
      `${field}: plan "${plan.id}" is priced per unit of "${featureId}" (${billingPeriod}); give its quantity${bounds}: billableFeatures: [{ featureId: "${featureId}", quantity }]`,
      { field, featureId, ...(min !== undefined ? { min } : {}), ...(max !== undefined ? { max } : {}) },
    );
  }
}

/** Validates `provisionSubscription` params against the catalog; throws what to fix. */
export function readSubscriptionInput(params: unknown, path: string, catalog: Catalog, customerId?: string): SubscriptionInput {
  const p = new Params(params, path, SUBSCRIPTION_FIELDS);
  const cid = customerId ?? p.id('customerId');
  if (customerId !== undefined && p.has('customerId') && p.raw.customerId !== customerId) {
    p.fail('customerId', 'must match the customer being provisioned (or be left out)');
  }
  const planId = p.id('planId');
  const plan = catalog.plans.get(planId);
  if (!plan) throw new TesseraError('PLAN_NOT_FOUND', `${p.at('planId')}: no plan "${planId}" in the catalog`, { field: p.at('planId'), value: planId });
  const product = catalog.products.get(plan.productId)!;
  const billingPeriod = p.optEnum('billingPeriod', BILLING_PERIODS) ?? null;
  let period: BillingPeriod | null = null;
  if (plan.pricingType === 'PAID') {
    if (!billingPeriod) {
      throw new TesseraError('BILLING_PERIOD_REQUIRED', `${p.at('billingPeriod')}: plan "${planId}" is paid; give MONTHLY or ANNUALLY`, {
        field: p.at('billingPeriod'),
        allowed: BILLING_PERIODS,
      });
    }
    if (!(plan.prices ?? []).some((x) => x.billingPeriod === billingPeriod)) {
      throw new TesseraError('PRICE_NOT_FOUND', `${p.at('billingPeriod')}: plan "${planId}" has no ${billingPeriod} price`, {
        field: p.at('billingPeriod'),
        value: billingPeriod,
        allowed: [...new Set((plan.prices ?? []).map((x) => x.billingPeriod))],
      });
    }
    period = billingPeriod;
  }
  const resourceId = p.optId('resourceId') ?? '';
  if (resourceId !== '' && !product.multipleSubscriptions) {
    p.fail('resourceId', `product "${product.id}" has one subscription per customer; leave resourceId out`);
  }
  if (resourceId === '' && product.multipleSubscriptions) {
    p.fail('resourceId', `product "${product.id}" has one subscription per resource; give the resourceId`);
  }
  // Validity (unknown, inactive, expired, exhausted) is checked in the write, where redemptions are counted.
  const promotionCode = p.optId('promotionCode') ?? null;
  // Handed to the payment provider: a bounded JSON object like metadata (docs/conventions.md#boundary).
  if (p.optObject('checkoutOptions')) p.optJson('checkoutOptions');
  const billableFeatures = readBillableFeatures(p, plan, period);
  requireQuantities(plan, period, billableFeatures, p.at('billableFeatures'));
  return {
    customerId: cid,
    plan,
    product,
    billingPeriod: period,
    resourceId,
    billableFeatures,
    addons: readAddons(p, catalog, plan),
    promotionCode,
    billingCountryCode: readCountry(p, 'billingCountryCode'),
    skipTrial: p.optBoolean('skipTrial') ?? false,
    startDate: p.optInstant('startDate'),
    metadata: p.optMetadata('metadata') ?? {},
  };
}

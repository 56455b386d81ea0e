/**
 * The plan-change part of `updateSubscription` (docs/pricing.md#proration-options): reading a new
 * plan and the proration options, the quantities and add-ons the new plan needs, and a downgrade
 * left for the end of the billing period.
 */
import type { Catalog } from '../../catalog/catalog.js';
import type { BillingPeriod, PlanDefinition } from '../../catalog/types.js';
import { TesseraError } from '../../errors.js';
import { DOWNGRADE_TIMINGS, PRORATION_BEHAVIORS, type DowngradeTiming, type ProrationBehavior } from '../../rules/proration.js';
import type { BillableFeatureQuantity, CustomerRecord, SubscriptionAddon, SubscriptionRecord } from '../../records.js';
import type { EngineContext, WriteEffects } from '../runtime/context.js';
import type { Params } from '../runtime/params.js';
import { newRecord, scheduleDowngradeTo, type Provisioned } from './provisioning.js';

/** The fields `updateSubscription` reads for a plan change, besides its own. */
export const PLAN_CHANGE_FIELDS = ['planId', 'prorationBehavior', 'downgradeTiming', 'prorationDate'] as const;

/** A new plan for a subscription, resolved in the latest catalog. */
export interface PlanChange {
  catalog: Catalog;
  plan: PlanDefinition;
  catalogVersion: number;
  planVersion: number;
}

/** How the caller wants a change billed (rules/proration.ts ProrationBehavior, DowngradeTiming). */
export interface ChangeOptions {
  behavior: ProrationBehavior;
  timing?: DowngradeTiming;
  /** Epoch ms; checked against the current billing period where the change is prorated. */
  prorationDate?: number;
}

/**
 * Reads `planId`: undefined when absent or the subscription's own plan. Throws PLAN_NOT_FOUND for
 * an unknown plan, INVALID_ARGUMENT for a plan of another product, CONFLICT while a plan change is
 * already scheduled (it would be overtaken silently).
 */
export function readPlanChange(ctx: EngineContext, p: Params, sub: SubscriptionRecord): PlanChange | undefined {
  const planId = p.optId('planId');
  if (planId === undefined || planId === sub.planId) return undefined;
  const latest = ctx.latest();
  const plan = latest.catalog.plans.get(planId);
  const field = p.at('planId');
  if (!plan) throw new TesseraError('PLAN_NOT_FOUND', `${field}: no plan "${planId}" in the catalog`, { field, value: planId });
  if (plan.productId !== sub.productId) {
    throw new TesseraError(
      'INVALID_ARGUMENT',
      `${field}: plan "${planId}" is of product "${plan.productId}" and the subscription of product "${sub.productId}"; give a plan of "${sub.productId}" (provisionSubscription subscribes to another product)`,
      { field, value: planId, allowed: latest.catalog.plansOfProduct(sub.productId).map((x) => x.id) },
    );
  }
  if (sub.scheduledUpdates.some((u) => u.kind === 'PLAN_CHANGE')) {
    throw new TesseraError('CONFLICT', `${field}: subscription "${sub.id}" has a plan change scheduled; drop it with cancelSubscriptionScheduledUpdates first`, { field });
  }
  return { catalog: latest.catalog, plan, catalogVersion: latest.record.version, planVersion: latest.record.planVersions[planId] ?? 1 };
}

/** Reads `prorationBehavior` (default PRORATE), `downgradeTiming` and `prorationDate` (epoch ms, ISO-8601 string or Date). */
export function readChangeOptions(p: Params): ChangeOptions {
  const behavior = p.optEnum('prorationBehavior', PRORATION_BEHAVIORS) ?? 'PRORATE';
  const out: ChangeOptions = { behavior };
  const timing = p.optEnum('downgradeTiming', DOWNGRADE_TIMINGS);
  if (timing !== undefined) out.timing = timing;
  const raw = p.raw.prorationDate;
  let at: number | undefined;
  if (typeof raw === 'number') {
    // Epoch milliseconds, like every instant in records; Stripe's proration_date is in seconds.
    if (!Number.isSafeInteger(raw) || raw < 0) p.fail('prorationDate', 'must be epoch milliseconds (a non-negative integer), an ISO-8601 string or a Date');
    at = raw;
  } else {
    at = p.optInstant('prorationDate');
  }
  if (at !== undefined) {
    if (behavior === 'NONE') p.fail('prorationDate', "nothing is prorated with prorationBehavior 'NONE'; leave prorationDate out");
    out.prorationDate = at;
  }
  return out;
}

/**
 * Refuses options that a change made now cannot honour (INVALID_ARGUMENT): a `prorationDate` when
 * nothing is prorated or with a new billing period (prorated at the call), and `NONE` with a new
 * billing period, whose first period would then never be billed (docs/pricing.md#proration-options).
 */
export function checkChangeOptions(p: Params, options: ChangeOptions, change: { billed: boolean; billingPeriodChanged: boolean; what: string }): void {
  if (!change.billed && options.prorationDate !== undefined) p.fail('prorationDate', `nothing is prorated: ${change.what} is not in a billed period`);
  if (change.billingPeriodChanged && options.prorationDate !== undefined) {
    p.fail('prorationDate', 'a billing period change is prorated at the time of the call; give prorationDate or a new billingPeriod, not both');
  }
  if (change.billingPeriodChanged && options.behavior === 'NONE') {
    p.fail('prorationBehavior', "a billing period change bills the new period's remaining time; use 'PRORATE' or 'INVOICE_NOW' with it");
  }
}

/**
 * Checks that the new plan bills the way the subscription does: a billed subscription needs a
 * price for its billing period (PRICE_NOT_FOUND), an unbilled one cannot move to a paid plan
 * (that starts a cycle: provisionSubscription).
 */
export function requireSameBilling(p: Params, plan: PlanDefinition, billingPeriod: BillingPeriod | null): void {
  if (billingPeriod === null) {
    if (plan.pricingType === 'PAID') p.fail('planId', `plan "${plan.id}" is paid and the subscription has no billing period; provisionSubscription starts a paid subscription`);
    return;
  }
  if (!(plan.prices ?? []).some((x) => x.billingPeriod === billingPeriod)) {
    const field = p.at('planId');
    throw new TesseraError(
      'PRICE_NOT_FOUND',
      `${field}: plan "${plan.id}" has no ${billingPeriod} price; give a billingPeriod it has, or move to an unpaid plan with provisionSubscription or cancelSubscription`,
      { field, value: plan.id, allowed: [...new Set((plan.prices ?? []).map((x) => x.billingPeriod))] },
    );
  }
}

/** Throws ADDON_NOT_COMPATIBLE for a kept add-on the new plan does not allow. */
export function requireCompatibleAddons(p: Params, plan: PlanDefinition, addons: readonly SubscriptionAddon[]): void {
  const allowed = plan.compatibleAddonIds ?? [];
  const bad = addons.find((a) => !allowed.includes(a.addonId));
  if (!bad) return;
  const field = p.at('addons');
  throw new TesseraError(
    'ADDON_NOT_COMPATIBLE',
    `${field}: add-on "${bad.addonId}" is not compatible with plan "${plan.id}"; give addons without it in the same call`,
    { field, value: bad.addonId, allowed },
  );
}

/**
 * The quantities a subscription has on its new plan: one per feature of the plan's PER_UNIT prices
 * for `billingPeriod`, from the call or kept from the subscription; quantities of features the new
 * plan does not bill per unit are dropped. Throws INVALID_ARGUMENT naming a feature without a
 * quantity, or a kept quantity outside the new price's bounds.
 */
export function quantitiesForPlan(p: Params, plan: PlanDefinition, billingPeriod: BillingPeriod | null, quantities: readonly BillableFeatureQuantity[]): BillableFeatureQuantity[] {
  if (billingPeriod === null) return [];
  const out: BillableFeatureQuantity[] = [];
  for (const price of plan.prices ?? []) {
    if (price.billingModel !== 'PER_UNIT' || price.billingPeriod !== billingPeriod || !price.featureId) continue;
    const featureId = price.featureId;
    if (out.some((b) => b.featureId === featureId)) continue;
    const q = quantities.find((b) => b.featureId === featureId);
    if (!q) p.fail('billableFeatures', `plan "${plan.id}" bills "${featureId}" per unit; give its quantity ({ featureId: '${featureId}', quantity })`, { featureId });
    const min = price.minUnitQuantity ?? 0;
    const max = price.maxUnitQuantity ?? Infinity;
    if (q.quantity < min || q.quantity > max) {
      p.fail('billableFeatures', `the ${q.quantity} units of "${featureId}" kept from the current plan are outside plan "${plan.id}"'s ${min} to ${max}; give its quantity`, { featureId });
    }
    out.push({ featureId, quantity: q.quantity });
  }
  return out;
}

/**
 * Leaves a downgrade for the end of the billing period the way provisionSubscription does
 * (docs/pricing.md#upgrades-downgrades-and-changes): `sub` ends then and a subscription to the new
 * plan, with the quantities, add-ons and metadata of `next`, starts then on the same cycle.
 */
export async function scheduleUpdatedPlan(
  ctx: EngineContext,
  fx: WriteEffects,
  sub: SubscriptionRecord,
  next: SubscriptionRecord,
  plan: PlanDefinition,
  customer: CustomerRecord,
): Promise<Provisioned> {
  const rec = newRecord(ctx, { customerId: sub.customerId, plan, resourceId: sub.resourceId, start: fx.now, now: fx.now, usageAnchor: sub.usageAnchor });
  rec.billingPeriod = next.billingPeriod;
  rec.addons = next.addons;
  rec.billableFeatures = next.billableFeatures;
  rec.promotionCode = next.promotionCode;
  rec.billingCountryCode = sub.billingCountryCode;
  rec.metadata = next.metadata;
  return scheduleDowngradeTo(ctx, fx, sub, rec, customer);
}

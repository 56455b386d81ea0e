/**
 * Validation of USAGE_BASED prices against the usage windows that bill them
 * (docs/pricing.md#usage-in-arrears): usage is billed by the reset windows that start within a
 * billing period, so a feature with no reset period is never billed (0.00), and a window longer
 * than the billing period bills one period's usage in another. Both are refused here rather
 * than billed silently wrong. Runs after plans and add-ons are checked. Also the rule of an
 * entitlement's `rollover` of unused usage allowance (checkRollover, docs/rollovers.md), which the
 * entitlement checks call. Internal to the catalog.
 */
import type { Ctx, Entry, Rec } from './validate-context.js';
import { isRecord, report, show } from './validate-context.js';
import { MAX_ROLLOVER_EXPIRES_AFTER, RESET_PERIODS, type ResetPeriod } from './types.js';

/** The longest reset period whose windows still fit in each billing period. */
const LONGEST_RESET: Record<string, ResetPeriod> = { MONTHLY: 'MONTH', ANNUALLY: 'YEAR' };

/** A plan's or add-on's entitlement of one feature, with where it was declared. */
interface Found {
  resetPeriod: ResetPeriod | null;
  path: string;
}

/** Checks every USAGE_BASED price of the plans and add-ons. */
export function checkUsagePrices(ctx: Ctx): void {
  const compatiblePlans = new Map<string, Entry[]>();
  for (const plan of ctx.plans.values()) {
    const ids = plan.item.compatibleAddonIds;
    if (!Array.isArray(ids)) continue;
    for (const id of ids) if (typeof id === 'string') compatiblePlans.set(id, [...(compatiblePlans.get(id) ?? []), plan]);
  }
  for (const plan of ctx.plans.values()) {
    forEachUsagePrice(ctx, plan, (price, path, featureId) => {
      const found = planEntitlement(ctx, plan, featureId);
      checkWindow(ctx, path, price, featureId, found, `plan "${String(plan.item.id)}"`, `${plan.path}.entitlements`);
    });
  }
  for (const addon of ctx.addons.values()) {
    forEachUsagePrice(ctx, addon, (price, path, featureId) => {
      const own = entitlementIn(addon, featureId);
      const plans = compatiblePlans.get(String(addon.item.id)) ?? [];
      // With no plan to sit on, the add-on's own entitlement is all there is.
      if (plans.length === 0 || own?.resetPeriod) {
        checkWindow(ctx, path, price, featureId, own, `add-on "${String(addon.item.id)}"`, `${addon.path}.entitlements`);
        return;
      }
      // The add-on gives the feature no window of its own: each plan it can be bought with must.
      for (const plan of plans) {
        const found = planEntitlement(ctx, plan, featureId);
        const where = `plan "${String(plan.item.id)}" (which add-on "${String(addon.item.id)}" is sold with)`;
        checkWindow(ctx, path, price, featureId, found, where, `${addon.path}.entitlements or ${plan.path}.entitlements`);
      }
    });
  }
}

function forEachUsagePrice(ctx: Ctx, owner: Entry, fn: (price: Rec, path: string, featureId: string) => void): void {
  const prices = owner.item.prices;
  if (!Array.isArray(prices)) return;
  prices.forEach((price, i) => {
    if (!isRecord(price) || price.billingModel !== 'USAGE_BASED' || typeof price.featureId !== 'string') return;
    // A price on an unknown or non-METERED feature is reported by the price checks already.
    if (ctx.features.get(price.featureId)?.item.type !== 'METERED') return;
    fn(price, `${owner.path}.prices[${i}]`, price.featureId);
  });
}

function checkWindow(ctx: Ctx, path: string, price: Rec, featureId: string, found: Found | undefined, where: string, addTo: string): void {
  const period = typeof price.billingPeriod === 'string' ? LONGEST_RESET[price.billingPeriod] : undefined;
  if (!found?.resetPeriod) {
    report(
      ctx,
      `${path}.featureId`,
      `bills the usage of "${featureId}" per reset window, but ${where} gives "${featureId}" ${found ? `no resetPeriod (${found.path})` : 'no entitlement'}, so its usage would bill 0.00: add an entitlement with a resetPeriod${period ? ` of ${period} or shorter` : ''} to ${addTo}`,
    );
    return;
  }
  if (period && RESET_PERIODS.indexOf(found.resetPeriod) > RESET_PERIODS.indexOf(period)) {
    report(
      ctx,
      `${path}.billingPeriod`,
      `bills the usage of "${featureId}" ${String(price.billingPeriod)} but ${found.path} resets it every ${found.resetPeriod}, so one billing period would bill the usage of another: use a resetPeriod of ${period} or shorter, or bill ${found.resetPeriod === 'YEAR' ? 'ANNUALLY' : 'less often'}`,
    );
  }
}

/** The feature's entitlement of an add-on, or of a plan itself without its parents. */
function entitlementIn(owner: Entry, featureId: string): Found | undefined {
  const list = owner.item.entitlements;
  if (!Array.isArray(list)) return undefined;
  const i = list.findIndex((e) => isRecord(e) && e.featureId === featureId);
  if (i < 0) return undefined;
  const e = list[i] as Rec;
  const reset = typeof e.resetPeriod === 'string' && (RESET_PERIODS as readonly string[]).includes(e.resetPeriod) ? (e.resetPeriod as ResetPeriod) : null;
  return { resetPeriod: reset, path: `${owner.path}.entitlements[${i}]` };
}

/** The feature's entitlement of a plan, inherited from its parents when it declares none (the child's wins). */
function planEntitlement(ctx: Ctx, plan: Entry, featureId: string): Found | undefined {
  const seen = new Set<Entry>();
  for (let at: Entry | undefined = plan; at && !seen.has(at); ) {
    seen.add(at);
    const found = entitlementIn(at, featureId);
    if (found) return found;
    const parent: unknown = at.item.parentPlanId;
    at = typeof parent === 'string' ? ctx.plans.get(parent) : undefined;
  }
  return undefined;
}

/**
 * `rollover: { max, expiresAfter }` of a METERED entitlement (docs/rollovers.md): `max` an integer
 * >= 0, `expiresAfter` an integer in [1, MAX_ROLLOVER_EXPIRES_AFTER], and only on a bounded
 * entitlement with a resetPeriod (unused allowance is judged per window, against a limit).
 */
export function checkRollover(ctx: Ctx, e: Rec, path: string): void {
  const r = e.rollover;
  if (!isRecord(r)) {
    report(ctx, path, `must be an object such as { max: 50, expiresAfter: 2 } (got ${show(r)})`);
    return;
  }
  if (e.isUnlimited === true) report(ctx, path, 'an unlimited entitlement has no unused allowance to carry: remove isUnlimited or rollover');
  if (e.resetPeriod === undefined || e.resetPeriod === null) {
    report(ctx, path, 'needs a resetPeriod on the entitlement: unused allowance carries from one usage window to the next, and without a reset there is one window for all time');
  }
  if (!Number.isSafeInteger(r.max) || (r.max as number) < 0) report(ctx, `${path}.max`, `must be an integer >= 0, the most units the carried balance may hold (got ${show(r.max)})`);
  const after = r.expiresAfter;
  if (!Number.isSafeInteger(after) || (after as number) < 1 || (after as number) > MAX_ROLLOVER_EXPIRES_AFTER) {
    report(ctx, `${path}.expiresAfter`, `must be an integer from 1 to ${MAX_ROLLOVER_EXPIRES_AFTER}, the number of following windows a carried amount may be used in (got ${show(after)})`);
  }
}

/**
 * Validation of plans and add-ons: product, parent chain, pricing type, trial, compatible
 * add-ons, dependencies, and (through the feature and price validators) their entitlements and
 * prices. Internal to the catalog.
 */
import type { Ctx, Entry, Rec } from './validate-context.js';
import {
  checkOneOf,
  checkPlainFields,
  checkRef,
  checkRefList,
  findCycles,
  isPositiveInteger,
  isRecord,
  listField,
  report,
  show,
} from './validate-context.js';
import { checkCreditGrants } from './validate-credit-grants.js';
import { checkEntitlements } from './validate-features.js';
import { checkPrices } from './validate-prices.js';

const PRICING_TYPES = ['FREE', 'PAID', 'CUSTOM'] as const;
const TRIAL_ENDS = ['CONVERT_TO_PAID', 'DOWNGRADE'] as const;

/** Checks every plan, then the parent chains across plans. */
export function checkPlans(ctx: Ctx, plans: readonly unknown[]): void {
  plans.forEach((raw, i) => {
    if (isRecord(raw)) checkPlan(ctx, raw, `plans[${i}]`);
  });
  checkParentCycles(ctx);
}

function checkPlan(ctx: Ctx, plan: Rec, path: string): void {
  checkPlainFields(ctx, plan, path, { strings: ['displayName', 'description'], booleans: ['hidden'], metadata: true });
  const product = checkRef(ctx, plan, 'productId', path, ctx.products, 'product', true);
  const productId = product ? plan.productId : undefined;

  if (plan.parentPlanId !== undefined) {
    const parent = checkRef(ctx, plan, 'parentPlanId', path, ctx.plans, 'plan', false);
    // A parent whose own product is unknown is reported at the parent; saying more here is noise.
    const parentProduct = parent?.item.productId;
    if (parent && productId !== undefined && typeof parentProduct === 'string' && ctx.products.has(parentProduct) && parentProduct !== productId)
      report(
        ctx,
        `${path}.parentPlanId`,
        `plan "${String(plan.parentPlanId)}" belongs to product ${show(parent.item.productId)}, not "${String(productId)}": a plan inherits only from a plan of its own product`,
      );
  }

  const pricingType = checkOneOf(ctx, plan, 'pricingType', path, PRICING_TYPES, true);
  checkEntitlements(ctx, listField(ctx, plan, 'entitlements', path, false), `${path}.entitlements`);
  checkCreditGrants(ctx, listField(ctx, plan, 'creditGrants', path, false), `${path}.creditGrants`);
  const prices = listField(ctx, plan, 'prices', path, false);
  checkPrices(ctx, prices, `${path}.prices`, 'plan');
  if (pricingType === 'PAID' && prices.length === 0 && (plan.prices === undefined || Array.isArray(plan.prices)))
    report(ctx, `${path}.prices`, 'a PAID plan needs at least one price (or make it FREE or CUSTOM)');
  if (pricingType === 'FREE' && prices.length > 0)
    report(ctx, `${path}.prices`, 'a FREE plan has no prices: remove them or make the plan PAID');

  if (plan.trial !== undefined) {
    const at = `${path}.trial`;
    if (!isRecord(plan.trial)) report(ctx, at, 'must be an object { days, onEnd }');
    else {
      if (pricingType === 'FREE') report(ctx, at, 'a FREE plan cannot have a trial: remove it or make the plan PAID');
      if (!isPositiveInteger(plan.trial.days)) report(ctx, `${at}.days`, `must be a positive integer (got ${show(plan.trial.days)})`);
      checkOneOf(ctx, plan.trial, 'onEnd', at, TRIAL_ENDS, true);
    }
  }

  const compatible = checkRefList(ctx, plan, 'compatibleAddonIds', path, ctx.addons, 'add-on');
  const compatibleIds = new Set(compatible.map((c) => c.entry.item.id));
  for (const { entry, path: at } of compatible) {
    const addonProduct = entry.item.productId;
    if (productId !== undefined && typeof addonProduct === 'string' && ctx.products.has(addonProduct) && addonProduct !== productId) {
      report(ctx, at, `add-on "${String(entry.item.id)}" belongs to product "${addonProduct}", not "${String(productId)}"`);
      continue;
    }
    // An add-on whose dependency the plan does not accept could never be added to it.
    // (A dependency on another product's add-on is reported at the add-on.)
    const missing = dependencyIds(ctx, entry).filter((d) => !compatibleIds.has(d) && ctx.addons.get(d)?.item.productId === productId);
    if (missing.length > 0)
      report(ctx, at, `add-on "${String(entry.item.id)}" depends on ${missing.map((d) => `"${d}"`).join(', ')}, which this plan does not list as compatible`);
  }
}

function dependencyIds(ctx: Ctx, addon: Entry): string[] {
  const deps = addon.item.dependencies;
  return Array.isArray(deps) ? deps.filter((d): d is string => typeof d === 'string' && ctx.addons.has(d)) : [];
}

/** Each parent cycle once, at its first plan, naming the plans in chain order. */
function checkParentCycles(ctx: Ctx): void {
  const parentOf = (id: string): string[] => {
    const parent = ctx.plans.get(id)?.item.parentPlanId;
    return typeof parent === 'string' && ctx.plans.has(parent) ? [parent] : [];
  };
  for (const cycle of findCycles([...ctx.plans.keys()], parentOf)) {
    const start = cycle[0];
    const entry = start === undefined ? undefined : ctx.plans.get(start);
    if (start === undefined || !entry) continue;
    const chain = [start];
    for (let id = parentOf(start)[0]; id !== undefined && id !== start; id = parentOf(id)[0]) chain.push(id);
    chain.push(start);
    report(
      ctx,
      `${entry.path}.parentPlanId`,
      `parent plans form a cycle (${chain.map((id) => `"${id}"`).join(' -> ')}): break it, a plan cannot inherit from itself`,
    );
  }
}

/** Checks every add-on, then the dependency graph across add-ons. */
export function checkAddons(ctx: Ctx, addons: readonly unknown[]): void {
  addons.forEach((raw, i) => {
    if (!isRecord(raw)) return;
    const path = `addons[${i}]`;
    checkPlainFields(ctx, raw, path, { strings: ['displayName', 'description'], metadata: true });
    const product = checkRef(ctx, raw, 'productId', path, ctx.products, 'product', true);
    checkEntitlements(ctx, listField(ctx, raw, 'entitlements', path, false), `${path}.entitlements`);
    checkCreditGrants(ctx, listField(ctx, raw, 'creditGrants', path, false), `${path}.creditGrants`);
    checkPrices(ctx, listField(ctx, raw, 'prices', path, false), `${path}.prices`, 'addon');
    if (raw.maxQuantity !== undefined && !isPositiveInteger(raw.maxQuantity))
      report(ctx, `${path}.maxQuantity`, `must be a positive integer, or left out for no bound (got ${show(raw.maxQuantity)})`);
    for (const dep of checkRefList(ctx, raw, 'dependencies', path, ctx.addons, 'add-on')) {
      const depProduct = dep.entry.item.productId;
      // A subscription is to one product, so a dependency on another product's add-on can never be met.
      if (product && typeof depProduct === 'string' && ctx.products.has(depProduct) && depProduct !== raw.productId)
        report(ctx, dep.path, `add-on "${String(dep.entry.item.id)}" belongs to product "${depProduct}", not "${String(raw.productId)}"`);
    }
  });

  const dependsOn = (id: string): string[] => {
    const entry = ctx.addons.get(id);
    return entry ? dependencyIds(ctx, entry) : [];
  };
  for (const cycle of findCycles([...ctx.addons.keys()], dependsOn)) {
    const entry = cycle[0] === undefined ? undefined : ctx.addons.get(cycle[0]);
    if (!entry) continue;
    report(
      ctx,
      `${entry.path}.dependencies`,
      `add-ons depend on each other in a cycle (${cycle.map((id) => `"${id}"`).join(', ')}): remove one of these dependencies`,
    );
  }
}

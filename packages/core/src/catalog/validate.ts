import { isCountryCode } from './countries.js';
import { Decimal } from '../money.js';
import type { CatalogDefinition } from './types.js';
import type { Ctx, Entry } from './validate-context.js';
import {
  checkAmount,
  checkCurrency,
  checkOneOf,
  checkPlainFields,
  checkRef,
  isDecimal,
  isPositiveInteger,
  isRecord,
  listField,
  newContext,
  report,
  show,
} from './validate-context.js';
import { checkFeatures } from './validate-features.js';
import { checkAddons, checkPlans } from './validate-plans.js';
import { checkUsagePrices } from './validate-usage.js';
import { shapeProblems } from './validate-shape.js';

/** One thing wrong in a catalog: where (a dotted path such as `plans[2].entitlements[0].usageLimit`) and what to fix. */
export interface CatalogProblem {
  path: string;
  message: string;
}

const CANCELLATION_TIMES = ['IMMEDIATE', 'END_OF_BILLING_PERIOD'] as const;
const START_WITH = ['FREE_PLAN', 'TRIAL', 'NONE'] as const;
const COUPON_TYPES = ['PERCENTAGE', 'FIXED'] as const;

/**
 * Every problem in a catalog definition, all at once (empty when valid). Pure; never throws,
 * whatever it is given (a catalog parsed from JSON may hold anything).
 *
 * Paths are dotted from the catalog root (`plans[2].prices[0].currency`); messages say what to
 * fix. `docs/catalog.md` lists the rules.
 */
export function validateCatalog(def: CatalogDefinition): CatalogProblem[] {
  return catalogProblems(def, { unknownFields: true });
}

/**
 * `validateCatalog`, optionally without the unknown-field rule: a version stored before that rule
 * existed was valid when published and must still load (not exported from the package).
 */
export function catalogProblems(def: CatalogDefinition, opts: { unknownFields: boolean }): CatalogProblem[] {
  const raw: unknown = def;
  if (!isRecord(raw)) return [{ path: 'catalog', message: `must be an object { features, products, plans, ... } (got ${show(raw)})` }];
  const ctx = newContext();

  const features = listField(ctx, raw, 'features', '', true);
  const products = listField(ctx, raw, 'products', '', true);
  const plans = listField(ctx, raw, 'plans', '', true);
  const addons = listField(ctx, raw, 'addons', '', false);
  const coupons = listField(ctx, raw, 'coupons', '', false);
  const promotionCodes = listField(ctx, raw, 'promotionCodes', '', false);
  const taxRates = listField(ctx, raw, 'taxRates', '', false);
  const creditCurrencies = listField(ctx, raw, 'creditCurrencies', '', false);

  // First pass: every id, so that references resolve whatever the declaration order.
  indexIds(ctx, features, 'features', 'feature', ctx.features);
  indexIds(ctx, products, 'products', 'product', ctx.products);
  indexIds(ctx, plans, 'plans', 'plan', ctx.plans);
  indexIds(ctx, addons, 'addons', 'add-on', ctx.addons);
  indexIds(ctx, coupons, 'coupons', 'coupon', ctx.coupons);
  indexIds(ctx, creditCurrencies, 'creditCurrencies', 'credit currency', ctx.creditCurrencies);
  // Subscriptions, invoices and paywalls name plans and add-ons by id alone.
  for (const [id, addon] of ctx.addons) {
    const plan = ctx.plans.get(id);
    if (plan) report(ctx, `${addon.path}.id`, `"${id}" is already the id of ${plan.path}: plans and add-ons need distinct ids`);
  }

  checkFeatures(ctx, features);
  checkProducts(ctx, products);
  checkPlans(ctx, plans);
  checkAddons(ctx, addons);
  checkUsagePrices(ctx);
  checkCoupons(ctx, coupons);
  checkPromotionCodes(ctx, promotionCodes);
  checkTaxRates(ctx, taxRates);
  checkCreditCurrencies(ctx, creditCurrencies);
  return withShapeProblems(ctx.problems, raw, opts.unknownFields);
}

/**
 * The hand-written problems, then the schema's that they do not already cover: every unknown
 * field, and a shape problem only where no hand-written problem sits at, above or below its path
 * (theirs say more about what to write; the schema catches what they have no rule for).
 */
function withShapeProblems(problems: CatalogProblem[], raw: unknown, unknownFields: boolean): CatalogProblem[] {
  const covered = (path: string): boolean => problems.some((p) => within(p.path, path) || within(path, p.path));
  for (const s of shapeProblems(raw)) {
    // An unknown field a hand-written rule names at its own path (a rollover inside `limits`) is reported once, with that rule's advice.
    if (s.unknownField ? unknownFields && !problems.some((p) => p.path === s.path) : !covered(s.path)) problems.push({ path: s.path, message: s.message });
  }
  return problems;
}

/** True when `inner` is `outer` or a path below it (`plans[0].prices` is within `plans[0]`). */
function within(inner: string, outer: string): boolean {
  if (!inner.startsWith(outer)) return false;
  const next = inner[outer.length];
  return next === undefined || next === '.' || next === '[';
}

function indexIds(ctx: Ctx, list: readonly unknown[], name: string, what: string, into: Map<string, Entry>): void {
  list.forEach((item, index) => {
    const path = `${name}[${index}]`;
    if (!isRecord(item)) {
      report(ctx, path, `must be an object with an id (got ${show(item)})`);
      return;
    }
    const id = item.id;
    const at = `${path}.id`;
    if (id === undefined) report(ctx, at, `is required: give the ${what} a unique id`);
    else if (typeof id !== 'string') report(ctx, at, `must be a string (got ${show(id)})`);
    else if (id.trim() === '') report(ctx, at, 'must not be empty');
    else {
      const first = into.get(id);
      if (first) report(ctx, at, `"${id}" is already the id of ${first.path}: ${what} ids must be unique`);
      else into.set(id, { item, path, index });
    }
  });
}

function checkProducts(ctx: Ctx, products: readonly unknown[]): void {
  products.forEach((product, i) => {
    if (!isRecord(product)) return;
    const path = `products[${i}]`;
    checkPlainFields(ctx, product, path, { strings: ['displayName', 'description'], booleans: ['multipleSubscriptions'], metadata: true });
    checkOneOf(ctx, product, 'cancellationTime', path, CANCELLATION_TIMES, false);
    const startWith = checkOneOf(ctx, product, 'startWith', path, START_WITH, false);

    const planOfProduct = (key: string): Entry | undefined => {
      const plan = checkRef(ctx, product, key, path, ctx.plans, 'plan', false);
      const planProduct = plan?.item.productId;
      // A plan whose own product is unknown is reported at the plan; saying more here is noise.
      if (plan && typeof product.id === 'string' && typeof planProduct === 'string' && ctx.products.has(planProduct) && planProduct !== product.id) {
        report(
          ctx,
          `${path}.${key}`,
          `plan "${String(product[key])}" belongs to product "${planProduct}": pick a plan of "${product.id}"`,
        );
        return undefined;
      }
      return plan;
    };
    const defaultPlan = planOfProduct('defaultPlanId');
    planOfProduct('downgradePlanId');
    const trialPlan = planOfProduct('trialPlanId');

    if (startWith === 'FREE_PLAN') {
      if (product.defaultPlanId === undefined)
        report(ctx, `${path}.defaultPlanId`, 'is required with startWith FREE_PLAN: name the FREE plan given on sign-up');
      else if (defaultPlan && defaultPlan.item.pricingType !== 'FREE')
        report(ctx, `${path}.defaultPlanId`, `startWith FREE_PLAN needs a FREE default plan; "${String(product.defaultPlanId)}" is ${show(defaultPlan.item.pricingType)}`);
    }
    if (startWith === 'TRIAL') {
      if (product.trialPlanId !== undefined) {
        if (trialPlan && !isRecord(trialPlan.item.trial))
          report(ctx, `${path}.trialPlanId`, `startWith TRIAL needs a plan with a trial; "${String(product.trialPlanId)}" has none`);
      } else if (product.defaultPlanId === undefined) {
        report(ctx, `${path}.startWith`, 'TRIAL needs trialPlanId (or defaultPlanId) naming a plan with a trial');
      } else if (defaultPlan && !isRecord(defaultPlan.item.trial)) {
        report(ctx, `${path}.startWith`, `TRIAL needs trialPlanId, or a default plan with a trial; "${String(product.defaultPlanId)}" has none`);
      }
    }
  });
}

function checkCoupons(ctx: Ctx, coupons: readonly unknown[]): void {
  coupons.forEach((coupon, i) => {
    if (!isRecord(coupon)) return;
    const path = `coupons[${i}]`;
    checkPlainFields(ctx, coupon, path, { strings: ['name'], metadata: true });
    const type = checkOneOf(ctx, coupon, 'type', path, COUPON_TYPES, true);
    const value = coupon.value;
    if (type === 'PERCENTAGE') {
      if (!isDecimal(value) || !(Number(value) > 0 && Number(value) <= 100))
        report(ctx, `${path}.value`, `a PERCENTAGE coupon needs a decimal string above 0 and at most 100, such as "20" (got ${show(value)})`);
    } else if (type === 'FIXED') {
      checkAmount(ctx, value, `${path}.value`, { required: true, positive: true });
      checkCurrency(ctx, coupon.currency, `${path}.currency`);
    } else if (value !== undefined && !isDecimal(value)) {
      report(ctx, `${path}.value`, `must be a decimal string (got ${show(value)})`);
    }
    if (coupon.durationInMonths !== undefined && !isPositiveInteger(coupon.durationInMonths))
      report(ctx, `${path}.durationInMonths`, `must be a positive integer, or left out for a coupon that lasts forever (got ${show(coupon.durationInMonths)})`);
  });
}

function checkPromotionCodes(ctx: Ctx, codes: readonly unknown[]): void {
  const seen = new Map<string, string>();
  codes.forEach((promo, i) => {
    const path = `promotionCodes[${i}]`;
    if (!isRecord(promo)) {
      report(ctx, path, `must be an object { code, couponId, ... } (got ${show(promo)})`);
      return;
    }
    const code = promo.code;
    if (typeof code !== 'string' || code.trim() === '') report(ctx, `${path}.code`, `is required: a non-empty string (got ${show(code)})`);
    else if (seen.has(code)) report(ctx, `${path}.code`, `"${code}" is already the code of ${seen.get(code) ?? ''}: codes must be unique`);
    else seen.set(code, path);
    checkRef(ctx, promo, 'couponId', path, ctx.coupons, 'coupon', true);
    if (promo.expiresAt !== undefined && !isIsoInstant(promo.expiresAt))
      report(ctx, `${path}.expiresAt`, `must be an ISO-8601 date or UTC date-time such as "2026-01-31" or "2026-01-31T23:59:59Z" (got ${show(promo.expiresAt)})`);
    if (promo.maxRedemptions !== undefined && !isPositiveInteger(promo.maxRedemptions))
      report(ctx, `${path}.maxRedemptions`, `must be a positive integer, or left out for no bound (got ${show(promo.maxRedemptions)})`);
    checkPlainFields(ctx, promo, path, { booleans: ['active'] });
  });
}

const ISO_INSTANT = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(?:Z|[+-](\d{2}):(\d{2})))?$/;

/**
 * A calendar date (UTC midnight) or a date-time with an explicit offset. A date-time without one
 * is refused: JavaScript would read it in the server's time zone, and all instants are UTC.
 */
function isIsoInstant(v: unknown): boolean {
  if (typeof v !== 'string') return false;
  const m = ISO_INSTANT.exec(v);
  if (!m) return false;
  const [y, mo, d, h = 0, mi = 0, s = 0, oh = 0, om = 0] = m.slice(1).map((x) => (x === undefined ? undefined : Number(x)));
  if (y === undefined || mo === undefined || d === undefined) return false;
  const day = new Date(Date.UTC(y, mo - 1, d));
  // Date.UTC rolls Feb 30 over to Mar 1, so a round trip catches days a month does not have.
  if (day.getUTCFullYear() !== y || day.getUTCMonth() !== mo - 1 || day.getUTCDate() !== d) return false;
  return h < 24 && mi < 60 && s < 60 && oh < 24 && om < 60;
}

function checkTaxRates(ctx: Ctx, rates: readonly unknown[]): void {
  const seen = new Map<string, string>();
  rates.forEach((rate, i) => {
    const path = `taxRates[${i}]`;
    if (!isRecord(rate)) {
      report(ctx, path, `must be an object { countryCode, rate } (got ${show(rate)})`);
      return;
    }
    const country = rate.countryCode;
    if (!isCountryCode(country))
      report(ctx, `${path}.countryCode`, `must be an ISO-3166-1 alpha-2 country code such as "DE" (got ${show(country)})`);
    else if (seen.has(country)) report(ctx, `${path}.countryCode`, `"${country}" already has a rate at ${seen.get(country) ?? ''}: keep one`);
    else seen.set(country, path);
    const r = rate.rate;
    if (!isDecimal(r) || Number(r) < 0 || Number(r) >= 1)
      report(ctx, `${path}.rate`, `must be a decimal fraction from 0 up to (not including) 1, such as "0.20" for 20% (got ${show(r)})`);
  });
}

function checkCreditCurrencies(ctx: Ctx, currencies: readonly unknown[]): void {
  currencies.forEach((currency, i) => {
    if (!isRecord(currency)) return;
    const path = `creditCurrencies[${i}]`;
    checkPlainFields(ctx, currency, path, { strings: ['displayName'] });
    if (currency.alerts !== undefined) checkBalanceAlerts(ctx, currency.alerts, `${path}.alerts`);
    const price = currency.unitPrice;
    if (price === undefined) return;
    if (!isRecord(price)) report(ctx, `${path}.unitPrice`, 'must be an object { amount, currency }');
    else {
      checkAmount(ctx, price.amount, `${path}.unitPrice.amount`, { required: true, positive: true });
      checkCurrency(ctx, price.currency, `${path}.unitPrice.currency`);
    }
  });
}

/** `alerts: { balanceBelow: ['100', '10'] }`: distinct positive decimal strings (docs/alerts.md). */
function checkBalanceAlerts(ctx: Ctx, alerts: unknown, path: string): void {
  if (!isRecord(alerts) || Object.keys(alerts).some((k) => k !== 'balanceBelow')) {
    report(ctx, path, `must be { balanceBelow: ['100'] } (got ${show(alerts)})`);
    return;
  }
  const list = alerts.balanceBelow;
  if (!Array.isArray(list) || list.length === 0 || list.length > 20) {
    report(ctx, `${path}.balanceBelow`, 'must be an array of 1 to 20 balances as decimal strings, such as ["100"]');
    return;
  }
  const seen = new Set<string>();
  list.forEach((x, i) => {
    const at = `${path}.balanceBelow[${i}]`;
    const amount = checkAmount(ctx, x, at, { required: true, positive: true });
    if (amount === undefined) return;
    const canonical = new Decimal(amount).toString();
    if (seen.has(canonical)) report(ctx, at, `${amount} is listed twice: remove one`);
    seen.add(canonical);
  });
}

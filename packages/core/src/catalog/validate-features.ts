/**
 * Validation of features (types, enum values, meters, credit costs) and of the entitlements that
 * plans and add-ons grant for them. Internal to the catalog.
 */
import type { Ctx, Rec } from './validate-context.js';
import { checkRollover } from './validate-usage.js';
import {
  checkAmount,
  checkOneOf,
  checkPlainFields,
  checkRef,
  featureTypeOf,
  isFiniteNonNegative,
  isRecord,
  listField,
  report,
  show,
} from './validate-context.js';
import type { FeatureType, FilterOperator, ResetPeriod } from './types.js';
import { FEATURE_TYPES, FILTER_OPERATORS, METER_AGGREGATIONS, RESET_PERIODS, WEEK_DAYS } from './types.js';

const MONTHLY_ANCHORS = ['SUBSCRIPTION_START', 'START_OF_THE_MONTH'] as const;
const LIST_OPERATORS: readonly FilterOperator[] = ['IN', 'NOT_IN'];
const NULL_OPERATORS: readonly FilterOperator[] = ['IS_NULL', 'IS_NOT_NULL'];

/** Checks every feature; ids were checked when the indexes were built. */
export function checkFeatures(ctx: Ctx, features: readonly unknown[]): void {
  features.forEach((raw, i) => {
    if (!isRecord(raw)) return;
    const path = `features[${i}]`;
    checkPlainFields(ctx, raw, path, { strings: ['displayName', 'units', 'unitsPlural'], metadata: true });
    const type = checkOneOf(ctx, raw, 'type', path, FEATURE_TYPES, true);
    // Without a valid type the type-specific rules would only add noise to the one real problem.
    if (!type) return;

    if (type === 'ENUM') checkEnumValues(ctx, raw.enumValues, `${path}.enumValues`);
    else if (raw.enumValues !== undefined) report(ctx, `${path}.enumValues`, `only ENUM features take enumValues; this one is ${type}`);

    if (raw.meter !== undefined) {
      if (type === 'METERED') checkMeter(ctx, raw.meter, `${path}.meter`);
      else report(ctx, `${path}.meter`, `only METERED features take a meter; this one is ${type}`);
    }

    if (raw.creditCost !== undefined) {
      const at = `${path}.creditCost`;
      if (type !== 'METERED') report(ctx, at, `only METERED features take a creditCost; this one is ${type}`);
      else if (!isRecord(raw.creditCost)) report(ctx, at, 'must be an object { currencyId, amount }');
      else {
        checkRef(ctx, raw.creditCost, 'currencyId', at, ctx.creditCurrencies, 'credit currency', true);
        checkAmount(ctx, raw.creditCost.amount, `${at}.amount`, { required: true, positive: true });
      }
    }
  });
}

function checkEnumValues(ctx: Ctx, v: unknown, path: string): void {
  if (!Array.isArray(v) || v.length === 0) {
    report(ctx, path, 'an ENUM feature needs a non-empty array of allowed string values');
    return;
  }
  const seen = new Set<string>();
  v.forEach((value, i) => {
    if (typeof value !== 'string' || value === '') report(ctx, `${path}[${i}]`, `must be a non-empty string (got ${show(value)})`);
    else if (seen.has(value)) report(ctx, `${path}[${i}]`, `"${value}" is listed twice: enum values must be unique`);
    else seen.add(value);
  });
}

function checkMeter(ctx: Ctx, meter: unknown, path: string): void {
  if (!isRecord(meter)) {
    report(ctx, path, 'must be an object { eventName, aggregation, filters? }');
    return;
  }
  if (typeof meter.eventName !== 'string' || meter.eventName === '')
    report(ctx, `${path}.eventName`, `is required: the name of the events this meter counts (got ${show(meter.eventName)})`);

  const agg = meter.aggregation;
  if (!isRecord(agg)) {
    report(ctx, `${path}.aggregation`, `is required: an object { type: ${METER_AGGREGATIONS.join(' | ')}, field? }`);
  } else {
    const type = checkOneOf(ctx, agg, 'type', `${path}.aggregation`, METER_AGGREGATIONS, true);
    const field = agg.field;
    if (field !== undefined && (typeof field !== 'string' || field === ''))
      report(ctx, `${path}.aggregation.field`, `must be the name of an event dimension (got ${show(field)})`);
    else if (field === undefined && type !== undefined && type !== 'COUNT')
      report(ctx, `${path}.aggregation.field`, `is required for ${type}: name the event dimension to aggregate`);
  }

  listField(ctx, meter, 'filters', path, false).forEach((filter, i) => {
    const fp = `${path}.filters[${i}]`;
    if (!isRecord(filter)) {
      report(ctx, fp, 'must be an object { conditions: [...] }');
      return;
    }
    const conditions = listField(ctx, filter, 'conditions', fp, true);
    // An empty filter would match every event, which is what leaving `filters` out already says.
    if (Array.isArray(filter.conditions) && conditions.length === 0)
      report(ctx, `${fp}.conditions`, 'must hold at least one condition (drop the filter to match every event)');
    conditions.forEach((c, j) => checkCondition(ctx, c, `${fp}.conditions[${j}]`));
  });
}

function isScalar(v: unknown): boolean {
  return typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v));
}

function checkCondition(ctx: Ctx, c: unknown, path: string): void {
  if (!isRecord(c)) {
    report(ctx, path, 'must be an object { field, operator, value? }');
    return;
  }
  if (typeof c.field !== 'string' || c.field === '')
    report(ctx, `${path}.field`, `is required: the event dimension to test (got ${show(c.field)})`);
  const op = checkOneOf(ctx, c, 'operator', path, FILTER_OPERATORS, true);
  if (!op) return;
  const v = c.value;
  const at = `${path}.value`;
  if (NULL_OPERATORS.includes(op)) {
    if (v !== undefined) report(ctx, at, `${op} takes no value: remove it`);
  } else if (LIST_OPERATORS.includes(op)) {
    if (!Array.isArray(v) || v.length === 0) report(ctx, at, `${op} needs a non-empty array of values`);
    else v.forEach((x, k) => !isScalar(x) && report(ctx, `${at}[${k}]`, `must be a string, number or boolean (got ${show(x)})`));
  } else if (!isScalar(v)) {
    report(ctx, at, `${op} needs one string, number or boolean value (got ${show(v)})`);
  }
}

/** The fields an entitlement may carry for each feature type; the others are reported. */
const ENTITLEMENT_FIELDS: Record<FeatureType, readonly string[]> = {
  BOOLEAN: [],
  NUMERIC: ['value', 'isUnlimited'],
  METERED: ['usageLimit', 'isUnlimited', 'hasSoftLimit', 'resetPeriod', 'resetPeriodConfiguration', 'perEntity', 'alerts', 'limits', 'rollover'],
  ENUM: ['enumValues'],
};
const TYPED_FIELDS = [
  'value',
  'usageLimit',
  'isUnlimited',
  'hasSoftLimit',
  'resetPeriod',
  'resetPeriodConfiguration',
  'enumValues',
  'perEntity',
  'alerts',
  'limits',
  'rollover',
] as const;

/**
 * Checks an entitlement list of a plan or add-on (`path` = `plans[1].entitlements`): each against
 * its feature's type, and no feature twice.
 */
export function checkEntitlements(ctx: Ctx, list: readonly unknown[], path: string): void {
  const seen = new Map<string, string>();
  list.forEach((raw, i) => {
    const p = `${path}[${i}]`;
    if (!isRecord(raw)) {
      report(ctx, p, 'must be an object { featureId, ... }');
      return;
    }
    const feature = checkRef(ctx, raw, 'featureId', p, ctx.features, 'feature', true);
    const featureId = raw.featureId;
    if (typeof featureId === 'string' && feature) {
      const first = seen.get(featureId);
      if (first !== undefined) {
        report(ctx, `${p}.featureId`, `feature "${featureId}" is already entitled at ${first}: merge the two`);
        return;
      }
      seen.set(featureId, p);
    }
    for (const key of ['isUnlimited', 'hasSoftLimit'] as const)
      if (raw[key] !== undefined && typeof raw[key] !== 'boolean')
        report(ctx, `${p}.${key}`, `must be true or false (got ${show(raw[key])})`);

    const type = featureTypeOf(feature);
    if (!type) return;
    const allowed = ENTITLEMENT_FIELDS[type];
    for (const key of TYPED_FIELDS) {
      // resetPeriod: null is the declared way of saying "never resets", so it counts as absent.
      const present = key === 'resetPeriod' ? raw[key] !== undefined && raw[key] !== null : raw[key] !== undefined;
      if (present && !allowed.includes(key))
        report(ctx, `${p}.${key}`, `a ${type} feature ("${String(featureId)}") takes no ${key}: remove it`);
    }
    if (type === 'NUMERIC') checkLimit(ctx, raw, 'value', p, type);
    if (type === 'METERED') {
      checkLimit(ctx, raw, 'usageLimit', p, type);
      checkReset(ctx, raw, p);
      if (raw.perEntity !== undefined) checkPerEntity(ctx, raw.perEntity, `${p}.perEntity`, String(featureId));
      if (raw.alerts !== undefined) checkUsageAlerts(ctx, raw.alerts, `${p}.alerts`);
      if (raw.limits !== undefined) checkExtraLimits(ctx, raw, `${p}.limits`);
      if (raw.rollover !== undefined) checkRollover(ctx, raw, `${p}.rollover`);
    }
    if (type === 'ENUM' && feature) checkEntitledEnumValues(ctx, raw.enumValues, `${p}.enumValues`, feature.item.enumValues);
  });
}

/** NUMERIC `value` / METERED `usageLimit`: a finite number in [0, MAX_SAFE_INTEGER], or `isUnlimited: true`, not both. */
function checkLimit(ctx: Ctx, e: Rec, key: 'value' | 'usageLimit', path: string, type: FeatureType): void {
  const v = e[key];
  const unlimited = e.isUnlimited === true;
  const at = `${path}.${key}`;
  if (v === undefined) {
    if (!unlimited) report(ctx, at, `is required for a ${type} feature: give a number >= 0 or set isUnlimited: true`);
  } else if (!isFiniteNonNegative(v)) {
    report(ctx, at, `must be a finite number >= 0 (got ${show(v)})`);
  } else if ((v as number) > Number.MAX_SAFE_INTEGER) {
    // Usage is kept within MAX_USAGE (docs/conventions.md#boundary); a larger limit could never be reached.
    report(ctx, at, `must be at most ${Number.MAX_SAFE_INTEGER}; for no limit set isUnlimited: true`);
  } else if (unlimited) {
    report(ctx, at, `give ${key} or isUnlimited: true, not both`);
  }
}

/** Per catalog being validated: the entity feature each feature's perEntity names first, and where. */
const entityFeatureOf = new WeakMap<Ctx, Map<string, { entityFeatureId: string; path: string }>>();

/**
 * `perEntity` (docs/entities.md): names a METERED entity feature without a meter, and an integer
 * limit >= 0. Every perEntity of one feature across the catalog names the same entity feature, so
 * that per-entity limits of several sources add (docs/conventions.md#combining-sources).
 */
function checkPerEntity(ctx: Ctx, v: unknown, path: string, featureId: string): void {
  if (!isRecord(v)) {
    report(ctx, path, 'must be an object { featureId, usageLimit }');
    return;
  }
  for (const k of Object.keys(v)) if (k !== 'featureId' && k !== 'usageLimit') report(ctx, `${path}.${k}`, 'unknown field: perEntity takes featureId and usageLimit');
  const feature = checkRef(ctx, v, 'featureId', path, ctx.features, 'feature', true);
  if (feature && (feature.item.type !== 'METERED' || feature.item.meter !== undefined))
    report(ctx, `${path}.featureId`, `"${String(v.featureId)}" must be a METERED feature without a meter: its usage counts the customer's entities`);
  const limit = v.usageLimit;
  if (!Number.isSafeInteger(limit) || (limit as number) < 0) report(ctx, `${path}.usageLimit`, `must be an integer >= 0 (got ${show(limit)})`);
  if (!feature) return;
  let seen = entityFeatureOf.get(ctx);
  if (!seen) entityFeatureOf.set(ctx, (seen = new Map()));
  const first = seen.get(featureId);
  const entityFeatureId = String(v.featureId);
  if (!first) seen.set(featureId, { entityFeatureId, path });
  else if (first.entityFeatureId !== entityFeatureId)
    report(ctx, `${path}.featureId`, `"${featureId}" is given per ${first.entityFeatureId} at ${first.path}: every perEntity of a feature names the same entity feature`);
}

function checkReset(ctx: Ctx, e: Rec, path: string): void {
  let period: ResetPeriod | undefined;
  if (e.resetPeriod !== undefined && e.resetPeriod !== null)
    period = checkOneOf(ctx, e, 'resetPeriod', path, RESET_PERIODS, false);
  const config = e.resetPeriodConfiguration;
  if (config === undefined) return;
  const at = `${path}.resetPeriodConfiguration`;
  if (!isRecord(config)) {
    report(ctx, at, 'must be an object { monthlyAccordingTo? } or { weeklyAccordingTo? }');
    return;
  }
  if (config.monthlyAccordingTo !== undefined) {
    if (checkOneOf(ctx, config, 'monthlyAccordingTo', at, MONTHLY_ANCHORS, false) && period !== 'MONTH')
      report(ctx, `${at}.monthlyAccordingTo`, `applies only with resetPeriod MONTH (resetPeriod is ${show(e.resetPeriod)})`);
  }
  if (config.weeklyAccordingTo !== undefined) {
    if (checkOneOf(ctx, config, 'weeklyAccordingTo', at, WEEK_DAYS, false) && period !== 'WEEK')
      report(ctx, `${at}.weeklyAccordingTo`, `applies only with resetPeriod WEEK (resetPeriod is ${show(e.resetPeriod)})`);
  }
}

function checkEntitledEnumValues(ctx: Ctx, v: unknown, path: string, featureValues: unknown): void {
  if (!Array.isArray(v) || v.length === 0) {
    report(ctx, path, 'an ENUM entitlement needs a non-empty array of the feature\'s values it enables');
    return;
  }
  const allowed = Array.isArray(featureValues) ? featureValues : [];
  const seen = new Set<unknown>();
  v.forEach((value, i) => {
    if (seen.has(value)) report(ctx, `${path}[${i}]`, `${show(value)} is listed twice: remove the repetition`);
    else if (!allowed.includes(value))
      report(ctx, `${path}[${i}]`, `${show(value)} is not one of the feature's enumValues (${allowed.map(show).join(', ')})`);
    seen.add(value);
  });
}

/** The most thresholds one entitlement (or one customer's feature) may carry. */
export const MAX_USAGE_ALERTS = 20;

/** `alerts: { usagePercent: [80, 100] }`: distinct finite percents in (0, 1000]. */
function checkUsageAlerts(ctx: Ctx, alerts: unknown, path: string): void {
  if (!isRecord(alerts) || Object.keys(alerts).some((k) => k !== 'usagePercent')) {
    report(ctx, path, `must be { usagePercent: [80, 100] } (got ${show(alerts)})`);
    return;
  }
  const list = alerts.usagePercent;
  if (!Array.isArray(list) || list.length === 0 || list.length > MAX_USAGE_ALERTS) {
    report(ctx, `${path}.usagePercent`, `must be an array of 1 to ${MAX_USAGE_ALERTS} percents of the usage limit, such as [80, 100]`);
    return;
  }
  const seen = new Set<number>();
  list.forEach((x, i) => {
    if (typeof x !== 'number' || !Number.isFinite(x) || x <= 0 || x > 1000) report(ctx, `${path}.usagePercent[${i}]`, `must be a number in (0, 1000] (got ${show(x)})`);
    else if (seen.has(x)) report(ctx, `${path}.usagePercent[${i}]`, `${x} is listed twice: remove one`);
    else seen.add(x);
  });
}

/** The most further limits one entitlement may carry (docs/limits.md). */
export const MAX_EXTRA_LIMITS = 5;

/**
 * `limits: [{ usageLimit, resetPeriod }]` (docs/limits.md): integers >= 0, each on a reset period
 * of its own that differs from the entitlement's `resetPeriod` (two limits on one window would
 * share one usage cell), and only beside a bounded, windowed primary limit.
 */
function checkExtraLimits(ctx: Ctx, e: Rec, path: string): void {
  const list = e.limits;
  if (!Array.isArray(list) || list.length === 0 || list.length > MAX_EXTRA_LIMITS) {
    report(ctx, path, `must be an array of 1 to ${MAX_EXTRA_LIMITS} limits such as [{ usageLimit: 2000, resetPeriod: 'MONTH' }]`);
    return;
  }
  if (e.isUnlimited === true) report(ctx, path, 'an unlimited entitlement takes no further limits: remove isUnlimited or limits');
  if (e.resetPeriod === undefined || e.resetPeriod === null) report(ctx, path, 'need a resetPeriod on the entitlement too: further limits sit beside a windowed usageLimit');
  const seen = new Set<unknown>([e.resetPeriod]);
  list.forEach((l, i) => {
    const at = `${path}[${i}]`;
    if (!isRecord(l)) {
      report(ctx, at, 'must be an object { usageLimit, resetPeriod }');
      return;
    }
    for (const k of Object.keys(l)) {
      if (k === 'rollover') report(ctx, `${at}.rollover`, 'a rollover applies to the primary limit only (docs/rollovers.md): move it to the entitlement or remove it');
      else if (k !== 'usageLimit' && k !== 'resetPeriod') report(ctx, `${at}.${k}`, 'unknown field: a limit takes usageLimit and resetPeriod');
    }
    if (!Number.isSafeInteger(l.usageLimit) || (l.usageLimit as number) < 0) report(ctx, `${at}.usageLimit`, `must be an integer >= 0 (got ${show(l.usageLimit)})`);
    const period = checkOneOf(ctx, l, 'resetPeriod', at, RESET_PERIODS, true);
    if (period && seen.has(period)) report(ctx, `${at}.resetPeriod`, `${period} is already limited on this entitlement: merge the two limits`);
    if (period) seen.add(period);
  });
}

/**
 * fast-check arbitraries for features, entitlements and coupons.
 */
import fc from 'fast-check';
import {
  FEATURE_TYPES,
  type CouponDefinition,
  type EntitlementDefinition,
  type FeatureDefinition,
  type FeatureType,
  type MeterAggregation,
  type ResetPeriod,
  type WeekDay,
} from '@tessera/core';
import { arbAmount } from './arbitraries.js';
import { index, pick, weighted } from './choice.js';

// ---------------------------------------------------------------------------------------------
// Features and entitlements

const FEATURE_IDS: Record<FeatureType, readonly string[]> = {
  BOOLEAN: ['sso', 'audit-log', 'webhooks'],
  NUMERIC: ['projects', 'storage-gb', 'environments'],
  METERED: ['api-calls', 'seats', 'tokens', 'emails'],
  ENUM: ['export', 'regions'],
};
const ENUM_VALUES: readonly (readonly string[])[] = [
  ['csv', 'json', 'parquet', 'xml'],
  ['eu', 'us', 'ap', 'sa'],
];
const AGGREGATIONS: readonly MeterAggregation[] = ['COUNT', 'SUM', 'MAX', 'UNIQUE_COUNT', 'LATEST', 'MIN', 'AVG'];

/** What a feature is made of before it gets an id; internal to the arbitraries. */
export interface FeatureSpec {
  type: number;
  meter: boolean;
  aggregation: number;
  enumValues: number;
}

/** The arbitrary of `FeatureSpec`s; `meters: false` never gives a meter. */
export function featureSpec(meters = true): fc.Arbitrary<FeatureSpec> {
  return fc.record({
    type: index(7),
    meter: meters
      ? weighted([
          [false, 3],
          [true, 1],
        ])
      : fc.constant(false),
    aggregation: index(6),
    enumValues: fc.integer({ min: 1, max: 4 }),
  });
}

/**
 * A feature from a spec. `nth` is its position among features of its type: ids come from a
 * readable pool ('sso', 'projects', 'api-calls', 'seats', 'export'...), then 'metered-5'.
 */
export function buildFeature(spec: FeatureSpec, types: readonly FeatureType[], nth: (type: FeatureType) => number, id?: string): FeatureDefinition {
  const type = pick(types, spec.type) ?? 'BOOLEAN';
  const n = nth(type);
  const featureId = id ?? FEATURE_IDS[type][n] ?? `${type.toLowerCase()}-${n + 1}`;
  const feature: FeatureDefinition = { id: featureId, type };
  if (type === 'ENUM') feature.enumValues = (ENUM_VALUES[n % ENUM_VALUES.length] ?? ['a']).slice(0, spec.enumValues);
  if (type === 'METERED' && spec.meter) {
    const aggregation = pick(AGGREGATIONS, spec.aggregation) ?? 'COUNT';
    feature.meter = { eventName: `${featureId}.used`, aggregation: aggregation === 'COUNT' ? { type: 'COUNT' } : { type: aggregation, field: 'value' } };
  }
  return feature;
}

/** Options of `arbFeature`. */
export interface FeatureOptions {
  /** The feature's id; by default one per type ('sso', 'projects', 'api-calls', 'export'). */
  id?: string;
  /** Types to pick from, in shrinking order; default BOOLEAN, NUMERIC, METERED, ENUM. */
  types?: readonly FeatureType[];
  /** METERED features may be fed by a meter over raw events (`{ eventName: '<id>.used', aggregation }`); default true. */
  meters?: boolean;
}

/**
 * Features of every type: BOOLEAN, NUMERIC, METERED (fed by `reportUsage`, or by a meter that
 * counts, sums, maxes... the `value` dimension of '<id>.used' events) and ENUM (1 to 4 values).
 * Shrinks to `{ id: 'sso', type: 'BOOLEAN' }`.
 */
export function arbFeature(options: FeatureOptions = {}): fc.Arbitrary<FeatureDefinition> {
  const types = options.types ?? FEATURE_TYPES;
  return featureSpec(options.meters ?? true).map((spec) => buildFeature(spec, types, () => 0, options.id));
}

/** What an entitlement is made of before its feature shapes it; internal to the arbitraries. */
export interface EntitlementSpec {
  feature: number;
  limit: number;
  unlimited: boolean;
  soft: boolean;
  reset: number;
  anchored: boolean;
  weekday: number;
  enumValues: number;
}

/** The arbitrary of `EntitlementSpec`s. */
export function entitlementSpec(): fc.Arbitrary<EntitlementSpec> {
  return fc.record({
    feature: index(),
    limit: fc
      .record({ kind: weighted<number | 'ANY'>([[10, 3], [100, 2], [1000, 2], [1, 1], [0, 1], ['ANY', 2]]), any: fc.integer({ min: 0, max: 10_000 }) })
      .map(({ kind, any }) => (kind === 'ANY' ? any : kind)),
    unlimited: weighted([
      [false, 5],
      [true, 1],
    ]),
    soft: weighted([
      [false, 4],
      [true, 1],
    ]),
    reset: index(7),
    anchored: weighted([
      [false, 3],
      [true, 1],
    ]),
    weekday: index(6),
    enumValues: fc.integer({ min: 1, max: 4 }),
  });
}

/** Reset periods in shrinking order: monthly first, then none (cumulative), then the others. */
export const DEFAULT_RESET_PERIODS: readonly (ResetPeriod | null)[] = ['MONTH', null, 'DAY', 'WEEK', 'YEAR', 'HOUR'];
const WEEK_DAYS: readonly WeekDay[] = ['MONDAY', 'TUESDAY', 'WEDNESDAY', 'THURSDAY', 'FRIDAY', 'SATURDAY', 'SUNDAY'];

/** Options of `arbEntitlement`. */
export interface EntitlementOptions {
  /** Reset periods of METERED entitlements (null: never resets), in shrinking order; default `DEFAULT_RESET_PERIODS`. */
  resetPeriods?: readonly (ResetPeriod | null)[];
  /** Allow `isUnlimited`; default true. */
  unlimited?: boolean;
  /** Allow `hasSoftLimit`; default true. */
  softLimits?: boolean;
}

/** An entitlement to `feature` from a spec, with only the fields its type takes. */
export function buildEntitlement(spec: EntitlementSpec, feature: FeatureDefinition, options: EntitlementOptions = {}): EntitlementDefinition {
  const e: EntitlementDefinition = { featureId: feature.id };
  const unlimited = spec.unlimited && options.unlimited !== false;
  if (feature.type === 'NUMERIC') {
    if (unlimited) e.isUnlimited = true;
    else e.value = spec.limit;
  } else if (feature.type === 'METERED') {
    if (unlimited) e.isUnlimited = true;
    else e.usageLimit = spec.limit;
    if (spec.soft && !unlimited && options.softLimits !== false) e.hasSoftLimit = true;
    const reset = pick(options.resetPeriods ?? DEFAULT_RESET_PERIODS, spec.reset) ?? null;
    if (reset !== null) e.resetPeriod = reset;
    if (reset === 'MONTH' && spec.anchored) e.resetPeriodConfiguration = { monthlyAccordingTo: 'START_OF_THE_MONTH' };
    if (reset === 'WEEK' && spec.anchored) e.resetPeriodConfiguration = { weeklyAccordingTo: pick(WEEK_DAYS, spec.weekday) ?? 'MONDAY' };
  } else if (feature.type === 'ENUM') {
    const values = feature.enumValues ?? [];
    e.enumValues = values.slice(0, Math.max(1, Math.min(values.length, spec.enumValues)));
  }
  return e;
}

/**
 * Entitlements to `feature` that fit its type: BOOLEAN grants access; NUMERIC a value or
 * unlimited; METERED a usage limit (round numbers favoured) or unlimited, sometimes soft, with a
 * reset period (MONTH anchored on the subscription or the calendar month, WEEK on a weekday, DAY,
 * HOUR, YEAR, or none); ENUM some of the feature's values.
 * Shrinks to `{ featureId }`, `{ featureId, value: 10 }`,
 * `{ featureId, usageLimit: 10, resetPeriod: 'MONTH' }` or `{ featureId, enumValues: [first value] }`.
 */
export function arbEntitlement(feature: FeatureDefinition, options: EntitlementOptions = {}): fc.Arbitrary<EntitlementDefinition> {
  return entitlementSpec().map((spec) => buildEntitlement(spec, feature, options));
}

// ---------------------------------------------------------------------------------------------
// Coupons

/** What a coupon is made of; internal to the arbitraries. */
export interface CouponSpec {
  type: number;
  percent: string;
  fixed: string;
  duration: number | undefined;
  code: 'NONE' | 'CODE' | 'LIMITED' | 'EXPIRING';
}

/** The arbitrary of `CouponSpec`s, FIXED amounts in `currency`. */
export function couponSpec(currency: string): fc.Arbitrary<CouponSpec> {
  return fc.record({
    type: index(1),
    percent: fc
      .record({ kind: weighted<string>([['10', 2], ['20', 2], ['25', 1], ['50', 1], ['100', 1], ['12.5', 1], ['ANY', 2]]), any: fc.integer({ min: 1, max: 100 }) })
      .map(({ kind, any }) => (kind === 'ANY' ? String(any) : kind)),
    fixed: arbAmount(currency, { min: 1, max: 200 }),
    duration: weighted<number | undefined>([
      [undefined, 3],
      [1, 2],
      [3, 2],
      [12, 1],
    ]),
    code: weighted<CouponSpec['code']>([
      ['NONE', 2],
      ['CODE', 2],
      ['LIMITED', 1],
      ['EXPIRING', 1],
    ]),
  });
}

/** A coupon from a spec. */
export function buildCoupon(spec: CouponSpec, id: string, currency: string, types: readonly ('PERCENTAGE' | 'FIXED')[]): CouponDefinition {
  const type = pick(types, spec.type) ?? 'PERCENTAGE';
  const coupon: CouponDefinition =
    type === 'PERCENTAGE' ? { id, type, value: spec.percent } : { id, type, value: spec.fixed, currency };
  if (spec.duration !== undefined) coupon.durationInMonths = spec.duration;
  return coupon;
}

/** Options of `arbCoupon`. */
export interface CouponOptions {
  /** Default 'launch'. */
  id?: string;
  /** Currency of FIXED coupons; default 'USD'. */
  currency?: string;
  /** Types in shrinking order; default ['PERCENTAGE', 'FIXED']. */
  types?: readonly ('PERCENTAGE' | 'FIXED')[];
}

/**
 * Coupons: PERCENTAGE (10, 20, 25, 50, 100, 12.5 or any whole percent) or FIXED (an amount of at
 * least 1 in `currency`), forever or for 1, 3 or 12 months.
 * Shrinks to `{ id: 'launch', type: 'PERCENTAGE', value: '10' }`.
 */
export function arbCoupon(options: CouponOptions = {}): fc.Arbitrary<CouponDefinition> {
  const currency = options.currency ?? 'USD';
  return couponSpec(currency).map((spec) => buildCoupon(spec, options.id ?? 'launch', currency, options.types ?? ['PERCENTAGE', 'FIXED']));
}

/**
 * The catalog as declared (in code or JSON). `defineCatalog` validates it and returns a
 * `Catalog` with lookup indexes. Amounts are decimal strings; quantities and limits are numbers.
 */

export type FeatureType = 'BOOLEAN' | 'NUMERIC' | 'METERED' | 'ENUM';
export type ResetPeriod = 'HOUR' | 'DAY' | 'WEEK' | 'MONTH' | 'YEAR';
export type MonthlyResetAnchor = 'SUBSCRIPTION_START' | 'START_OF_THE_MONTH';
export type WeekDay = 'SUNDAY' | 'MONDAY' | 'TUESDAY' | 'WEDNESDAY' | 'THURSDAY' | 'FRIDAY' | 'SATURDAY';
export type BillingPeriod = 'MONTHLY' | 'ANNUALLY';
export type PricingType = 'FREE' | 'PAID' | 'CUSTOM';
export type CancellationTime = 'IMMEDIATE' | 'END_OF_BILLING_PERIOD';
export type StartWith = 'FREE_PLAN' | 'TRIAL' | 'NONE';
export type MeterAggregation = 'COUNT' | 'SUM' | 'MAX' | 'MIN' | 'AVG' | 'UNIQUE_COUNT' | 'LATEST';
export type FilterOperator =
  | 'EQUALS'
  | 'NOT_EQUALS'
  | 'IN'
  | 'NOT_IN'
  | 'GREATER_THAN'
  | 'GREATER_THAN_OR_EQUAL'
  | 'LESS_THAN'
  | 'LESS_THAN_OR_EQUAL'
  | 'CONTAINS'
  | 'STARTS_WITH'
  | 'ENDS_WITH'
  | 'IS_NULL'
  | 'IS_NOT_NULL';

export const FEATURE_TYPES: readonly FeatureType[] = ['BOOLEAN', 'NUMERIC', 'METERED', 'ENUM'];
export const RESET_PERIODS: readonly ResetPeriod[] = ['HOUR', 'DAY', 'WEEK', 'MONTH', 'YEAR'];

/** The most windows a rolled-over amount may be kept (`rollover.expiresAfter`, docs/rollovers.md#look-back). */
export const MAX_ROLLOVER_EXPIRES_AFTER = 24;
export const WEEK_DAYS: readonly WeekDay[] = [
  'SUNDAY',
  'MONDAY',
  'TUESDAY',
  'WEDNESDAY',
  'THURSDAY',
  'FRIDAY',
  'SATURDAY',
];
export const BILLING_PERIODS: readonly BillingPeriod[] = ['MONTHLY', 'ANNUALLY'];
/** How often a plan or add-on grants credits (docs/credits.md#credits-on-a-cycle). */
export type CreditGrantCadence = 'DAY' | 'WEEK' | 'MONTH' | 'YEAR';
export const CREDIT_GRANT_CADENCES: readonly CreditGrantCadence[] = ['DAY', 'WEEK', 'MONTH', 'YEAR'];
/** When a cycle's credits expire: at the end of their cycle, or never. */
export type CreditGrantExpiry = 'END_OF_CYCLE' | 'NEVER';
export const CREDIT_GRANT_EXPIRIES: readonly CreditGrantExpiry[] = ['END_OF_CYCLE', 'NEVER'];
export const METER_AGGREGATIONS: readonly MeterAggregation[] = [
  'COUNT',
  'SUM',
  'MAX',
  'MIN',
  'AVG',
  'UNIQUE_COUNT',
  'LATEST',
];
export const FILTER_OPERATORS: readonly FilterOperator[] = [
  'EQUALS',
  'NOT_EQUALS',
  'IN',
  'NOT_IN',
  'GREATER_THAN',
  'GREATER_THAN_OR_EQUAL',
  'LESS_THAN',
  'LESS_THAN_OR_EQUAL',
  'CONTAINS',
  'STARTS_WITH',
  'ENDS_WITH',
  'IS_NULL',
  'IS_NOT_NULL',
];

export type Metadata = Record<string, string>;
export type DimensionValue = string | number | boolean;

/** One condition on an event dimension; `value` is a list for IN / NOT_IN, absent for IS_NULL / IS_NOT_NULL. */
export interface MeterCondition {
  field: string;
  operator: FilterOperator;
  value?: DimensionValue | DimensionValue[];
}

/** Conditions ANDed together; a meter's filters are ORed. */
export interface MeterFilter {
  conditions: MeterCondition[];
}

/** How raw events become usage of a METERED feature. `field` is required except for COUNT. */
export interface MeterDefinition {
  eventName: string;
  filters?: MeterFilter[];
  aggregation: { type: MeterAggregation; field?: string };
}

export interface FeatureDefinition {
  id: string;
  displayName?: string;
  type: FeatureType;
  /** Singular and plural unit names, for display ("seat" / "seats"). */
  units?: string;
  unitsPlural?: string;
  /** ENUM only: the allowed values. */
  enumValues?: string[];
  /** METERED only: aggregate raw events into usage. Without it, usage comes from `reportUsage`. */
  meter?: MeterDefinition;
  /** METERED only: each unit of usage burns this many credits of a credit currency. */
  creditCost?: { currencyId: string; amount: string };
  metadata?: Metadata;
}

/** How a reset window is anchored: MONTH on the subscription start or the calendar month; WEEK on a day. */
export interface ResetPeriodConfiguration {
  monthlyAccordingTo?: MonthlyResetAnchor;
  weeklyAccordingTo?: WeekDay;
}

/**
 * What a plan, add-on or promotional grant gives for one feature.
 * BOOLEAN: access. NUMERIC: `value` or `isUnlimited`. METERED: `usageLimit` or `isUnlimited`,
 * `hasSoftLimit`, `resetPeriod` (absent or null: cumulative, like seats). ENUM: `enumValues`.
 */
export interface EntitlementDefinition {
  featureId: string;
  value?: number;
  usageLimit?: number;
  isUnlimited?: boolean;
  hasSoftLimit?: boolean;
  resetPeriod?: ResetPeriod | null;
  resetPeriodConfiguration?: ResetPeriodConfiguration;
  enumValues?: string[];
  /**
   * METERED only: a limit for each entity of the customer (docs/entities.md), on top of the
   * customer-level (pooled) limit this entitlement's own `usageLimit`/`isUnlimited` give.
   * `featureId` names the entity feature (the seat) whose entities get `usageLimit` each.
   */
  perEntity?: { featureId: string; usageLimit: number };
  /** METERED: alert thresholds on the usage of a window (docs/alerts.md). */
  alerts?: UsageAlertsDefinition;
  /**
   * METERED: further limits beside `usageLimit`/`resetPeriod`, each on a reset period of its own
   * ("100 an hour and 2,000 a month"): usage must fit every one (docs/limits.md).
   */
  limits?: ExtraLimitDefinition[];
  /**
   * METERED with a `resetPeriod`: unused allowance of a window carries to the following windows,
   * at most `max` units in all, each carried amount expiring after `expiresAfter` windows
   * (docs/rollovers.md). Applies to the primary limit only.
   */
  rollover?: RolloverDefinition;
}

/** Rollover of unused usage allowance (docs/rollovers.md): `max` units carried at most, each amount kept `expiresAfter` windows. */
export interface RolloverDefinition {
  /** The most units the carried balance may hold (an integer >= 0). */
  max: number;
  /** How many following windows a carried amount may be used in (an integer >= 1). */
  expiresAfter: number;
}

/** One further limit of a METERED entitlement: `usageLimit` units per calendar `resetPeriod` (docs/limits.md). */
export interface ExtraLimitDefinition {
  usageLimit: number;
  resetPeriod: ResetPeriod;
}

/**
 * Usage alert thresholds of a METERED entitlement: `usagePercent` are percents of the usage limit
 * (80 = 80%, 100 = reaching the limit; above 100 allowed for soft limits), each firing the
 * `usageThresholdReached` event once per usage window (docs/alerts.md).
 */
export interface UsageAlertsDefinition {
  usagePercent: number[];
}

/** A tier: units up to `upTo` (inclusive; null = open last tier), each at `unitAmount`, plus `flatAmount` once. */
export interface PriceTier {
  upTo: number | null;
  unitAmount?: string;
  flatAmount?: string;
}

/** The amounts of a price that a country may override. */
export interface PriceAmounts {
  currency: string;
  /** FLAT_FEE: the fee. PER_UNIT / USAGE_BASED without tiers: the price of one unit (or one block). */
  amount?: string;
  tiers?: PriceTier[];
}

/**
 * A price of a plan or add-on for one billing period.
 * - `FLAT_FEE`: `amount` per period.
 * - `PER_UNIT`: quantity of `featureId` set on the subscription (billable feature, required; it is
 *   also the feature's entitlement, docs/pricing.md#per-unit-quantities), priced by `amount` per
 *   unit, or by `tiers` (`tiersMode` GRADUATED or VOLUME), or per block of `blockSize` units
 *   (PACKAGE: partial blocks round up); `minUnitQuantity`/`maxUnitQuantity` bound it (never a default).
 * - `USAGE_BASED`: metered usage of `featureId` in the period, priced the same ways, in arrears;
 *   the plan must reset the feature within the billing period (docs/catalog.md#prices).
 * `countryOverrides` replace currency and amounts for a `billingCountryCode` (ISO-3166-1 alpha-2).
 */
export interface PriceDefinition extends PriceAmounts {
  billingPeriod: BillingPeriod;
  billingModel: 'FLAT_FEE' | 'PER_UNIT' | 'USAGE_BASED';
  featureId?: string;
  tiersMode?: 'GRADUATED' | 'VOLUME';
  blockSize?: number;
  minUnitQuantity?: number;
  maxUnitQuantity?: number;
  countryOverrides?: Record<string, PriceAmounts>;
}

/**
 * Credits a plan or add-on grants every cycle, independent of its billing period
 * (docs/credits.md#credits-on-a-cycle): `amount` credits of `currencyId` each `cadence`, cycles
 * anchored on the subscription's usage anchor. An add-on grants `amount` x its quantity.
 * - `expires`: END_OF_CYCLE (default) or NEVER (top-up credits that stay).
 * - `rollover` (END_OF_CYCLE only): unused credits of a cycle carry into the next, up to `max`
 *   (x the add-on's quantity); the rest expire.
 * - `category` (default PAID) and `priority` (default 100) as for any grant (docs/credits.md#burn-order).
 */
export interface CreditGrantDefinition {
  currencyId: string;
  /** Credits per cycle: a decimal string above 0, such as "1000". */
  amount: string;
  cadence: CreditGrantCadence;
  expires?: CreditGrantExpiry;
  rollover?: { max: string };
  category?: 'PAID' | 'PROMOTIONAL';
  priority?: number;
}

export interface TrialDefinition {
  days: number;
  onEnd: 'CONVERT_TO_PAID' | 'DOWNGRADE';
}

export interface ProductDefinition {
  id: string;
  displayName?: string;
  description?: string;
  metadata?: Metadata;
  /** One active subscription per resource id instead of one per customer. */
  multipleSubscriptions?: boolean;
  /** Given on sign-up when `provisionCustomer` omits `subscriptionParams`. */
  defaultPlanId?: string;
  /** Given when a subscription to this product ends. */
  downgradePlanId?: string;
  cancellationTime?: CancellationTime;
  startWith?: StartWith;
  /** The plan whose trial `startWith: 'TRIAL'` starts. */
  trialPlanId?: string;
}

export interface PlanDefinition {
  id: string;
  productId: string;
  displayName?: string;
  description?: string;
  parentPlanId?: string;
  pricingType: PricingType;
  prices?: PriceDefinition[];
  entitlements?: EntitlementDefinition[];
  trial?: TrialDefinition;
  /** Credits granted every cycle while a subscription to the plan is in force (not inherited by child plans). */
  creditGrants?: CreditGrantDefinition[];
  compatibleAddonIds?: string[];
  hidden?: boolean;
  metadata?: Metadata;
}

export interface AddonDefinition {
  id: string;
  productId: string;
  displayName?: string;
  description?: string;
  entitlements?: EntitlementDefinition[];
  prices?: PriceDefinition[];
  /** Most of this add-on one subscription may hold; absent means no bound. */
  maxQuantity?: number;
  /** Add-on ids that must be on the subscription too. */
  dependencies?: string[];
  /** Credits granted every cycle per unit of the add-on held. */
  creditGrants?: CreditGrantDefinition[];
  metadata?: Metadata;
}

export interface CouponDefinition {
  id: string;
  name?: string;
  type: 'PERCENTAGE' | 'FIXED';
  /** PERCENTAGE: 0-100; FIXED: an amount in `currency`. */
  value: string;
  currency?: string;
  /** Months the discount lasts; 1 = once; absent = forever. */
  durationInMonths?: number;
  metadata?: Metadata;
}

export interface PromotionCodeDefinition {
  code: string;
  couponId: string;
  expiresAt?: string;
  maxRedemptions?: number;
  active?: boolean;
}

export interface TaxRateDefinition {
  countryCode: string;
  /** A fraction: '0.20' is 20%. */
  rate: string;
}

export interface CreditCurrencyDefinition {
  id: string;
  displayName?: string;
  /** What one credit costs when bought (top-ups, automatic recharge). */
  unitPrice?: { amount: string; currency: string };
  /** Balance alerts: `creditBalanceLow` fires when a burn takes the balance below one of these amounts (docs/alerts.md). */
  alerts?: { balanceBelow: string[] };
}

/** The whole catalog as declared. Plans are ordered within their product by their position here. */
export interface CatalogDefinition {
  /** The JSON Schema of a catalog file, for editors (`@tessera/core/catalog.schema.json`); not used otherwise. */
  $schema?: string;
  features: FeatureDefinition[];
  products: ProductDefinition[];
  plans: PlanDefinition[];
  addons?: AddonDefinition[];
  coupons?: CouponDefinition[];
  promotionCodes?: PromotionCodeDefinition[];
  taxRates?: TaxRateDefinition[];
  creditCurrencies?: CreditCurrencyDefinition[];
}

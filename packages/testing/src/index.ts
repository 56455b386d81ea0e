/**
 * @tessera/testing: fast-check arbitraries, a test clock, pricing invariants, a model of the
 * engine and a pricing timeline fixture, for property tests of your own catalog and pricing.
 */
export { advanceAndTick, addDuration, testClock, type Duration, type TestClock } from './test-clock.js';
export { DEFAULT_CURRENCIES, arbAmount, arbInstant, arbMoney, type AmountOptions, type InstantOptions } from './arbitraries.js';
export { DEFAULT_COUNTRY_CURRENCIES, PRICE_MODELS, arbPrice, type PriceOptions } from './arbitraries-price.js';
export {
  DEFAULT_RESET_PERIODS,
  arbCoupon,
  arbEntitlement,
  arbFeature,
  type CouponOptions,
  type EntitlementOptions,
  type FeatureOptions,
} from './arbitraries-feature.js';
export { DEFAULT_FEATURES, arbAddon, arbPlan, type PlanOptions } from './arbitraries-plan.js';
export { arbCatalog, type CatalogOptions, type CatalogSizes } from './arbitraries-catalog.js';
export {
  arbEventBatch,
  arbSubscriptionParams,
  arbUsageSequence,
  type CatalogInput,
  type EventBatchOptions,
  type SubscriptionParamsOptions,
  type UsageSequenceOptions,
} from './arbitraries-activity.js';
export { arbScenario, type ScenarioOptions } from './arbitraries-scenario.js';
export { InvariantError } from './invariant-error.js';
export {
  documentAddsUp,
  graduatedIsMonotonic,
  ledgerBalances,
  priceMatchesReference,
  prorationOfWholePeriodEqualsPrice,
  splitProrationSumsToWhole,
  totalsNeverNegative,
  volumeCliffs,
  type DocumentContext,
  type DocumentLike,
  type GrantLike,
  type LedgerEntryLike,
  type PriceRule,
  type ProrateRule,
  type ProrationCase,
  type TotalsLike,
  type VolumeCliff,
} from './invariants.js';
export {
  estimateEqualsInvoice,
  lazyReadEqualsTickedRead,
  readLedger,
  tickIsIdempotent,
  usageNeverPassesHardLimit,
  type EstimatedCall,
  type EstimatingEngine,
  type MeteredSnapshot,
  type ReadingEngine,
  type TickCheckOptions,
} from './invariants-engine.js';
export { boundaryQuantities, referencePrice } from './reference-pricing.js';
export { checkEngineAgainstModel, ModelCheckError, type ModelCheckOptions, type ModelCheckReport, type ModelEngine } from './model-check.js';
export { CatalogModel, type EngineModel } from './model.js';
export {
  formatTimeline,
  playTimeline,
  runPricingTimeline,
  type PlayOptions,
  type PricingTimelineOptions,
  type TimelineEngine,
  type TimelineResult,
  type TimelineRow,
  type TimelineStep,
} from './timeline.js';
export { arbReorderedBatches } from './arbitraries-delivery.js';
export { arbCreditAmount, arbCreditGrant, arbRechargeSettings, type CreditAmountOptions, type CreditGrantOptions, type CreditGrantSpec, type RechargeSettings, type RechargeSettingsOptions } from './arbitraries-credits.js';
export { rechargeSpendWithinLimit, type RechargeCharge } from './invariants-credits.js';
export { expectedUsage, referenceAggregate, type AggregatedEvent, type ExpectedUsage } from './reference-usage.js';
export { QuotaModel, arbQuotaOperations, type Overage, type QuotaHold, type QuotaOperation, type QuotaOperationsOptions, type QuotaOutcome } from './reference-quota.js';
export {
  BAD_DATES,
  BAD_DECIMALS,
  CRAFTED_CURSORS,
  HOSTILE_NUMBERS,
  HOSTILE_STRINGS,
  arbMalformedJson,
  arbMalformedJsonText,
  arbMalformedJsonParams,
  arbMalformedParams,
  arbMalformedValue,
  arbNearValid,
  circularObject,
  deepArray,
  deepObject,
  protoKeyObject,
  type MalformedOptions,
  type NearValidOptions,
} from './arbitraries-malformed.js';

/**
 * The JSON body of every `POST /v1/<method>`: the engine method's params object as JSON (dates
 * as ISO strings, money as decimal strings). A record over MethodName, so a method added to the
 * table does not compile until its params schema is written here.
 */
import type { MethodName } from '../methods.js';
import { arr, bool, dict, id, int, num, nullable, obj, oneOfValues, params, ref, str, type Schema } from './kit.js';

const none: Schema = params({});
const instant: Schema = { type: 'string', format: 'date-time', description: 'An ISO 8601 instant (UTC).' };
/** Money in: a decimal string (a JSON number is accepted where the engine says so). */
const amount: Schema = ref('Money');
const metadata: Schema = ref('Metadata');
const billingPeriod: Schema = ref('BillingPeriod');

// Checks are the hot path: the engine reads the fields it knows and skips the unknown-field scan,
// so their params are open (an unknown field is ignored, not refused).
/** A check as at a past instant (docs/as-of.md): ISO 8601 or epoch milliseconds, not after now. */
const asOf: Schema = {
  anyOf: [instant, { type: 'integer', minimum: 0 }],
  description: 'Answer as at this past instant (ISO 8601 or epoch milliseconds; not after now): subscriptions, grants, overrides and window usage then, read from the store.',
};
const check = obj({ customerId: id, featureId: id }, { resourceId: str, entityId: id, options: obj({}, { requestedUsage: num, requestedValues: arr(str) }), at: asOf });

const subscriptionFields = {
  planId: id,
};
const subscriptionOptional = {
  billingPeriod,
  resourceId: str,
  billableFeatures: arr(params({ featureId: id, quantity: num })),
  addons: arr(params({ addonId: id }, { quantity: int })),
  promotionCode: str,
  billingCountryCode: str,
  checkoutOptions: dict({}),
  skipTrial: bool,
  startDate: instant,
  metadata,
};
const provisionSubscription = params({ customerId: id, ...subscriptionFields }, subscriptionOptional);

const customerOptional = { name: nullable(str), email: nullable(str), couponId: nullable(str), billingInfo: nullable(ref('BillingInfo')), metadata };

/** An instant in the current billing period to prorate at: ISO 8601 or epoch milliseconds. */
const prorationDate: Schema = {
  anyOf: [instant, { type: 'integer', minimum: 0 }],
  description: 'The proration point: an instant in the current billing period, as ISO 8601 or epoch milliseconds (default: now).',
};
const updateSubscription = params(
  { subscriptionId: id },
  {
    planId: id,
    billableFeatures: arr(params({ featureId: id, quantity: num })),
    addons: arr(params({ addonId: id }, { quantity: int })),
    promotionCode: nullable(str),
    billingPeriod,
    metadata,
    prorationBehavior: { ...oneOfValues('PRORATE', 'NONE', 'INVOICE_NOW'), description: 'PRORATE (default): prorate what applies now; NONE: no proration, the next renewal bills the new price; INVOICE_NOW: apply everything now and invoice or credit the difference.' },
    downgradeTiming: { ...oneOfValues('END_OF_BILLING_PERIOD', 'IMMEDIATE'), description: 'When a downgrade applies (default END_OF_BILLING_PERIOD; IMMEDIATE credits the unused time).' },
    prorationDate,
  },
);

const usage = params(
  { customerId: id, featureId: id, value: num },
  { resourceId: str, entityId: id, updateBehavior: oneOfValues('DELTA', 'SET'), idempotencyKey: str, timestamp: instant },
);
const rawEvent = params(
  { customerId: id, eventName: str, idempotencyKey: str },
  { dimensions: dict({ type: ['string', 'number', 'boolean'] }), resourceId: str, entityId: id, timestamp: instant },
);
const consume = { customerId: id, featureId: id, amount: num };
/** `entityId`: the amount must fit the entity's per-entity limit and the pooled one (docs/entities.md). */
const consumeOptional = { resourceId: str, entityId: id, overage: oneOfValues('REJECT', 'CAP'), idempotencyKey: str };

const creditsOf = { customerId: id, currencyId: id };
const paging = { first: { type: 'integer', minimum: 1 }, after: str };

/** Dates compare with lt/lte/gt/gte; string fields with eq/ne/in/notIn; `and`/`or` nest. */
const subscriptionFilter: Schema = { type: 'object', description: 'Field conditions (customerId, planId, status, ... with eq/ne/in/notIn; dates with lt/lte/gt/gte), combined with and/or.' };

/** The params schema of every exposed method. */
export const METHOD_PARAMS: Record<MethodName, Schema> = {
  syncNow: none,
  lastChangeSeq: none,

  publishCatalog: params({ catalog: ref('Catalog') }),
  getProducts: none,
  getCoupons: none,

  provisionCustomer: params({ customerId: id }, { ...customerOptional, subscriptionParams: nullable(params({ planId: id }, { customerId: id, ...subscriptionOptional })) }),
  updateCustomer: params({ customerId: id }, customerOptional),
  getCustomer: params({ customerId: id }),
  getCustomers: params(
    {},
    {
      search: { type: 'string', maxLength: 500, description: 'Customers whose id, name or email contains this text (A-Z in either case; % and _ match themselves).' },
      archived: { type: 'boolean', description: 'true: archived customers only; false (default): live ones only.' },
      first: { type: 'integer', minimum: 1, maximum: 1000 },
      after: str,
    },
  ),
  archiveCustomer: params({ customerId: id }),
  unarchiveCustomer: params({ customerId: id }),

  provisionSubscription,
  getSubscription: params({ subscriptionId: id }),
  getActiveSubscriptions: params({ customerId: id }, { resourceId: { anyOf: [str, arr(str)] } }),
  cancelSubscription: params({ subscriptionId: id }, { cancellationTime: oneOfValues('IMMEDIATE', 'END_OF_BILLING_PERIOD'), endDate: instant }),
  updateSubscription,
  cancelSubscriptionScheduledUpdates: params({ subscriptionId: id }, { status: oneOfValues('SCHEDULED', 'PENDING_PAYMENT') }),
  migrateSubscriptionToLatest: params({ subscriptionId: id }, { subscriptionMigrationTime: oneOfValues('IMMEDIATE', 'END_OF_BILLING_PERIOD') }),
  confirmPayment: params({ subscriptionId: id }),
  retryCheckout: params({ subscriptionId: id }),
  getSubscriptions: params(
    {},
    {
      filter: subscriptionFilter,
      sort: params({ field: str }, { direction: oneOfValues('ASC', 'DESC') }),
      first: { type: 'integer', minimum: 1, maximum: 1000 },
      after: str,
    },
  ),
  getInvoices: params({ customerId: id }, { subscriptionId: id }),
  estimateSubscription: provisionSubscription,
  estimateSubscriptionUpdate: updateSubscription,
  tick: none,
  simulateCatalog: params({ catalog: ref('Catalog'), from: instant, to: instant }, { customerIds: arr(id), planMapping: dict(id), largest: int }),

  getEntitlement: check,
  getBooleanEntitlement: check,
  getNumericEntitlement: check,
  getMeteredEntitlement: check,
  getEnumEntitlement: check,
  getEntitlements: params({ customerId: id }, { resourceId: str, entityId: id, at: asOf }),

  reportUsage: usage,
  reportUsageBulk: params({ usages: arr(usage) }),
  reportEvent: { anyOf: [rawEvent, arr(rawEvent)], description: 'One event or an array of events.' },
  consumeUsage: params(consume, consumeOptional),
  reserveUsage: params({ ...consume, expiresIn: { type: 'integer', minimum: 1, description: 'Milliseconds the hold lasts (at most 7 days).' } }, consumeOptional),
  commitReservation: params({ reservationId: id }, { amount: num }),
  releaseReservation: params({ reservationId: id }),
  createEntity: params({ customerId: id, entityId: id }, { featureId: str, name: str, metadata }),
  deleteEntity: params({ customerId: id, entityId: id }),
  getEntities: params({ customerId: id }, { featureId: str, includeDeleted: { type: 'boolean' }, limit: { type: 'integer', minimum: 1, maximum: 1000 }, cursor: str }),
  getUsageHistory: params({ customerId: id, featureId: id, start: instant, end: instant }, { resourceId: str, entityId: id, groupBy: str, groupByEntity: bool }),
  getUnmatchedEvents: params({}, paging),

  grantPromotionalEntitlements: params(
    {
      customerId: id,
      promotionalEntitlements: arr(
        params(
          { featureId: id, period: oneOfValues('ONE_WEEK', 'ONE_MONTH', 'SIX_MONTHS', 'ONE_YEAR', 'LIFETIME', 'CUSTOM') },
          {
            customEndDate: instant,
            value: num,
            usageLimit: num,
            isUnlimited: bool,
            hasSoftLimit: bool,
            resetPeriod: nullable(str),
            resetPeriodConfiguration: { type: 'object' },
            enumValues: arr(str),
          },
        ),
      ),
    },
    { resourceId: str },
  ),
  revokePromotionalEntitlements: params({ customerId: id, featureId: id }, { resourceId: str }),
  setEntitlementOverride: params(
    {
      customerId: id,
      featureId: id,
      entitlement: params(
        {},
        { value: num, usageLimit: num, isUnlimited: bool, hasSoftLimit: bool, resetPeriod: nullable(str), resetPeriodConfiguration: { type: 'object' }, enumValues: arr(str) },
      ),
    },
    { resourceId: str, startDate: instant, endDate: instant, reason: nullable(str) },
  ),
  removeEntitlementOverride: params({ customerId: id, featureId: id }, { resourceId: str }),
  getEntitlementOverrides: params({ customerId: id }),
  grantCredits: params({ ...creditsOf, amount }, { category: oneOfValues('PAID', 'PROMOTIONAL'), expiresAt: instant, priority: int, idempotencyKey: str }),
  voidCreditGrant: params({ customerId: id, grantId: id }),
  getCreditGrants: params({ customerId: id }, { currencyId: id }),
  getCreditBalance: params(creditsOf),
  getCreditLedger: params(creditsOf, paging),
  consumeCredits: params({ ...creditsOf, amount }, { idempotencyKey: str }),
  getCreditEntitlement: params(creditsOf, { options: params({}, { requestedAmount: { type: 'number', minimum: 0 } }) }),
  saveAutomaticRechargeConfiguration: params(
    {
      ...creditsOf,
      isEnabled: bool,
      thresholdType: oneOfValues('CREDIT_AMOUNT', 'DOLLAR_AMOUNT'),
      thresholdValue: { anyOf: [amount, num] },
      targetBalance: { anyOf: [amount, num] },
    },
    { maxSpendLimit: { anyOf: [amount, num] }, grantExpirationPeriod: oneOfValues('ONE_MONTH', 'ONE_YEAR') },
  ),
  getAutomaticRechargeConfiguration: params(creditsOf),
  setUsageAlerts: params({ customerId: id, featureId: id, percents: arr({ type: 'number', exclusiveMinimum: 0, maximum: 1000 }) }),
  setSpendCap: params({ customerId: id, amount: { type: 'string', description: "A non-negative decimal string such as '5.00'." } }, { currency: str, featureId: id }),
  removeSpendCap: params({ customerId: id }, { featureId: id }),
  getSpendCaps: params({ customerId: id }),
  getWebhookDeliveries: params({}, { status: oneOfValues('PENDING', 'DELIVERED', 'FAILED'), ...paging }),
  getPaywall: params({}, { productId: id, customerId: id, resourceId: str, billingCountryCode: str, includeHiddenPlans: bool }),

  getChanges: params({}, { after: { type: 'integer', minimum: 0 }, limit: { type: 'integer', minimum: 1, maximum: 10_000 } }),
};

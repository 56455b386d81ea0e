/**
 * The shared schemas of the sidecar's OpenAPI document: what several methods return (Customer,
 * Subscription, Invoice, the entitlement variants...), money and instants as they cross JSON, the
 * error body, and the catalog's shapes taken from `@tessera/core`'s generated catalog.schema.json
 * (one definition: the valibot schemas the catalog validator checks with).
 */
import catalogJsonSchema from '../../../core/catalog.schema.json';
import { anyObject, arr, bool, dict, id, int, nullable, num, obj, oneOfValues, ref, str, type Schema } from './kit.js';

/** An amount as the API carries it: a decimal string, never a float ('12.50', '-3', '0.0125'). */
const Money: Schema = { type: 'string', pattern: '^-?\\d+(\\.\\d+)?$', description: 'A decimal amount as a string (decimal.js inside); never a JSON number.', examples: ['12.50'] };
/** A Date as JSON.stringify writes it (UTC, milliseconds). */
const DateTime: Schema = { type: 'string', format: 'date-time', pattern: '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d+)?Z$', description: 'An instant in UTC, ISO 8601.' };
const Metadata: Schema = dict({ type: 'string' });

const FeatureType = oneOfValues('BOOLEAN', 'NUMERIC', 'METERED', 'ENUM');
const ResetPeriod = oneOfValues('HOUR', 'DAY', 'WEEK', 'MONTH', 'YEAR');
const BillingPeriod = oneOfValues('MONTHLY', 'ANNUALLY');
const SubscriptionStatus = oneOfValues('ACTIVE', 'IN_TRIAL', 'PAYMENT_PENDING', 'CANCELED', 'EXPIRED', 'NOT_STARTED');
const AccessDeniedReason = oneOfValues(
  'CustomerNotFound',
  'CustomerIsArchived',
  'CustomerResourceNotFound',
  'FeatureNotFound',
  'FeatureTypeMismatch',
  'NoActiveSubscription',
  'NoFeatureEntitlementInSubscription',
  'RequestedUsageExceedingLimit',
  'RequestedValuesMismatch',
  'InsufficientCredits',
  'BudgetExceeded',
  'EntityNotFound',
  'SpendCapReached',
  'Revoked',
  'Unknown',
);

const FeatureInfo = obj({ id, displayName: str, type: FeatureType, units: nullable(str), unitsPlural: nullable(str), metadata: Metadata });

/** What every entitlement answer holds; `accessDeniedReason` only when denied, `feature` only for a known feature. */
const entitlementCommon = {
  required: { customerId: id, resourceId: nullable(str), featureId: id, hasAccess: bool, isFallback: bool },
  optional: { accessDeniedReason: ref('AccessDeniedReason'), feature: ref('FeatureInfo'), overrideId: id },
};
const entitlement = (type: string, required: Record<string, Schema>, optional: Record<string, Schema> = {}): Schema =>
  obj({ ...entitlementCommon.required, type: { const: type }, ...required }, { ...entitlementCommon.optional, ...optional });

const BooleanEntitlement = entitlement('BOOLEAN', {});
const NumericEntitlement = entitlement('NUMERIC', { value: nullable(num), isUnlimited: bool });
/** A spend cap with its spend in the current billing period (docs/spend-caps.md); featureId null for the customer-wide cap. */
const SpendCap = obj({ featureId: nullable(str), cap: str, spent: str, remaining: str, currency: str });
/** One limit of a feature with several (docs/limits.md). */
const LimitStanding = obj({
  usageLimit: nullable(num),
  currentUsage: num,
  remaining: nullable(num),
  resetPeriod: nullable(ResetPeriod),
  usagePeriodStart: ref('DateTime'),
  usagePeriodEnd: ref('DateTime'),
});
/** The carried balance of a limit that rolls over unused allowance (docs/rollovers.md#check-results). */
const RolloverShown = {
  ...obj({
    balance: num,
    used: num,
    remaining: num,
    expiries: { ...arr(obj({ amount: num, expiresAt: ref('DateTime') })), description: 'What remains, soonest-expiring first; each amount is usable until expiresAt.' },
  }),
  description: 'With a rollover only (docs/rollovers.md): units carried into the window, those used (usage burns them first) and what remains; usageLimit is then the base limit plus balance.',
};
// With `entityId` (docs/entities.md#checks): the top-level figures are the entity's when a
// per-entity limit applies to it, else the pooled ones; `entity` and `pooled` give both.
const MeteredEntitlement = entitlement(
  'METERED',
  { usageLimit: nullable(num), currentUsage: num, requestedUsage: num, hasSoftLimit: bool, isUnlimited: bool, resetPeriod: nullable(ResetPeriod) },
  {
    usagePeriodStart: ref('DateTime'),
    usagePeriodEnd: ref('DateTime'),
    entity: { ...obj({ entityId: id, usageLimit: nullable(num), currentUsage: num }), description: "With entityId: the entity's figures (usageLimit null when no per-entity limit applies to it)." },
    pooled: { ...obj({ usageLimit: nullable(num), currentUsage: num, isUnlimited: bool }), description: "With entityId: the customer's pooled figures, which also bound the entity." },
    entityId: { ...id, description: 'Set on an EntityNotFound denial.' },
    spendCap: ref('SpendCap'),
    limits: { ...arr(LimitStanding), description: 'With several limits only: each limit, the primary first; the top-level figures are then the binding one\'s (least left).' },
    deniedBy: { ...obj({ resetPeriod: nullable(ResetPeriod), usageLimit: nullable(num) }), description: 'With several limits, on a RequestedUsageExceedingLimit denial: the limit that denied.' },
    rollover: RolloverShown,
  },
);
const EnumEntitlement = entitlement('ENUM', { enumValues: arr(str), requestedValues: arr(str) });
/** The answer for a feature the catalog does not know (`getEntitlement` only): no `type`. */
const UnknownFeatureEntitlement: Schema = { ...obj(entitlementCommon.required, entitlementCommon.optional), not: { required: ['type'] } };
const Entitlement: Schema = {
  anyOf: ['BooleanEntitlement', 'NumericEntitlement', 'MeteredEntitlement', 'EnumEntitlement', 'UnknownFeatureEntitlement'].map(ref),
  description: 'Shaped by the feature type; `type` is absent when the feature is unknown (hasAccess false, accessDeniedReason FeatureNotFound).',
};

const InvoiceLine = obj(
  { kind: str, description: str, amount: ref('Money'), currency: str },
  { quantity: num, unitAmount: ref('Money'), periodStart: ref('DateTime'), periodEnd: ref('DateTime') },
);
const Invoice = obj({
  id,
  customerId: id,
  subscriptionId: nullable(str),
  kind: oneOfValues('PROVISIONING', 'RENEWAL', 'UPDATE', 'TRIAL_CONVERSION', 'USAGE', 'MIGRATION', 'RECHARGE'),
  status: oneOfValues('OPEN', 'PAID', 'VOID'),
  currency: str,
  periodStart: nullable(ref('DateTime')),
  periodEnd: nullable(ref('DateTime')),
  lines: arr(ref('InvoiceLine')),
  subTotal: ref('Money'),
  discount: nullable(obj({ couponId: id, type: str, value: str, durationInMonths: nullable(int), amount: ref('Money') })),
  tax: ref('Money'),
  total: ref('Money'),
  excessCredit: ref('Money'),
  createdAt: ref('DateTime'),
});

const ScheduledUpdate = obj(
  { kind: str, status: oneOfValues('SCHEDULED', 'PENDING_PAYMENT'), scheduledAt: ref('DateTime') },
  { planId: id, billingPeriod: ref('BillingPeriod') },
);
const Subscription = obj(
  {
    id,
    customerId: id,
    productId: id,
    planId: id,
    planVersion: int,
    resourceId: nullable(str),
    billingPeriod: nullable(ref('BillingPeriod')),
    status: ref('SubscriptionStatus'),
    startDate: ref('DateTime'),
    endDate: nullable(ref('DateTime')),
    trialEndDate: nullable(ref('DateTime')),
    cancellationDate: nullable(ref('DateTime')),
    currentBillingPeriodStart: nullable(ref('DateTime')),
    currentBillingPeriodEnd: nullable(ref('DateTime')),
    addons: arr(obj({ addonId: id, quantity: int })),
    billableFeatures: arr(obj({ featureId: id, quantity: num })),
    promotionCode: nullable(str),
    billingCountryCode: nullable(str),
    scheduledUpdates: arr(ref('ScheduledUpdate')),
    metadata: ref('Metadata'),
    createdAt: ref('DateTime'),
    updatedAt: ref('DateTime'),
  },
  { latestInvoice: ref('Invoice') },
);

// getSubscription's detail (core: subscription-detail.ts, rules/price-lines.ts, rules/payment-collection.ts).
const PlanSummary = obj({ id, displayName: str, description: nullable(str), version: int });
const SubscriptionAddonDetail = obj({ addonId: id, quantity: int, displayName: str, description: nullable(str) });
const PriceTier = obj({ upTo: nullable(num) }, { unitAmount: ref('Money'), flatAmount: ref('Money') });
const PriceLine = obj({
  source: oneOfValues('PLAN', 'ADDON'),
  sourceId: id,
  billingModel: oneOfValues('FLAT_FEE', 'PER_UNIT', 'USAGE_BASED'),
  billingPeriod: ref('BillingPeriod'),
  currency: str,
  billingCountryCode: nullable(str),
  featureId: nullable(str),
  unitAmount: nullable(ref('Money')),
  tiersMode: nullable(oneOfValues('GRADUATED', 'VOLUME')),
  tiers: nullable(arr(PriceTier)),
  blockSize: nullable(int),
  quantity: nullable(num),
  amount: nullable(ref('Money')),
});
const ScheduledUpdateDetail: Schema = {
  allOf: [ref('ScheduledUpdate')],
  ...obj({}, { plan: ref('PlanSummary'), addons: arr(ref('SubscriptionAddonDetail')), billableFeatures: arr(obj({ featureId: id, quantity: num })), subscriptionId: id }),
};
const SubscriptionDetail: Schema = {
  allOf: [ref('Subscription')],
  ...obj({
    plan: ref('PlanSummary'),
    addons: arr(ref('SubscriptionAddonDetail')),
    priceLines: arr(ref('PriceLine')),
    paymentCollection: oneOfValues('PAID', 'PENDING', 'FAILED', 'NOT_REQUIRED'),
    scheduledUpdates: arr(ref('ScheduledUpdateDetail')),
  }),
  description: 'What getSubscription returns: the Subscription plus what a billing page shows. Lists (getActiveSubscriptions, getSubscriptions) return the lean Subscription.',
};

const PromotionalEntitlement = obj(
  {
    id,
    customerId: id,
    resourceId: nullable(str),
    featureId: id,
    startDate: ref('DateTime'),
    endDate: nullable(ref('DateTime')),
    revokedAt: nullable(ref('DateTime')),
    status: oneOfValues('ACTIVE', 'EXPIRED', 'REVOKED'),
  },
  { value: num, usageLimit: num, isUnlimited: bool, hasSoftLimit: bool, resetPeriod: nullable(str), enumValues: arr(str) },
);

/** A per-customer entitlement override (docs/overrides.md in @tessera/core). */
const EntitlementOverride = obj({
  id,
  customerId: id,
  resourceId: nullable(str),
  featureId: id,
  entitlement: obj({}, { value: num, usageLimit: num, isUnlimited: bool, hasSoftLimit: bool, resetPeriod: nullable(str), resetPeriodConfiguration: anyObject, enumValues: arr(str) }),
  startDate: ref('DateTime'),
  endDate: nullable(ref('DateTime')),
  reason: nullable(str),
  removedAt: nullable(ref('DateTime')),
  createdAt: ref('DateTime'),
  status: oneOfValues('SCHEDULED', 'ACTIVE', 'EXPIRED', 'REMOVED'),
});

/** Billing details: known keys typed, any other key kept as given. */
const BillingInfo = obj({}, { billingCountryCode: str, taxExempt: bool, currency: str, hasPaymentMethod: bool });
const Customer = obj({
  customerId: id,
  name: nullable(str),
  email: nullable(str),
  couponId: nullable(str),
  billingInfo: nullable(ref('BillingInfo')),
  metadata: ref('Metadata'),
  hasPaymentMethod: bool,
  createdAt: ref('DateTime'),
  updatedAt: ref('DateTime'),
  subscriptions: arr(ref('Subscription')),
  promotionalEntitlements: arr(ref('PromotionalEntitlement')),
});
/** What getCustomers lists: the customer without subscriptions and promotions, and when it was archived. */
const CustomerSummary = obj({
  customerId: id,
  name: nullable(str),
  email: nullable(str),
  couponId: nullable(str),
  billingInfo: nullable(ref('BillingInfo')),
  metadata: ref('Metadata'),
  hasPaymentMethod: bool,
  createdAt: ref('DateTime'),
  updatedAt: ref('DateTime'),
  archivedAt: nullable(ref('DateTime')),
});

const CreditGrant = obj({
  id,
  customerId: id,
  currencyId: id,
  category: oneOfValues('PAID', 'PROMOTIONAL'),
  amount: ref('Money'),
  remaining: ref('Money'),
  priority: int,
  expiresAt: nullable(ref('DateTime')),
  voidedAt: nullable(ref('DateTime')),
  createdAt: ref('DateTime'),
  status: oneOfValues('ACTIVE', 'EXPIRED', 'VOIDED', 'DEPLETED'),
});
const CreditLedgerEntry = obj({
  seq: int,
  grantId: id,
  customerId: id,
  currencyId: id,
  kind: oneOfValues('GRANT', 'RECHARGE', 'BURN', 'EXPIRE', 'VOID'),
  amount: ref('Money'),
  at: ref('DateTime'),
  reference: nullable(str),
});
const RechargeConfiguration = obj({
  customerId: id,
  currencyId: id,
  isEnabled: bool,
  thresholdType: oneOfValues('CREDIT_AMOUNT', 'DOLLAR_AMOUNT'),
  thresholdValue: ref('Money'),
  targetBalance: ref('Money'),
  maxSpendLimit: nullable(ref('Money')),
  grantExpirationPeriod: nullable(oneOfValues('ONE_MONTH', 'ONE_YEAR')),
  updatedAt: ref('DateTime'),
});

const window = { usagePeriodStart: nullable(ref('DateTime')), usagePeriodEnd: nullable(ref('DateTime')) };
/** Where one cell (an entity's, or the pooled one) stands after a consumption (docs/entities.md). */
const cellStanding = { currentUsage: num, usageLimit: nullable(num), remaining: nullable(num) };
const Consumption = obj(
  {
    customerId: id,
    featureId: id,
    resourceId: nullable(str),
    requested: num,
    granted: num,
    currentUsage: num,
    usageLimit: nullable(num),
    remaining: nullable(num),
    ...window,
  },
  {
    entity: { ...obj({ entityId: id, ...cellStanding }), description: "With entityId: the entity's cell (usageLimit null when no per-entity limit applies to it)." },
    pooled: { ...obj(cellStanding), description: "With entityId: the customer's pooled cell." },
    limits: {
      ...arr(obj({ usageLimit: nullable(num), currentUsage: num, remaining: nullable(num), resetPeriod: nullable(ResetPeriod), ...window })),
      description: "With several limits only (docs/limits.md): the customer's cell of each limit after the call, the primary first.",
    },
    rollover: RolloverShown,
  },
);
const Reservation: Schema = {
  allOf: [ref('Consumption')],
  ...obj({ reservationId: id, status: oneOfValues('HELD', 'COMMITTED', 'RELEASED', 'EXPIRED'), expiresAt: ref('DateTime'), committedAmount: nullable(num) }),
};
const ReportedUsage = obj(
  { customerId: id, featureId: id, resourceId: nullable(str), currentUsage: num, ...window, timestamp: ref('DateTime') },
  {
    entityId: { ...id, description: "With entityId: the entity reported for (currentUsage is then the entity's cell)." },
    pooledUsage: { ...num, description: "With entityId: the customer's pooled usage after the report." },
  },
);

/** A member of a customer with balances of its own (docs/entities.md). */
const Entity = obj({
  customerId: id,
  entityId: id,
  featureId: { ...nullable(str), description: 'The seat feature the entity occupies (one unit of its usage while live); null when none.' },
  name: nullable(str),
  metadata: ref('Metadata'),
  createdAt: ref('DateTime'),
  updatedAt: ref('DateTime'),
  deletedAt: { ...nullable(ref('DateTime')), description: 'When it was deleted; null while live.' },
});

/** Why a stored event was counted by no meter (getUnmatchedEvents). */
const UnmatchedReason = oneOfValues('CUSTOMER_NOT_FOUND', 'ENTITY_NOT_FOUND', 'NO_MATCHING_METER', 'MISSING_DIMENSION', 'TOO_LATE');

const Change = obj(
  {
    seq: int,
    at: { type: 'integer', description: 'Commit time, epoch milliseconds (UTC).' },
    kind: oneOfValues(
      'catalog.published',
      'customer.updated',
      'customer.archived',
      'subscription.updated',
      'usage.updated',
      'reservation.updated',
      'event.recorded',
      'invoice.created',
      'promotion.updated',
      'credits.updated',
      'override.updated',
      'entity.updated',
    ),
    customerId: nullable(str),
    entityId: nullable(str),
  },
  { payload: {} },
);

const Estimate = obj(
  {
    currency: str,
    subTotal: ref('Money'),
    tax: ref('Money'),
    total: ref('Money'),
    billingPeriodRange: nullable(obj({ start: ref('DateTime'), end: ref('DateTime') })),
    lines: arr(ref('InvoiceLine')),
  },
  {
    discount: obj({ type: str, value: str, durationInMonths: nullable(int), amount: ref('Money') }),
    proration: obj({ prorationDate: ref('DateTime'), credit: ref('Money'), debit: ref('Money'), netAmount: ref('Money') }),
  },
);

const PageInfo = obj({ hasNextPage: bool, endCursor: nullable(str) });

// The paywall nests catalog shapes resolved for a country; its top levels are typed, the rest open.
const PaywallPlan = obj({
  id,
  productId: id,
  displayName: str,
  description: nullable(str),
  order: int,
  pricingType: oneOfValues('FREE', 'PAID', 'CUSTOM'),
  parentPlanId: nullable(str),
  isCurrentPlan: bool,
  trial: nullable(anyObject),
  entitlements: arr(obj({ feature: ref('FeatureInfo') })),
  prices: arr(anyObject),
  billingPeriods: arr(ref('BillingPeriod')),
  compatibleAddons: arr(obj({ id, displayName: str, entitlements: arr(anyObject), prices: arr(anyObject) })),
  metadata: ref('Metadata'),
});
const Paywall = obj({
  billingCountryCode: nullable(str),
  products: arr(obj({ id, displayName: str, description: nullable(str), metadata: ref('Metadata'), currentPlanId: nullable(str), plans: arr(ref('PaywallPlan')) })),
});

/** The catalog's `$defs`, renamed `Catalog<Name>` and with their references pointed into components. */
function catalogComponents(): Record<string, Schema> {
  const name = (def: string) => `Catalog${def[0]!.toUpperCase()}${def.slice(1)}`;
  const rewrite = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(rewrite);
    if (typeof value !== 'object' || value === null) return value;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      if (k === '$schema' || k === '$defs') continue;
      out[k] = k === '$ref' && typeof v === 'string' && v.startsWith('#/$defs/') ? `#/components/schemas/${name(v.slice('#/$defs/'.length))}` : rewrite(v);
    }
    return out;
  };
  const source = catalogJsonSchema as { $defs: Record<string, unknown> };
  const out: Record<string, Schema> = { Catalog: rewrite(source) as Schema };
  for (const [def, schema] of Object.entries(source.$defs)) out[name(def)] = rewrite(schema) as Schema;
  return out;
}

/**
 * `getProducts`' product: the catalog's product with its plans (each with its published version).
 * Built from the catalog's own properties (both are closed objects, so `allOf` could not extend them).
 */
function productComponent(catalog: Record<string, Schema>): Schema {
  const props = (s: Schema | undefined) => (s?.properties ?? {}) as Record<string, Schema>;
  const plan = catalog.CatalogPlan!;
  const planWithVersion: Schema = { ...plan, properties: { ...props(plan), version: int }, required: [...((plan.required as string[]) ?? []), 'version'] };
  const product = catalog.CatalogProduct!;
  return { ...product, properties: { ...props(product), plans: arr(planWithVersion) }, required: [...((product.required as string[]) ?? []), 'plans'] };
}

/** Every shared schema of the document, by component name. */
export function sharedSchemas(codes: readonly string[]): Record<string, Schema> {
  const catalog = catalogComponents();
  return {
    Money,
    DateTime,
    Metadata,
    BillingPeriod,
    SubscriptionStatus,
    AccessDeniedReason,
    ErrorCode: { ...oneOfValues(...codes), description: 'Stable error codes (TesseraErrorCode plus INTERNAL); branch on these, never on the message.' },
    Error: obj({ code: ref('ErrorCode'), message: str, details: obj({}, { field: str, value: {}, allowed: arr({}), problems: arr(obj({ path: str, message: str })) }) }),
    ErrorBody: obj({ error: ref('Error') }),
    FeatureInfo,
    BooleanEntitlement,
    NumericEntitlement,
    SpendCap,
    MeteredEntitlement,
    EnumEntitlement,
    UnknownFeatureEntitlement,
    Entitlement,
    InvoiceLine,
    Invoice,
    ScheduledUpdate,
    Subscription,
    PlanSummary,
    SubscriptionAddonDetail,
    PriceLine,
    ScheduledUpdateDetail,
    SubscriptionDetail,
    PromotionalEntitlement,
    EntitlementOverride,
    BillingInfo,
    Customer,
    CustomerSummary,
    CreditGrant,
    CreditLedgerEntry,
    RechargeConfiguration,
    Consumption,
    Reservation,
    ReportedUsage,
    Entity,
    UnmatchedReason,
    Change,
    Estimate,
    PageInfo,
    PaywallPlan,
    Paywall,
    Product: productComponent(catalog),
    ...catalog,
  };
}

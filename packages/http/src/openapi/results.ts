/**
 * The 200 answer of every `POST /v1/<method>`: the engine method's result as JSON (Dates as ISO
 * strings, money as decimal strings; a method returning nothing answers `null`). A record over
 * MethodName, so a method added to the table does not compile until its result schema is here.
 */
import type { MethodName } from '../methods.js';
import { arr, bool, id, int, num, nullable, obj, oneOfValues, ref, str, type Schema } from './kit.js';

const page = (item: Schema): Schema => obj({ data: arr(item), pageInfo: ref('PageInfo') });
const nothing: Schema = { type: 'null', description: 'The method returns nothing.' };
const subscription = ref('Subscription');
const entity = ref('Entity');

/** `simulateCatalog`'s result (core docs/simulation.md); instants inside the comparisons are epoch ms. */
function simulation(): Schema {
  const money = str;
  const ms = nullable(int);
  const where = { key: str, kind: str, subscriptionId: nullable(str), planId: nullable(str), currency: str, periodStart: ms, periodEnd: ms };
  const docLine = obj({ kind: str, description: str, amount: money, currency: str });
  const doc = obj({ ...where, lines: arr(docLine), subTotal: money, discount: money, tax: money, total: money });
  const lineDiff = obj({ kind: str, description: str, before: nullable(money), after: nullable(money), difference: money });
  const invoice = obj({ ...where, replayed: bool, before: nullable(doc), after: nullable(doc), lines: arr(lineDiff), difference: money });
  const amounts = { currency: str, before: money, after: money, difference: money };
  const outcome = oneOfValues('BETTER_OFF', 'WORSE_OFF', 'UNCHANGED', 'MIXED');
  return obj({
    period: obj({ start: ref('DateTime'), end: ref('DateTime') }),
    customers: arr(obj({ customerId: id, planIds: arr(str), invoices: arr(invoice), totals: arr(obj(amounts)), outcome })),
    totals: obj({
      customers: int,
      betterOff: int,
      worseOff: int,
      unchanged: int,
      mixed: int,
      revenueByPlan: arr(obj({ planId: str, ...amounts })),
      largestChanges: arr(obj({ customerId: id, ...amounts })),
    }),
  });
}

/** The result schema of every exposed method. */
export const METHOD_RESULTS: Record<MethodName, Schema> = {
  syncNow: nothing,
  lastChangeSeq: { type: 'integer', minimum: 0, description: 'The highest committed change sequence number (0 when none).' },

  publishCatalog: obj({ version: { type: 'integer', minimum: 1 }, changed: bool }),
  getProducts: arr(ref('Product')),
  getCoupons: arr(ref('CatalogCoupon')),

  provisionCustomer: obj({ customer: ref('Customer') }, { subscription }),
  updateCustomer: ref('Customer'),
  getCustomer: ref('Customer'),
  getCustomers: page(ref('CustomerSummary')),
  archiveCustomer: nothing,
  unarchiveCustomer: ref('Customer'),

  provisionSubscription: obj({ id, status: oneOfValues('SUCCESS', 'PAYMENT_REQUIRED'), subscription }, { checkoutUrl: str }),
  getSubscription: ref('SubscriptionDetail'),
  getActiveSubscriptions: arr(subscription),
  cancelSubscription: subscription,
  updateSubscription: subscription,
  cancelSubscriptionScheduledUpdates: subscription,
  migrateSubscriptionToLatest: subscription,
  confirmPayment: subscription,
  retryCheckout: obj({ subscriptionId: id, checkoutUrl: str }),
  getSubscriptions: page(subscription),
  getInvoices: arr(ref('Invoice')),
  estimateSubscription: ref('Estimate'),
  estimateSubscriptionUpdate: ref('Estimate'),
  simulateCatalog: simulation(),
  tick: obj({
    subscriptionsVisited: int,
    statusesChanged: int,
    invoicesCreated: int,
    updatesApplied: int,
    creditsMaintained: int,
    providerCallsRetried: int,
    providerCallsFailed: int,
  }),

  getEntitlement: ref('Entitlement'),
  getBooleanEntitlement: ref('BooleanEntitlement'),
  getNumericEntitlement: ref('NumericEntitlement'),
  getMeteredEntitlement: ref('MeteredEntitlement'),
  getEnumEntitlement: ref('EnumEntitlement'),
  getEntitlements: arr(ref('Entitlement')),

  reportUsage: ref('ReportedUsage'),
  reportUsageBulk: arr(ref('ReportedUsage')),
  reportEvent: obj({
    accepted: int,
    duplicates: int,
    unmatched: int,
    usage: arr(
      obj(
        { customerId: id, resourceId: nullable(str), featureId: id, currentUsage: num, usagePeriodStart: nullable(ref('DateTime')), usagePeriodEnd: nullable(ref('DateTime')) },
        { entityId: { ...id, description: "An entity's cell (its events name it); absent for the customer's pooled cell." } },
      ),
    ),
  }),
  consumeUsage: ref('Consumption'),
  reserveUsage: ref('Reservation'),
  commitReservation: ref('Reservation'),
  releaseReservation: ref('Reservation'),
  createEntity: entity,
  deleteEntity: entity,
  getEntities: page(entity),
  getUsageHistory: obj(
    {
      customerId: id,
      featureId: id,
      resourceId: nullable(str),
      entityId: { ...nullable(id), description: 'The entity asked for; null for the pooled history.' },
      periods: arr(
        obj(
          { start: nullable(ref('DateTime')), end: nullable(ref('DateTime')), value: num },
          {
            groups: arr(obj({ value: { type: ['string', 'number', 'boolean', 'null'] }, usage: num })),
            entities: { ...arr(obj({ entityId: id, usage: num })), description: 'With groupByEntity: the usage of each entity with a cell in the period (deleted ones too), by entityId.' },
          },
        ),
      ),
    },
  ),
  getUnmatchedEvents: page(
    obj({
      idempotencyKey: str,
      customerId: str,
      eventName: str,
      resourceId: nullable(str),
      dimensions: { type: 'object', additionalProperties: { type: ['string', 'number', 'boolean'] } },
      timestamp: ref('DateTime'),
      receivedAt: ref('DateTime'),
      reason: ref('UnmatchedReason'),
    }),
  ),

  grantPromotionalEntitlements: arr(ref('PromotionalEntitlement')),
  revokePromotionalEntitlements: obj({ revoked: int }),
  setEntitlementOverride: ref('EntitlementOverride'),
  removeEntitlementOverride: obj({ removed: int }),
  getEntitlementOverrides: arr(ref('EntitlementOverride')),
  grantCredits: ref('CreditGrant'),
  voidCreditGrant: ref('CreditGrant'),
  getCreditGrants: arr(ref('CreditGrant')),
  getCreditBalance: obj({ customerId: id, currencyId: id, balance: ref('Money') }),
  getCreditLedger: page(ref('CreditLedgerEntry')),
  consumeCredits: obj({ burnt: ref('Money'), balance: ref('Money') }),
  getCreditEntitlement: obj(
    { customerId: id, currencyId: id, requestedAmount: num, isFallback: bool, hasAccess: bool, balance: ref('Money') },
    { accessDeniedReason: ref('AccessDeniedReason') },
  ),
  saveAutomaticRechargeConfiguration: ref('RechargeConfiguration'),
  getAutomaticRechargeConfiguration: nullable(ref('RechargeConfiguration')),
  setUsageAlerts: obj({ customerId: id, featureId: id, percents: arr(num) }),
  setSpendCap: obj({ customerId: id, featureId: nullable(str), amount: str, currency: str }),
  removeSpendCap: obj({ customerId: id, featureId: nullable(str), removed: bool }),
  getSpendCaps: arr(ref('SpendCap')),
  getWebhookDeliveries: page(
    obj(
      {
        id: str,
        endpoint: str,
        type: oneOfValues('usage.threshold_reached', 'credit.balance_low'),
        customerId: id,
        status: oneOfValues('PENDING', 'DELIVERED', 'FAILED'),
        attempts: int,
        lastError: nullable(str),
        nextAttemptAt: nullable(ref('DateTime')),
        payload: obj({ type: str, timestamp: ref('DateTime'), data: { type: 'object' } }),
        createdAt: ref('DateTime'),
        updatedAt: ref('DateTime'),
      },
    ),
  ),
  getPaywall: ref('Paywall'),

  getChanges: arr(ref('Change')),
};

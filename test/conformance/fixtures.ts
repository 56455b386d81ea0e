/**
 * Records for the store conformance suite: every field set, with JSON fields nested enough to
 * show they round-trip, and a builder per record type so a case states only what it varies.
 */
import {
  NO_WINDOW_END,
  TesseraError,
  type TesseraErrorCode,
  type CatalogVersionRecord,
  type CreditGrantRecord,
  type CustomerRecord,
  type EntityRecord,
  type EventRecord,
  type IdempotencyRecord,
  type InvoiceRecord,
  type NewChange,
  type NewCreditLedgerRecord,
  type PromotionalGrantRecord,
  type RechargeConfigRecord,
  type ReservationRecord,
  type SubscriptionRecord,
  type UsageKey,
  type UsageRecord,
} from '@tessera/core';
import { expect } from 'vitest';

/** 2024-01-31T12:00:00Z: a month end, so nothing here looks like a round number by accident. */
export const T0 = Date.UTC(2024, 0, 31, 12, 0, 0);
export const DAY = 86_400_000;

export function catalogVersion(version: number): CatalogVersionRecord {
  return {
    version,
    publishedAt: T0 + version,
    definition: {
      features: [
        { id: 'api-calls', type: 'METERED', units: 'call', unitsPlural: 'calls', meter: { eventName: 'api.call', aggregation: { type: 'COUNT' } } },
        { id: 'seats', type: 'NUMERIC', metadata: { shown: 'yes' } },
        { id: 'region', type: 'ENUM', enumValues: ['eu', 'us'] },
      ],
      products: [{ id: 'app', multipleSubscriptions: false, cancellationTime: 'END_OF_BILLING_PERIOD', defaultPlanId: 'free' }],
      plans: [
        { id: 'free', productId: 'app', pricingType: 'FREE', entitlements: [{ featureId: 'api-calls', usageLimit: 100, resetPeriod: 'MONTH' }] },
        {
          id: 'pro',
          productId: 'app',
          pricingType: 'PAID',
          parentPlanId: 'free',
          prices: [
            {
              billingPeriod: 'MONTHLY',
              billingModel: 'PER_UNIT',
              featureId: 'seats',
              currency: 'USD',
              tiersMode: 'GRADUATED',
              tiers: [{ upTo: 10, unitAmount: '5.00', flatAmount: '1.50' }, { upTo: null, unitAmount: '4.25' }],
              countryOverrides: { DE: { currency: 'EUR', amount: '4.99' } },
            },
          ],
          entitlements: [{ featureId: 'api-calls', isUnlimited: true, resetPeriod: null }],
          trial: { days: 14, onEnd: 'DOWNGRADE' },
        },
      ],
      coupons: [{ id: 'half', type: 'PERCENTAGE', value: '50', durationInMonths: 3 }],
    },
    planVersions: { free: 1, pro: version },
    addonVersions: {},
  };
}

export function customer(customerId: string, over: Partial<CustomerRecord> = {}): CustomerRecord {
  return {
    customerId,
    name: 'Ada Lovelace',
    email: 'ada@example.com',
    couponId: 'half',
    billingInfo: { billingCountryCode: 'DE', taxExempt: false, currency: 'EUR', hasPaymentMethod: true, vatId: 'DE123', address: { city: 'Köln', lines: ['a', 'b'] } },
    metadata: { tier: 'gold', 'unicode-☃': 'snow ❄ 😀' },
    archivedAt: null,
    couponAppliedAt: T0 + 2,
    createdAt: T0,
    updatedAt: T0 + 1,
    ...over,
  };
}

/** A customer with every nullable field null and nothing in metadata. */
export function bareCustomer(customerId: string): CustomerRecord {
  return customer(customerId, { name: null, email: null, couponId: null, billingInfo: null, metadata: {}, archivedAt: null, couponAppliedAt: null });
}

export function subscription(id: string, customerId: string, over: Partial<SubscriptionRecord> = {}): SubscriptionRecord {
  return {
    id,
    customerId,
    productId: 'app',
    planId: 'pro',
    planVersion: 2,
    catalogVersion: 3,
    resourceId: 'site-1',
    billingPeriod: 'MONTHLY',
    status: 'IN_TRIAL',
    startDate: T0,
    billingAnchor: T0 + 1,
    usageAnchor: T0 + 2,
    trialEndDate: T0 + 14 * DAY,
    endDate: T0 + 60 * DAY,
    cancellationDate: T0 + 30 * DAY,
    addons: [{ addonId: 'extra-seats', quantity: 3 }, { addonId: 'sso', quantity: 1 }],
    billableFeatures: [{ featureId: 'seats', quantity: 12 }],
    promotionCode: 'WELCOME',
    promotionCodeAppliedAt: T0 + 3,
    billingCountryCode: 'DE',
    scheduledUpdates: [
      { kind: 'PLAN_CHANGE', status: 'SCHEDULED', at: T0 + 31 * DAY, planId: 'free', billingPeriod: 'ANNUALLY' },
      { kind: 'ADDONS_CHANGE', status: 'PENDING_PAYMENT', at: T0 + 40 * DAY, addons: [], billableFeatures: [{ featureId: 'seats', quantity: 2 }] },
    ],
    metadata: { source: 'test' },
    createdAt: T0,
    updatedAt: T0 + 5,
    ...over,
  };
}

/** A subscription with every nullable field null and every list empty. */
export function bareSubscription(id: string, customerId: string): SubscriptionRecord {
  return subscription(id, customerId, {
    resourceId: '',
    billingPeriod: null,
    status: 'ACTIVE',
    trialEndDate: null,
    endDate: null,
    cancellationDate: null,
    addons: [],
    billableFeatures: [],
    promotionCode: null,
    promotionCodeAppliedAt: null,
    billingCountryCode: null,
    scheduledUpdates: [],
    metadata: {},
  });
}

export function usageKey(over: Partial<UsageKey> = {}): UsageKey {
  return { customerId: 'c1', resourceId: '', entityId: '', featureId: 'api-calls', windowStart: T0, windowEnd: T0 + 30 * DAY, ...over };
}

export function usage(over: Partial<UsageRecord> = {}): UsageRecord {
  return {
    ...usageKey(),
    value: 42.5,
    count: 7,
    sum: 42.5,
    min: -1.25,
    max: 30,
    latestAt: T0 + 3,
    latestValue: 0.1,
    updatedAt: T0 + 4,
    ...over,
  };
}

/** A cumulative cell (no reset window) with the running aggregates unset. */
export function bareUsage(over: Partial<UsageRecord> = {}): UsageRecord {
  return usage({ windowStart: 0, windowEnd: NO_WINDOW_END, value: 0, count: 0, sum: 0, min: null, max: null, latestAt: null, latestValue: null, ...over });
}

export function event(idempotencyKey: string, over: Partial<EventRecord> = {}): EventRecord {
  return {
    idempotencyKey,
    customerId: 'c1',
    eventName: 'api.call',
    resourceId: '',
    entityId: '',
    dimensions: { endpoint: '/v1/things', tokens: 1234.5, cached: true, retries: 0, note: '' },
    timestamp: T0,
    receivedAt: T0 + 10,
    unmatchedReason: null,
    ...over,
  };
}

export function reservation(id: string, over: Partial<ReservationRecord> = {}): ReservationRecord {
  return {
    id,
    customerId: 'c1',
    resourceId: '',
    entityId: '',
    featureId: 'api-calls',
    windowStart: T0,
    windowEnd: T0 + 30 * DAY,
    amount: 5,
    expiresAt: T0 + 60_000,
    status: 'HELD',
    committedAmount: null,
    createdAt: T0,
    updatedAt: T0,
    ...over,
  };
}

/** c1's entity `entityId` occupying a seat, with every field set and nested metadata. */
export function entity(entityId: string, over: Partial<EntityRecord> = {}): EntityRecord {
  return {
    customerId: 'c1',
    entityId,
    featureId: 'seats',
    name: 'Grace ☃',
    metadata: { team: 'compilers', 'unicode-☃': 'snow ❄ 😀' },
    createdAt: T0,
    updatedAt: T0 + 1,
    deletedAt: null,
    ...over,
  };
}

/** An entity with every nullable field null and nothing in metadata. */
export function bareEntity(entityId: string, over: Partial<EntityRecord> = {}): EntityRecord {
  return entity(entityId, { featureId: null, name: null, metadata: {}, ...over });
}

/** A renewal invoice of subscription s1 with every field set (a discount, a line with a period). */
export function invoice(id: string, over: Partial<InvoiceRecord> = {}): InvoiceRecord {
  return {
    id,
    customerId: 'c1',
    subscriptionId: 's1',
    kind: 'RENEWAL',
    dedupeKey: `renewal:s1:${id}`,
    status: 'OPEN',
    currency: 'EUR',
    periodStart: T0,
    periodEnd: T0 + 29 * DAY,
    lines: [
      { kind: 'PLAN', description: 'Pro (monthly)', quantity: 1, unitAmount: '20.00', amount: '20.00', currency: 'EUR', periodStart: T0, periodEnd: T0 + 29 * DAY },
      { kind: 'ADJUSTMENT', description: 'Crédit ☃', amount: '-0.10', currency: 'EUR' },
    ],
    subTotal: '19.90',
    discount: { couponId: 'half', type: 'PERCENTAGE', value: '50', durationInMonths: 3, amount: '9.95' },
    tax: '1.89',
    total: '11.84',
    excessCredit: '0.00',
    createdAt: T0 + DAY,
    ...over,
  };
}

/** An invoice with every nullable field null. */
export function bareInvoice(id: string, over: Partial<InvoiceRecord> = {}): InvoiceRecord {
  return invoice(id, { subscriptionId: null, kind: 'USAGE', periodStart: null, periodEnd: null, lines: [], discount: null, ...over });
}

/** A promotional grant of c1's site-1 with every field set and a nested entitlement. */
export function promotionalGrant(id: string, over: Partial<PromotionalGrantRecord> = {}): PromotionalGrantRecord {
  return {
    id,
    customerId: 'c1',
    resourceId: 'site-1',
    featureId: 'api-calls',
    entitlement: {
      featureId: 'api-calls',
      usageLimit: 2500,
      hasSoftLimit: true,
      resetPeriod: 'MONTH',
      resetPeriodConfiguration: { monthlyAccordingTo: 'START_OF_THE_MONTH' },
      enumValues: ['eu', 'us'],
    },
    startDate: T0,
    endDate: T0 + 30 * DAY,
    revokedAt: T0 + 10 * DAY,
    createdAt: T0,
    ...over,
  };
}

/** A lifetime, unrevoked, customer-level grant (every nullable field null, a minimal entitlement). */
export function barePromotionalGrant(id: string, over: Partial<PromotionalGrantRecord> = {}): PromotionalGrantRecord {
  return promotionalGrant(id, { resourceId: '', featureId: 'sso', entitlement: { featureId: 'sso' }, endDate: null, revokedAt: null, ...over });
}

/** A paid grant of c1 in 'tokens' with every field set; amounts with more digits than a double keeps. */
export function creditGrant(id: string, over: Partial<CreditGrantRecord> = {}): CreditGrantRecord {
  return {
    id,
    customerId: 'c1',
    currencyId: 'tokens',
    category: 'PAID',
    amount: '123456789012345678.5',
    remaining: '0.000000000001',
    priority: 2,
    expiresAt: T0 + 365 * DAY,
    createdAt: T0,
    voidedAt: T0 + DAY,
    ...over,
  };
}

/** A grant with every nullable field null. */
export function bareCreditGrant(id: string, over: Partial<CreditGrantRecord> = {}): CreditGrantRecord {
  return creditGrant(id, { category: 'PROMOTIONAL', amount: '10', remaining: '10', priority: 0, expiresAt: null, voidedAt: null, ...over });
}

/** A ledger entry (no seq: the store assigns it) on grant g1 of c1 in 'tokens'. */
export function ledgerEntry(over: Partial<NewCreditLedgerRecord> = {}): NewCreditLedgerRecord {
  return { grantId: 'g1', customerId: 'c1', currencyId: 'tokens', kind: 'BURN', amount: '-0.000000000001', at: T0, reference: 'evt-1', ...over };
}

/** c1's recharge settings for 'tokens' with every field set. */
export function rechargeConfig(over: Partial<RechargeConfigRecord> = {}): RechargeConfigRecord {
  return {
    customerId: 'c1',
    currencyId: 'tokens',
    isEnabled: true,
    thresholdType: 'DOLLAR_AMOUNT',
    thresholdValue: '0.000000000001',
    targetBalance: '123456789012345678.5',
    maxSpendLimit: '99999999999999999999.99',
    grantExpirationPeriod: 'ONE_YEAR',
    updatedAt: T0,
    ...over,
  };
}

export function idempotency(scope: string, key: string, result: unknown): IdempotencyRecord {
  return { scope, key, result, createdAt: T0 };
}

export function change(over: Partial<NewChange> = {}): NewChange {
  return {
    at: T0,
    kind: 'usage.updated',
    customerId: 'c1',
    entityId: 'api-calls',
    payload: { currentUsage: 3, window: [T0, T0 + DAY], nested: { ok: true, none: null } },
    ...over,
  };
}

/** Awaits `f` and asserts it failed with a TesseraError of `code` (a sync throw counts too). */
export async function expectCode(code: TesseraErrorCode, f: () => unknown): Promise<void> {
  let caught: unknown = undefined;
  try {
    await f();
  } catch (e) {
    caught = e;
  }
  expect(caught, `expected a TesseraError ${code}`).toBeInstanceOf(TesseraError);
  expect((caught as TesseraError).code).toBe(code);
}

/**
 * The pure parts of getSubscription's detail: the payment collection decision in its documented
 * order (docs/pricing.md#payment-collection) and the price lines of a subscription.
 */
import { describe, expect, it } from 'vitest';
import type { AddonDefinition, PlanDefinition } from '../src/catalog/types.js';
import { paymentCollection, type CollectionCall, type PaymentCollectionInput } from '../src/rules/payment-collection.js';
import { subscriptionPriceLines } from '../src/rules/price-lines.js';

const T = 1_700_000_000_000;
const ok: CollectionCall = { status: 'DONE', lastError: null, createdAt: T };
const failing: CollectionCall = { status: 'PENDING', lastError: 'provider down', createdAt: T };
const paidPlan: PaymentCollectionInput = {
  pricingType: 'PAID',
  billingPeriod: 'MONTHLY',
  awaitingPayment: false,
  endedBeforeStart: false,
  checkout: null,
  latestInvoice: { status: 'OPEN', createdAt: T, delivery: null },
};

describe('paymentCollection', () => {
  it('answers NOT_REQUIRED for FREE and CUSTOM plans and for no billing period, whatever else is there', () => {
    for (const over of [{ pricingType: 'FREE' }, { pricingType: 'CUSTOM' }, { billingPeriod: null }] as const) {
      expect(paymentCollection({ ...paidPlan, ...over, awaitingPayment: true, checkout: failing })).toBe('NOT_REQUIRED');
    }
  });

  it('answers from the checkout while awaiting payment: FAILED when its last attempt failed, else PENDING', () => {
    expect(paymentCollection({ ...paidPlan, awaitingPayment: true, checkout: failing })).toBe('FAILED');
    expect(paymentCollection({ ...paidPlan, awaitingPayment: true, checkout: ok })).toBe('PENDING');
    expect(paymentCollection({ ...paidPlan, awaitingPayment: true, checkout: { ...failing, lastError: null } })).toBe('PENDING');
    // A checkout that failed and was then dropped is not failing any more.
    expect(paymentCollection({ ...paidPlan, awaitingPayment: true, checkout: { ...failing, status: 'DROPPED' } })).toBe('PENDING');
  });

  it('answers NOT_REQUIRED when it ended before it started, without an invoice, or when the latest invoice is VOID', () => {
    expect(paymentCollection({ ...paidPlan, endedBeforeStart: true, checkout: ok })).toBe('NOT_REQUIRED');
    expect(paymentCollection({ ...paidPlan, latestInvoice: null })).toBe('NOT_REQUIRED');
    expect(paymentCollection({ ...paidPlan, latestInvoice: { status: 'VOID', createdAt: T, delivery: failing } })).toBe('NOT_REQUIRED');
  });

  it('answers PAID for a PAID invoice, and for an open one issued with a checkout since confirmed, even if its delivery fails', () => {
    expect(paymentCollection({ ...paidPlan, latestInvoice: { status: 'PAID', createdAt: T, delivery: failing } })).toBe('PAID');
    expect(paymentCollection({ ...paidPlan, checkout: ok, latestInvoice: { status: 'OPEN', createdAt: T, delivery: failing } })).toBe('PAID');
  });

  it('answers for an open invoice issued after the checkout: FAILED while its delivery fails, else PENDING', () => {
    const later = { status: 'OPEN' as const, createdAt: T + 1 };
    expect(paymentCollection({ ...paidPlan, checkout: ok, latestInvoice: { ...later, delivery: failing } })).toBe('FAILED');
    expect(paymentCollection({ ...paidPlan, checkout: ok, latestInvoice: { ...later, delivery: ok } })).toBe('PENDING');
    expect(paymentCollection({ ...paidPlan, checkout: ok, latestInvoice: { ...later, delivery: null } })).toBe('PENDING');
  });
});

describe('subscriptionPriceLines', () => {
  const plan: PlanDefinition = {
    id: 'api',
    productId: 'p',
    pricingType: 'PAID',
    prices: [
      { billingPeriod: 'MONTHLY', billingModel: 'FLAT_FEE', currency: 'USD', amount: '5' },
      { billingPeriod: 'ANNUALLY', billingModel: 'FLAT_FEE', currency: 'USD', amount: '50' },
      // 2.00 per started block of 1,000 calls, in arrears
      { billingPeriod: 'MONTHLY', billingModel: 'USAGE_BASED', featureId: 'calls', currency: 'USD', amount: '2.00', blockSize: 1000 },
      // 7 GB at 0.0125 = 0.0875 -> 0.09
      { billingPeriod: 'MONTHLY', billingModel: 'PER_UNIT', featureId: 'gb', currency: 'USD', amount: '0.0125' },
    ],
  };
  const addon: AddonDefinition = { id: 'free-addon', productId: 'p' };

  it('lists the billing period\'s prices in declared order: usage-based without an amount, unit amounts as declared, charges rounded once', () => {
    const lines = subscriptionPriceLines({ plan, addons: [{ addon, quantity: 3 }], billingPeriod: 'MONTHLY', billableFeatures: [{ featureId: 'gb', quantity: 7 }] });
    expect(lines.map((l) => [l.billingModel, l.featureId, l.unitAmount, l.blockSize, l.quantity, l.amount])).toEqual([
      ['FLAT_FEE', null, '5.00', null, null, '5.00'],
      ['USAGE_BASED', 'calls', '2.00', 1000, null, null],
      ['PER_UNIT', 'gb', '0.0125', null, 7, '0.09'],
    ]);
  });

  it('lists nothing for a FREE plan, and an add-on priced in it still shows', () => {
    const priced: AddonDefinition = { id: 'pack', productId: 'p', prices: [{ billingPeriod: 'MONTHLY', billingModel: 'FLAT_FEE', currency: 'USD', amount: '4' }] };
    const lines = subscriptionPriceLines({ plan: { id: 'free', productId: 'p', pricingType: 'FREE' }, addons: [{ addon: priced, quantity: 2 }], billingPeriod: 'MONTHLY' });
    expect(lines.map((l) => [l.source, l.sourceId, l.quantity, l.amount])).toEqual([['ADDON', 'pack', 2, '8.00']]);
  });
});

/**
 * `getSubscription` returns what a billing page shows (docs/pricing.md#subscription-detail): the
 * plan and add-ons named in the catalog version the subscription was sold under, its price lines
 * in the customer's billing country, its payment collection status, scheduled updates with the
 * target plan named, and the latest invoice. Lists stay lean. Worked by hand, on memory and SQLite.
 */
import {
  createEngine,
  isTesseraError,
  testClock,
  testPaymentProvider,
  type BillingProvider,
  type CatalogDefinition,
  type EngineErrorEvent,
  type PaymentProvider,
} from '@tessera/core';
import { afterEach, describe, expect, it } from 'vitest';
import { storeFactories, type StoreFactory } from './stores.js';

/**
 * Product `app` (sign-up gives `free`; plans in upgrade order free < team < business):
 * - `team`: 20.00 a month + 10.00 per seat (DE: EUR 18.00 + 9.00).
 * - `business`: 100.00 a month + 10.00 per seat + API keys GRADUATED (1-5 at 2.00, 6+ at 1.00);
 *   DE: EUR 90.00, 9.00 per seat, API keys 1.80 / 0.90.
 * - add-on `storage-pack`: 5.00 a month each (DE: EUR 4.50).
 * - promotion code ALLFREE: 100% off.
 */
const catalog: CatalogDefinition = {
  features: [
    { id: 'seats', displayName: 'Seats', type: 'METERED' },
    { id: 'api-keys', displayName: 'API keys', type: 'METERED' },
    { id: 'storage-gb', displayName: 'Storage', type: 'METERED' },
  ],
  products: [{ id: 'app', defaultPlanId: 'free', downgradePlanId: 'free', cancellationTime: 'END_OF_BILLING_PERIOD' }],
  plans: [
    { id: 'free', productId: 'app', displayName: 'Free', description: 'To try it', pricingType: 'FREE', entitlements: [{ featureId: 'seats', usageLimit: 1 }] },
    {
      id: 'team',
      productId: 'app',
      displayName: 'Team',
      description: 'For small teams',
      pricingType: 'PAID',
      prices: [
        { billingPeriod: 'MONTHLY', billingModel: 'FLAT_FEE', currency: 'USD', amount: '20.00', countryOverrides: { DE: { currency: 'EUR', amount: '18.00' } } },
        { billingPeriod: 'MONTHLY', billingModel: 'PER_UNIT', featureId: 'seats', currency: 'USD', amount: '10.00', countryOverrides: { DE: { currency: 'EUR', amount: '9.00' } } },
      ],
      entitlements: [{ featureId: 'seats', usageLimit: 10 }],
      compatibleAddonIds: ['storage-pack'],
    },
    {
      id: 'business',
      productId: 'app',
      displayName: 'Business',
      description: 'For companies',
      pricingType: 'PAID',
      prices: [
        { billingPeriod: 'MONTHLY', billingModel: 'FLAT_FEE', currency: 'USD', amount: '100.00', countryOverrides: { DE: { currency: 'EUR', amount: '90.00' } } },
        { billingPeriod: 'MONTHLY', billingModel: 'PER_UNIT', featureId: 'seats', currency: 'USD', amount: '10.00', countryOverrides: { DE: { currency: 'EUR', amount: '9.00' } } },
        {
          billingPeriod: 'MONTHLY',
          billingModel: 'PER_UNIT',
          featureId: 'api-keys',
          currency: 'USD',
          tiersMode: 'GRADUATED',
          tiers: [{ upTo: 5, unitAmount: '2.00' }, { upTo: null, unitAmount: '1.00' }],
          countryOverrides: { DE: { currency: 'EUR', tiers: [{ upTo: 5, unitAmount: '1.80' }, { upTo: null, unitAmount: '0.90' }] } },
        },
      ],
      entitlements: [{ featureId: 'seats', usageLimit: 100 }],
      compatibleAddonIds: ['storage-pack'],
    },
  ],
  addons: [
    {
      id: 'storage-pack',
      productId: 'app',
      displayName: 'Storage pack',
      description: '100 GB more',
      entitlements: [{ featureId: 'storage-gb', usageLimit: 100 }],
      prices: [{ billingPeriod: 'MONTHLY', billingModel: 'FLAT_FEE', currency: 'USD', amount: '5.00', countryOverrides: { DE: { currency: 'EUR', amount: '4.50' } } }],
      maxQuantity: 10,
    },
  ],
  coupons: [{ id: 'all-free', type: 'PERCENTAGE', value: '100' }],
  promotionCodes: [{ code: 'ALLFREE', couponId: 'all-free' }],
};

const START = '2024-03-01T10:00:00Z';
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function open(factory: StoreFactory, opts: { payments?: PaymentProvider; billing?: BillingProvider } = {}) {
  const made = factory.make();
  const clock = testClock(START);
  let n = 0;
  const errors: EngineErrorEvent[] = [];
  const engine = await createEngine({
    store: made.store,
    catalog,
    clock,
    newId: (prefix) => `${prefix}_${++n}`,
    ...(opts.payments ? { paymentProvider: opts.payments } : {}),
    ...(opts.billing ? { billingProvider: opts.billing } : {}),
    logger: { debug() {}, info() {}, warn() {}, error() {} },
  });
  engine.on('error', (e) => errors.push(e));
  cleanups.push(async () => {
    await engine.close();
    made.cleanup();
  });
  return { engine, clock, errors };
}

const seatsAndKeys = (seats: number, keys: number) => [
  { featureId: 'seats', quantity: seats },
  { featureId: 'api-keys', quantity: keys },
];

for (const factory of storeFactories().filter((f) => f.name === 'memory' || f.name === 'sqlite')) {
  describe(`getSubscription's detail (${factory.name})`, () => {
    it('shows a paid plan with an add-on and per-unit prices in the currency and amounts of the customer\'s country override', async () => {
      const { engine } = await open(factory);
      await engine.provisionCustomer({ customerId: 'acme', billingInfo: { billingCountryCode: 'DE' } });
      const { id } = await engine.provisionSubscription({
        customerId: 'acme',
        planId: 'business',
        billingPeriod: 'MONTHLY',
        addons: [{ addonId: 'storage-pack', quantity: 2 }],
        billableFeatures: seatsAndKeys(12, 8),
      });
      const sub = await engine.getSubscription(id);
      expect(sub.plan).toEqual({ id: 'business', displayName: 'Business', description: 'For companies', version: 1 });
      expect(sub.addons).toEqual([{ addonId: 'storage-pack', quantity: 2, displayName: 'Storage pack', description: '100 GB more' }]);
      const common = { billingPeriod: 'MONTHLY', currency: 'EUR', billingCountryCode: 'DE' };
      expect(sub.priceLines).toEqual([
        { ...common, source: 'PLAN', sourceId: 'business', billingModel: 'FLAT_FEE', featureId: null, unitAmount: '90.00', tiersMode: null, tiers: null, blockSize: null, quantity: null, amount: '90.00' },
        // 12 x 9.00
        { ...common, source: 'PLAN', sourceId: 'business', billingModel: 'PER_UNIT', featureId: 'seats', unitAmount: '9.00', tiersMode: null, tiers: null, blockSize: null, quantity: 12, amount: '108.00' },
        // 5 x 1.80 + 3 x 0.90 = 9.00 + 2.70
        {
          ...common,
          source: 'PLAN',
          sourceId: 'business',
          billingModel: 'PER_UNIT',
          featureId: 'api-keys',
          unitAmount: null,
          tiersMode: 'GRADUATED',
          tiers: [{ upTo: 5, unitAmount: '1.80' }, { upTo: null, unitAmount: '0.90' }],
          blockSize: null,
          quantity: 8,
          amount: '11.70',
        },
        // 2 x 4.50
        { ...common, source: 'ADDON', sourceId: 'storage-pack', billingModel: 'FLAT_FEE', featureId: null, unitAmount: '4.50', tiersMode: null, tiers: null, blockSize: null, quantity: 2, amount: '9.00' },
      ]);
      // The first period's invoice bills exactly these lines: 90.00 + 108.00 + 11.70 + 9.00.
      expect(sub.latestInvoice).toMatchObject({ kind: 'PROVISIONING', currency: 'EUR', subTotal: '218.70', status: 'OPEN' });
      // An open invoice that nothing settled in Tessera: awaited (docs/pricing.md#payment-collection).
      expect(sub.paymentCollection).toBe('PENDING');
      expect(sub.currentBillingPeriodStart).toEqual(new Date('2024-03-01T10:00:00Z'));
      expect(sub.currentBillingPeriodEnd).toEqual(new Date('2024-04-01T10:00:00Z'));
      expect(sub.trialEndDate).toBeNull();
      expect(sub.scheduledUpdates).toEqual([]);

      // Lists stay lean: ids and quantities, no names, prices or collection status.
      const [active] = (await engine.getActiveSubscriptions({ customerId: 'acme' })).filter((s) => s.id === id);
      const [listed] = (await engine.getSubscriptions({ filter: { planId: { eq: 'business' } } })).data;
      for (const lean of [active!, listed!]) {
        expect(lean.addons).toEqual([{ addonId: 'storage-pack', quantity: 2 }]);
        for (const key of ['plan', 'priceLines', 'paymentCollection', 'latestInvoice']) expect(lean).not.toHaveProperty(key);
      }
    });

    it('shows the base prices for a country without an override, and an own billing country over the customer\'s', async () => {
      const { engine } = await open(factory);
      await engine.provisionCustomer({ customerId: 'acme', billingInfo: { billingCountryCode: 'FR' } });
      const fr = await engine.provisionSubscription({ customerId: 'acme', planId: 'team', billingPeriod: 'MONTHLY', billableFeatures: [{ featureId: 'seats', quantity: 3 }] });
      const lines = (await engine.getSubscription(fr.id)).priceLines;
      expect(lines.map((l) => [l.currency, l.billingCountryCode, l.unitAmount, l.quantity, l.amount])).toEqual([
        ['USD', null, '20.00', null, '20.00'],
        ['USD', null, '10.00', 3, '30.00'],
      ]);
      await engine.provisionCustomer({ customerId: 'globex', billingInfo: { billingCountryCode: 'FR' } });
      const de = await engine.provisionSubscription({ customerId: 'globex', planId: 'team', billingPeriod: 'MONTHLY', billingCountryCode: 'DE', billableFeatures: [{ featureId: 'seats', quantity: 3 }] });
      const deLines = (await engine.getSubscription(de.id)).priceLines;
      // 18.00 + 3 x 9.00
      expect(deLines.map((l) => [l.currency, l.billingCountryCode, l.amount])).toEqual([
        ['EUR', 'DE', '18.00'],
        ['EUR', 'DE', '27.00'],
      ]);
    });

    it('shows a free plan as NOT_REQUIRED, without price lines or invoice', async () => {
      const { engine } = await open(factory);
      const { customer } = await engine.provisionCustomer({ customerId: 'acme' });
      const sub = await engine.getSubscription(customer.subscriptions[0]!.id);
      expect(sub.plan).toEqual({ id: 'free', displayName: 'Free', description: 'To try it', version: 1 });
      expect(sub.priceLines).toEqual([]);
      expect(sub.paymentCollection).toBe('NOT_REQUIRED');
      expect(sub.latestInvoice).toBeUndefined();
      expect(sub.currentBillingPeriodStart).toBeNull();
    });

    it('shows a checkout waiting for payment as PENDING, PAID once confirmed, and PENDING again for the next open invoice', async () => {
      const payments = testPaymentProvider();
      const { engine, clock } = await open(factory, { payments });
      await engine.provisionCustomer({ customerId: 'acme' });
      const r = await engine.provisionSubscription({ customerId: 'acme', planId: 'team', billingPeriod: 'MONTHLY', billableFeatures: [{ featureId: 'seats', quantity: 2 }] });
      expect(r.status).toBe('PAYMENT_REQUIRED');
      const waiting = await engine.getSubscription(r.id);
      expect(waiting.status).toBe('PAYMENT_PENDING');
      expect(waiting.paymentCollection).toBe('PENDING');

      await engine.confirmPayment({ subscriptionId: r.id });
      const paid = await engine.getSubscription(r.id);
      // The checkout collected the invoice issued with it (20.00 + 2 x 10.00).
      expect(paid.latestInvoice).toMatchObject({ kind: 'PROVISIONING', total: '40.00', status: 'OPEN' });
      expect(paid.paymentCollection).toBe('PAID');

      clock.advance({ months: 1 });
      await engine.tick();
      const renewed = await engine.getSubscription(r.id);
      expect(renewed.latestInvoice).toMatchObject({ kind: 'RENEWAL', total: '40.00', status: 'OPEN' });
      expect(renewed.paymentCollection).toBe('PENDING');
    });

    it('shows a failed checkout as FAILED until a retry succeeds', async () => {
      let fail = true;
      const payments: PaymentProvider = {
        createCheckout: ({ subscriptionId }) => {
          if (fail) throw new Error('provider down');
          return { checkoutUrl: `https://pay.test/${subscriptionId}` };
        },
      };
      const { engine } = await open(factory, { payments });
      await engine.provisionCustomer({ customerId: 'acme' });
      let subscriptionId = '';
      try {
        await engine.provisionSubscription({ customerId: 'acme', planId: 'team', billingPeriod: 'MONTHLY', billableFeatures: [{ featureId: 'seats', quantity: 1 }] });
      } catch (e) {
        if (!isTesseraError(e, 'PAYMENT_PROVIDER_FAILED')) throw e;
        subscriptionId = e.details.subscriptionId as string;
      }
      expect((await engine.getSubscription(subscriptionId)).paymentCollection).toBe('FAILED');
      fail = false;
      await engine.retryCheckout({ subscriptionId });
      expect((await engine.getSubscription(subscriptionId)).paymentCollection).toBe('PENDING');
    });

    it('shows an open invoice whose delivery to the billing provider fails as FAILED', async () => {
      const billing: BillingProvider = {
        onInvoiceCreated: () => {
          throw new Error('ledger down');
        },
      };
      const { engine, errors } = await open(factory, { billing });
      await engine.provisionCustomer({ customerId: 'acme' });
      const reported = new Promise<void>((resolve) => engine.on('error', () => resolve()));
      const { id } = await engine.provisionSubscription({ customerId: 'acme', planId: 'team', billingPeriod: 'MONTHLY', billableFeatures: [{ featureId: 'seats', quantity: 1 }] });
      // The delivery runs after the commit; its failure is reported once its outcome is committed.
      await reported;
      expect(errors.map((e) => e.source)).toEqual(['billingProvider']);
      expect((await engine.getSubscription(id)).paymentCollection).toBe('FAILED');
    });

    it('shows a zero-total invoice (100% promotion code) as PAID', async () => {
      const { engine } = await open(factory);
      await engine.provisionCustomer({ customerId: 'acme' });
      const { id } = await engine.provisionSubscription({
        customerId: 'acme',
        planId: 'team',
        billingPeriod: 'MONTHLY',
        promotionCode: 'ALLFREE',
        billableFeatures: [{ featureId: 'seats', quantity: 4 }],
      });
      const sub = await engine.getSubscription(id);
      // 20.00 + 4 x 10.00 = 60.00, all of it off.
      expect(sub.latestInvoice).toMatchObject({ subTotal: '60.00', total: '0.00', status: 'PAID' });
      expect(sub.paymentCollection).toBe('PAID');
      // The price lines show the prices, before discounts.
      expect(sub.priceLines.map((l) => l.amount)).toEqual(['20.00', '40.00']);
    });

    it('shows a scheduled downgrade with the target plan named, its add-ons and quantities; the target is NOT_STARTED and owes nothing yet', async () => {
      const { engine } = await open(factory);
      await engine.provisionCustomer({ customerId: 'acme' });
      const { id } = await engine.provisionSubscription({ customerId: 'acme', planId: 'business', billingPeriod: 'MONTHLY', billableFeatures: seatsAndKeys(10, 2) });
      await engine.provisionSubscription({
        customerId: 'acme',
        planId: 'team',
        billingPeriod: 'MONTHLY',
        addons: [{ addonId: 'storage-pack', quantity: 1 }],
        billableFeatures: [{ featureId: 'seats', quantity: 3 }],
      });
      const current = await engine.getSubscription(id);
      expect(current.plan.displayName).toBe('Business');
      expect(current.scheduledUpdates).toHaveLength(1);
      const update = current.scheduledUpdates[0]!;
      expect(update).toMatchObject({
        kind: 'PLAN_CHANGE',
        status: 'SCHEDULED',
        scheduledAt: new Date('2024-04-01T10:00:00Z'),
        planId: 'team',
        plan: { id: 'team', displayName: 'Team', description: 'For small teams', version: 1 },
        addons: [{ addonId: 'storage-pack', quantity: 1, displayName: 'Storage pack', description: '100 GB more' }],
        billableFeatures: [{ featureId: 'seats', quantity: 3 }],
      });
      const target = await engine.getSubscription(update.subscriptionId!);
      expect(target.status).toBe('NOT_STARTED');
      expect(target.paymentCollection).toBe('NOT_REQUIRED');
      // What it will bill from its start: 20.00, 3 x 10.00, 1 x 5.00.
      expect(target.priceLines.map((l) => l.amount)).toEqual(['20.00', '30.00', '5.00']);
    });

    it('names the plan and prices in the catalog version the subscription was sold under, and a scheduled migration in the new one', async () => {
      const { engine } = await open(factory);
      await engine.provisionCustomer({ customerId: 'acme' });
      const { id } = await engine.provisionSubscription({ customerId: 'acme', planId: 'team', billingPeriod: 'MONTHLY', billableFeatures: [{ featureId: 'seats', quantity: 2 }] });
      const next = structuredClone(catalog);
      const team = next.plans.find((p) => p.id === 'team')!;
      team.displayName = 'Team (2024)';
      team.prices![0]!.amount = '25.00';
      expect((await engine.publishCatalog(next)).version).toBe(2);

      const sold = await engine.getSubscription(id);
      expect(sold.plan).toEqual({ id: 'team', displayName: 'Team', description: 'For small teams', version: 1 });
      expect(sold.priceLines[0]!.amount).toBe('20.00');

      await engine.migrateSubscriptionToLatest({ subscriptionId: id, subscriptionMigrationTime: 'END_OF_BILLING_PERIOD' });
      const scheduled = await engine.getSubscription(id);
      expect(scheduled.plan.displayName).toBe('Team');
      expect(scheduled.scheduledUpdates).toMatchObject([{ kind: 'MIGRATION', plan: { id: 'team', displayName: 'Team (2024)', version: 2 } }]);
    });
  });
}

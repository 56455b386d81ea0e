import { afterEach, describe, expect, it } from 'vitest';
import { TesseraError, type CatalogDefinition, type Estimate, type Invoice, type TesseraErrorCode, type UpdateSubscriptionParams } from '@tessera/core';
import { engineOn, storeFactories } from './stores.js';

// updateSubscription({ planId }) and its proration options (docs/pricing.md#proration-options),
// amounts worked by hand. April 2024 has 30 days, so from Apr 1 00:00 UTC a change at Apr 16
// 00:00 leaves exactly half of the period (15 of 30 days).

const catalog: CatalogDefinition = {
  features: [
    { id: 'projects', displayName: 'Projects', type: 'NUMERIC' },
    { id: 'sso', displayName: 'SSO', type: 'BOOLEAN' },
    { id: 'seats', displayName: 'Seats', type: 'METERED', units: 'seat', unitsPlural: 'seats' },
  ],
  products: [
    { id: 'app', cancellationTime: 'END_OF_BILLING_PERIOD', startWith: 'NONE' },
    { id: 'api', cancellationTime: 'IMMEDIATE', startWith: 'NONE' },
  ],
  // In upgrade order: basic (10.00), team (20.00 + 5.00 a seat), plus (40.00).
  plans: [
    {
      id: 'basic',
      productId: 'app',
      displayName: 'Basic',
      pricingType: 'PAID',
      prices: [
        { billingPeriod: 'MONTHLY', billingModel: 'FLAT_FEE', currency: 'USD', amount: '10.00' },
        { billingPeriod: 'ANNUALLY', billingModel: 'FLAT_FEE', currency: 'USD', amount: '100.00' },
      ],
      entitlements: [{ featureId: 'projects', value: 3 }],
      compatibleAddonIds: ['storage'],
    },
    {
      id: 'team',
      productId: 'app',
      displayName: 'Team',
      pricingType: 'PAID',
      prices: [
        { billingPeriod: 'MONTHLY', billingModel: 'FLAT_FEE', currency: 'USD', amount: '20.00' },
        { billingPeriod: 'MONTHLY', billingModel: 'PER_UNIT', featureId: 'seats', currency: 'USD', amount: '5.00', minUnitQuantity: 1, maxUnitQuantity: 50 },
      ],
      entitlements: [{ featureId: 'projects', value: 5 }],
    },
    {
      id: 'plus',
      productId: 'app',
      displayName: 'Plus',
      pricingType: 'PAID',
      prices: [{ billingPeriod: 'MONTHLY', billingModel: 'FLAT_FEE', currency: 'USD', amount: '40.00' }],
      entitlements: [{ featureId: 'projects', value: 10 }, { featureId: 'sso' }],
    },
    {
      id: 'api-basic',
      productId: 'api',
      pricingType: 'PAID',
      prices: [{ billingPeriod: 'MONTHLY', billingModel: 'FLAT_FEE', currency: 'USD', amount: '5.00' }],
    },
  ],
  addons: [{ id: 'storage', productId: 'app', displayName: 'Storage', prices: [{ billingPeriod: 'MONTHLY', billingModel: 'FLAT_FEE', currency: 'USD', amount: '3.00' }] }],
};

type Env = Awaited<ReturnType<typeof engineOn>>;
const at = (iso: string): Date => new Date(iso);
const ms = (v: Date | number | undefined): number | undefined => (v instanceof Date ? v.getTime() : v);

/** What an estimate and an invoice must agree on, with instants as epoch ms whatever their type. */
function billed(doc: Estimate | Invoice) {
  return {
    currency: doc.currency,
    subTotal: doc.subTotal,
    tax: doc.tax,
    total: doc.total,
    lines: doc.lines.map((l) => ({ ...l, periodStart: ms(l.periodStart), periodEnd: ms(l.periodEnd) })),
  };
}
const amounts = (doc: Estimate | Invoice): string[] => doc.lines.map((l) => `${l.kind} ${l.amount}`);

async function expectCode(call: Promise<unknown>, code: TesseraErrorCode): Promise<TesseraError> {
  const outcome = await call.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
  if (outcome.ok) throw new Error(`expected ${code}, got ${JSON.stringify(outcome.value)}`);
  expect(outcome.error).toBeInstanceOf(TesseraError);
  expect((outcome.error as TesseraError).code).toBe(code);
  return outcome.error as TesseraError;
}

// PostgreSQL runs the same SQL as SQLite (packages/sql); memory and SQLite keep this file quick.
for (const factory of storeFactories().filter((f) => f.name !== 'postgres')) {
  describe(factory.name, () => {
    let env: Env | undefined;
    afterEach(async () => {
      await env?.cleanup();
      env = undefined;
    });

    /** A customer on `planId` monthly from Apr 1 00:00 UTC, the clock then moved to `now`. */
    const subscribed = async (planId: string, now = '2024-04-16T00:00:00Z', extra: { addons?: { addonId: string }[]; billingPeriod?: 'ANNUALLY' } = {}) => {
      env = await engineOn(factory, { catalog, start: '2024-04-01T00:00:00Z' });
      const { engine, clock } = env;
      await engine.provisionCustomer({ customerId: 'c1' });
      const r = await engine.provisionSubscription({ customerId: 'c1', planId, billingPeriod: 'MONTHLY', ...extra });
      clock.set(now);
      return { engine, clock, id: r.id, before: await engine.getSubscription(r.id) };
    };

    /** Estimates then makes the same update, and checks the estimate is the invoice. */
    const change = async (engine: Env['engine'], params: UpdateSubscriptionParams) => {
      const estimate = await engine.estimateSubscriptionUpdate(params);
      const updated = await engine.updateSubscription(params);
      const invoice = updated.latestInvoice!;
      expect(billed(invoice)).toEqual(billed(estimate));
      return { estimate, updated, invoice };
    };

    it('an upgrade halfway through April keeps the start date and the cycle and bills 15.00 (10.00 -> 40.00)', async () => {
      const { engine, clock, id, before } = await subscribed('basic');
      const { updated, invoice, estimate } = await change(engine, { subscriptionId: id, planId: 'plus' });
      // credit -10.00 x 15/30 = -5.00; debit 40.00 x 15/30 = 20.00; net 15.00.
      expect(amounts(invoice)).toEqual(['PRORATION_CREDIT -5.00', 'PRORATION_DEBIT 20.00']);
      expect(invoice).toMatchObject({ kind: 'UPDATE', subTotal: '15.00', total: '15.00', excessCredit: '0.00', status: 'OPEN' });
      expect(estimate.proration).toMatchObject({ prorationDate: at('2024-04-16T00:00:00Z'), credit: '-5.00', debit: '20.00', netAmount: '15.00' });
      expect(updated).toMatchObject({ id, planId: 'plus', startDate: before.startDate, currentBillingPeriodEnd: at('2024-05-01T00:00:00Z') });
      expect((await engine.getEntitlement({ customerId: 'c1', featureId: 'sso' })).hasAccess).toBe(true);
      expect((await engine.getNumericEntitlement({ customerId: 'c1', featureId: 'projects' })).value).toBe(10);
      // The cycle is the same: May 1 renews at the new price, one invoice, no other period billed.
      clock.set('2024-05-01T00:00:00Z');
      await engine.tick();
      const renewals = (await engine.getInvoices({ customerId: 'c1' })).filter((i) => i.kind === 'RENEWAL');
      expect(renewals.map((i) => [i.total, i.periodStart])).toEqual([['40.00', at('2024-05-01T00:00:00Z')]]);
    });

    it("prorationBehavior 'NONE' changes the plan with no invoice; the renewal bills the new price", async () => {
      const { engine, clock, id } = await subscribed('basic');
      const params = { subscriptionId: id, planId: 'plus', prorationBehavior: 'NONE' } as const;
      const estimate = await engine.estimateSubscriptionUpdate(params);
      expect({ total: estimate.total, lines: estimate.lines, proration: estimate.proration }).toEqual({ total: '0.00', lines: [], proration: undefined });
      const updated = await engine.updateSubscription(params);
      expect(updated.planId).toBe('plus');
      expect((await engine.getInvoices({ customerId: 'c1' })).map((i) => i.kind)).toEqual(['PROVISIONING']);
      clock.set('2024-05-01T00:00:00Z');
      await engine.tick();
      const invoices = await engine.getInvoices({ customerId: 'c1' });
      expect(invoices.map((i) => `${i.kind} ${i.total}`)).toEqual(['PROVISIONING 10.00', 'RENEWAL 40.00']);
    });

    it('an immediate downgrade halfway credits 15.00: a zero total with excessCredit 15.00', async () => {
      const { engine, id } = await subscribed('plus');
      const { updated, invoice } = await change(engine, { subscriptionId: id, planId: 'basic', downgradeTiming: 'IMMEDIATE' });
      // credit -40.00 x 15/30 = -20.00; debit 10.00 x 15/30 = 5.00; the lines sum to -15.00.
      expect(amounts(invoice)).toEqual(['PRORATION_CREDIT -20.00', 'PRORATION_DEBIT 5.00']);
      expect(invoice).toMatchObject({ kind: 'UPDATE', subTotal: '-15.00', total: '0.00', excessCredit: '15.00', status: 'PAID' });
      expect(updated).toMatchObject({ id, planId: 'basic', scheduledUpdates: [] });
      expect((await engine.getEntitlement({ customerId: 'c1', featureId: 'sso' })).hasAccess).toBe(false);
    });

    it("an immediate downgrade with prorationBehavior 'NONE' switches now with no invoice; the renewal bills the new price", async () => {
      const { engine, clock, id } = await subscribed('plus');
      const updated = await engine.updateSubscription({ subscriptionId: id, planId: 'basic', downgradeTiming: 'IMMEDIATE', prorationBehavior: 'NONE' });
      expect(updated).toMatchObject({ id, planId: 'basic', scheduledUpdates: [] });
      expect((await engine.getEntitlement({ customerId: 'c1', featureId: 'sso' })).hasAccess).toBe(false);
      clock.set('2024-05-01T00:00:00Z');
      await engine.tick();
      expect((await engine.getInvoices({ customerId: 'c1' })).map((i) => `${i.kind} ${i.total}`)).toEqual(['PROVISIONING 40.00', 'RENEWAL 10.00']);
    });

    it("prorationBehavior 'INVOICE_NOW' makes a downgrade immediate with the same credit", async () => {
      const { engine, id } = await subscribed('plus');
      const { invoice } = await change(engine, { subscriptionId: id, planId: 'basic', prorationBehavior: 'INVOICE_NOW' });
      expect(invoice).toMatchObject({ subTotal: '-15.00', total: '0.00', excessCredit: '15.00' });
      const e = await expectCode(engine.updateSubscription({ subscriptionId: id, planId: 'plus', prorationBehavior: 'INVOICE_NOW', downgradeTiming: 'END_OF_BILLING_PERIOD' }), 'INVALID_ARGUMENT');
      expect(e.message).toMatch(/downgradeTiming/);
    });

    it('a downgrade waits for the end of the billing period by default, billing nothing now', async () => {
      const { engine, clock, id } = await subscribed('plus');
      const updated = await engine.updateSubscription({ subscriptionId: id, planId: 'basic' });
      expect(updated.planId).toBe('plus');
      expect(updated.scheduledUpdates).toMatchObject([{ kind: 'PLAN_CHANGE', scheduledAt: at('2024-05-01T00:00:00Z') }]);
      expect((await engine.getInvoices({ customerId: 'c1' })).map((i) => i.kind)).toEqual(['PROVISIONING']);
      expect((await engine.getEntitlement({ customerId: 'c1', featureId: 'sso' })).hasAccess).toBe(true);
      clock.set('2024-05-01T00:00:00Z');
      await engine.tick();
      expect((await engine.getEntitlement({ customerId: 'c1', featureId: 'sso' })).hasAccess).toBe(false);
      const may = (await engine.getInvoices({ customerId: 'c1' })).filter((i) => ms(i.periodStart ?? undefined) === Date.parse('2024-05-01T00:00:00Z'));
      expect(may.map((i) => i.total)).toEqual(['10.00']);
    });

    it('prorationDate inside the period is the proration point; epoch ms, ISO strings and Dates read alike', async () => {
      const { engine, id } = await subscribed('basic');
      // Apr 10 00:00 leaves 21 of 30 days: credit -10.00 x 21/30 = -7.00; debit 40.00 x 21/30 = 28.00; net 21.00.
      for (const prorationDate of [Date.parse('2024-04-10T00:00:00Z'), '2024-04-10T00:00:00Z', at('2024-04-10T00:00:00Z')]) {
        const estimate = await engine.estimateSubscriptionUpdate({ subscriptionId: id, planId: 'plus', prorationDate });
        expect(amounts(estimate)).toEqual(['PRORATION_CREDIT -7.00', 'PRORATION_DEBIT 28.00']);
      }
      // A point after now works the same way: Apr 25 00:00 leaves 6 days: -2.00 + 8.00 = 6.00.
      const { invoice } = await change(engine, { subscriptionId: id, planId: 'plus', prorationDate: '2024-04-25T00:00:00Z' });
      expect(invoice.total).toBe('6.00');
    });

    it('refuses a prorationDate outside the current billing period, writing nothing', async () => {
      const { engine, id } = await subscribed('basic');
      for (const prorationDate of ['2024-03-31T23:59:59Z', '2024-05-01T00:00:00Z']) {
        const e = await expectCode(engine.updateSubscription({ subscriptionId: id, planId: 'plus', prorationDate }), 'INVALID_ARGUMENT');
        expect(e.details.field).toBe('updateSubscription.prorationDate');
      }
      await expectCode(engine.updateSubscription({ subscriptionId: id, planId: 'plus', prorationDate: 1.5 }), 'INVALID_ARGUMENT');
      await expectCode(engine.updateSubscription({ subscriptionId: id, planId: 'plus', prorationBehavior: 'NONE', prorationDate: '2024-04-10T00:00:00Z' }), 'INVALID_ARGUMENT');
      expect((await engine.getSubscription(id)).planId).toBe('basic');
      expect(await engine.getInvoices({ customerId: 'c1' })).toHaveLength(1);
    });

    it('refuses a plan of another product or an unknown plan', async () => {
      const { engine, id } = await subscribed('basic');
      const e = await expectCode(engine.updateSubscription({ subscriptionId: id, planId: 'api-basic' }), 'INVALID_ARGUMENT');
      expect(e.message).toMatch(/product "api".*give a plan of "app"/);
      await expectCode(engine.updateSubscription({ subscriptionId: id, planId: 'nope' }), 'PLAN_NOT_FOUND');
    });

    it('refuses a plan without a price for the billing period, and NONE with a billing period change', async () => {
      const yearly = await subscribed('basic', '2024-04-16T00:00:00Z', { billingPeriod: 'ANNUALLY' });
      const e = await expectCode(yearly.engine.updateSubscription({ subscriptionId: yearly.id, planId: 'plus' }), 'PRICE_NOT_FOUND');
      expect(e.details.field).toBe('updateSubscription.planId');
      await env!.cleanup();
      const { engine, id } = await subscribed('basic');
      const none = await expectCode(engine.updateSubscription({ subscriptionId: id, billingPeriod: 'ANNUALLY', prorationBehavior: 'NONE' }), 'INVALID_ARGUMENT');
      expect(none.details.field).toBe('updateSubscription.prorationBehavior');
      expect(await engine.getSubscription(id)).toMatchObject({ planId: 'basic', billingPeriod: 'MONTHLY' });
    });

    it('refuses an add-on the new plan does not allow, unless the same call removes it', async () => {
      const { engine, id } = await subscribed('basic', '2024-04-16T00:00:00Z', { addons: [{ addonId: 'storage' }] });
      await expectCode(engine.updateSubscription({ subscriptionId: id, planId: 'plus' }), 'ADDON_NOT_COMPATIBLE');
      await expectCode(engine.updateSubscription({ subscriptionId: id, planId: 'plus', addons: [{ addonId: 'storage' }] }), 'ADDON_NOT_COMPATIBLE');
      const { invoice, updated } = await change(engine, { subscriptionId: id, planId: 'plus', addons: [] });
      // credit -(10.00 + 3.00) x 1/2 = -5.00, -1.50; debit 40.00 x 1/2 = 20.00; net 13.50.
      expect(amounts(invoice)).toEqual(['PRORATION_CREDIT -5.00', 'PRORATION_CREDIT -1.50', 'PRORATION_DEBIT 20.00']);
      expect(invoice.total).toBe('13.50');
      expect(updated.addons).toEqual([]);
    });

    it("needs the new plan's per-unit quantities, given in the same call", async () => {
      const { engine, id } = await subscribed('basic');
      const e = await expectCode(engine.updateSubscription({ subscriptionId: id, planId: 'team' }), 'INVALID_ARGUMENT');
      expect(e.message).toMatch(/"seats"/);
      const { invoice, updated } = await change(engine, { subscriptionId: id, planId: 'team', billableFeatures: [{ featureId: 'seats', quantity: 3 }] });
      // credit -10.00 x 1/2 = -5.00; debit 20.00 x 1/2 = 10.00 and 3 x 5.00 x 1/2 = 7.50; net 12.50.
      expect(amounts(invoice)).toEqual(['PRORATION_CREDIT -5.00', 'PRORATION_DEBIT 10.00', 'PRORATION_DEBIT 7.50']);
      expect(invoice.total).toBe('12.50');
      expect(updated.billableFeatures).toEqual([{ featureId: 'seats', quantity: 3 }]);
      // Back to basic now: the seat quantity goes with the plan that billed it.
      const down = await engine.updateSubscription({ subscriptionId: id, planId: 'basic', downgradeTiming: 'IMMEDIATE' });
      expect(down.billableFeatures).toEqual([]);
      expect(down.latestInvoice!.excessCredit).toBe('12.50');
    });
  });
}

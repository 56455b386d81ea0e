import { afterEach, describe, expect, it } from 'vitest';
import { TesseraError, type Estimate, type Invoice, type ProvisionSubscriptionParams, type TesseraErrorCode } from '@tessera/core';
import { pricingCatalog } from './pricing-catalog.js';
import { engineOn, storeFactories } from './stores.js';
import { rejection } from '../support/rejection.js';

// Invoices, estimates, proration, coupons, tax and renewals, worked out by hand in the comments
// (docs/pricing.md). Catalog: test/engine/pricing-catalog.ts.

type Env = Awaited<ReturnType<typeof engineOn>>;

const at = (iso: string): Date => new Date(iso);
const seats = (quantity: number) => [{ featureId: 'seats', quantity }];
const gb = (quantity: number) => [{ featureId: 'storage-gb', quantity }];

async function expectCode(call: Promise<unknown>, code: TesseraErrorCode): Promise<TesseraError> {
  const e = await rejection(call);
  expect(e.code).toBe(code);
  return e;
}

const ms = (v: Date | number | undefined): number | undefined => (v instanceof Date ? v.getTime() : v);

/** What an estimate and an invoice must agree on, with instants as epoch ms whatever their type. */
function billed(doc: Estimate | Invoice) {
  return {
    currency: doc.currency,
    subTotal: doc.subTotal,
    discount: doc.discount ? { type: doc.discount.type, value: doc.discount.value, durationInMonths: doc.discount.durationInMonths, amount: doc.discount.amount } : null,
    tax: doc.tax,
    total: doc.total,
    lines: doc.lines.map((l) => ({ ...l, periodStart: ms(l.periodStart), periodEnd: ms(l.periodEnd) })),
  };
}

/** Line kinds and amounts, the short form of a document. */
const amounts = (doc: Estimate | Invoice): string[] => doc.lines.map((l) => `${l.kind} ${l.amount}`);

for (const factory of storeFactories()) {
  describe(factory.name, () => {
    let env: Env | undefined;
    afterEach(async () => {
      await env?.cleanup();
      env = undefined;
    });

    /** A fresh engine on the pricing catalog with the clock at `start`. */
    const open = async (start: string): Promise<Env> => {
      env = await engineOn(factory, { catalog: pricingCatalog, start });
      return env;
    };

    describe('invoices on provisioning', () => {
      it('invoices team with 3 seats at once: 10.00 + 3 x 5.00 = 25.00, shown as latestInvoice and by getInvoices', async () => {
        const { engine } = await open('2024-02-01T00:00:00Z');
        await engine.provisionCustomer({ customerId: 'c1' });
        const r = await engine.provisionSubscription({ customerId: 'c1', planId: 'team', billingPeriod: 'MONTHLY', billableFeatures: seats(3) });
        const period = { periodStart: at('2024-02-01T00:00:00Z'), periodEnd: at('2024-03-01T00:00:00Z') };
        const expected = {
          customerId: 'c1',
          subscriptionId: r.id,
          kind: 'PROVISIONING',
          status: 'OPEN',
          currency: 'USD',
          ...period,
          lines: [
            { kind: 'PLAN', description: 'Team (monthly)', unitAmount: '10.00', amount: '10.00', currency: 'USD', ...period },
            { kind: 'PER_UNIT', description: 'Team - seats: 3 x 5.00 (monthly)', quantity: 3, unitAmount: '5.00', amount: '15.00', currency: 'USD', ...period },
          ],
          subTotal: '25.00',
          discount: null,
          tax: '0.00',
          total: '25.00',
          excessCredit: '0.00',
          createdAt: at('2024-02-01T00:00:00Z'),
        };
        expect(r.subscription.latestInvoice).toMatchObject(expected);
        const invoices = await engine.getInvoices({ customerId: 'c1' });
        expect(invoices).toHaveLength(1);
        expect(invoices[0]).toMatchObject(expected);
        expect((await engine.getSubscription(r.id)).latestInvoice).toEqual(invoices[0]);
        expect(await engine.getInvoices({ customerId: 'c1', subscriptionId: r.id })).toEqual(invoices);
      });

      it('invoices nothing for a free plan', async () => {
        const { engine } = await open('2024-02-01T00:00:00Z');
        const { subscription } = await engine.provisionCustomer({ customerId: 'c1' });
        expect(subscription?.planId).toBe('free');
        expect(await engine.getInvoices({ customerId: 'c1' })).toEqual([]);
        expect((await engine.getSubscription(subscription!.id)).latestInvoice).toBeUndefined();
      });

      it('getInvoices throws CUSTOMER_NOT_FOUND for an unknown customer', async () => {
        const { engine } = await open('2024-02-01T00:00:00Z');
        await expectCode(engine.getInvoices({ customerId: 'ghost' }), 'CUSTOMER_NOT_FOUND');
      });
    });

    describe('estimates equal the invoice the same provisioning produces', () => {
      interface Case {
        name: string;
        billingInfo?: Record<string, unknown>;
        couponId?: string;
        params: Omit<ProvisionSubscriptionParams, 'customerId'>;
        lines: string[];
        subTotal: string;
        tax: string;
        total: string;
        currency?: string;
      }
      const cases: Case[] = [
        {
          name: 'team monthly, 3 seats: 10.00 + 15.00',
          params: { planId: 'team', billingPeriod: 'MONTHLY', billableFeatures: seats(3) },
          lines: ['PLAN 10.00', 'PER_UNIT 15.00'],
          subTotal: '25.00',
          tax: '0.00',
          total: '25.00',
        },
        {
          // 100.00 + 2 x 50.00 + 2 x 30.00 = 260.00; SAVE20: 20% = 52.00; DE 19% of 208.00 = 39.52.
          name: 'team annually, 2 seats, 2 x extra-storage, SAVE20, German customer',
          billingInfo: { billingCountryCode: 'DE' },
          params: { planId: 'team', billingPeriod: 'ANNUALLY', billableFeatures: seats(2), addons: [{ addonId: 'extra-storage', quantity: 2 }], promotionCode: 'SAVE20' },
          lines: ['PLAN 100.00', 'PER_UNIT 100.00', 'ADDON 60.00', 'DISCOUNT -52.00', 'TAX 39.52'],
          subTotal: '260.00',
          tax: '39.52',
          total: '247.52',
        },
        {
          // GB prices: 25.00 + 2 x 7.00 + 2.50 + 1.60 = 43.10 GBP; GB 20% = 8.62.
          name: 'pro monthly in GB (GBP), 2 seats, extra-storage and backup',
          billingInfo: { billingCountryCode: 'GB' },
          params: {
            planId: 'pro',
            billingPeriod: 'MONTHLY',
            skipTrial: true,
            billableFeatures: seats(2),
            addons: [
              { addonId: 'extra-storage', quantity: 1 },
              { addonId: 'backup', quantity: 1 },
            ],
          },
          lines: ['PLAN 25.00', 'PER_UNIT 14.00', 'ADDON 2.50', 'ADDON 1.60', 'TAX 8.62'],
          subTotal: '43.10',
          tax: '8.62',
          total: '51.72',
          currency: 'GBP',
        },
        {
          // GRADUATED 25 GB: 10 x 5.00 + 10.00 flat + 10 x 4.00 + 20.00 flat + 5 x 3.00 = 135.00.
          name: 'graduated tiers, 25 GB',
          params: { planId: 'storage-graduated', billingPeriod: 'MONTHLY', billableFeatures: gb(25) },
          lines: ['PER_UNIT 135.00'],
          subTotal: '135.00',
          tax: '0.00',
          total: '135.00',
        },
        {
          // VOLUME 25 GB: all at the third tier, 25 x 3.00 = 75.00.
          name: 'volume tiers, 25 GB',
          params: { planId: 'storage-volume', billingPeriod: 'MONTHLY', billableFeatures: gb(25) },
          lines: ['PER_UNIT 75.00'],
          subTotal: '75.00',
          tax: '0.00',
          total: '75.00',
        },
        {
          // The first tier's flat amount is billed even at quantity 0.
          name: 'graduated tiers, 0 GB',
          params: { planId: 'storage-graduated', billingPeriod: 'MONTHLY', billableFeatures: gb(0) },
          lines: ['PER_UNIT 10.00'],
          subTotal: '10.00',
          tax: '0.00',
          total: '10.00',
        },
        {
          // 12 GB = 3 started packages of 5 x 4.00 = 12.00; 3 seats x 1.00 = 3.00.
          name: 'packages, 12 GB and 3 seats',
          params: { planId: 'storage-package', billingPeriod: 'MONTHLY', billableFeatures: [...gb(12), ...seats(3)] },
          lines: ['PER_UNIT 12.00', 'PER_UNIT 3.00'],
          subTotal: '15.00',
          tax: '0.00',
          total: '15.00',
        },
        {
          // GRADUATED 11 GB = 60.00 + 1 x 4.00 + 20.00 = 84.00; SAVE20 16.80; DE 19% of 67.20 =
          // 12.768 -> 12.77 (half-up, once); total 84.00 - 16.80 + 12.77 = 79.97.
          name: 'graduated 11 GB with SAVE20 in DE (tax rounded once)',
          billingInfo: { billingCountryCode: 'DE' },
          params: { planId: 'storage-graduated', billingPeriod: 'MONTHLY', billableFeatures: gb(11), promotionCode: 'SAVE20' },
          lines: ['PER_UNIT 84.00', 'DISCOUNT -16.80', 'TAX 12.77'],
          subTotal: '84.00',
          tax: '12.77',
          total: '79.97',
        },
        {
          // Customer coupon 10% of 25.00 = 2.50.
          name: 'team monthly, 3 seats, customer coupon ten-forever',
          couponId: 'ten-forever',
          params: { planId: 'team', billingPeriod: 'MONTHLY', billableFeatures: seats(3) },
          lines: ['PLAN 10.00', 'PER_UNIT 15.00', 'DISCOUNT -2.50'],
          subTotal: '25.00',
          tax: '0.00',
          total: '22.50',
        },
      ];

      for (const c of cases) {
        it(`${c.name}: total ${c.total}`, async () => {
          const { engine } = await open('2024-02-01T00:00:00Z');
          await engine.provisionCustomer({ customerId: 'c1', ...(c.billingInfo ? { billingInfo: c.billingInfo } : {}), ...(c.couponId ? { couponId: c.couponId } : {}) });
          const estimate = await engine.estimateSubscription({ customerId: 'c1', ...c.params });
          expect(amounts(estimate)).toEqual(c.lines);
          expect(estimate).toMatchObject({ currency: c.currency ?? 'USD', subTotal: c.subTotal, tax: c.tax, total: c.total });
          expect(estimate.billingPeriodRange).toEqual(
            c.params.billingPeriod === 'ANNUALLY'
              ? { start: at('2024-02-01T00:00:00Z'), end: at('2025-02-01T00:00:00Z') }
              : { start: at('2024-02-01T00:00:00Z'), end: at('2024-03-01T00:00:00Z') },
          );
          // The estimate wrote nothing.
          expect(await engine.getInvoices({ customerId: 'c1' })).toEqual([]);
          expect((await engine.getActiveSubscriptions({ customerId: 'c1' })).map((s) => s.planId)).toEqual(['free']);

          const r = await engine.provisionSubscription({ customerId: 'c1', ...c.params });
          const invoice = r.subscription.latestInvoice!;
          expect(invoice).toBeDefined();
          expect(billed(estimate)).toEqual(billed(invoice));
          // The lines always sum to the total (docs/pricing.md#documents).
          const cents = invoice.lines.reduce((sum, l) => sum + Math.round(Number(l.amount) * 100), 0);
          expect(cents).toBe(Math.round(Number(invoice.total) * 100));
        });
      }

      it('an upgrade estimate equals the upgrade invoice, proration included', async () => {
        const { engine, clock } = await open('2024-02-01T00:00:00Z');
        await engine.provisionCustomer({ customerId: 'c1', subscriptionParams: { planId: 'team', billingPeriod: 'MONTHLY', billableFeatures: seats(2) } });
        clock.set('2024-02-15T12:00:00Z');
        const params = { customerId: 'c1', planId: 'pro', billingPeriod: 'MONTHLY' as const, skipTrial: true, billableFeatures: seats(2) };
        const estimate = await engine.estimateSubscription(params);
        // Half of February is left (1,252,800 of 2,505,600 s): team 10.00 and 2 x 5.00 credited
        // by half, pro 30.00 and 2 x 8.00 debited by half.
        expect(amounts(estimate)).toEqual(['PRORATION_CREDIT -5.00', 'PRORATION_CREDIT -5.00', 'PRORATION_DEBIT 15.00', 'PRORATION_DEBIT 8.00']);
        expect(estimate.proration).toEqual({ prorationDate: at('2024-02-15T12:00:00Z'), credit: '-10.00', debit: '23.00', netAmount: '13.00' });
        const r = await engine.provisionSubscription(params);
        expect(billed(estimate)).toEqual(billed(r.subscription.latestInvoice!));
      });

      it('an estimate does not redeem a promotion code with one redemption left', async () => {
        const { engine } = await open('2024-02-01T00:00:00Z');
        await engine.provisionCustomer({ customerId: 'c1' });
        const params = { customerId: 'c1', planId: 'team', billingPeriod: 'MONTHLY' as const, billableFeatures: [{ featureId: 'seats', quantity: 1 }], promotionCode: 'ONCE' };
        await engine.estimateSubscription(params);
        await engine.estimateSubscription(params);
        const r = await engine.provisionSubscription(params);
        expect(r.subscription.latestInvoice?.discount).toMatchObject({ couponId: 'twenty-3m', amount: '3.00' }); // 20% of 15.00
      });

      it('estimate lines give their periods as Dates, like invoice lines', async () => {
        const { engine } = await open('2024-02-01T00:00:00Z');
        await engine.provisionCustomer({ customerId: 'c1' });
        const estimate = await engine.estimateSubscription({ customerId: 'c1', planId: 'team', billingPeriod: 'MONTHLY', billableFeatures: [{ featureId: 'seats', quantity: 1 }] });
        // API.md: instants cross the API as Date (or ISO strings), never as epoch numbers.
        expect(estimate.lines[0]!.periodStart).toEqual(at('2024-02-01T00:00:00Z'));
        expect(estimate.lines[0]!.periodEnd).toEqual(at('2024-03-01T00:00:00Z'));
      });

      it('an estimate of a downgrade scheduled for the period end shows the first invoice of the new plan, issued then', async () => {
        const { engine, clock } = await open('2024-01-31T10:00:00Z');
        await engine.provisionCustomer({ customerId: 'c1', subscriptionParams: { planId: 'pro', billingPeriod: 'MONTHLY', billableFeatures: [{ featureId: 'seats', quantity: 1 }], skipTrial: true } });
        clock.set('2024-02-10T00:00:00Z');
        const estimate = await engine.estimateSubscription({ customerId: 'c1', planId: 'team', billingPeriod: 'MONTHLY', billableFeatures: [{ featureId: 'seats', quantity: 1 }] });
        // docs/pricing.md#estimates: nothing is billed now; pro's period ends Feb 29 10:00 (Jan 31 + 1 month, clamped).
        expect(estimate.billingPeriodRange).toEqual({ start: new Date('2024-02-29T10:00:00Z'), end: new Date('2024-03-29T10:00:00Z') });
        expect(estimate.currency).toBe('USD');
        expect(estimate.proration).toBeUndefined();
        expect(await engine.getInvoices({ customerId: 'c1' })).toHaveLength(1);
        // The same downgrade, then the boundary: the invoice tick issues equals the estimate.
        await engine.provisionSubscription({ customerId: 'c1', planId: 'team', billingPeriod: 'MONTHLY', billableFeatures: [{ featureId: 'seats', quantity: 1 }] });
        clock.set('2024-02-29T10:00:00Z');
        await engine.tick();
        const invoices = await engine.getInvoices({ customerId: 'c1' });
        const first = invoices.find((i) => i.periodStart?.getTime() === Date.parse('2024-02-29T10:00:00Z') && i.kind === 'PROVISIONING');
        expect(first).toBeDefined();
        expect({ subTotal: first!.subTotal, tax: first!.tax, total: first!.total }).toEqual({ subTotal: estimate.subTotal, tax: estimate.tax, total: estimate.total });
        expect(Number(estimate.total)).toBeGreaterThan(0);
      });
    });

    describe('proration of a seat change', () => {
      // A team subscription with 5 seats from the 1st of the month at 00:00 UTC, so its billing
      // period is the calendar month; 4 more seats at 08:30:15 on the 10th.
      const change = async (month: '02' | '03') => {
        const { engine, clock } = await open(`2024-${month}-01T00:00:00Z`);
        const r = await engine.provisionCustomer({ customerId: 'c1', subscriptionParams: { planId: 'team', billingPeriod: 'MONTHLY', billableFeatures: seats(5) } });
        clock.set(`2024-${month}-10T08:30:15Z`);
        const params = { subscriptionId: r.subscription!.id, billableFeatures: seats(9) };
        const estimate = await engine.estimateSubscriptionUpdate(params);
        const updated = await engine.updateSubscription(params);
        return { engine, estimate, updated, invoice: updated.latestInvoice! };
      };

      it('February 2024 (29 days): -16.94 + 30.48 = 13.54, the sum of the rounded lines', async () => {
        const { engine, estimate, updated, invoice } = await change('02');
        // 29 days = 2,505,600 s; from Feb 10 08:30:15 to Mar 1 1,697,385 s are left.
        //   credit -(5 x 5.00) x 1,697,385 / 2,505,600 = -16.93591... -> -16.94
        //   debit   (9 x 5.00) x 1,697,385 / 2,505,600 =  30.48464... ->  30.48
        //   net -16.94 + 30.48 = 13.54 (a rounded net 20.00 x factor = 13.5487 would be 13.55)
        // The 10.00 plan fee is the same before and after: left out.
        const changedAt = at('2024-02-10T08:30:15Z');
        const end = at('2024-03-01T00:00:00Z');
        expect(invoice).toMatchObject({ kind: 'UPDATE', subTotal: '13.54', tax: '0.00', total: '13.54', excessCredit: '0.00' });
        expect(invoice.lines).toEqual([
          {
            kind: 'PRORATION_CREDIT',
            description: 'Unused time on Team - seats: 5 x 5.00 (monthly) after 2024-02-10T08:30:15Z',
            quantity: 5,
            amount: '-16.94',
            currency: 'USD',
            periodStart: changedAt,
            periodEnd: end,
          },
          {
            kind: 'PRORATION_DEBIT',
            description: 'Remaining time on Team - seats: 9 x 5.00 (monthly) from 2024-02-10T08:30:15Z',
            quantity: 9,
            amount: '30.48',
            currency: 'USD',
            periodStart: changedAt,
            periodEnd: end,
          },
        ]);
        expect(estimate.proration).toEqual({ prorationDate: changedAt, credit: '-16.94', debit: '30.48', netAmount: '13.54' });
        expect(estimate.billingPeriodRange).toEqual({ start: at('2024-02-01T00:00:00Z'), end });
        expect(billed(estimate)).toEqual(billed(invoice));
        // The billing cycle and start stay.
        expect(updated).toMatchObject({ startDate: at('2024-02-01T00:00:00Z'), currentBillingPeriodStart: at('2024-02-01T00:00:00Z'), currentBillingPeriodEnd: end });
        expect(updated.billableFeatures).toEqual(seats(9));
        expect((await engine.getInvoices({ customerId: 'c1' })).map((i) => i.kind)).toEqual(['PROVISIONING', 'UPDATE']);
      });

      it('March 2024 (31 days): -17.46 + 31.42 = 13.96', async () => {
        const { estimate, invoice } = await change('03');
        // 31 days = 2,678,400 s; from Mar 10 08:30:15 to Apr 1 1,870,185 s are left.
        //   credit -(25.00 x 1,870,185 / 2,678,400) = -17.45617... -> -17.46
        //   debit    45.00 x 1,870,185 / 2,678,400  =  31.42111... ->  31.42
        expect(amounts(invoice)).toEqual(['PRORATION_CREDIT -17.46', 'PRORATION_DEBIT 31.42']);
        expect(invoice).toMatchObject({ subTotal: '13.96', total: '13.96' });
        expect(estimate.proration).toEqual({ prorationDate: at('2024-03-10T08:30:15Z'), credit: '-17.46', debit: '31.42', netAmount: '13.96' });
        expect(billed(estimate)).toEqual(billed(invoice));
      });

      it('prorates a change at 08:30:15.999 exactly like one at 08:30:15.000 (instants floored to the second)', async () => {
        const { engine, clock } = await open('2024-02-01T00:00:00Z');
        const r = await engine.provisionCustomer({ customerId: 'c1', subscriptionParams: { planId: 'team', billingPeriod: 'MONTHLY', billableFeatures: seats(5) } });
        clock.set('2024-02-10T08:30:15.999Z');
        const estimate = await engine.estimateSubscriptionUpdate({ subscriptionId: r.subscription!.id, billableFeatures: seats(9) });
        expect(estimate.proration).toEqual({ prorationDate: at('2024-02-10T08:30:15Z'), credit: '-16.94', debit: '30.48', netAmount: '13.54' });
      });

      it('fewer seats mid-period: the credit exceeds the debit, total 0.00 and the excess is reported', async () => {
        const { engine, clock } = await open('2024-02-01T00:00:00Z');
        const r = await engine.provisionCustomer({ customerId: 'c1', subscriptionParams: { planId: 'team', billingPeriod: 'MONTHLY', billableFeatures: seats(5) } });
        clock.set('2024-02-15T12:00:00Z');
        // Half the month left: credit -(25.00 / 2) = -12.50, debit 15.00 / 2 = 7.50, net -5.00.
        const estimate = await engine.estimateSubscriptionUpdate({ subscriptionId: r.subscription!.id, billableFeatures: seats(3) });
        expect(estimate).toMatchObject({ subTotal: '-5.00', tax: '0.00', total: '0.00' });
        expect(estimate.proration?.netAmount).toBe('-5.00');
        const updated = await engine.updateSubscription({ subscriptionId: r.subscription!.id, billableFeatures: seats(3) });
        expect(updated.latestInvoice).toMatchObject({ subTotal: '-5.00', total: '0.00', excessCredit: '5.00', status: 'PAID' });
      });
    });

    describe('plan and billing period changes', () => {
      it('an upgrade mid-period keeps the billing cycle and bills credit + debit now', async () => {
        const { engine, clock } = await open('2024-02-01T00:00:00Z');
        const { subscription: team } = await engine.provisionCustomer({
          customerId: 'c1',
          subscriptionParams: { planId: 'team', billingPeriod: 'MONTHLY', billableFeatures: seats(2) },
        });
        clock.set('2024-02-15T12:00:00Z');
        const pro = await engine.provisionSubscription({ customerId: 'c1', planId: 'pro', billingPeriod: 'MONTHLY', skipTrial: true, billableFeatures: seats(2) });
        // Factor 1/2: credit team 10.00 / 2 and 2 x 5.00 / 2; debit pro 30.00 / 2 and 2 x 8.00 / 2.
        expect(pro.subscription).toMatchObject({
          planId: 'pro',
          status: 'ACTIVE',
          startDate: at('2024-02-15T12:00:00Z'),
          currentBillingPeriodStart: at('2024-02-01T00:00:00Z'),
          currentBillingPeriodEnd: at('2024-03-01T00:00:00Z'),
        });
        const invoice = pro.subscription.latestInvoice!;
        expect(amounts(invoice)).toEqual(['PRORATION_CREDIT -5.00', 'PRORATION_CREDIT -5.00', 'PRORATION_DEBIT 15.00', 'PRORATION_DEBIT 8.00']);
        expect(invoice).toMatchObject({ subTotal: '13.00', total: '13.00' });
        expect(await engine.getSubscription(team!.id)).toMatchObject({ status: 'CANCELED', endDate: at('2024-02-15T12:00:00Z') });

        // On Mar 1 pro renews at its full price (30.00 + 16.00); team, ended, renews no more.
        clock.set('2024-03-01T00:00:00Z');
        expect((await engine.tick()).invoicesCreated).toBe(1);
        const invoices = await engine.getInvoices({ customerId: 'c1' });
        expect(invoices.map((i) => [i.subscriptionId, i.kind, i.total])).toEqual([
          [team!.id, 'PROVISIONING', '20.00'],
          [pro.id, 'UPDATE', '13.00'],
          [pro.id, 'RENEWAL', '46.00'],
        ]);
        expect(invoices[2]).toMatchObject({ periodStart: at('2024-03-01T00:00:00Z'), periodEnd: at('2024-04-01T00:00:00Z') });
      });

      it('annual to monthly: credits the rest of the year at the annual price, debits the rest of the month', async () => {
        const { engine, clock } = await open('2024-01-01T00:00:00Z');
        const { subscription } = await engine.provisionCustomer({ customerId: 'c1', subscriptionParams: { planId: 'team', billingPeriod: 'ANNUALLY', billableFeatures: [{ featureId: 'seats', quantity: 1 }] } });
        clock.set('2024-03-16T00:00:00Z');
        const params = { subscriptionId: subscription!.id, billingPeriod: 'MONTHLY' as const };
        const estimate = await engine.estimateSubscriptionUpdate(params);
        const updated = await engine.updateSubscription(params);
        // The year 2024 has 366 days; 291 are left on Mar 16 (16 in March + Apr..Dec 275).
        //   credit plan  -(100.00 x 291 / 366) = -79.508... -> -79.51
        //   credit seat  -( 50.00 x 291 / 366) = -39.754... -> -39.75
        // The monthly debit runs over March (31 days), 16 left:
        //   debit plan    10.00 x 16 / 31 = 5.161... -> 5.16
        //   debit seat     5.00 x 16 / 31 = 2.580... -> 2.58
        // net -79.51 - 39.75 + 5.16 + 2.58 = -111.52: nothing to pay, 111.52 owed.
        const invoice = updated.latestInvoice!;
        expect(amounts(invoice)).toEqual(['PRORATION_CREDIT -79.51', 'PRORATION_CREDIT -39.75', 'PRORATION_DEBIT 5.16', 'PRORATION_DEBIT 2.58']);
        expect(invoice).toMatchObject({ subTotal: '-111.52', total: '0.00', excessCredit: '111.52' });
        expect(estimate.proration).toEqual({ prorationDate: at('2024-03-16T00:00:00Z'), credit: '-119.26', debit: '7.74', netAmount: '-111.52' });
        expect(billed(estimate)).toEqual(billed(invoice));
        expect(updated).toMatchObject({
          billingPeriod: 'MONTHLY',
          startDate: at('2024-01-01T00:00:00Z'),
          currentBillingPeriodStart: at('2024-03-01T00:00:00Z'),
          currentBillingPeriodEnd: at('2024-04-01T00:00:00Z'),
        });
      });

      it('after annual to monthly, tick bills the months from the next one on, not those the year paid for', async () => {
        const { engine, clock } = await open('2024-01-01T00:00:00Z');
        const { subscription } = await engine.provisionCustomer({ customerId: 'c1', subscriptionParams: { planId: 'team', billingPeriod: 'ANNUALLY', billableFeatures: [{ featureId: 'seats', quantity: 1 }] } });
        clock.set('2024-03-16T00:00:00Z');
        await engine.updateSubscription({ subscriptionId: subscription!.id, billingPeriod: 'MONTHLY' });
        clock.set('2024-04-01T00:00:00Z');
        await engine.tick();
        // January and February were paid by the annual invoice, March by the change: only April is new.
        const invoices = await engine.getInvoices({ customerId: 'c1' });
        expect(invoices.map((i) => [i.kind, i.periodStart, i.total])).toEqual([
          ['PROVISIONING', at('2024-01-01T00:00:00Z'), '150.00'],
          ['UPDATE', at('2024-03-01T00:00:00Z'), '0.00'],
          ['RENEWAL', at('2024-04-01T00:00:00Z'), '15.00'],
        ]);
      });
    });

    describe('coupons and promotion codes', () => {
      it('a 100% coupon brings the total to 0.00 (invoice PAID)', async () => {
        const { engine } = await open('2024-02-01T00:00:00Z');
        await engine.provisionCustomer({ customerId: 'c1' });
        const r = await engine.provisionSubscription({ customerId: 'c1', planId: 'team', billingPeriod: 'MONTHLY', billableFeatures: seats(3), promotionCode: 'ALLFREE' });
        const invoice = r.subscription.latestInvoice!;
        expect(amounts(invoice)).toEqual(['PLAN 10.00', 'PER_UNIT 15.00', 'DISCOUNT -25.00']);
        expect(invoice).toMatchObject({
          subTotal: '25.00',
          discount: { couponId: 'free-100', type: 'PERCENTAGE', value: '100', durationInMonths: null, amount: '25.00' },
          tax: '0.00',
          total: '0.00',
          status: 'PAID',
        });
      });

      it('a fixed coupon larger than the subtotal is capped: 1000.00 off 25.00 takes 25.00, total 0.00, never negative', async () => {
        const { engine } = await open('2024-02-01T00:00:00Z');
        await engine.provisionCustomer({ customerId: 'c1', billingInfo: { billingCountryCode: 'DE' } });
        const r = await engine.provisionSubscription({ customerId: 'c1', planId: 'team', billingPeriod: 'MONTHLY', billableFeatures: seats(3), promotionCode: 'BIGFIXED' });
        expect(r.subscription.latestInvoice).toMatchObject({
          subTotal: '25.00',
          discount: { couponId: 'fixed-1000', type: 'FIXED', amount: '25.00' },
          tax: '0.00', // nothing left to tax
          total: '0.00',
          excessCredit: '0.00', // the unused discount is not carried over
        });
        expect(amounts(r.subscription.latestInvoice!)).toEqual(['PLAN 10.00', 'PER_UNIT 15.00', 'DISCOUNT -25.00']);
      });

      it('a promotion code wins over the customer coupon (no stacking); the coupon still applies elsewhere', async () => {
        const { engine } = await open('2024-02-01T00:00:00Z');
        await engine.provisionCustomer({ customerId: 'c1', couponId: 'ten-forever' });
        const team = await engine.provisionSubscription({ customerId: 'c1', planId: 'team', billingPeriod: 'MONTHLY', billableFeatures: seats(3), promotionCode: 'SAVE20' });
        // 20% of 25.00 = 5.00 (not 10%, not 30%).
        expect(team.subscription.latestInvoice).toMatchObject({ discount: { couponId: 'twenty-3m', amount: '5.00' }, total: '20.00' });
        // Another subscription of the customer, without a code: 10% of 10.00 (0 GB graduated) = 1.00.
        const storage = await engine.provisionSubscription({ customerId: 'c1', planId: 'storage-graduated', billingPeriod: 'MONTHLY', billableFeatures: gb(0) });
        expect(storage.subscription.latestInvoice).toMatchObject({ discount: { couponId: 'ten-forever', amount: '1.00' }, total: '9.00' });
      });

      it('refuses an unknown code with PROMOTION_CODE_INVALID, reason UNKNOWN', async () => {
        const { engine } = await open('2024-02-01T00:00:00Z');
        await engine.provisionCustomer({ customerId: 'c1' });
        const e = await expectCode(engine.provisionSubscription({ customerId: 'c1', planId: 'team', billingPeriod: 'MONTHLY', billableFeatures: [{ featureId: 'seats', quantity: 1 }], promotionCode: 'NOPE' }), 'PROMOTION_CODE_INVALID');
        expect(e.details.reason).toBe('UNKNOWN');
        // Codes match exactly: 'save20' is not 'SAVE20'.
        const lower = await expectCode(engine.estimateSubscription({ customerId: 'c1', planId: 'team', billingPeriod: 'MONTHLY', billableFeatures: [{ featureId: 'seats', quantity: 1 }], promotionCode: 'save20' }), 'PROMOTION_CODE_INVALID');
        expect(lower.details.reason).toBe('UNKNOWN');
      });

      it('refuses an unknown code on updateSubscription with reason UNKNOWN', async () => {
        const { engine } = await open('2024-02-01T00:00:00Z');
        const { subscription } = await engine.provisionCustomer({ customerId: 'c1', subscriptionParams: { planId: 'team', billingPeriod: 'MONTHLY', billableFeatures: [{ featureId: 'seats', quantity: 1 }] } });
        const e = await expectCode(engine.updateSubscription({ subscriptionId: subscription!.id, promotionCode: 'NOPE' }), 'PROMOTION_CODE_INVALID');
        expect(e.details.reason).toBe('UNKNOWN');
      });

      for (const [code, reason] of [
        ['EXPIRED', 'EXPIRED'],
        ['INACTIVE', 'INACTIVE'],
      ] as const) {
        it(`refuses the ${code} code with reason ${reason}, on provisioning, estimates and updates`, async () => {
          const { engine } = await open('2024-02-01T00:00:00Z');
          const { subscription } = await engine.provisionCustomer({ customerId: 'c1', subscriptionParams: { planId: 'team', billingPeriod: 'MONTHLY', billableFeatures: [{ featureId: 'seats', quantity: 1 }] } });
          const params = { customerId: 'c1', planId: 'pro', billingPeriod: 'MONTHLY' as const, billableFeatures: [{ featureId: 'seats', quantity: 1 }], skipTrial: true, promotionCode: code };
          expect((await expectCode(engine.provisionSubscription(params), 'PROMOTION_CODE_INVALID')).details.reason).toBe(reason);
          expect((await expectCode(engine.estimateSubscription(params), 'PROMOTION_CODE_INVALID')).details.reason).toBe(reason);
          const update = engine.updateSubscription({ subscriptionId: subscription!.id, promotionCode: code });
          expect((await expectCode(update, 'PROMOTION_CODE_INVALID')).details.reason).toBe(reason);
          // Nothing was written.
          expect((await engine.getActiveSubscriptions({ customerId: 'c1' })).map((s) => [s.planId, s.promotionCode])).toEqual([['team', null]]);
          expect(await engine.getInvoices({ customerId: 'c1' })).toHaveLength(1);
        });
      }

      it('refuses a code with maxRedemptions 1 once it was redeemed (reason EXHAUSTED)', async () => {
        const { engine } = await open('2024-02-01T00:00:00Z');
        await engine.provisionCustomer({ customerId: 'c1' });
        await engine.provisionCustomer({ customerId: 'c2' });
        const first = await engine.provisionSubscription({ customerId: 'c1', planId: 'team', billingPeriod: 'MONTHLY', billableFeatures: [{ featureId: 'seats', quantity: 1 }], promotionCode: 'ONCE' });
        expect(first.subscription.promotionCode).toBe('ONCE');
        const params = { customerId: 'c2', planId: 'team', billingPeriod: 'MONTHLY' as const, billableFeatures: [{ featureId: 'seats', quantity: 1 }], promotionCode: 'ONCE' };
        expect((await expectCode(engine.provisionSubscription(params), 'PROMOTION_CODE_INVALID')).details.reason).toBe('EXHAUSTED');
        expect((await expectCode(engine.estimateSubscription(params), 'PROMOTION_CODE_INVALID')).details.reason).toBe('EXHAUSTED');
        // The subscription that redeemed it may keep it through an update.
        const kept = await engine.updateSubscription({ subscriptionId: first.id, promotionCode: 'ONCE', metadata: { note: 'kept' } });
        expect(kept.promotionCode).toBe('ONCE');
      });
    });

    describe('tax and country', () => {
      it('taxes German customers 19% of the discounted subtotal', async () => {
        const { engine } = await open('2024-02-01T00:00:00Z');
        await engine.provisionCustomer({ customerId: 'c1', billingInfo: { billingCountryCode: 'DE' } });
        const r = await engine.provisionSubscription({ customerId: 'c1', planId: 'team', billingPeriod: 'MONTHLY', billableFeatures: seats(3), promotionCode: 'SAVE20' });
        // 25.00 - 20% (5.00) = 20.00; 19% of 20.00 = 3.80; total 23.80.
        const invoice = r.subscription.latestInvoice!;
        expect(amounts(invoice)).toEqual(['PLAN 10.00', 'PER_UNIT 15.00', 'DISCOUNT -5.00', 'TAX 3.80']);
        expect(invoice).toMatchObject({ subTotal: '25.00', tax: '3.80', total: '23.80' });
      });

      it('does not tax a tax-exempt customer', async () => {
        const { engine } = await open('2024-02-01T00:00:00Z');
        await engine.provisionCustomer({ customerId: 'c1', billingInfo: { billingCountryCode: 'DE', taxExempt: true } });
        const r = await engine.provisionSubscription({ customerId: 'c1', planId: 'team', billingPeriod: 'MONTHLY', billableFeatures: seats(3), promotionCode: 'SAVE20' });
        expect(amounts(r.subscription.latestInvoice!)).toEqual(['PLAN 10.00', 'PER_UNIT 15.00', 'DISCOUNT -5.00']);
        expect(r.subscription.latestInvoice).toMatchObject({ tax: '0.00', total: '20.00' });
      });

      it("taxes by the subscription's billingCountryCode, and not at all in a country without a rate", async () => {
        const { engine } = await open('2024-02-01T00:00:00Z');
        await engine.provisionCustomer({ customerId: 'c1' });
        const de = await engine.estimateSubscription({ customerId: 'c1', planId: 'team', billingPeriod: 'MONTHLY', billableFeatures: [{ featureId: 'seats', quantity: 1 }], billingCountryCode: 'DE' });
        // 15.00 x 19% = 2.85
        expect(de).toMatchObject({ currency: 'USD', subTotal: '15.00', tax: '2.85', total: '17.85' });
        const fr = await engine.estimateSubscription({ customerId: 'c1', planId: 'team', billingPeriod: 'MONTHLY', billableFeatures: [{ featureId: 'seats', quantity: 1 }], billingCountryCode: 'FR' });
        expect(fr).toMatchObject({ currency: 'USD', subTotal: '15.00', tax: '0.00', total: '15.00' });
      });

      it('bills GB customers the GB override in GBP, with 20% tax', async () => {
        const { engine } = await open('2024-02-01T00:00:00Z');
        await engine.provisionCustomer({ customerId: 'c1', billingInfo: { billingCountryCode: 'GB' } });
        const r = await engine.provisionSubscription({ customerId: 'c1', planId: 'team', billingPeriod: 'MONTHLY', billableFeatures: seats(3) });
        // GBP 8.00 + 3 x 4.00 = 20.00; 20% = 4.00; total 24.00.
        const invoice = r.subscription.latestInvoice!;
        expect(invoice).toMatchObject({ currency: 'GBP', subTotal: '20.00', tax: '4.00', total: '24.00' });
        expect(invoice.lines.map((l) => [l.kind, l.amount, l.currency])).toEqual([
          ['PLAN', '8.00', 'GBP'],
          ['PER_UNIT', '12.00', 'GBP'],
          ['TAX', '4.00', 'GBP'],
        ]);
      });
    });

    describe('renewals through tick()', () => {
      it('a monthly subscription started Jan 31 2024 renews on Feb 29, Mar 31 and Apr 30; SAVE20 covers the first three invoices', async () => {
        const { engine, clock } = await open('2024-01-31T10:00:00Z');
        const { subscription } = await engine.provisionCustomer({
          customerId: 'c1',
          subscriptionParams: { planId: 'team', billingPeriod: 'MONTHLY', billableFeatures: seats(3), promotionCode: 'SAVE20' },
        });
        clock.set('2024-02-29T09:59:59.999Z');
        expect((await engine.tick()).invoicesCreated).toBe(0);
        for (const t of ['2024-02-29T10:00:00Z', '2024-03-31T10:00:00Z', '2024-04-30T10:00:00Z']) {
          clock.set(t);
          expect((await engine.tick()).invoicesCreated).toBe(1);
          expect((await engine.tick()).invoicesCreated).toBe(0);
        }
        const invoices = await engine.getInvoices({ customerId: 'c1', subscriptionId: subscription!.id });
        // 25.00 a month; SAVE20 (20% for 3 months from Jan 31 10:00, so until Apr 30 10:00)
        // discounts the periods starting Jan 31, Feb 29 and Mar 31, not Apr 30.
        expect(invoices.map((i) => [i.kind, i.periodStart, i.periodEnd, i.total])).toEqual([
          ['PROVISIONING', at('2024-01-31T10:00:00Z'), at('2024-02-29T10:00:00Z'), '20.00'],
          ['RENEWAL', at('2024-02-29T10:00:00Z'), at('2024-03-31T10:00:00Z'), '20.00'],
          ['RENEWAL', at('2024-03-31T10:00:00Z'), at('2024-04-30T10:00:00Z'), '20.00'],
          ['RENEWAL', at('2024-04-30T10:00:00Z'), at('2024-05-31T10:00:00Z'), '25.00'],
        ]);
        expect(invoices[3]!.discount).toBeNull();
        expect(invoices[1]!.createdAt).toEqual(at('2024-02-29T10:00:00Z'));
        expect((await engine.getSubscription(subscription!.id)).latestInvoice).toEqual(invoices[3]);
      });

      it('a second tick at the same instant creates and changes nothing', async () => {
        const { engine, clock } = await open('2024-01-31T10:00:00Z');
        await engine.provisionCustomer({ customerId: 'c1', subscriptionParams: { planId: 'team', billingPeriod: 'MONTHLY', billableFeatures: [{ featureId: 'seats', quantity: 1 }] } });
        await engine.provisionCustomer({ customerId: 'c2', subscriptionParams: { planId: 'pro', billingPeriod: 'MONTHLY', billableFeatures: [{ featureId: 'seats', quantity: 1 }] } });
        clock.set('2024-03-15T00:00:00Z');
        const first = await engine.tick();
        expect(first.invoicesCreated).toBeGreaterThan(0);
        const changes = await engine.getChanges({ after: 0, limit: 10_000 });
        const second = await engine.tick();
        expect(second).toMatchObject({ statusesChanged: 0, invoicesCreated: 0, updatesApplied: 0 });
        expect(await engine.getChanges({ after: changes.at(-1)!.seq })).toEqual([]);
      });

      it('catches up a year without tick with 12 renewal invoices, one per period', async () => {
        const { engine, clock } = await open('2024-01-31T10:00:00Z');
        await engine.provisionCustomer({ customerId: 'c1', subscriptionParams: { planId: 'team', billingPeriod: 'MONTHLY', billableFeatures: [{ featureId: 'seats', quantity: 1 }] } });
        clock.set('2025-01-31T10:00:00Z');
        expect((await engine.tick()).invoicesCreated).toBe(12);
        expect((await engine.tick()).invoicesCreated).toBe(0);
        const renewals = (await engine.getInvoices({ customerId: 'c1' })).filter((i) => i.kind === 'RENEWAL');
        const starts = renewals.map((i) => i.periodStart!.toISOString()).sort();
        // Computed from the Jan 31 anchor, month ends clamped, never drifting.
        expect(starts).toEqual([
          '2024-02-29T10:00:00.000Z',
          '2024-03-31T10:00:00.000Z',
          '2024-04-30T10:00:00.000Z',
          '2024-05-31T10:00:00.000Z',
          '2024-06-30T10:00:00.000Z',
          '2024-07-31T10:00:00.000Z',
          '2024-08-31T10:00:00.000Z',
          '2024-09-30T10:00:00.000Z',
          '2024-10-31T10:00:00.000Z',
          '2024-11-30T10:00:00.000Z',
          '2024-12-31T10:00:00.000Z',
          '2025-01-31T10:00:00.000Z',
        ]);
        expect(renewals.every((i) => i.total === '15.00')).toBe(true);
      });

      it('after a catch-up, getInvoices lists invoices oldest period first and latestInvoice is the newest', async () => {
        const { engine, clock } = await open('2024-01-31T10:00:00Z');
        const { subscription } = await engine.provisionCustomer({ customerId: 'c1', subscriptionParams: { planId: 'team', billingPeriod: 'MONTHLY', billableFeatures: [{ featureId: 'seats', quantity: 1 }] } });
        clock.set('2025-01-31T10:00:00Z');
        await engine.tick();
        const starts = (await engine.getInvoices({ customerId: 'c1' })).map((i) => i.periodStart!.getTime());
        expect(starts).toEqual([...starts].sort((a, b) => a - b));
        expect((await engine.getSubscription(subscription!.id)).latestInvoice?.periodStart).toEqual(at('2025-01-31T10:00:00Z'));
      });

      it('bills usage in arrears: 2,500 API calls in February = 3 packages of 1,000 x 2.00 = 6.00 on Mar 1', async () => {
        const { engine, clock } = await open('2024-02-01T00:00:00Z');
        const { subscription } = await engine.provisionCustomer({ customerId: 'c1', subscriptionParams: { planId: 'api-payg', billingPeriod: 'MONTHLY' } });
        // In advance: only the 5.00 fee; usage is not known yet.
        expect(amounts((await engine.getSubscription(subscription!.id)).latestInvoice!)).toEqual(['PLAN 5.00']);
        clock.set('2024-02-03T00:00:00Z');
        await engine.reportUsage({ customerId: 'c1', featureId: 'api-calls', value: 1000 });
        clock.set('2024-02-20T00:00:00Z');
        await engine.reportUsage({ customerId: 'c1', featureId: 'api-calls', value: 1500 });
        clock.set('2024-03-01T00:00:00Z');
        await engine.reportUsage({ customerId: 'c1', featureId: 'api-calls', value: 700 }); // March's
        expect((await engine.tick()).invoicesCreated).toBe(2); // February's usage, March's fee
        expect((await engine.tick()).invoicesCreated).toBe(0);
        const usage = (await engine.getInvoices({ customerId: 'c1' })).filter((i) => i.kind === 'USAGE');
        expect(usage).toHaveLength(1);
        expect(usage[0]).toMatchObject({ periodStart: at('2024-02-01T00:00:00Z'), periodEnd: at('2024-03-01T00:00:00Z'), subTotal: '6.00', total: '6.00' });
        expect(usage[0]!.lines).toEqual([
          {
            kind: 'USAGE',
            description: 'API pay-as-you-go - api-calls: 2500 units = 3 packages of 1000 x 2.00 (monthly)',
            quantity: 2500,
            unitAmount: '2.00',
            amount: '6.00',
            currency: 'USD',
            periodStart: at('2024-02-01T00:00:00Z'),
            periodEnd: at('2024-03-01T00:00:00Z'),
          },
        ]);
        // March's 700 calls: 1 started package = 2.00, billed on Apr 1.
        clock.set('2024-04-01T00:00:00Z');
        await engine.tick();
        const march = (await engine.getInvoices({ customerId: 'c1' })).filter((i) => i.kind === 'USAGE' && i.periodStart?.getTime() === at('2024-03-01T00:00:00Z').getTime());
        expect(march.map((i) => i.total)).toEqual(['2.00']);
      });

      it('a late report into a billed period changes no invoice, and the next one does not pick it up (docs/metering.md#late-usage)', async () => {
        const { engine, clock } = await open('2024-02-01T00:00:00Z');
        await engine.provisionCustomer({ customerId: 'c1', subscriptionParams: { planId: 'api-payg', billingPeriod: 'MONTHLY' } });
        clock.set('2024-02-20T00:00:00Z');
        await engine.reportUsage({ customerId: 'c1', featureId: 'api-calls', value: 2500 });
        clock.set('2024-03-01T00:00:00Z');
        await engine.reportUsage({ customerId: 'c1', featureId: 'api-calls', value: 700 }); // March's
        await engine.tick(); // February's usage: 2,500 = 3 packages = 6.00
        clock.set('2024-03-02T00:00:00Z');
        // Within the default grace: it counts in February's window (2,500 + 1,000)...
        const late = await engine.reportUsage({ customerId: 'c1', featureId: 'api-calls', value: 1000, timestamp: '2024-02-25T00:00:00Z' });
        expect(late).toMatchObject({ currentUsage: 3500, usagePeriodStart: at('2024-02-01T00:00:00Z') });
        expect(await engine.getMeteredEntitlement({ customerId: 'c1', featureId: 'api-calls', at: '2024-02-25T00:00:00Z' })).toMatchObject({ currentUsage: 3500 });
        // ...but February's invoice stays as issued, and March's bills March's 700 only.
        clock.set('2024-04-01T00:00:00Z');
        await engine.tick();
        const usage = (await engine.getInvoices({ customerId: 'c1' })).filter((i) => i.kind === 'USAGE');
        expect(usage.map((i) => [i.periodStart!.toISOString(), i.lines[0]!.quantity, i.total])).toEqual([
          ['2024-02-01T00:00:00.000Z', 2500, '6.00'],
          ['2024-03-01T00:00:00.000Z', 700, '2.00'],
        ]);
      });

      it('a subscription cancelled at the period end is not renewed', async () => {
        const { engine, clock } = await open('2024-01-31T10:00:00Z');
        const { subscription } = await engine.provisionCustomer({ customerId: 'c1', subscriptionParams: { planId: 'team', billingPeriod: 'MONTHLY', billableFeatures: [{ featureId: 'seats', quantity: 1 }] } });
        await engine.cancelSubscription({ subscriptionId: subscription!.id });
        clock.set('2024-03-31T10:00:00Z');
        expect((await engine.tick()).invoicesCreated).toBe(0);
        expect((await engine.getInvoices({ customerId: 'c1' })).map((i) => i.kind)).toEqual(['PROVISIONING']);
      });
    });
  });
}

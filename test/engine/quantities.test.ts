import { afterEach, describe, expect, it } from 'vitest';
import { TesseraError, type CatalogDefinition, type MeteredEntitlement, type NumericEntitlement } from '@tessera/core';
import { engineOn, storeFactories } from './stores.js';
import { rejection } from '../support/rejection.js';

// Billable quantities are entitlements (docs/conventions.md#billable-quantities,
// docs/pricing.md#per-unit-quantities), worked out by hand in the comments.

/**
 * `starter`: 10.00 a month + templates at 4.00 each (1 to 20) + projects at 1.00 each (at least 3).
 * The plan's own entitlements (templates 50, projects 100) are replaced by the quantities bought,
 * not added to them. Add-ons: `template-pack` (+10 templates each, 5.00) adds to the quantity;
 * `bulk-templates` is priced per unit, so its quantity must be given.
 */
const catalog: CatalogDefinition = {
  features: [
    { id: 'templates', type: 'METERED', units: 'template', unitsPlural: 'templates' },
    { id: 'projects', type: 'NUMERIC' },
  ],
  products: [{ id: 'app', cancellationTime: 'END_OF_BILLING_PERIOD' }],
  plans: [
    {
      id: 'starter',
      productId: 'app',
      pricingType: 'PAID',
      prices: [
        { billingPeriod: 'MONTHLY', billingModel: 'FLAT_FEE', currency: 'USD', amount: '10.00' },
        { billingPeriod: 'MONTHLY', billingModel: 'PER_UNIT', featureId: 'templates', currency: 'USD', amount: '4.00', minUnitQuantity: 1, maxUnitQuantity: 20 },
        { billingPeriod: 'MONTHLY', billingModel: 'PER_UNIT', featureId: 'projects', currency: 'USD', amount: '1.00', minUnitQuantity: 3 },
      ],
      entitlements: [
        { featureId: 'templates', usageLimit: 50 },
        { featureId: 'projects', value: 100 },
      ],
      compatibleAddonIds: ['template-pack', 'bulk-templates'],
    },
  ],
  addons: [
    {
      id: 'template-pack',
      productId: 'app',
      entitlements: [{ featureId: 'templates', usageLimit: 10 }],
      prices: [{ billingPeriod: 'MONTHLY', billingModel: 'FLAT_FEE', currency: 'USD', amount: '5.00' }],
    },
    {
      id: 'bulk-templates',
      productId: 'app',
      entitlements: [{ featureId: 'templates', usageLimit: 1 }],
      prices: [{ billingPeriod: 'MONTHLY', billingModel: 'PER_UNIT', featureId: 'templates', currency: 'USD', amount: '3.00' }],
    },
  ],
};

type Env = Awaited<ReturnType<typeof engineOn>>;

const buy = (templates: number, projects = 3) => [
  { featureId: 'templates', quantity: templates },
  { featureId: 'projects', quantity: projects },
];

for (const factory of storeFactories()) {
  describe(factory.name, () => {
    let env: Env | undefined;
    afterEach(async () => {
      await env?.cleanup();
      env = undefined;
    });

    const open = async (start: string): Promise<Env> => {
      env = await engineOn(factory, { catalog, start });
      await env.engine.provisionCustomer({ customerId: 'c1', subscriptionParams: null });
      return env;
    };
    const templates = (requestedUsage = 0) => env!.engine.getMeteredEntitlement({ customerId: 'c1', featureId: 'templates', options: { requestedUsage } });
    const projects = () => env!.engine.getNumericEntitlement({ customerId: 'c1', featureId: 'projects' });

    it('2 templates bought -> limit 2: the quantity is the entitlement, in place of the plan\'s 50', async () => {
      const { engine } = await open('2024-02-01T00:00:00Z');
      const r = await engine.provisionSubscription({ customerId: 'c1', planId: 'starter', billingPeriod: 'MONTHLY', billableFeatures: buy(2, 4) });
      expect(r.subscription.billableFeatures).toEqual(buy(2, 4));
      expect(await templates()).toMatchObject<Partial<MeteredEntitlement>>({ hasAccess: true, usageLimit: 2, currentUsage: 0, isUnlimited: false });
      // NUMERIC: the value is the quantity (4), not the plan's 100.
      expect(await projects()).toMatchObject<Partial<NumericEntitlement>>({ hasAccess: true, value: 4 });
      await engine.reportUsage({ customerId: 'c1', featureId: 'templates', value: 2 });
      expect(await templates(1)).toMatchObject({ hasAccess: false, accessDeniedReason: 'RequestedUsageExceedingLimit', usageLimit: 2, currentUsage: 2 });
      // 10.00 + 2 x 4.00 + 4 x 1.00 = 22.00
      expect(r.subscription.latestInvoice).toMatchObject({ kind: 'PROVISIONING', total: '22.00' });
    });

    it('an add-on adds to the quantity bought: 2 templates + 2 packs of 10 = 22', async () => {
      const { engine } = await open('2024-02-01T00:00:00Z');
      await engine.provisionSubscription({
        customerId: 'c1',
        planId: 'starter',
        billingPeriod: 'MONTHLY',
        billableFeatures: buy(2),
        addons: [{ addonId: 'template-pack', quantity: 2 }],
      });
      expect((await templates()).usageLimit).toBe(22);
    });

    it('quantity 3 -> 5 mid-period: limit 5 at once and the prorated difference invoiced', async () => {
      const { engine, clock } = await open('2024-02-01T00:00:00Z');
      const r = await engine.provisionSubscription({ customerId: 'c1', planId: 'starter', billingPeriod: 'MONTHLY', billableFeatures: buy(3) });
      expect((await templates()).usageLimit).toBe(3);
      await engine.reportUsage({ customerId: 'c1', featureId: 'templates', value: 3 });
      expect((await templates(1)).hasAccess).toBe(false);

      // February 2024 has 29 days; on Feb 15 00:00, 15 are left: factor 15/29.
      clock.set('2024-02-15T00:00:00Z');
      const estimate = await engine.estimateSubscriptionUpdate({ subscriptionId: r.subscription.id, billableFeatures: [{ featureId: 'templates', quantity: 5 }] });
      // credit -(3 x 4.00) x 15/29 = -6.2068... -> -6.21; debit (5 x 4.00) x 15/29 = 10.3448... -> 10.34
      expect(estimate.proration).toMatchObject({ credit: '-6.21', debit: '10.34', netAmount: '4.13' });
      expect((await templates()).usageLimit).toBe(3); // an estimate writes nothing

      const updated = await engine.updateSubscription({ subscriptionId: r.subscription.id, billableFeatures: [{ featureId: 'templates', quantity: 5 }] });
      expect(updated.billableFeatures).toEqual(buy(5));
      expect(updated.latestInvoice).toMatchObject({ kind: 'UPDATE', subTotal: '4.13', total: '4.13' });
      // The flat fee and the projects did not change, so they are left out of the proration.
      expect(updated.latestInvoice!.lines.map((l) => `${l.kind} ${l.amount}`)).toEqual(['PRORATION_CREDIT -6.21', 'PRORATION_DEBIT 10.34']);
      expect(await templates(2)).toMatchObject({ hasAccess: true, usageLimit: 5, currentUsage: 3 });
      expect((await templates(3)).hasAccess).toBe(false);
    });

    it('a decrease applies at once: usage above the new limit stays, further use is denied, the unused time is credited', async () => {
      const { engine, clock } = await open('2024-02-01T00:00:00Z');
      const r = await engine.provisionSubscription({ customerId: 'c1', planId: 'starter', billingPeriod: 'MONTHLY', billableFeatures: buy(5) });
      await engine.reportUsage({ customerId: 'c1', featureId: 'templates', value: 4 });
      // On Feb 20 00:00, 10 of 29 days are left.
      clock.set('2024-02-20T00:00:00Z');
      const updated = await engine.updateSubscription({ subscriptionId: r.subscription.id, billableFeatures: [{ featureId: 'templates', quantity: 1 }] });
      // credit -(5 x 4.00) x 10/29 = -6.8965... -> -6.90; debit (1 x 4.00) x 10/29 = 1.3793... -> 1.38; net -5.52, owed back
      expect(updated.latestInvoice).toMatchObject({ kind: 'UPDATE', subTotal: '-5.52', total: '0.00', excessCredit: '5.52' });
      expect(await templates()).toMatchObject({ hasAccess: false, usageLimit: 1, currentUsage: 4, accessDeniedReason: 'RequestedUsageExceedingLimit' });
      // Nothing is taken back: the usage stays as recorded; giving back 3 templates brings it under.
      await engine.reportUsage({ customerId: 'c1', featureId: 'templates', value: -3 });
      expect(await templates()).toMatchObject({ hasAccess: true, usageLimit: 1, currentUsage: 1 });
      expect((await templates(1)).hasAccess).toBe(false);
    });

    it('refuses a missing quantity, naming the feature, and writes nothing (provisioning and estimates)', async () => {
      const { engine } = await open('2024-02-01T00:00:00Z');
      const none = await rejection(engine.provisionSubscription({ customerId: 'c1', planId: 'starter', billingPeriod: 'MONTHLY' }));
      expect(none.code).toBe('INVALID_ARGUMENT');
      expect(none.details).toMatchObject({ field: 'provisionSubscription.billableFeatures', featureId: 'templates', min: 1, max: 20 });
      expect(none.message).toMatch(/"templates".*give its quantity/);
      const partial = await rejection(
        engine.provisionSubscription({ customerId: 'c1', planId: 'starter', billingPeriod: 'MONTHLY', billableFeatures: [{ featureId: 'templates', quantity: 2 }] }),
      );
      expect(partial.details).toMatchObject({ featureId: 'projects', min: 3 });
      const estimate = await rejection(engine.estimateSubscription({ customerId: 'c1', planId: 'starter', billingPeriod: 'MONTHLY' }));
      expect(estimate.code).toBe('INVALID_ARGUMENT');
      expect(estimate.details).toMatchObject({ featureId: 'templates' });
      expect(await engine.getActiveSubscriptions({ customerId: 'c1' })).toEqual([]);
      expect(await engine.getInvoices({ customerId: 'c1' })).toEqual([]);
      expect(await templates()).toMatchObject({ hasAccess: false, accessDeniedReason: 'NoActiveSubscription' });
    });

    it('treats minUnitQuantity as a bound, never a default: below is refused, the minimum given is billed and shown', async () => {
      const { engine } = await open('2024-02-01T00:00:00Z');
      const below = await rejection(engine.provisionSubscription({ customerId: 'c1', planId: 'starter', billingPeriod: 'MONTHLY', billableFeatures: buy(1, 2) }));
      expect(below.code).toBe('INVALID_ARGUMENT');
      expect(await engine.getInvoices({ customerId: 'c1' })).toEqual([]);
      const r = await engine.provisionSubscription({ customerId: 'c1', planId: 'starter', billingPeriod: 'MONTHLY', billableFeatures: buy(1, 3) });
      // 10.00 + 1 x 4.00 + 3 x 1.00 = 17.00, and the subscription shows the 3 projects it bills.
      expect(r.subscription.latestInvoice).toMatchObject({ total: '17.00' });
      expect((await engine.getSubscription(r.subscription.id)).billableFeatures).toEqual(buy(1, 3));
      expect((await projects()).value).toBe(3);
    });

    it('requires the quantity of an add-on priced per unit, and keeps every quantity on update', async () => {
      const { engine } = await open('2024-02-01T00:00:00Z');
      const e = await rejection(
        engine.provisionSubscription({ customerId: 'c1', planId: 'starter', billingPeriod: 'MONTHLY', billableFeatures: buy(2), addons: [{ addonId: 'bulk-templates' }] }),
      );
      expect(e.code).toBe('INVALID_ARGUMENT');
      expect(e.details).toMatchObject({ field: 'provisionSubscription.addons[0].quantity', addonId: 'bulk-templates', featureId: 'templates' });
      const r = await engine.provisionSubscription({
        customerId: 'c1',
        planId: 'starter',
        billingPeriod: 'MONTHLY',
        billableFeatures: buy(2),
        addons: [{ addonId: 'bulk-templates', quantity: 6 }],
      });
      // 2 bought on the plan + 6 bulk add-ons x 1 = 8
      expect((await templates()).usageLimit).toBe(8);
      const again = await rejection(engine.updateSubscription({ subscriptionId: r.subscription.id, addons: [{ addonId: 'bulk-templates' }] }));
      expect(again.code).toBe('INVALID_ARGUMENT');
      expect((await templates()).usageLimit).toBe(8);
    });

    it('a subscription stored before quantities were required renews with what it was billed then (the minimum, else 1)', async () => {
      const { engine, clock, store } = await open('2024-02-01T00:00:00Z');
      const r = await engine.provisionSubscription({ customerId: 'c1', planId: 'starter', billingPeriod: 'MONTHLY', billableFeatures: buy(2, 4) });
      // As an older version stored it: no quantities on the record.
      await store.transaction('write', async (tx) => {
        const rec = (await tx.getSubscription(r.subscription.id))!;
        await tx.putSubscription({ ...rec, billableFeatures: [] });
      });
      clock.set('2024-03-01T00:00:00Z');
      const ticked = await engine.tick();
      expect(ticked).toMatchObject({ invoicesCreated: 1, subscriptionsFailed: 0 });
      // 10.00 + templates at their minimum 1 x 4.00 + projects at their minimum 3 x 1.00 = 17.00
      const invoices = await engine.getInvoices({ customerId: 'c1' });
      expect(invoices.at(-1)).toMatchObject({ kind: 'RENEWAL', total: '17.00' });
      // The entitlement is the plan's own until a quantity is set; setting one is what repairs it.
      expect((await templates()).usageLimit).toBe(50);
      await engine.updateSubscription({ subscriptionId: r.subscription.id, billableFeatures: buy(3) });
      expect((await templates()).usageLimit).toBe(3);
    });

    it('tick() reports a subscription it cannot renew and renews the others', async () => {
      const { engine, clock, store } = await open('2024-02-01T00:00:00Z');
      await engine.provisionCustomer({ customerId: 'c2', subscriptionParams: null });
      const bad = await engine.provisionSubscription({ customerId: 'c1', planId: 'starter', billingPeriod: 'MONTHLY', billableFeatures: buy(2) });
      await engine.provisionSubscription({ customerId: 'c2', planId: 'starter', billingPeriod: 'MONTHLY', billableFeatures: buy(2) });
      // A record no version could price: 999 templates, above the price's maximum of 20.
      await store.transaction('write', async (tx) => {
        const rec = (await tx.getSubscription(bad.subscription.id))!;
        await tx.putSubscription({ ...rec, billableFeatures: [{ featureId: 'templates', quantity: 999 }, { featureId: 'projects', quantity: 3 }] });
      });
      const errors: { customerId?: string; code?: string; method?: string }[] = [];
      engine.on('error', (e) => errors.push(e));
      clock.set('2024-03-01T00:00:00Z');
      expect(await engine.tick()).toMatchObject({ subscriptionsFailed: 1, invoicesCreated: 1 });
      expect(errors).toEqual([expect.objectContaining({ customerId: 'c1', code: 'INVALID_ARGUMENT', method: `tick (subscription ${bad.subscription.id})` })]);
      // 10.00 + 2 x 4.00 + 3 x 1.00 = 21.00 for the customer whose record prices.
      expect((await engine.getInvoices({ customerId: 'c2' })).at(-1)).toMatchObject({ kind: 'RENEWAL', total: '21.00' });
    });
  });
}

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TesseraError, type Paywall, type PaywallPlan } from '@tessera/core';
import { creditsCatalog } from './credits-catalog.js';
import { engineOn, storeFactories } from './stores.js';
import { rejection } from '../support/rejection.js';

type Env = Awaited<ReturnType<typeof engineOn>>;

/** Each plan's prices as `period model currency amount country`. */
const priceTable = (paywall: Paywall) =>
  Object.fromEntries(
    paywall.products[0]!.plans.map((p) => [p.id, p.prices.map((x) => `${x.billingPeriod} ${x.billingModel} ${x.currency} ${x.amount} ${x.billingCountryCode ?? '-'}`)]),
  );
/** A plan's entitlements as `featureId:limit-or-value`, sorted. */
const entitlementsOf = (plan: PaywallPlan) =>
  plan.entitlements
    .map((e) => `${e.featureId}:${e.isUnlimited ? 'unlimited' : (e.usageLimit ?? e.value ?? e.enumValues?.join('|') ?? 'on')}${e.hasSoftLimit ? ' soft' : ''}`)
    .sort();

for (const factory of storeFactories()) {
  describe(factory.name, () => {
    let env: Env;
    beforeEach(async () => {
      env = await engineOn(factory, { catalog: creditsCatalog });
    });
    afterEach(async () => {
      await env.cleanup();
    });

    const current = (paywall: Paywall, productIndex = 0) => paywall.products[productIndex]!.plans.filter((p) => p.isCurrentPlan).map((p) => p.id);

    describe('prices by country', () => {
      it('base prices in USD', async () => {
        const paywall = await env.engine.getPaywall({ productId: 'app' });
        expect(paywall.billingCountryCode).toBeNull();
        expect(priceTable(paywall)).toEqual({
          free: [],
          basic: ['MONTHLY FLAT_FEE USD 20.00 -', 'ANNUALLY FLAT_FEE USD 200.00 -'],
          pro: ['MONTHLY FLAT_FEE USD 50.00 -', 'ANNUALLY FLAT_FEE USD 500.00 -'],
        });
        const basic = paywall.products[0]!.plans[1]!;
        expect(basic.billingPeriods).toEqual(['MONTHLY', 'ANNUALLY']);
        expect(basic.compatibleAddons.map((a) => [a.id, a.maxQuantity, a.prices.map((x) => `${x.currency} ${x.amount}`)])).toEqual([['extra-seats', 10, ['USD 10.00']]]);
      });

      it("Germany's overrides in EUR, on plans and add-ons", async () => {
        const paywall = await env.engine.getPaywall({ productId: 'app', billingCountryCode: 'DE' });
        expect(paywall.billingCountryCode).toBe('DE');
        expect(priceTable(paywall)).toEqual({
          free: [],
          basic: ['MONTHLY FLAT_FEE EUR 18.00 DE', 'ANNUALLY FLAT_FEE EUR 180.00 DE'],
          pro: ['MONTHLY FLAT_FEE EUR 45.00 DE', 'ANNUALLY FLAT_FEE EUR 450.00 DE'],
        });
        const pro = paywall.products[0]!.plans[2]!;
        expect(pro.compatibleAddons[0]!.prices).toMatchObject([{ currency: 'EUR', amount: '9.00', billingCountryCode: 'DE' }]);
        // Overrides are never echoed to the viewer.
        expect(pro.prices[0]).not.toHaveProperty('countryOverrides');
      });

      it('a country without overrides sees the base prices; a lowercase code is read as upper case', async () => {
        const france = await env.engine.getPaywall({ productId: 'app', billingCountryCode: 'FR' });
        expect(france.billingCountryCode).toBe('FR');
        expect(priceTable(france).basic).toEqual(['MONTHLY FLAT_FEE USD 20.00 -', 'ANNUALLY FLAT_FEE USD 200.00 -']);
        const lower = await env.engine.getPaywall({ productId: 'app', billingCountryCode: 'de' });
        expect(priceTable(lower).basic).toEqual(['MONTHLY FLAT_FEE EUR 18.00 DE', 'ANNUALLY FLAT_FEE EUR 180.00 DE']);
      });

      it("a customer's billing country applies when none is given", async () => {
        await env.engine.provisionCustomer({ customerId: 'berlin', billingInfo: { billingCountryCode: 'DE' } });
        const paywall = await env.engine.getPaywall({ productId: 'app', customerId: 'berlin' });
        expect(paywall.billingCountryCode).toBe('DE');
        expect(priceTable(paywall).pro).toEqual(['MONTHLY FLAT_FEE EUR 45.00 DE', 'ANNUALLY FLAT_FEE EUR 450.00 DE']);
        // An explicit country wins over the customer's.
        expect(priceTable(await env.engine.getPaywall({ productId: 'app', customerId: 'berlin', billingCountryCode: 'US' })).pro?.[0]).toBe('MONTHLY FLAT_FEE USD 50.00 -');
      });
    });

    describe('plans', () => {
      it('lists the plans in product order with inherited entitlements, trials and features', async () => {
        const [product] = (await env.engine.getPaywall({ productId: 'app' })).products;
        expect(product).toMatchObject({ id: 'app', displayName: 'The App', description: null, metadata: {}, currentPlanId: null });
        expect(product!.plans.map((p) => [p.id, p.order, p.pricingType, p.parentPlanId, p.isCurrentPlan])).toEqual([
          ['free', 0, 'FREE', null, false],
          ['basic', 1, 'PAID', 'free', false],
          ['pro', 2, 'PAID', 'basic', false],
        ]);
        const [free, basic, pro] = product!.plans;
        expect(entitlementsOf(free!)).toEqual(['ai-tokens:unlimited', 'api-calls:100', 'export:csv', 'projects:3', 'seats:1']);
        // basic overrides free per feature and inherits ai-tokens.
        expect(entitlementsOf(basic!)).toEqual(['ai-tokens:unlimited', 'api-calls:1000', 'export:csv|json', 'projects:10', 'seats:5']);
        expect(entitlementsOf(pro!)).toEqual(['ai-tokens:unlimited', 'api-calls:10000 soft', 'export:csv|json|parquet', 'projects:unlimited', 'seats:20', 'sso:on']);
        expect(pro!.trial).toEqual({ days: 14, onEnd: 'CONVERT_TO_PAID' });
        expect(basic!.trial).toBeNull();
        expect(pro!.entitlements.find((e) => e.featureId === 'api-calls')).toMatchObject({
          resetPeriod: 'MONTH',
          feature: { id: 'api-calls', displayName: 'API calls', type: 'METERED', units: 'call', unitsPlural: 'calls' },
        });
        expect(free!.compatibleAddons).toEqual([]);
      });

      it('leaves hidden plans out unless includeHiddenPlans', async () => {
        expect((await env.engine.getPaywall({ productId: 'app' })).products[0]!.plans.map((p) => p.id)).toEqual(['free', 'basic', 'pro']);
        const all = await env.engine.getPaywall({ productId: 'app', includeHiddenPlans: true });
        expect(all.products[0]!.plans.map((p) => [p.id, p.order])).toEqual([
          ['free', 0],
          ['basic', 1],
          ['pro', 2],
          ['legacy', 3],
        ]);
        expect(entitlementsOf(all.products[0]!.plans[3]!)).toEqual(['ai-tokens:unlimited', 'api-calls:100', 'export:csv', 'projects:5', 'seats:1']);
      });

      it('lists every product in declared order when no product is named', async () => {
        const paywall = await env.engine.getPaywall();
        expect(paywall.products.map((p) => [p.id, p.metadata, p.plans.map((x) => x.id)])).toEqual([
          ['app', {}, ['free', 'basic', 'pro']],
          ['workspaces', { tier: 'beta' }, ['ws-free']],
        ]);
      });
    });

    describe("the customer's current plan", () => {
      it('flags the free plan a new customer was given', async () => {
        await env.engine.provisionCustomer({ customerId: 'c1' });
        const paywall = await env.engine.getPaywall({ productId: 'app', customerId: 'c1' });
        expect(current(paywall)).toEqual(['free']);
        expect(paywall.products[0]!.currentPlanId).toBe('free');
      });

      it('flags basic after an upgrade, and the trialling pro plan while the trial runs', async () => {
        await env.engine.provisionCustomer({ customerId: 'c1' });
        await env.engine.provisionSubscription({ customerId: 'c1', planId: 'basic', billingPeriod: 'MONTHLY' });
        expect(current(await env.engine.getPaywall({ productId: 'app', customerId: 'c1' }))).toEqual(['basic']);
        await env.engine.provisionCustomer({ customerId: 'c2' });
        await env.engine.provisionSubscription({ customerId: 'c2', planId: 'pro', billingPeriod: 'MONTHLY' });
        expect(current(await env.engine.getPaywall({ productId: 'app', customerId: 'c2' }))).toEqual(['pro']);
      });

      it('names a hidden current plan without listing it', async () => {
        await env.engine.provisionCustomer({ customerId: 'c1', subscriptionParams: { planId: 'legacy' } });
        const paywall = await env.engine.getPaywall({ productId: 'app', customerId: 'c1' });
        expect(paywall.products[0]!.currentPlanId).toBe('legacy');
        expect(current(paywall)).toEqual([]);
        const all = await env.engine.getPaywall({ productId: 'app', customerId: 'c1', includeHiddenPlans: true });
        expect(current(all)).toEqual(['legacy']);
      });

      it("a resource's plan is current for that resource", async () => {
        await env.engine.provisionCustomer({ customerId: 'c1' });
        await env.engine.provisionSubscription({ customerId: 'c1', planId: 'ws-free', resourceId: 'r1' });
        expect((await env.engine.getPaywall({ productId: 'workspaces', customerId: 'c1', resourceId: 'r1' })).products[0]!.currentPlanId).toBe('ws-free');
        expect((await env.engine.getPaywall({ productId: 'workspaces', customerId: 'c1' })).products[0]!.currentPlanId).toBeNull();
      });
    });

    describe('errors', () => {
      it('INVALID_ARGUMENT for an unknown product, naming productId', async () => {
        const err = await rejection(env.engine.getPaywall({ productId: 'spaceship' }));
        expect(err.code).toBe('INVALID_ARGUMENT');
        expect(String(err.details?.field)).toContain('productId');
      });

      it('INVALID_ARGUMENT for a malformed country code', async () => {
        expect((await rejection(env.engine.getPaywall({ productId: 'app', billingCountryCode: 'XX' }))).code).toBe('INVALID_ARGUMENT');
        expect((await rejection(env.engine.getPaywall({ productId: 'app', billingCountryCode: 'DEU' }))).code).toBe('INVALID_ARGUMENT');
      });

      it('CUSTOMER_NOT_FOUND for an unknown or archived customer', async () => {
        expect((await rejection(env.engine.getPaywall({ productId: 'app', customerId: 'ghost' }))).code).toBe('CUSTOMER_NOT_FOUND');
        await env.engine.provisionCustomer({ customerId: 'c1' });
        await env.engine.archiveCustomer('c1');
        expect((await rejection(env.engine.getPaywall({ customerId: 'c1' }))).code).toBe('CUSTOMER_NOT_FOUND');
      });
    });
  });
}

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TesseraError, type CatalogDefinition, type EntitlementOverrideUpdatedEvent, type MeteredEntitlement } from '@tessera/core';
import { engineOn, storeFactories } from './stores.js';
import { rejection } from '../support/rejection.js';

/**
 * Per-customer entitlement overrides (docs/overrides.md), worked by hand: the `team` plan gives
 * 10,000 API calls a month; an enterprise deal gives one customer 1,000,000 from Mar 1 to Jun 1.
 */
const catalog: CatalogDefinition = {
  features: [
    { id: 'sso', displayName: 'Single sign-on', type: 'BOOLEAN' },
    { id: 'projects', displayName: 'Projects', type: 'NUMERIC' },
    { id: 'api-calls', displayName: 'API calls', type: 'METERED', units: 'call', unitsPlural: 'calls' },
    { id: 'export', displayName: 'Export formats', type: 'ENUM', enumValues: ['csv', 'json', 'parquet'] },
  ],
  products: [{ id: 'app', displayName: 'App', defaultPlanId: 'team', downgradePlanId: 'team', cancellationTime: 'END_OF_BILLING_PERIOD', startWith: 'FREE_PLAN' }],
  plans: [
    {
      id: 'team',
      productId: 'app',
      displayName: 'Team',
      pricingType: 'FREE',
      entitlements: [
        { featureId: 'projects', value: 3 },
        { featureId: 'api-calls', usageLimit: 10_000, resetPeriod: 'MONTH' },
      ],
    },
  ],
};

type Env = Awaited<ReturnType<typeof engineOn>>;

const DEAL = { startDate: '2024-03-01T00:00:00Z', endDate: '2024-06-01T00:00:00Z', reason: 'enterprise deal #42' };

// PostgreSQL runs the same store code through the conformance cases (test/conformance/overrides-cases.ts).
for (const factory of storeFactories().filter((f) => f.name !== 'postgres')) {
  describe(factory.name, () => {
    let env: Env;
    beforeEach(async () => {
      // The subscription starts Feb 1: its monthly windows run from the 1st.
      env = await engineOn(factory, { catalog, start: '2024-02-01T00:00:00Z' });
    });
    afterEach(async () => {
      await env.cleanup();
    });

    const calls = async (requestedUsage = 0, customerId = 'c1') =>
      (await env.engine.getMeteredEntitlement({ customerId, featureId: 'api-calls', options: { requestedUsage } })) as MeteredEntitlement;
    const deal = (customerId = 'c1') => env.engine.setEntitlementOverride({ customerId, featureId: 'api-calls', entitlement: { usageLimit: 1_000_000, resetPeriod: 'MONTH' }, ...DEAL });

    describe('a metered override from a start date to an end date', () => {
      it('gives 10,000 before the start, 1,000,000 during (source OVERRIDE), 10,000 after the end, with no tick', async () => {
        await env.engine.provisionCustomer({ customerId: 'c1' });
        const o = await deal();
        expect(o).toMatchObject({ customerId: 'c1', resourceId: null, featureId: 'api-calls', status: 'SCHEDULED', reason: DEAL.reason, entitlement: { usageLimit: 1_000_000, resetPeriod: 'MONTH' } });
        expect(o.startDate).toEqual(new Date(DEAL.startDate));
        expect(o.endDate).toEqual(new Date(DEAL.endDate));

        const before = await calls();
        expect(before).toMatchObject({ hasAccess: true, usageLimit: 10_000 });
        expect(before.overrideId).toBeUndefined();

        // The cached view resolved Feb 1 still answers at Mar 1: its validity ends at the override's start.
        env.clock.set('2024-03-01T00:00:00Z');
        const during = await calls(500_000);
        expect(during).toMatchObject({ hasAccess: true, usageLimit: 1_000_000, resetPeriod: 'MONTH', overrideId: o.id });
        // Anchored like the plan it replaces: the calendar month.
        expect(during.usagePeriodStart).toEqual(new Date('2024-03-01T00:00:00Z'));
        expect(during.usagePeriodEnd).toEqual(new Date('2024-04-01T00:00:00Z'));
        expect((await env.engine.getEntitlementOverrides({ customerId: 'c1' }))[0]).toMatchObject({ id: o.id, status: 'ACTIVE' });

        // Jun 1 is the exclusive end: one millisecond before, still the deal.
        env.clock.set('2024-05-31T23:59:59.999Z');
        expect(await calls()).toMatchObject({ usageLimit: 1_000_000, overrideId: o.id });
        env.clock.set('2024-06-01T00:00:00Z');
        const after = await calls();
        expect(after).toMatchObject({ hasAccess: true, usageLimit: 10_000 });
        expect(after.overrideId).toBeUndefined();
        expect((await env.engine.getEntitlementOverrides({ customerId: 'c1' }))[0]).toMatchObject({ id: o.id, status: 'EXPIRED' });
      });

      it('consumeUsage honours the override: 20,000 fits during the deal, not after it', async () => {
        await env.engine.provisionCustomer({ customerId: 'c1' });
        await deal();
        expect((await rejection(env.engine.consumeUsage({ customerId: 'c1', featureId: 'api-calls', amount: 20_000 }))).code).toBe('USAGE_LIMIT_EXCEEDED');
        env.clock.set('2024-03-10T00:00:00Z');
        const c = await env.engine.consumeUsage({ customerId: 'c1', featureId: 'api-calls', amount: 20_000 });
        // 1,000,000 - 20,000 = 980,000 left this month.
        expect(c).toMatchObject({ granted: 20_000, currentUsage: 20_000, usageLimit: 1_000_000, remaining: 980_000 });
        // June: a new window with the plan's 10,000 again.
        env.clock.set('2024-06-10T00:00:00Z');
        expect((await rejection(env.engine.consumeUsage({ customerId: 'c1', featureId: 'api-calls', amount: 20_000 }))).code).toBe('USAGE_LIMIT_EXCEEDED');
        expect(await env.engine.consumeUsage({ customerId: 'c1', featureId: 'api-calls', amount: 10_000 })).toMatchObject({ remaining: 0, usageLimit: 10_000 });
      });

      it('keeps usage counted before the start: 9,000 in March before the deal leaves 991,000 under it', async () => {
        await env.engine.provisionCustomer({ customerId: 'c1' });
        env.clock.set('2024-03-05T00:00:00Z');
        await env.engine.reportUsage({ customerId: 'c1', featureId: 'api-calls', value: 9_000 });
        await env.engine.setEntitlementOverride({ customerId: 'c1', featureId: 'api-calls', entitlement: { usageLimit: 1_000_000, resetPeriod: 'MONTH' } });
        expect(await calls(991_000)).toMatchObject({ hasAccess: true, currentUsage: 9_000, usageLimit: 1_000_000 });
        expect(await calls(991_001)).toMatchObject({ hasAccess: false, accessDeniedReason: 'RequestedUsageExceedingLimit' });
      });
    });

    it('remove restores the plan at once, and returns 0 when there is nothing to remove', async () => {
      await env.engine.provisionCustomer({ customerId: 'c1' });
      env.clock.set('2024-03-02T00:00:00Z');
      await deal();
      expect(await calls()).toMatchObject({ usageLimit: 1_000_000 });
      expect(await env.engine.removeEntitlementOverride({ customerId: 'c1', featureId: 'api-calls' })).toEqual({ removed: 1 });
      expect(await calls()).toMatchObject({ usageLimit: 10_000 });
      const [o] = await env.engine.getEntitlementOverrides({ customerId: 'c1' });
      expect(o).toMatchObject({ status: 'REMOVED' });
      expect(o!.removedAt).toEqual(new Date('2024-03-02T00:00:00Z'));
      const changes = (await env.engine.getChanges({ limit: 10_000 })).length;
      expect(await env.engine.removeEntitlementOverride({ customerId: 'c1', featureId: 'api-calls' })).toEqual({ removed: 0 });
      expect((await env.engine.getChanges({ limit: 10_000 })).length).toBe(changes);
    });

    it('setting again replaces the live override (one per feature and resource)', async () => {
      await env.engine.provisionCustomer({ customerId: 'c1' });
      const first = await env.engine.setEntitlementOverride({ customerId: 'c1', featureId: 'api-calls', entitlement: { usageLimit: 50_000, resetPeriod: 'MONTH' } });
      const second = await env.engine.setEntitlementOverride({ customerId: 'c1', featureId: 'api-calls', entitlement: { isUnlimited: true } });
      expect(await calls(5_000_000)).toMatchObject({ hasAccess: true, isUnlimited: true, usageLimit: null, overrideId: second.id });
      const all = await env.engine.getEntitlementOverrides({ customerId: 'c1' });
      expect(all.map((o) => [o.id, o.status])).toEqual([
        [first.id, 'REMOVED'],
        [second.id, 'ACTIVE'],
      ]);
    });

    it('a NUMERIC override replaces the plan value even when lower: 3 projects -> 1', async () => {
      await env.engine.provisionCustomer({ customerId: 'c1' });
      const o = await env.engine.setEntitlementOverride({ customerId: 'c1', featureId: 'projects', entitlement: { value: 1 } });
      // A promotion would take the highest (3); an override replaces.
      expect(await env.engine.getNumericEntitlement({ customerId: 'c1', featureId: 'projects' })).toMatchObject({ hasAccess: true, value: 1, overrideId: o.id });
    });

    it('promotional grants still add on top of an override: 1,000,000 + 500', async () => {
      await env.engine.provisionCustomer({ customerId: 'c1' });
      await env.engine.setEntitlementOverride({ customerId: 'c1', featureId: 'api-calls', entitlement: { usageLimit: 1_000_000, resetPeriod: 'MONTH' } });
      await env.engine.grantPromotionalEntitlements({ customerId: 'c1', promotionalEntitlements: [{ featureId: 'api-calls', period: 'ONE_MONTH', usageLimit: 500, resetPeriod: 'MONTH' }] });
      expect(await calls()).toMatchObject({ usageLimit: 1_000_500 });
    });

    it('a BOOLEAN override grants a feature the plan lacks', async () => {
      await env.engine.provisionCustomer({ customerId: 'c1' });
      expect(await env.engine.getBooleanEntitlement({ customerId: 'c1', featureId: 'sso' })).toMatchObject({ hasAccess: false, accessDeniedReason: 'NoFeatureEntitlementInSubscription' });
      const o = await env.engine.setEntitlementOverride({ customerId: 'c1', featureId: 'sso', entitlement: {} });
      expect(await env.engine.getBooleanEntitlement({ customerId: 'c1', featureId: 'sso' })).toMatchObject({ hasAccess: true, overrideId: o.id });
      expect((await env.engine.getEntitlements({ customerId: 'c1' })).map((e) => e.featureId)).toEqual(['api-calls', 'projects', 'sso']);
    });

    it('an override applies to a customer with no subscription', async () => {
      await env.engine.provisionCustomer({ customerId: 'c1', subscriptionParams: null });
      expect(await calls()).toMatchObject({ hasAccess: false, accessDeniedReason: 'NoActiveSubscription' });
      const o = await env.engine.setEntitlementOverride({ customerId: 'c1', featureId: 'export', entitlement: { enumValues: ['json'] } });
      await deal();
      expect(await env.engine.getEnumEntitlement({ customerId: 'c1', featureId: 'export', options: { requestedValues: ['json'] } })).toMatchObject({ hasAccess: true, enumValues: ['json'], overrideId: o.id });
      // With no plan to anchor it, the deal's windows count from its own start (Mar 1).
      env.clock.set('2024-03-15T00:00:00Z');
      const during = await calls();
      expect(during).toMatchObject({ hasAccess: true, usageLimit: 1_000_000 });
      expect(during.usagePeriodStart).toEqual(new Date('2024-03-01T00:00:00Z'));
      env.clock.set('2024-06-01T00:00:00Z');
      expect(await calls()).toMatchObject({ hasAccess: false, accessDeniedReason: 'NoActiveSubscription' });
    });

    it('a resource-level override beats the customer-level one for that resource only', async () => {
      await env.engine.provisionCustomer({ customerId: 'c1' });
      await env.engine.setEntitlementOverride({ customerId: 'c1', featureId: 'projects', entitlement: { value: 50 } });
      await env.engine.setEntitlementOverride({ customerId: 'c1', featureId: 'projects', resourceId: 'site-a', entitlement: { value: 7 } });
      expect(await env.engine.getNumericEntitlement({ customerId: 'c1', featureId: 'projects' })).toMatchObject({ value: 50 });
      expect(await env.engine.getNumericEntitlement({ customerId: 'c1', featureId: 'projects', resourceId: 'site-a' })).toMatchObject({ value: 7 });
    });

    it('the change feed carries override.updated with the customer, and the events fire', async () => {
      await env.engine.provisionCustomer({ customerId: 'c1' });
      const seen: EntitlementOverrideUpdatedEvent[] = [];
      const reasons: string[] = [];
      env.engine.on('entitlementOverrideUpdated', (e) => seen.push(e));
      env.engine.on('entitlementsUpdated', (e) => reasons.push(e.reason));
      const o = await deal();
      await env.engine.removeEntitlementOverride({ customerId: 'c1', featureId: 'api-calls' });
      const changes = (await env.engine.getChanges({ limit: 10_000 })).filter((c) => c.kind === 'override.updated');
      expect(changes.map((c) => [c.customerId, c.entityId])).toEqual([
        ['c1', 'api-calls'],
        ['c1', 'api-calls'],
      ]);
      expect(changes[0]!.payload).toMatchObject({ set: o.id, removed: [] });
      expect(changes[1]!.payload).toMatchObject({ removed: [o.id] });
      expect(seen.map((e) => [e.customerId, e.featureId, e.override?.id ?? null])).toEqual([
        ['c1', 'api-calls', o.id],
        ['c1', 'api-calls', null],
      ]);
      expect(reasons).toEqual(['override.updated', 'override.updated']);
    });

    describe('invalid input is refused and nothing is written', () => {
      const cases: [string, Record<string, unknown>, string][] = [
        ['a METERED override without a limit', { featureId: 'api-calls', entitlement: { resetPeriod: 'MONTH' } }, 'INVALID_ARGUMENT'],
        ['a negative limit', { featureId: 'api-calls', entitlement: { usageLimit: -1 } }, 'INVALID_ARGUMENT'],
        ['a value on a BOOLEAN feature', { featureId: 'sso', entitlement: { value: 3 } }, 'INVALID_ARGUMENT'],
        ['an enum value the feature lacks', { featureId: 'export', entitlement: { enumValues: ['xml'] } }, 'INVALID_ARGUMENT'],
        ['an unknown entitlement field', { featureId: 'projects', entitlement: { value: 3, bogus: 1 } }, 'INVALID_ARGUMENT'],
        ['no entitlement', { featureId: 'projects' }, 'INVALID_ARGUMENT'],
        ['an end before the start', { featureId: 'projects', entitlement: { value: 3 }, startDate: '2024-03-01T00:00:00Z', endDate: '2024-02-15T00:00:00Z' }, 'INVALID_ARGUMENT'],
        ['an end already past', { featureId: 'projects', entitlement: { value: 3 }, startDate: '2024-01-01T00:00:00Z', endDate: '2024-01-15T00:00:00Z' }, 'INVALID_ARGUMENT'],
        ['a date that is not one', { featureId: 'projects', entitlement: { value: 3 }, startDate: 'soon' }, 'INVALID_ARGUMENT'],
        ['an unknown feature', { featureId: 'nope', entitlement: {} }, 'FEATURE_NOT_FOUND'],
      ];
      for (const [what, params, code] of cases) {
        it(`refuses ${what} (${code})`, async () => {
          await env.engine.provisionCustomer({ customerId: 'c1' });
          const before = (await env.engine.getChanges({ limit: 10_000 })).length;
          expect((await rejection(env.engine.setEntitlementOverride({ customerId: 'c1', ...params } as never))).code).toBe(code);
          expect((await env.engine.getChanges({ limit: 10_000 })).length).toBe(before);
          expect(await env.engine.getEntitlementOverrides({ customerId: 'c1' })).toEqual([]);
        });
      }

      it('refuses an unknown customer (CUSTOMER_NOT_FOUND)', async () => {
        expect((await rejection(deal('ghost'))).code).toBe('CUSTOMER_NOT_FOUND');
        expect((await rejection(env.engine.removeEntitlementOverride({ customerId: 'ghost', featureId: 'api-calls' }))).code).toBe('CUSTOMER_NOT_FOUND');
        expect((await env.engine.getChanges({ limit: 10_000 })).filter((c) => c.kind === 'override.updated')).toEqual([]);
      });
    });
  });
}

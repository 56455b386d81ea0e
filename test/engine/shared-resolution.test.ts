import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CatalogDefinition, EnumEntitlement, MeteredEntitlement, NumericEntitlement } from '@tessera/core';
import { engineOn, storeFactories } from './stores.js';

// Customers on one plan version share one resolution (engine/checks/shared-resolution.ts) and the
// slots of BOOLEAN, NUMERIC and ENUM features. Everything of one customer (anchor, rollover balance,
// override, promotion, usage) must stay that customer's: each case puts two or three customers on
// one plan, gives one of them something of its own, and checks every one's answer.

type Env = Awaited<ReturnType<typeof engineOn>>;

const catalog: CatalogDefinition = {
  features: [
    { id: 'api-calls', type: 'METERED' },
    { id: 'projects', type: 'NUMERIC' },
    { id: 'export', type: 'ENUM', enumValues: ['csv', 'json', 'parquet'] },
  ],
  products: [{ id: 'app', defaultPlanId: 'basic', downgradePlanId: 'basic', startWith: 'FREE_PLAN' }],
  plans: [
    {
      id: 'basic',
      productId: 'app',
      pricingType: 'FREE',
      entitlements: [
        // 100 calls a month, at most 50 carried, for the 2 following months (docs/rollovers.md).
        { featureId: 'api-calls', usageLimit: 100, resetPeriod: 'MONTH', rollover: { max: 50, expiresAfter: 2 } },
        { featureId: 'projects', value: 3 },
        { featureId: 'export', enumValues: ['csv', 'json'] },
      ],
    },
  ],
};

for (const factory of storeFactories().filter((f) => f.name !== 'postgres')) {
  describe(`${factory.name}: customers sharing one plan's resolution`, () => {
    let env: Env;
    beforeEach(async () => {
      env = await engineOn(factory, { catalog, start: '2024-01-01T00:00:00Z' });
    });
    afterEach(async () => {
      await env.cleanup();
    });

    const calls = async (customerId: string, requestedUsage = 0) =>
      (await env.engine.getMeteredEntitlement({ customerId, featureId: 'api-calls', options: { requestedUsage } })) as MeteredEntitlement;
    const consume = (customerId: string, amount: number) => env.engine.consumeUsage({ customerId, featureId: 'api-calls', amount });

    it('a customer whose usage anchor differs from the first subscriber keeps the plan rollover', async () => {
      await env.engine.provisionCustomer({ customerId: 'jan1' });
      expect((await calls('jan1')).rollover?.balance).toBe(0); // jan1 resolves first: its anchor is the shared one
      env.clock.set('2024-01-15T00:00:00Z');
      await env.engine.provisionCustomer({ customerId: 'jan15' }); // windows from the 15th
      const first = await calls('jan15');
      expect(first.usagePeriodStart).toEqual(new Date('2024-01-15T00:00:00Z'));
      expect(first.rollover).toEqual({ balance: 0, used: 0, remaining: 0, expiries: [] });
      await consume('jan15', 70); // 30 unused in Jan 15 - Feb 15: carried into Feb 15 - Mar 15 and Mar 15 - Apr 15
      await consume('jan1', 90); // 10 unused
      env.clock.set('2024-02-20T00:00:00Z');
      const jan15 = await calls('jan15', 130);
      expect([jan15.usageLimit, jan15.hasAccess, jan15.rollover?.balance]).toEqual([130, true, 30]);
      expect(jan15.rollover?.expiries).toEqual([{ amount: 30, expiresAt: new Date('2024-04-15T00:00:00Z') }]);
      const jan1 = await calls('jan1');
      expect([jan1.usageLimit, jan1.rollover?.balance]).toEqual([110, 10]);
      // Consumption enforces base + balance for each of them.
      expect((await consume('jan15', 130)).granted).toBe(130);
      await expect(consume('jan15', 1)).rejects.toMatchObject({ code: 'USAGE_LIMIT_EXCEEDED' });
      await expect(consume('jan1', 111)).rejects.toMatchObject({ code: 'USAGE_LIMIT_EXCEEDED' });
    });

    it('an override, a promotion and a rollover balance each show for their own customer only', async () => {
      for (const id of ['plain', 'deal', 'promo']) await env.engine.provisionCustomer({ customerId: id });
      for (const id of ['plain', 'deal', 'promo']) await calls(id); // all three resolved and cached from one shared resolution
      await consume('plain', 80); // 20 unused: carried into February for 'plain' only
      await env.engine.setEntitlementOverride({ customerId: 'deal', featureId: 'projects', entitlement: { value: 40 }, startDate: '2024-01-01T00:00:00Z' });
      await env.engine.grantPromotionalEntitlements({ customerId: 'promo', promotionalEntitlements: [{ featureId: 'export', period: 'SIX_MONTHS', enumValues: ['parquet'] }] });
      env.clock.set('2024-02-02T00:00:00Z');
      const projects = async (id: string) => ((await env.engine.getNumericEntitlement({ customerId: id, featureId: 'projects' })) as NumericEntitlement).value;
      const exports = async (id: string) => ((await env.engine.getEnumEntitlement({ customerId: id, featureId: 'export' })) as EnumEntitlement).enumValues;
      expect([await projects('plain'), await projects('deal'), await projects('promo')]).toEqual([3, 40, 3]);
      expect([await exports('plain'), await exports('deal'), await exports('promo')]).toEqual([['csv', 'json'], ['csv', 'json'], ['csv', 'json', 'parquet']]);
      const limits = [await calls('plain'), await calls('deal'), await calls('promo')].map((e) => [e.usageLimit, e.rollover?.balance]);
      // 'deal' and 'promo' used nothing in January: 100 unused, 50 carried (max).
      expect(limits).toEqual([[120, 20], [150, 50], [150, 50]]);
      await consume('deal', 130);
      expect([(await calls('deal')).currentUsage, (await calls('plain')).currentUsage, (await calls('promo')).currentUsage]).toEqual([130, 0, 0]);
    });

    it('after a catalog update, a migrated customer gets the new version and the others keep theirs, rollover and as-of included', async () => {
      const stay = (await env.engine.provisionCustomer({ customerId: 'stay' })).subscription!;
      env.clock.set('2024-01-10T00:00:00Z');
      const moved = (await env.engine.provisionCustomer({ customerId: 'moved' })).subscription!; // windows from the 10th
      await calls('stay');
      await calls('moved');
      await consume('moved', 60); // 40 unused in Jan 10 - Feb 10
      const v2 = structuredClone(catalog);
      v2.plans[0]!.entitlements = [
        { featureId: 'api-calls', usageLimit: 200, resetPeriod: 'MONTH', rollover: { max: 50, expiresAfter: 2 } },
        { featureId: 'projects', value: 5 },
        { featureId: 'export', enumValues: ['csv', 'json'] },
      ];
      await env.engine.publishCatalog(v2);
      env.clock.set('2024-02-12T00:00:00Z');
      await env.engine.migrateSubscriptionToLatest({ subscriptionId: moved.id, subscriptionMigrationTime: 'IMMEDIATE' });
      const projects = async (id: string) => ((await env.engine.getNumericEntitlement({ customerId: id, featureId: 'projects' })) as NumericEntitlement).value;
      expect([await projects('stay'), await projects('moved')]).toEqual([3, 5]);
      // The migration is in place, so moved's closed windows count with version 2 (docs/rollovers.md#plan-changes):
      // January's 200 - 60 = 140 unused, 50 carried (max). 'stay': 100 + 50 (nothing used in January).
      expect([(await calls('moved')).usageLimit, (await calls('stay')).usageLimit]).toEqual([250, 150]);
      expect(stay.id).not.toBe(moved.id);
      // As of Feb 11, each in its own window (moved's from the 10th, stay's from the 1st), on the versions as stored.
      const asOf = async (id: string) => (await env.engine.getMeteredEntitlement({ customerId: id, featureId: 'api-calls', at: '2024-02-11T00:00:00Z' })) as MeteredEntitlement;
      const [m, s] = [await asOf('moved'), await asOf('stay')];
      expect([m.usageLimit, m.rollover?.balance, m.usagePeriodStart]).toEqual([250, 50, new Date('2024-02-10T00:00:00Z')]);
      expect([s.usageLimit, s.rollover?.balance, s.usagePeriodStart]).toEqual([150, 50, new Date('2024-02-01T00:00:00Z')]);
    });

    it("changing one customer's ENUM result does not change another customer's answer", async () => {
      await env.engine.provisionCustomer({ customerId: 'a' });
      await env.engine.provisionCustomer({ customerId: 'b' });
      const a = (await env.engine.getEnumEntitlement({ customerId: 'a', featureId: 'export' })) as EnumEntitlement;
      // Results are documented read-only (docs/conventions.md#check-results); a caller that edits one anyway gets a TypeError, not a changed plan.
      expect(() => a.enumValues.push('parquet')).toThrow(TypeError);
      const b = (await env.engine.getEnumEntitlement({ customerId: 'b', featureId: 'export', options: { requestedValues: ['parquet'] } })) as EnumEntitlement;
      expect([b.enumValues, b.hasAccess]).toEqual([['csv', 'json'], false]);
    });
  });
}

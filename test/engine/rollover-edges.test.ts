import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createEngine, testClock, type CatalogDefinition, type MeteredEntitlement } from '@tessera/core';
import { sqliteStore } from '@tessera/sqlite';
import { engineOn, storeFactories, tempDir } from './stores.js';
import { rejection } from '../support/rejection.js';

// Where rollover (docs/rollovers.md) meets the rest, worked by hand on every store: entities,
// reservations across a window's end, the cached balance (plan changes, overrides, promotions,
// other processes through the change feed) and threshold alerts. 100 calls a month, at most 50
// carried, each carried amount usable in the 2 following months.

type Env = Awaited<ReturnType<typeof engineOn>>;

const ROLLOVER = { max: 50, expiresAfter: 2 };

const catalog: CatalogDefinition = {
  features: [
    { id: 'api-calls', type: 'METERED' },
    { id: 'seats', type: 'METERED' },
  ],
  products: [{ id: 'app', defaultPlanId: 'basic', downgradePlanId: 'basic', startWith: 'FREE_PLAN' }],
  plans: [
    {
      id: 'basic',
      productId: 'app',
      pricingType: 'FREE',
      entitlements: [
        { featureId: 'seats', usageLimit: 10 },
        {
          featureId: 'api-calls',
          usageLimit: 100,
          resetPeriod: 'MONTH',
          rollover: ROLLOVER,
          perEntity: { featureId: 'seats', usageLimit: 40 },
          alerts: { usagePercent: [80, 100] },
        },
      ],
    },
    { id: 'plain', productId: 'app', pricingType: 'FREE', entitlements: [{ featureId: 'api-calls', usageLimit: 100, resetPeriod: 'MONTH' }] },
    {
      id: 'daily-capped',
      productId: 'app',
      pricingType: 'FREE',
      entitlements: [{ featureId: 'api-calls', usageLimit: 100, resetPeriod: 'MONTH', limits: [{ usageLimit: 60, resetPeriod: 'DAY' }], rollover: ROLLOVER }],
    },
    { id: 'big', productId: 'app', pricingType: 'FREE', entitlements: [{ featureId: 'api-calls', usageLimit: 200, resetPeriod: 'MONTH', rollover: { max: 80, expiresAfter: 2 } }] },
  ],
};

for (const factory of storeFactories()) {
  describe(factory.name, () => {
    let env: Env;
    beforeEach(async () => {
      env = await engineOn(factory, { catalog, start: '2024-01-01T00:00:00Z' });
      await env.engine.provisionCustomer({ customerId: 'c1' });
    });
    afterEach(async () => {
      await env.cleanup();
    });

    const check = async (requestedUsage = 0, entityId?: string) =>
      (await env.engine.getMeteredEntitlement({ customerId: 'c1', featureId: 'api-calls', options: { requestedUsage }, ...(entityId ? { entityId } : {}) })) as MeteredEntitlement;
    const consume = (amount: number, overage: 'REJECT' | 'CAP' = 'REJECT', entityId?: string) =>
      env.engine.consumeUsage({ customerId: 'c1', featureId: 'api-calls', amount, overage, ...(entityId ? { entityId } : {}) });
    const reserve = (amount: number, expiresIn: number) => env.engine.reserveUsage({ customerId: 'c1', featureId: 'api-calls', amount, expiresIn });

    it('entities: an entity uses the pooled rollover, its per-entity limit stays on the base', async () => {
      for (const id of ['ann', 'bob', 'cy', 'dee']) await env.engine.createEntity({ customerId: 'c1', entityId: id, featureId: 'seats' });
      await consume(40, 'REJECT', 'ann'); // January: the entity's usage is the customer's too
      await consume(30, 'REJECT', 'bob');
      env.clock.set('2024-02-10T00:00:00Z');
      // 30 unused in January: 30 carried.
      const ann = await check(40, 'ann');
      expect([ann.hasAccess, ann.usageLimit, ann.pooled?.usageLimit]).toEqual([true, 40, 130]);
      expect(ann.rollover?.balance).toBe(30);
      expect((await check(41, 'ann')).accessDeniedReason).toBe('RequestedUsageExceedingLimit');
      const e = await rejection(consume(41, 'REJECT', 'ann'));
      expect(e.details).toMatchObject({ available: 40 });
      for (const id of ['ann', 'bob', 'cy']) expect((await consume(40, 'REJECT', id)).granted).toBe(40);
      // 120 of 130 pooled used: the last entity gets the 10 left, though its own limit has 40.
      const last = await consume(40, 'CAP', 'dee');
      expect([last.granted, last.pooled?.usageLimit, last.pooled?.remaining, last.entity?.usageLimit]).toEqual([10, 130, 0, 40]);
      expect(last.rollover).toEqual({ balance: 30, used: 30, remaining: 0, expiries: [] });
      const pooled = await check();
      expect([pooled.usageLimit, pooled.currentUsage, pooled.hasAccess]).toEqual([130, 130, true]);
      expect((await check(1)).hasAccess).toBe(false);
    });

    it('a hold alive when its window ends counts as used in the ledger, so the next window is not granted it twice', async () => {
      env.clock.set('2024-01-31T23:00:00Z');
      await consume(20);
      const hold = await reserve(60, 7_200_000); // until Feb 1 01:00
      env.clock.set('2024-02-01T00:30:00Z');
      // January used 20 and holds 60: 20 unused, 20 carried (not the 50 of 80 unused).
      expect((await check()).usageLimit).toBe(120);
      expect((await consume(200, 'CAP')).granted).toBe(120);
      await env.engine.commitReservation({ reservationId: hold.reservationId });
      const feb = await check();
      expect([feb.usageLimit, feb.currentUsage, feb.rollover?.balance]).toEqual([120, 120, 20]);
    });

    it('a released or expired hold of a closed window gives its quota back to the rollover', async () => {
      env.clock.set('2024-01-31T23:00:00Z');
      await consume(20);
      const released = await reserve(30, 7_200_000); // until Feb 1 01:00
      await reserve(30, 5_400_000); // until Feb 1 00:30
      env.clock.set('2024-02-01T00:10:00Z');
      expect((await check()).rollover?.balance).toBe(20); // 100 - 20 - 60 held
      env.clock.set('2024-02-01T00:40:00Z');
      expect((await check()).rollover?.balance).toBe(50); // the 30 expired: 50 unused
      await env.engine.releaseReservation({ reservationId: released.reservationId });
      expect((await check()).rollover?.balance).toBe(50); // 80 unused, capped at max
      expect((await consume(200, 'CAP')).granted).toBe(150);
    });

    it('the cached balance follows plan changes, overrides and promotional grants', async () => {
      await consume(30); // 50 carried into February
      env.clock.set('2024-02-10T00:00:00Z');
      expect((await check()).usageLimit).toBe(150);
      await env.engine.provisionSubscription({ customerId: 'c1', planId: 'plain' });
      expect([(await check()).usageLimit, (await check()).rollover]).toEqual([100, undefined]);
      // January ended on basic: its 50 carry into February under another plan that rolls over.
      await env.engine.provisionSubscription({ customerId: 'c1', planId: 'big' });
      expect([(await check()).usageLimit, (await check()).rollover?.balance]).toEqual([250, 50]);
      await env.engine.setEntitlementOverride({ customerId: 'c1', featureId: 'api-calls', entitlement: { usageLimit: 1000, resetPeriod: 'MONTH' } });
      expect([(await check()).usageLimit, (await check()).rollover]).toEqual([1000, undefined]);
      await env.engine.removeEntitlementOverride({ customerId: 'c1', featureId: 'api-calls' });
      expect((await check()).usageLimit).toBe(250);
      await env.engine.grantPromotionalEntitlements({ customerId: 'c1', promotionalEntitlements: [{ featureId: 'api-calls', period: 'ONE_MONTH', usageLimit: 20, resetPeriod: 'MONTH' }] });
      const promoted = await check();
      expect([promoted.usageLimit, promoted.rollover?.balance]).toEqual([270, 50]);
      expect((await consume(300, 'CAP')).granted).toBe(270);
    });

    it("further limits' cells are not the primary window's usage in the ledger", async () => {
      await env.engine.provisionSubscription({ customerId: 'c1', planId: 'daily-capped' });
      await consume(50);
      env.clock.set('2024-01-02T00:00:00Z');
      await consume(10);
      await env.engine.reportUsage({ customerId: 'c1', featureId: 'api-calls', value: 5, timestamp: '2024-01-01T12:00:00Z' });
      env.clock.set('2024-02-01T10:00:00Z');
      // January used 65 (its DAY cells hold 55 and 10 more): 35 unused, 35 carried.
      const feb = await check();
      expect(feb.rollover?.balance).toBe(35);
      // The binding limit is the day's (60 left of 60); the month's is 100 + 35.
      expect(feb.usageLimit).toBe(60);
      expect(feb.limits!.map((l) => [l.resetPeriod, l.usageLimit])).toEqual([
        ['MONTH', 135],
        ['DAY', 60],
      ]);
      expect((await consume(100, 'CAP')).granted).toBe(60);
    });

    it('threshold alerts watch the base limit: 100% fires at the base, once, with the rollover left', async () => {
      await consume(30);
      env.clock.set('2024-02-10T00:00:00Z');
      const reached: [number, number, number][] = [];
      env.engine.on('usageThresholdReached', (e) => reached.push([e.threshold, e.usageLimit, e.currentUsage]));
      await consume(79);
      await consume(1);
      await consume(20);
      await consume(50);
      expect(reached).toEqual([
        [80, 100, 80],
        [100, 100, 100],
      ]);
      expect((await check()).currentUsage).toBe(150);
    });
  });
}

describe('two engines on one SQLite file', () => {
  let cleanup: () => void;
  afterEach(() => cleanup());

  it("another engine's late usage reaches the cached balance through the change feed", async () => {
    const tmp = tempDir();
    cleanup = tmp.cleanup;
    const filename = join(tmp.dir, 'rollover.db');
    const clock = testClock('2024-01-01T00:00:00Z');
    const a = await createEngine({ store: sqliteStore({ filename }), catalog, clock, followIntervalMs: 0 });
    const b = await createEngine({ store: sqliteStore({ filename }), clock, followIntervalMs: 0 });
    try {
      await a.provisionCustomer({ customerId: 'c1' });
      await a.consumeUsage({ customerId: 'c1', featureId: 'api-calls', amount: 70 }); // 30 carried
      clock.set('2024-02-05T00:00:00Z');
      const get = async (e: typeof a) => (await e.getMeteredEntitlement({ customerId: 'c1', featureId: 'api-calls' })) as MeteredEntitlement;
      expect((await get(a)).usageLimit).toBe(130);
      await b.syncNow();
      await b.reportUsage({ customerId: 'c1', featureId: 'api-calls', value: 20, timestamp: '2024-01-20T00:00:00Z' });
      await a.syncNow();
      expect([(await get(a)).usageLimit, (await get(a)).rollover?.balance]).toEqual([110, 10]);
      expect((await a.consumeUsage({ customerId: 'c1', featureId: 'api-calls', amount: 200, overage: 'CAP' })).granted).toBe(110);
    } finally {
      await a.close();
      await b.close();
    }
  });
});

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CatalogDefinition, MeteredEntitlement } from '@tessera/core';
import { engineOn, storeFactories } from './stores.js';
import { rejection } from '../support/rejection.js';

// Rollover of unused allowance (docs/rollovers.md), worked by hand on every store:
// 100 calls a month, at most 50 carried, each carried amount usable in the 2 following months.

type Env = Awaited<ReturnType<typeof engineOn>>;

const catalog: CatalogDefinition = {
  features: [{ id: 'api-calls', type: 'METERED' }],
  products: [{ id: 'app', defaultPlanId: 'basic', downgradePlanId: 'basic', startWith: 'FREE_PLAN' }],
  plans: [
    { id: 'basic', productId: 'app', pricingType: 'FREE', entitlements: [{ featureId: 'api-calls', usageLimit: 100, resetPeriod: 'MONTH', rollover: { max: 50, expiresAfter: 2 } }] },
    { id: 'plain', productId: 'app', pricingType: 'FREE', entitlements: [{ featureId: 'api-calls', usageLimit: 100, resetPeriod: 'MONTH' }] },
    {
      id: 'daily',
      productId: 'app',
      pricingType: 'FREE',
      entitlements: [{ featureId: 'api-calls', usageLimit: 10, resetPeriod: 'DAY', limits: [{ usageLimit: 50, resetPeriod: 'WEEK' }], rollover: { max: 5, expiresAfter: 1 } }],
    },
  ],
};

const at = (iso: string) => new Date(iso);

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

    const check = async (requestedUsage = 0, when?: string) =>
      (await env.engine.getMeteredEntitlement({ customerId: 'c1', featureId: 'api-calls', options: { requestedUsage }, ...(when ? { at: when } : {}) })) as MeteredEntitlement;
    const consume = (amount: number, overage: 'REJECT' | 'CAP' = 'REJECT') => env.engine.consumeUsage({ customerId: 'c1', featureId: 'api-calls', amount, overage });

    it('carries unused allowance capped at max, burns it first and expires it after two months', async () => {
      // January: the first window, nothing before the subscription carries in.
      expect((await check()).rollover).toEqual({ balance: 0, used: 0, remaining: 0, expiries: [] });
      await consume(30); // 70 unused: 50 carried (max), usable in Feb and Mar
      env.clock.set('2024-02-10T00:00:00Z');
      const feb = await check(150);
      expect([feb.usageLimit, feb.hasAccess]).toEqual([150, true]); // 100 + 50
      expect(feb.rollover).toEqual({ balance: 50, used: 0, remaining: 50, expiries: [{ amount: 50, expiresAt: at('2024-04-01T00:00:00Z') }] });
      expect((await check(151)).hasAccess).toBe(false);
      const e = await rejection(consume(151));
      expect(e.code).toBe('USAGE_LIMIT_EXCEEDED');
      expect(e.details).toMatchObject({ available: 150 });
      const c = await consume(120); // 50 from the rollover, 70 from the base: 30 unused
      expect([c.granted, c.usageLimit, c.remaining]).toEqual([120, 150, 30]);
      expect(c.rollover).toEqual({ balance: 50, used: 50, remaining: 0, expiries: [] });
      env.clock.set('2024-03-05T00:00:00Z');
      // March: 30 carried from February (usable in Mar and Apr).
      const mar = await check();
      expect([mar.usageLimit, mar.currentUsage]).toEqual([130, 0]);
      expect(mar.rollover?.expiries).toEqual([{ amount: 30, expiresAt: at('2024-05-01T00:00:00Z') }]);
      // March uses nothing: 100 unused, 20 fit under max beside the 30.
      env.clock.set('2024-04-02T00:00:00Z');
      const apr = await check();
      expect(apr.usageLimit).toBe(150);
      expect(apr.rollover?.expiries).toEqual([
        { amount: 30, expiresAt: at('2024-05-01T00:00:00Z') },
        { amount: 20, expiresAt: at('2024-06-01T00:00:00Z') },
      ]);
      // April uses 10, burnt from the soonest-expiring 30; the other 20 of it expire on May 1.
      await consume(10);
      expect((await check()).rollover).toEqual({
        balance: 50,
        used: 10,
        remaining: 40,
        expiries: [
          { amount: 20, expiresAt: at('2024-05-01T00:00:00Z') },
          { amount: 20, expiresAt: at('2024-06-01T00:00:00Z') },
        ],
      });
      env.clock.set('2024-05-03T00:00:00Z');
      // May: the 20 of March's and 30 of April's 90 unused (50 - 20 = 30 fit).
      expect((await check()).rollover?.expiries).toEqual([
        { amount: 20, expiresAt: at('2024-06-01T00:00:00Z') },
        { amount: 30, expiresAt: at('2024-07-01T00:00:00Z') },
      ]);
    });

    it('CAP grants base plus rollover, and a reservation holds against both', async () => {
      await consume(60); // 40 unused: 40 carried
      env.clock.set('2024-02-01T00:00:00Z');
      const hold = await env.engine.reserveUsage({ customerId: 'c1', featureId: 'api-calls', amount: 100, expiresIn: 60_000 });
      expect(hold.granted).toBe(100);
      expect(hold.rollover).toMatchObject({ balance: 40, used: 40, remaining: 0 });
      const capped = await consume(100, 'CAP');
      expect(capped.granted).toBe(40); // 140 - 100 held
      expect((await check(1)).hasAccess).toBe(false);
    });

    it('a replayed consumption returns its first result, rollover and expiry instants included', async () => {
      await consume(60);
      env.clock.set('2024-02-01T00:00:00Z');
      const first = await env.engine.consumeUsage({ customerId: 'c1', featureId: 'api-calls', amount: 10, idempotencyKey: 'k1' });
      expect(first.rollover).toEqual({ balance: 40, used: 10, remaining: 30, expiries: [{ amount: 30, expiresAt: at('2024-04-01T00:00:00Z') }] });
      expect(await env.engine.consumeUsage({ customerId: 'c1', featureId: 'api-calls', amount: 10, idempotencyKey: 'k1' })).toEqual(first);
      expect((await check()).currentUsage).toBe(10);
    });

    it('beside further limits, the rollover grows the primary limit only', async () => {
      await env.engine.provisionSubscription({ customerId: 'c1', planId: 'daily' });
      await consume(4); // Jan 1: 6 unused of 10, 5 carried (max)
      env.clock.set('2024-01-02T08:00:00Z');
      const c = await check(15);
      expect([c.hasAccess, c.rollover?.balance]).toEqual([true, 5]);
      expect(c.limits!.map((l) => [l.resetPeriod, l.usageLimit, l.remaining])).toEqual([
        ['DAY', 15, 15],
        ['WEEK', 50, 46],
      ]);
      expect((await consume(40, 'CAP')).granted).toBe(15);
      const denied = await check(1);
      expect(denied.deniedBy).toEqual({ resetPeriod: 'DAY', usageLimit: 15 });
    });

    it('a late report into a closed window changes the carried balance after it', async () => {
      await consume(70); // 30 unused: 30 carried into February
      env.clock.set('2024-02-05T00:00:00Z');
      expect((await check()).usageLimit).toBe(130);
      await env.engine.reportUsage({ customerId: 'c1', featureId: 'api-calls', value: 20, timestamp: '2024-01-20T00:00:00Z' });
      // January now used 90: 10 carried.
      const feb = await check();
      expect(feb.usageLimit).toBe(110);
      expect(feb.rollover?.balance).toBe(10);
    });

    it('a check as of a past instant sees the rollover of then', async () => {
      await consume(30);
      env.clock.set('2024-02-10T00:00:00Z');
      await consume(120);
      env.clock.set('2024-03-10T00:00:00Z');
      const then = await check(0, '2024-02-05T00:00:00Z');
      // February's window as stored now (120 used), with January's 50 carried in.
      expect([then.usageLimit, then.currentUsage]).toEqual([150, 120]);
      expect(then.rollover).toEqual({ balance: 50, used: 50, remaining: 0, expiries: [] });
      expect((await check()).rollover?.balance).toBe(30);
    });

    it('a plan without rollover ends the chain: nothing carries out of its windows', async () => {
      await consume(10); // January on basic: 50 carried
      env.clock.set('2024-01-20T00:00:00Z');
      await env.engine.provisionSubscription({ customerId: 'c1', planId: 'plain' });
      expect((await check()).rollover).toBeUndefined();
      env.clock.set('2024-02-10T00:00:00Z');
      const feb = await check();
      expect([feb.usageLimit, feb.rollover]).toEqual([100, undefined]);
    });
  });
}

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { validateCatalog, type CatalogDefinition, type EntitlementDefinition, type MeteredEntitlement } from '@tessera/core';
import { engineOn, storeFactories } from './stores.js';
import { limitsCatalog } from './limits-catalog.js';
import { rejection } from '../support/rejection.js';

// Several limits on one feature (docs/limits.md): "100 requests an hour and 2,000 a month".

type Env = Awaited<ReturnType<typeof engineOn>>;

const HOUR = 3_600_000;
// Subscribed at the start of a month, so the month window is [Mar 1, Apr 1) and hours are clock hours.
const START = '2024-03-01T00:00:00Z';
const MONTH_START = new Date('2024-03-01T00:00:00Z');
const MONTH_END = new Date('2024-04-01T00:00:00Z');

for (const factory of storeFactories()) {
  describe(factory.name, () => {
    let env: Env;
    beforeEach(async () => {
      env = await engineOn(factory, { catalog: limitsCatalog(), start: START });
      await env.engine.provisionCustomer({ customerId: 'c1' });
    });
    afterEach(async () => {
      await env.cleanup();
    });

    const check = async (featureId = 'api-calls', requestedUsage?: number): Promise<MeteredEntitlement> =>
      (await env.engine.getMeteredEntitlement({ customerId: 'c1', featureId, ...(requestedUsage === undefined ? {} : { options: { requestedUsage } }) })) as MeteredEntitlement;
    const consume = (amount: number, overage: 'REJECT' | 'CAP' = 'REJECT') => env.engine.consumeUsage({ customerId: 'c1', featureId: 'api-calls', amount, overage });
    const usages = (e: MeteredEntitlement) => e.limits!.map((l) => [l.resetPeriod, l.currentUsage, l.remaining]);

    it('a check as of a past instant reads every limit\'s cell of then (docs/as-of.md)', async () => {
      await consume(100); // 00:00-01:00: the hour is full
      env.clock.set('2024-03-01T05:00:00Z');
      await consume(40);
      const then = (await env.engine.getMeteredEntitlement({ customerId: 'c1', featureId: 'api-calls', at: '2024-03-01T00:30:00Z', options: { requestedUsage: 1 } })) as MeteredEntitlement;
      // At 00:30 the hour had 100 of 100: denied by the hour; the month cell as stored (140).
      expect(then).toMatchObject({ hasAccess: false, deniedBy: { resetPeriod: 'HOUR', usageLimit: 100 } });
      expect(usages(then)).toEqual([
        ['HOUR', 100, 0],
        ['MONTH', 140, 1860],
      ]);
      const all = await env.engine.getEntitlements({ customerId: 'c1', at: '2024-03-01T00:30:00Z' });
      expect((all.find((e) => e.featureId === 'api-calls') as MeteredEntitlement).limits!.map((l) => l.currentUsage)).toEqual([100, 140]);
    });

    it('denies at 100 in the hour while the month has room, naming the hour limit', async () => {
      await consume(100);
      const e = await rejection(consume(1));
      expect(e.code).toBe('USAGE_LIMIT_EXCEEDED');
      expect(e.details).toMatchObject({ reason: 'RequestedUsageExceedingLimit', available: 0, resetPeriod: 'HOUR' });
      const c = await check('api-calls', 1);
      expect(c.hasAccess).toBe(false);
      expect(c.accessDeniedReason).toBe('RequestedUsageExceedingLimit');
      expect(c.deniedBy).toEqual({ resetPeriod: 'HOUR', usageLimit: 100 });
      // Binding: the hour (0 left) rather than the month (2,000 - 100 = 1,900 left).
      expect([c.usageLimit, c.currentUsage, c.resetPeriod]).toEqual([100, 100, 'HOUR']);
      expect(c.usagePeriodStart).toEqual(new Date('2024-03-01T00:00:00Z'));
      expect(c.usagePeriodEnd).toEqual(new Date('2024-03-01T01:00:00Z'));
      expect(usages(c)).toEqual([
        ['HOUR', 100, 0],
        ['MONTH', 100, 1900],
      ]);
      expect(c.limits![1]).toMatchObject({ usageLimit: 2000, usagePeriodStart: MONTH_START, usagePeriodEnd: MONTH_END });
      // At the limit with nothing requested still has access (decideMetered).
      expect((await check()).hasAccess).toBe(true);
    });

    it('allows again in the next hour, the month counting on', async () => {
      await consume(100);
      env.clock.advance(HOUR);
      const c = await check('api-calls', 100);
      expect(c.hasAccess).toBe(true);
      expect(usages(c)).toEqual([
        ['HOUR', 0, 100],
        ['MONTH', 100, 1900],
      ]);
      expect((await consume(100)).granted).toBe(100);
    });

    it('denies at 2,000 in the month while the hour has room, naming the month limit', async () => {
      // 20 hours x 100 = 2,000.
      for (let h = 0; h < 20; h++) {
        expect((await consume(100)).granted).toBe(100);
        env.clock.advance(HOUR);
      }
      const e = await rejection(consume(1));
      expect(e.details).toMatchObject({ available: 0, resetPeriod: 'MONTH' });
      const c = await check('api-calls', 1);
      expect(c.hasAccess).toBe(false);
      expect(c.deniedBy).toEqual({ resetPeriod: 'MONTH', usageLimit: 2000 });
      expect([c.usageLimit, c.currentUsage, c.resetPeriod, c.usagePeriodStart, c.usagePeriodEnd]).toEqual([2000, 2000, 'MONTH', MONTH_START, MONTH_END]);
      expect(usages(c)).toEqual([
        ['HOUR', 0, 100],
        ['MONTH', 2000, 0],
      ]);
      // The next month starts afresh.
      env.clock.set(new Date('2024-04-01T05:00:00Z'));
      expect((await consume(100)).granted).toBe(100);
    });

    it('CAP grants the least left over every limit', async () => {
      await consume(70);
      // Hour: 100 - 70 = 30 left; month: 2,000 - 70 = 1,930 left.
      const a = await consume(50, 'CAP');
      expect(a.granted).toBe(30);
      expect(a.limits!.map((l) => [l.resetPeriod, l.currentUsage, l.remaining])).toEqual([
        ['HOUR', 100, 0],
        ['MONTH', 100, 1900],
      ]);
      // Reported usage is recorded whatever the limits: 1,850 more this hour makes the month 1,950.
      env.clock.advance(HOUR);
      await env.engine.reportUsage({ customerId: 'c1', featureId: 'api-calls', value: 1850 });
      env.clock.advance(HOUR);
      // Hour: 100 left; month: 2,000 - 1,950 = 50 left.
      const b = await consume(80, 'CAP');
      expect(b.granted).toBe(50);
      const c = await check();
      expect([c.usageLimit, c.currentUsage, c.resetPeriod]).toEqual([2000, 2000, 'MONTH']);
    });

    it('reportUsage and reportUsageBulk move every limit cell, also a SET', async () => {
      await env.engine.reportUsage({ customerId: 'c1', featureId: 'api-calls', value: 30 });
      await env.engine.reportUsageBulk({ usages: [{ customerId: 'c1', featureId: 'api-calls', value: 5 }, { customerId: 'c1', featureId: 'api-calls', value: 5 }] });
      expect(usages(await check())).toEqual([
        ['HOUR', 40, 60],
        ['MONTH', 40, 1960],
      ]);
      // SET 10 in the hour moves the hour by -30, and the month with it: 40 - 30 = 10.
      await env.engine.reportUsage({ customerId: 'c1', featureId: 'api-calls', value: 10, updateBehavior: 'SET' });
      env.clock.advance(HOUR);
      await env.engine.reportUsage({ customerId: 'c1', featureId: 'api-calls', value: 7 });
      expect(usages(await check())).toEqual([
        ['HOUR', 7, 93],
        ['MONTH', 17, 1983],
      ]);
    });

    it('a reservation holds in both cells, and its commit records in the windows it was made in', async () => {
      const r = await env.engine.reserveUsage({ customerId: 'c1', featureId: 'api-calls', amount: 60, expiresIn: 3 * HOUR });
      expect(usages(await check())).toEqual([
        ['HOUR', 60, 40],
        ['MONTH', 60, 1940],
      ]);
      // The next hour: the hold stays in the month it was made in, not in the new hour.
      env.clock.advance(HOUR);
      expect(usages(await check())).toEqual([
        ['HOUR', 0, 100],
        ['MONTH', 60, 1940],
      ]);
      await env.engine.commitReservation({ reservationId: r.reservationId, amount: 40 });
      expect(usages(await check())).toEqual([
        ['HOUR', 0, 100],
        ['MONTH', 40, 1960],
      ]);
      // A released hold gives both back.
      const r2 = await env.engine.reserveUsage({ customerId: 'c1', featureId: 'api-calls', amount: 100, expiresIn: HOUR });
      expect((await rejection(consume(1))).details).toMatchObject({ resetPeriod: 'HOUR' });
      await env.engine.releaseReservation({ reservationId: r2.reservationId });
      expect(usages(await check())).toEqual([
        ['HOUR', 0, 100],
        ['MONTH', 40, 1960],
      ]);
    });

    it('a reservation is limited by every limit', async () => {
      await consume(95);
      const r = await env.engine.reserveUsage({ customerId: 'c1', featureId: 'api-calls', amount: 10, overage: 'CAP', expiresIn: HOUR });
      expect(r.granted).toBe(5);
    });

    it('reportEvent meters fill every limit cell', async () => {
      let n = 0;
      const send = (count: number) =>
        env.engine.reportEvent(Array.from({ length: count }, () => ({ customerId: 'c1', eventName: 'request', idempotencyKey: `e${++n}` })));
      await send(3);
      expect(usages(await check('requests'))).toEqual([
        ['HOUR', 3, 2],
        ['DAY', 3, 5],
      ]);
      env.clock.advance(HOUR);
      await send(4);
      const c = await check('requests', 2);
      // Hour 4 of 5 (1 left), day 7 of 8 (1 left): tie, the primary binds; 2 more fit neither.
      expect(usages(c)).toEqual([
        ['HOUR', 4, 1],
        ['DAY', 7, 1],
      ]);
      expect(c.hasAccess).toBe(false);
      expect(c.deniedBy?.resetPeriod).toBe('HOUR');
      env.clock.advance(HOUR);
      await send(2);
      const d = await check('requests', 1);
      expect(d.deniedBy).toEqual({ resetPeriod: 'DAY', usageLimit: 8 });
      expect([d.usageLimit, d.currentUsage]).toEqual([8, 9]);
    });

    it('replays an idempotent consumption with the same limits, windows as Dates', async () => {
      const first = await env.engine.consumeUsage({ customerId: 'c1', featureId: 'api-calls', amount: 5, idempotencyKey: 'k1' });
      const again = await env.engine.consumeUsage({ customerId: 'c1', featureId: 'api-calls', amount: 5, idempotencyKey: 'k1' });
      expect(again).toEqual(first);
      expect(again.limits![1]!.usagePeriodEnd).toEqual(MONTH_END);
      expect((await check()).currentUsage).toBe(5);
    });

    it('bounds an entity by the customer\'s further limits, its per-entity limit on the primary window', async () => {
      await env.cleanup();
      const c = limitsCatalog([{ featureId: 'seats', usageLimit: 5 }, { featureId: 'msgs', usageLimit: 10, resetPeriod: 'HOUR', perEntity: { featureId: 'seats', usageLimit: 8 }, limits: [{ usageLimit: 15, resetPeriod: 'DAY' }] }]);
      c.features.push({ id: 'seats', displayName: 'Seats', type: 'METERED' }, { id: 'msgs', displayName: 'Messages', type: 'METERED' });
      env = await engineOn(factory, { catalog: c, start: START });
      await env.engine.provisionCustomer({ customerId: 'c1' });
      await env.engine.createEntity({ customerId: 'c1', entityId: 'ann', featureId: 'seats' });
      const take = (amount: number) => env.engine.consumeUsage({ customerId: 'c1', featureId: 'msgs', entityId: 'ann', amount, overage: 'CAP' });
      // Ann: 8 of her own an hour.
      expect((await take(9)).granted).toBe(8);
      env.clock.advance(HOUR);
      // Day: 15 - 8 = 7 left, under Ann's 8 and the customer's 10 this hour.
      expect((await take(9)).granted).toBe(7);
      const e = (await env.engine.getMeteredEntitlement({ customerId: 'c1', featureId: 'msgs', entityId: 'ann', options: { requestedUsage: 1 } })) as MeteredEntitlement;
      expect(e.hasAccess).toBe(false);
      expect(e.limits!.map((l) => [l.resetPeriod, l.currentUsage])).toEqual([
        ['HOUR', 7],
        ['DAY', 15],
      ]);
      expect(e.deniedBy?.resetPeriod).toBe('DAY');
    });

    it('keeps the warm check right after writes, and a one-limit check shows no limits', async () => {
      await check();
      await consume(30);
      const warm = await check();
      expect(usages(warm)).toEqual([
        ['HOUR', 30, 70],
        ['MONTH', 30, 1970],
      ]);
      // Served from the view (no store read): the same answer again.
      expect(usages(await check())).toEqual(usages(warm));
      env.clock.advance(HOUR);
      expect(usages(await check())).toEqual([
        ['HOUR', 0, 100],
        ['MONTH', 30, 1970],
      ]);
      const plain = await check('plain');
      expect(plain.limits).toBeUndefined();
      expect(plain.deniedBy).toBeUndefined();
    });
  });
}

/** A paid plan billing calls in arrears at 0.01 each, with 1,000 a day within 20,000 a month. */
const billedCatalog: CatalogDefinition = {
  features: [{ id: 'calls', type: 'METERED' }],
  products: [{ id: 'api' }],
  plans: [
    {
      id: 'metered',
      productId: 'api',
      pricingType: 'PAID',
      prices: [{ billingPeriod: 'MONTHLY', billingModel: 'USAGE_BASED', featureId: 'calls', currency: 'USD', amount: '0.01' }],
      entitlements: [{ featureId: 'calls', usageLimit: 1000, resetPeriod: 'DAY', limits: [{ usageLimit: 20000, resetPeriod: 'MONTH' }] }],
    },
  ],
};

for (const factory of storeFactories()) {
  describe(`${factory.name}: usage is billed once whatever limits bound it (docs/limits.md#cells)`, () => {
    it('an invoice in arrears, the history and the usage events count the primary window only', async () => {
      const env = await engineOn(factory, { catalog: billedCatalog, start: '2024-03-01T00:00:00Z' });
      try {
        const { engine, clock } = env;
        await engine.provisionCustomer({ customerId: 'c1', subscriptionParams: null });
        await engine.provisionSubscription({ customerId: 'c1', planId: 'metered', billingPeriod: 'MONTHLY' });
        const seen: { entityId?: string }[] = [];
        engine.on('usageUpdated', (u) => seen.push(u));
        clock.set('2024-03-02T10:00:00Z');
        await engine.reportUsage({ customerId: 'c1', featureId: 'calls', value: 500 });
        clock.set('2024-03-03T10:00:00Z');
        await engine.consumeUsage({ customerId: 'c1', featureId: 'calls', amount: 300 });
        // The month limit saw both: 800 of 20,000.
        const c = await engine.getMeteredEntitlement({ customerId: 'c1', featureId: 'calls' });
        expect(c.limits!.map((l) => [l.resetPeriod, l.currentUsage])).toEqual([['DAY', 300], ['MONTH', 800]]);
        // Every event reads as the customer's own (no entity), the day's and the month's.
        expect(seen.every((u) => u.entityId === undefined)).toBe(true);
        const history = await engine.getUsageHistory({ customerId: 'c1', featureId: 'calls', start: '2024-03-01T00:00:00Z', end: '2024-04-01T00:00:00Z' });
        expect(history.periods.map((p) => p.value)).toEqual([500, 300]);
        clock.set('2024-04-01T00:00:01Z');
        await engine.tick();
        const usage = (await engine.getInvoices({ customerId: 'c1' })).filter((i) => i.lines.some((l) => l.kind === 'USAGE'));
        // 500 + 300 = 800 calls x 0.01 = 8.00, not 16.00 (the month limit's cell counted again).
        expect(usage.map((i) => i.total)).toEqual(['8.00']);
      } finally {
        await env.cleanup();
      }
    });
  });
}

for (const factory of storeFactories()) {
  describe(`${factory.name}: a seat feature with further limits`, () => {
    it('deleting an entity frees its seat in every limit\'s cell, so seats can be taken again', async () => {
      const catalog = limitsCatalog([{ featureId: 'seats', usageLimit: 2, resetPeriod: 'DAY', limits: [{ usageLimit: 3, resetPeriod: 'MONTH' }] }]);
      catalog.features.push({ id: 'seats', type: 'METERED' });
      const env = await engineOn(factory, { catalog, start: START });
      try {
        await env.engine.provisionCustomer({ customerId: 'c1' });
        // Four seats taken and given back one after the other: with the month's cell never freed,
        // the fourth would be refused (3 of 3 in the month).
        for (const id of ['a', 'b', 'c', 'd']) {
          await env.engine.createEntity({ customerId: 'c1', entityId: id, featureId: 'seats' });
          await env.engine.deleteEntity({ customerId: 'c1', entityId: id });
        }
        const seats = await env.engine.getMeteredEntitlement({ customerId: 'c1', featureId: 'seats' });
        expect(seats.limits!.map((l) => [l.resetPeriod, l.currentUsage])).toEqual([['DAY', 0], ['MONTH', 0]]);
      } finally {
        await env.cleanup();
      }
    });
  });
}

describe('catalog', () => {
  const problems = (e: Record<string, unknown>) =>
    validateCatalog(limitsCatalog([{ featureId: 'plain', usageLimit: 10, resetPeriod: 'MONTH', ...e } as EntitlementDefinition]))
      .map((p) => `${p.path}: ${p.message}`)
      .join('\n');

  it('accepts further limits', () => {
    expect(validateCatalog(limitsCatalog())).toEqual([]);
  });

  it('refuses a limit on the primary period, twice the same period, no primary period, unlimited and bad values', () => {
    const base = limitsCatalog();
    base.plans[0]!.entitlements!.splice(1, 1);
    const only = (e: Record<string, unknown>) => {
      const c = structuredClone(base);
      c.plans[0]!.entitlements!.push({ featureId: 'plain', ...e } as EntitlementDefinition);
      return validateCatalog(c).map((p) => `${p.path}: ${p.message}`).join('\n');
    };
    expect(only({ usageLimit: 1, resetPeriod: 'MONTH', limits: [{ usageLimit: 5, resetPeriod: 'MONTH' }] })).toMatch(/limits\[0\]\.resetPeriod: MONTH is already limited/);
    expect(only({ usageLimit: 1, resetPeriod: 'HOUR', limits: [{ usageLimit: 5, resetPeriod: 'DAY' }, { usageLimit: 6, resetPeriod: 'DAY' }] })).toMatch(/limits\[1\]\.resetPeriod: DAY is already limited/);
    expect(only({ usageLimit: 1, limits: [{ usageLimit: 5, resetPeriod: 'DAY' }] })).toMatch(/limits: need a resetPeriod/);
    expect(only({ isUnlimited: true, resetPeriod: 'HOUR', limits: [{ usageLimit: 5, resetPeriod: 'DAY' }] })).toMatch(/limits: an unlimited entitlement/);
    expect(only({ usageLimit: 1, resetPeriod: 'HOUR', limits: [{ usageLimit: -1, resetPeriod: 'DAY' }] })).toMatch(/limits\[0\]\.usageLimit: must be an integer >= 0/);
    expect(only({ usageLimit: 1, resetPeriod: 'HOUR', limits: [{ usageLimit: 1, resetPeriod: 'FORTNIGHT' }] })).toMatch(/limits\[0\]\.resetPeriod/);
    expect(only({ usageLimit: 1, resetPeriod: 'HOUR', limits: [] })).toMatch(/limits: must be an array of 1 to 5/);
    expect(only({ usageLimit: 1, resetPeriod: 'HOUR', limits: [{ usageLimit: 1, resetPeriod: 'DAY', every: 2 }] })).toMatch(/limits\[0\]\.every: unknown field/);
    expect(problems({})).toMatch(/already entitled/);
  });
});

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createEngine, testClock, type CatalogDefinition, type MeteredEntitlement, type TestClock } from '@tessera/core';
import { storeFactories } from './stores.js';
import { rejection } from '../support/rejection.js';

/**
 * Checks as of a past instant and late usage (docs/as-of.md, docs/metering.md#late-usage), worked
 * by hand. January 2024, daily windows: c1 starts on plan `a` (100 calls a day) on Jan 1 and
 * upgrades to `b` (1,000 a day, and sso) on Jan 10; `b` is cancelled on Jan 20 (back to `a`).
 */
const catalog: CatalogDefinition = {
  features: [
    { id: 'api-calls', type: 'METERED', units: 'call', unitsPlural: 'calls' },
    { id: 'sso', type: 'BOOLEAN' },
    { id: 'exports', type: 'BOOLEAN' },
    { id: 'tokens', type: 'METERED', meter: { eventName: 'llm_call', aggregation: { type: 'SUM', field: 'tokens' } } },
  ],
  products: [{ id: 'app', defaultPlanId: 'a', downgradePlanId: 'a', cancellationTime: 'IMMEDIATE', startWith: 'FREE_PLAN' }],
  plans: [
    {
      id: 'a',
      productId: 'app',
      pricingType: 'FREE',
      entitlements: [
        { featureId: 'api-calls', usageLimit: 100, resetPeriod: 'DAY' },
        { featureId: 'tokens', usageLimit: 10_000, resetPeriod: 'DAY' },
      ],
    },
    {
      id: 'b',
      productId: 'app',
      pricingType: 'FREE',
      entitlements: [{ featureId: 'api-calls', usageLimit: 1_000, resetPeriod: 'DAY' }, { featureId: 'sso' }, { featureId: 'tokens', usageLimit: 10_000, resetPeriod: 'DAY' }],
    },
  ],
};

const DAY = 86_400_000;
const jan = (day: number, hour = 12) => new Date(Date.UTC(2024, 0, day, hour));

for (const factory of storeFactories().filter((f) => f.name !== 'postgres')) {
  describe(factory.name, () => {
    let engine: Awaited<ReturnType<typeof createEngine>>;
    let clock: TestClock;
    let cleanup: () => void;

    beforeEach(async () => {
      const made = factory.make();
      cleanup = made.cleanup;
      clock = testClock('2024-01-01T00:00:00Z');
      let n = 0;
      // A grace of one day, so that late usage is refused within the month.
      engine = await createEngine({ store: made.store, catalog, clock, newId: (p) => `${p}_${++n}`, lateUsageGraceMs: DAY });
    });
    afterEach(async () => {
      await engine.close();
      cleanup();
    });

    const calls = (at?: Date | string | number, requestedUsage = 0) =>
      engine.getMeteredEntitlement({ customerId: 'c1', featureId: 'api-calls', options: { requestedUsage }, ...(at === undefined ? {} : { at }) }) as Promise<MeteredEntitlement>;
    const report = (value: number, timestamp?: Date) => engine.reportUsage({ customerId: 'c1', featureId: 'api-calls', value, ...(timestamp ? { timestamp } : {}) });

    /** The January story: usage on Jan 5 (30 + 5 reported late), the upgrade on Jan 10, 400 on Jan 12. */
    async function story(): Promise<string> {
      await engine.provisionCustomer({ customerId: 'c1' });
      clock.set(jan(5, 9));
      await report(30);
      clock.set(jan(6, 8));
      await report(5, jan(5, 23)); // late, within the grace: counts on Jan 5
      clock.set(jan(10, 0));
      const b = await engine.provisionSubscription({ customerId: 'c1', planId: 'b' });
      clock.set(jan(12, 9));
      await report(400);
      clock.set(jan(20, 0));
      await engine.cancelSubscription({ subscriptionId: b.subscription.id });
      clock.set(jan(25));
      return b.subscription.id;
    }

    describe('getEntitlement with at', () => {
      it("answers plan a's limit and the Jan 5 window's usage on Jan 5, plan b's on Jan 12", async () => {
        await story();
        // Jan 5: a's 100 a day; 30 + 5 (the late report) used; 35 + 80 > 100 denies.
        const day5 = await calls(jan(5, 12), 80);
        expect(day5).toMatchObject({ hasAccess: false, accessDeniedReason: 'RequestedUsageExceedingLimit', usageLimit: 100, currentUsage: 35, requestedUsage: 80 });
        expect(day5.usagePeriodStart).toEqual(jan(5, 0));
        expect(day5.usagePeriodEnd).toEqual(jan(6, 0));
        // Jan 12: b's 1,000 a day, 400 used; 400 + 80 fits.
        expect(await calls(jan(12, 10), 80)).toMatchObject({ hasAccess: true, usageLimit: 1_000, currentUsage: 400 });
        // The window's total as stored now: at 10:00 on Jan 5 the 5 reported late already count.
        expect((await calls(jan(5, 10))).currentUsage).toBe(35);
        // Now (Jan 25, back on a after the cancellation): a's limit and an empty window.
        expect(await calls()).toMatchObject({ usageLimit: 100, currentUsage: 0 });
      });

      it('sees a cancelled subscription active before its end, and not after', async () => {
        await story();
        // b (the only source of sso) was cancelled on Jan 20.
        expect(await engine.getBooleanEntitlement({ customerId: 'c1', featureId: 'sso', at: jan(15) })).toMatchObject({ hasAccess: true });
        expect(await engine.getBooleanEntitlement({ customerId: 'c1', featureId: 'sso', at: jan(20, 1) })).toMatchObject({ hasAccess: false, accessDeniedReason: 'NoFeatureEntitlementInSubscription' });
        expect(await engine.getBooleanEntitlement({ customerId: 'c1', featureId: 'sso', at: jan(5) })).toMatchObject({ hasAccess: false });
        expect(await engine.getBooleanEntitlement({ customerId: 'c1', featureId: 'sso' })).toMatchObject({ hasAccess: false });
      });

      it('sees a promotion that has ended at an instant inside it', async () => {
        await engine.provisionCustomer({ customerId: 'c1' });
        clock.set(jan(2));
        await engine.grantPromotionalEntitlements({ customerId: 'c1', promotionalEntitlements: [{ featureId: 'exports', period: 'ONE_WEEK' }] });
        clock.set(jan(20));
        expect(await engine.getBooleanEntitlement({ customerId: 'c1', featureId: 'exports' })).toMatchObject({ hasAccess: false });
        // The week ran from Jan 2 12:00 to Jan 9 12:00.
        expect(await engine.getBooleanEntitlement({ customerId: 'c1', featureId: 'exports', at: jan(5) })).toMatchObject({ hasAccess: true });
        expect(await engine.getBooleanEntitlement({ customerId: 'c1', featureId: 'exports', at: jan(9, 11) })).toMatchObject({ hasAccess: true });
        expect(await engine.getBooleanEntitlement({ customerId: 'c1', featureId: 'exports', at: jan(9, 12) })).toMatchObject({ hasAccess: false });
        expect(await engine.getBooleanEntitlement({ customerId: 'c1', featureId: 'exports', at: jan(2, 11) })).toMatchObject({ hasAccess: false });
      });

      it('sees an override while it was in force, though it was removed later', async () => {
        await engine.provisionCustomer({ customerId: 'c1' });
        clock.set(jan(3));
        const o = await engine.setEntitlementOverride({ customerId: 'c1', featureId: 'api-calls', entitlement: { usageLimit: 5_000, resetPeriod: 'DAY' } });
        clock.set(jan(4));
        await engine.removeEntitlementOverride({ customerId: 'c1', featureId: 'api-calls' });
        clock.set(jan(8));
        expect(await calls()).toMatchObject({ usageLimit: 100 });
        expect(await calls(jan(3, 18))).toMatchObject({ usageLimit: 5_000, overrideId: o.id });
        const before = await calls(jan(3, 11));
        expect(before.usageLimit).toBe(100);
        expect(before.overrideId).toBeUndefined();
        expect(await calls(jan(4, 13))).toMatchObject({ usageLimit: 100 });
      });

      it('denies CustomerNotFound before the customer was created, and answers for an archived one before its archiving', async () => {
        clock.set(jan(3));
        await engine.provisionCustomer({ customerId: 'c1' });
        clock.set(jan(6));
        await engine.archiveCustomer('c1');
        clock.set(jan(8));
        expect(await calls()).toMatchObject({ hasAccess: false, accessDeniedReason: 'CustomerIsArchived' });
        expect(await calls(jan(2))).toMatchObject({ hasAccess: false, accessDeniedReason: 'CustomerNotFound' });
        expect(await calls(jan(4))).toMatchObject({ hasAccess: true, usageLimit: 100 });
        expect(await engine.getEntitlements({ customerId: 'c1', at: jan(4) })).toHaveLength(2);
        expect(await engine.getEntitlements({ customerId: 'c1', at: jan(7) })).toEqual([]);
      });

      it('reads at as epoch ms, an ISO string or a Date; refuses a future, malformed or entity at, writing nothing', async () => {
        await story();
        const t = jan(12, 10);
        for (const at of [t, t.toISOString(), t.getTime()]) expect(await calls(at)).toMatchObject({ usageLimit: 1_000, currentUsage: 400 });
        const future = await rejection(calls(new Date(clock.nowMs() + 1)));
        expect(future.code).toBe('INVALID_ARGUMENT');
        expect(future.details.field).toBe('getMeteredEntitlement.at');
        for (const bad of ['yesterday', -1, 1.5, {}, Number.MAX_SAFE_INTEGER, 8.64e15 + 1]) {
          expect((await rejection(engine.getEntitlement({ customerId: 'c1', featureId: 'api-calls', at: bad as never }))).details.field).toBe('getEntitlement.at');
        }
        const entity = await rejection(engine.getEntitlement({ customerId: 'c1', featureId: 'api-calls', entityId: 'e1', at: t }));
        expect(entity.details.field).toBe('getEntitlement.entityId');
        expect((await rejection(engine.getEntitlements({ customerId: 'c1', at: 'soon' }))).details.field).toBe('getEntitlements.at');
        // at: null is absent: the check of now.
        expect(await engine.getMeteredEntitlement({ customerId: 'c1', featureId: 'api-calls', at: null as never })).toMatchObject({ usageLimit: 100 });
      });

      it('never writes and never reads or fills the cache', async () => {
        await story();
        const seq = await engine.lastChangeSeq();
        const history = await engine.getUsageHistory({ customerId: 'c1', featureId: 'api-calls', start: jan(1, 0), end: jan(31, 0) });
        const metrics = engine.getMetrics().view;
        await calls(jan(5));
        await engine.getEntitlements({ customerId: 'c1', at: jan(12) });
        await engine.getEntitlement({ customerId: 'nobody', featureId: 'sso', at: jan(12) });
        expect(engine.getMetrics().view).toEqual(metrics);
        expect(await engine.lastChangeSeq()).toBe(seq);
        expect(await engine.getUsageHistory({ customerId: 'c1', featureId: 'api-calls', start: jan(1, 0), end: jan(31, 0) })).toEqual(history);
        // A warm view does not answer for the past: cached now (a, 0 used), the Jan 12 answer is b's.
        await calls();
        expect(await calls(jan(12, 10))).toMatchObject({ usageLimit: 1_000, currentUsage: 400 });
      });
    });

    describe('getEntitlements with at', () => {
      it('lists what was in force then, each with its usage then', async () => {
        await story();
        const then = await engine.getEntitlements({ customerId: 'c1', at: jan(12, 10) });
        expect(then.map((e) => e.featureId)).toEqual(['api-calls', 'sso', 'tokens']);
        expect(then[0]).toMatchObject({ type: 'METERED', usageLimit: 1_000, currentUsage: 400 });
        const day5 = await engine.getEntitlements({ customerId: 'c1', at: jan(5, 12) });
        expect(day5.map((e) => e.featureId)).toEqual(['api-calls', 'tokens']);
        expect(day5[0]).toMatchObject({ usageLimit: 100, currentUsage: 35 });
        expect(await engine.getEntitlements({ customerId: 'nobody', at: jan(5) })).toEqual([]);
      });
    });

    describe('late usage', () => {
      it('counts a report within the grace in its window; refuses one past it and writes nothing', async () => {
        await engine.provisionCustomer({ customerId: 'c1' });
        clock.set(jan(20, 10));
        // Jan 19's window closed Jan 20 00:00, 10 hours ago: within the day of grace.
        const ok = await report(7, jan(19, 12));
        expect(ok).toMatchObject({ currentUsage: 7, usagePeriodStart: jan(19, 0), usagePeriodEnd: jan(20, 0) });
        expect((await calls(jan(19, 13))).currentUsage).toBe(7);
        expect((await calls()).currentUsage).toBe(0);
        const seq = await engine.lastChangeSeq();
        // Jan 18's closed Jan 19 00:00, 34 hours ago.
        const late = await rejection(report(3, jan(18, 12)));
        expect(late.code).toBe('INVALID_ARGUMENT');
        expect(late.details).toMatchObject({ field: 'reportUsage.timestamp', reason: 'LATE_USAGE', windowEnd: '2024-01-19T00:00:00.000Z', acceptedUntil: '2024-01-20T00:00:00.000Z' });
        expect(await engine.lastChangeSeq()).toBe(seq);
        expect((await calls(jan(18, 13))).currentUsage).toBe(0);
      });

      it('takes usage until window end + grace exactly, and not a millisecond later', async () => {
        await engine.provisionCustomer({ customerId: 'c1' });
        clock.set(jan(20, 0)); // Jan 18's window closed Jan 19 00:00: end + grace is now
        expect((await report(2, jan(18))).currentUsage).toBe(2);
        clock.advance({ milliseconds: 1 });
        expect((await rejection(report(2, jan(18)))).details.reason).toBe('LATE_USAGE');
      });

      it('a bulk report with one late row is refused whole, naming the row', async () => {
        await engine.provisionCustomer({ customerId: 'c1' });
        clock.set(jan(20, 10));
        const seq = await engine.lastChangeSeq();
        const e = await rejection(
          engine.reportUsageBulk({
            usages: [
              { customerId: 'c1', featureId: 'api-calls', value: 1 },
              { customerId: 'c1', featureId: 'api-calls', value: 1, timestamp: jan(10) },
            ],
          }),
        );
        expect(e.details).toMatchObject({ field: 'usages[1].timestamp', reason: 'LATE_USAGE' });
        expect(await engine.lastChangeSeq()).toBe(seq);
        expect((await calls()).currentUsage).toBe(0);
      });

      it('stores an event past the grace as TOO_LATE, uncounted; one within it counts in its window', async () => {
        await engine.provisionCustomer({ customerId: 'c1' });
        clock.set(jan(20, 10));
        const r = await engine.reportEvent([
          { customerId: 'c1', eventName: 'llm_call', idempotencyKey: 'k1', dimensions: { tokens: 50 }, timestamp: jan(19) },
          { customerId: 'c1', eventName: 'llm_call', idempotencyKey: 'k2', dimensions: { tokens: 70 }, timestamp: jan(18) },
        ]);
        expect(r).toMatchObject({ accepted: 2, unmatched: 1 });
        expect((await engine.getUnmatchedEvents()).data.map((e) => [e.idempotencyKey, e.reason])).toEqual([['k2', 'TOO_LATE']]);
        const tokens = (at: Date) => engine.getMeteredEntitlement({ customerId: 'c1', featureId: 'tokens', at });
        expect((await tokens(jan(19))).currentUsage).toBe(50);
        expect((await tokens(jan(18))).currentUsage).toBe(0);
      });

      it('refuses a grace that is not a non-negative integer of ms', async () => {
        const made = factory.make();
        try {
          const e = await rejection(createEngine({ store: made.store, catalog, clock, lateUsageGraceMs: -1 }));
          expect(e.details.field).toBe('createEngine.lateUsageGraceMs');
        } finally {
          made.cleanup();
        }
      });
    });
  });
}

describe('an offline engine', () => {
  it('refuses a check with at (OFFLINE) rather than answering the past from fallback values', async () => {
    const engine = await createEngine({ offline: true, catalog, fallback: { sso: { hasAccess: true } } });
    try {
      expect(await engine.getEntitlement({ customerId: 'c1', featureId: 'sso' })).toMatchObject({ hasAccess: true, isFallback: true });
      expect((await rejection(engine.getEntitlement({ customerId: 'c1', featureId: 'sso', at: '2020-01-01T00:00:00Z' }))).code).toBe('OFFLINE');
    } finally {
      await engine.close();
    }
  });
});

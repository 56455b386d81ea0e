import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TesseraError, type CatalogDefinition, type MeteredEntitlement, type TesseraErrorCode } from '@tessera/core';
import { demoCatalog, engineOn, storeFactories } from './stores.js';
import { rejection } from '../support/rejection.js';

// Atomic consumption and reservations (docs/conventions.md#consumption-and-reservations).

type Env = Awaited<ReturnType<typeof engineOn>>;

/** The demo catalog plus features fed by reported usage, with a hard, a soft and no limit. */
function quotaCatalog(): CatalogDefinition {
  const c = structuredClone(demoCatalog);
  c.features.push(
    { id: 'gpu-minutes', displayName: 'GPU minutes', type: 'METERED' },
    { id: 'soft-minutes', displayName: 'Soft-limited minutes', type: 'METERED' },
    { id: 'free-minutes', displayName: 'Unlimited minutes', type: 'METERED' },
    { id: 'storage-gb', displayName: 'Storage', type: 'METERED' },
    { id: 'pro-only', displayName: 'Pro only', type: 'METERED' },
    { id: 'metered-tokens', displayName: 'Tokens', type: 'METERED', meter: { eventName: 'api_request', aggregation: { type: 'SUM', field: 'tokens' } } },
  );
  c.plans
    .find((p) => p.id === 'free')!
    .entitlements!.push(
      { featureId: 'gpu-minutes', usageLimit: 10, resetPeriod: 'MONTH' },
      { featureId: 'soft-minutes', usageLimit: 10, hasSoftLimit: true, resetPeriod: 'MONTH' },
      { featureId: 'free-minutes', isUnlimited: true, resetPeriod: 'MONTH' },
      { featureId: 'storage-gb', usageLimit: 10 },
      { featureId: 'metered-tokens', usageLimit: 100, resetPeriod: 'MONTH' },
    );
  c.plans.find((p) => p.id === 'pro')!.entitlements!.push({ featureId: 'pro-only', usageLimit: 10 });
  return c;
}

async function expectCode(call: Promise<unknown>, code: TesseraErrorCode, field?: RegExp): Promise<TesseraError> {
  const e = await rejection(call);
  expect(e.code).toBe(code);
  if (field) expect(e.details.field).toMatch(field);
  return e;
}

const at = (iso: string): Date => new Date(iso);
const T0 = at('2024-01-31T10:00:00Z');
const FEB29 = at('2024-02-29T10:00:00Z');
const MAR31 = at('2024-03-31T10:00:00Z');
const MINUTE = 60_000;

for (const factory of storeFactories()) {
  describe(factory.name, () => {
    let env: Env;
    beforeEach(async () => {
      env = await engineOn(factory, { catalog: quotaCatalog() });
      await env.engine.provisionCustomer({ customerId: 'c1' });
    });
    afterEach(async () => {
      await env.cleanup();
    });

    const check = async (featureId = 'gpu-minutes', requestedUsage?: number): Promise<MeteredEntitlement> =>
      (await env.engine.getMeteredEntitlement({
        customerId: 'c1',
        featureId,
        ...(requestedUsage === undefined ? {} : { options: { requestedUsage } }),
      })) as MeteredEntitlement;
    const usageOf = async (featureId = 'gpu-minutes'): Promise<number> => (await check(featureId)).currentUsage;
    const changeCount = async (): Promise<number> => (await env.engine.getChanges({ after: 0, limit: 10000 })).length;
    const consume = (amount: number, extra: { overage?: 'REJECT' | 'CAP'; idempotencyKey?: string; featureId?: string } = {}) =>
      env.engine.consumeUsage({ customerId: 'c1', featureId: 'gpu-minutes', amount, ...extra });
    const reserve = (amount: number, expiresIn = 10 * MINUTE, extra: { overage?: 'REJECT' | 'CAP'; idempotencyKey?: string; featureId?: string } = {}) =>
      env.engine.reserveUsage({ customerId: 'c1', featureId: 'gpu-minutes', amount, expiresIn, ...extra });

    describe('consumeUsage', () => {
      it('grants and records an amount that fits, returning where the feature stands', async () => {
        expect(await consume(4)).toEqual({
          customerId: 'c1',
          featureId: 'gpu-minutes',
          resourceId: null,
          requested: 4,
          granted: 4,
          currentUsage: 4,
          usageLimit: 10,
          remaining: 6,
          usagePeriodStart: T0,
          usagePeriodEnd: FEB29,
        });
        expect(await usageOf()).toBe(4);
      });

      it('REJECT (the default) throws USAGE_LIMIT_EXCEEDED with what is available, and writes nothing', async () => {
        await consume(4);
        const changes = await changeCount();
        const e = await expectCode(consume(7), 'USAGE_LIMIT_EXCEEDED', /amount$/);
        expect(e.details).toMatchObject({ available: 6, requested: 7 });
        await expectCode(consume(7, { overage: 'REJECT' }), 'USAGE_LIMIT_EXCEEDED');
        expect(await usageOf()).toBe(4);
        expect(await changeCount()).toBe(changes);
      });

      it('grants exactly up to the limit: 4 + 6 = 10 fits, then 1 more is rejected with 0 available', async () => {
        await consume(4);
        expect(await consume(6)).toMatchObject({ granted: 6, currentUsage: 10, remaining: 0 });
        const e = await expectCode(consume(1), 'USAGE_LIMIT_EXCEEDED');
        expect(e.details.available).toBe(0);
        expect(await check('gpu-minutes', 1)).toMatchObject({ hasAccess: false, currentUsage: 10 });
      });

      it('CAP grants what is left: 7 asked with 6 left grants 6, then 0', async () => {
        await consume(4);
        expect(await consume(7, { overage: 'CAP' })).toMatchObject({ requested: 7, granted: 6, currentUsage: 10, remaining: 0 });
        const changes = await changeCount();
        expect(await consume(3, { overage: 'CAP' })).toMatchObject({ requested: 3, granted: 0, currentUsage: 10, remaining: 0 });
        expect(await usageOf()).toBe(10);
        expect(await changeCount()).toBe(changes);
      });

      it('CAP grants the whole amount when it fits', async () => {
        expect(await consume(3, { overage: 'CAP' })).toMatchObject({ granted: 3, remaining: 7 });
      });

      it('a soft limit grants everything, past the limit: 8 + 5 = 13 of 10', async () => {
        await consume(8, { featureId: 'soft-minutes' });
        expect(await consume(5, { featureId: 'soft-minutes' })).toMatchObject({ granted: 5, currentUsage: 13, usageLimit: 10, remaining: null });
        expect(await check('soft-minutes')).toMatchObject({ currentUsage: 13, hasAccess: true, hasSoftLimit: true });
      });

      it('unlimited grants everything', async () => {
        expect(await consume(1_000_000, { featureId: 'free-minutes' })).toMatchObject({ granted: 1_000_000, currentUsage: 1_000_000, usageLimit: null, remaining: null });
        expect(await consume(1, { featureId: 'free-minutes', overage: 'CAP' })).toMatchObject({ granted: 1, currentUsage: 1_000_001 });
      });

      it('a cumulative feature (no reset) reports no window', async () => {
        expect(await consume(3, { featureId: 'storage-gb' })).toMatchObject({ granted: 3, usagePeriodStart: null, usagePeriodEnd: null });
      });

      it('counts in the current window: a new month starts from 0', async () => {
        await consume(10);
        env.clock.set(FEB29);
        expect(await consume(10)).toMatchObject({ granted: 10, usagePeriodStart: FEB29, usagePeriodEnd: MAR31 });
        const history = await env.engine.getUsageHistory({ customerId: 'c1', featureId: 'gpu-minutes', start: T0, end: MAR31 });
        expect(history.periods.map((p) => p.value)).toEqual([10, 10]);
      });

      it('usage recorded by reportUsage counts against the limit', async () => {
        await env.engine.reportUsage({ customerId: 'c1', featureId: 'gpu-minutes', value: 8 });
        expect(await consume(5, { overage: 'CAP' })).toMatchObject({ granted: 2, currentUsage: 10 });
      });

      it('a repeated idempotency key returns the first result and records nothing more', async () => {
        const first = await consume(3, { idempotencyKey: 'job-1' });
        env.clock.advance({ minutes: 1 });
        expect(await consume(3, { idempotencyKey: 'job-1' })).toEqual(first);
        expect(await consume(5, { idempotencyKey: 'job-1', overage: 'CAP' })).toEqual(first);
        expect(await usageOf()).toBe(3);
      });

      it('an idempotency key is the customer\'s own: another customer with the same key consumes its quota', async () => {
        // As for reportUsage (docs/conventions.md#usage-reports), keys are per customer: a replay
        // must never hand one customer another customer's result and skip its consumption.
        await env.engine.provisionCustomer({ customerId: 'c2' });
        await consume(3, { idempotencyKey: 'job-1' });
        const other = await env.engine.consumeUsage({ customerId: 'c2', featureId: 'gpu-minutes', amount: 4, idempotencyKey: 'job-1' });
        expect(other).toMatchObject({ customerId: 'c2', requested: 4, granted: 4, currentUsage: 4 });
        expect(((await env.engine.getMeteredEntitlement({ customerId: 'c2', featureId: 'gpu-minutes' })) as MeteredEntitlement).currentUsage).toBe(4);
        expect(await usageOf()).toBe(3);
      });

      it('a key whose call was rejected is still free', async () => {
        await consume(9);
        await expectCode(consume(2, { idempotencyKey: 'job-2' }), 'USAGE_LIMIT_EXCEEDED');
        expect(await consume(1, { idempotencyKey: 'job-2' })).toMatchObject({ granted: 1, currentUsage: 10 });
      });

      it('concurrent calls never exceed a hard limit: 30 x 1 against 10 grants exactly 10', async () => {
        const results = await Promise.allSettled(Array.from({ length: 30 }, () => consume(1)));
        expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(10);
        for (const r of results) if (r.status === 'rejected') expect((r.reason as TesseraError).code).toBe('USAGE_LIMIT_EXCEEDED');
        expect(await usageOf()).toBe(10);
      });

      it('concurrent CAP calls grant exactly what is left: 7 x 3 against 10 grants 3, 3, 3, 1, 0, 0, 0', async () => {
        const results = await Promise.all(Array.from({ length: 7 }, () => consume(3, { overage: 'CAP' })));
        expect(results.map((r) => r.granted).sort((a, b) => b - a)).toEqual([3, 3, 3, 1, 0, 0, 0]);
        expect(await usageOf()).toBe(10);
      });

      it('without an entitlement to the feature it is USAGE_LIMIT_EXCEEDED with nothing available', async () => {
        const e = await expectCode(consume(1, { featureId: 'pro-only' }), 'USAGE_LIMIT_EXCEEDED');
        expect(e.details).toMatchObject({ available: 0, reason: 'NoFeatureEntitlementInSubscription' });
      });

      it('rejects unknown customers and features, meter-fed features, and bad amounts or modes', async () => {
        await expectCode(env.engine.consumeUsage({ customerId: 'ghost', featureId: 'gpu-minutes', amount: 1 }), 'CUSTOMER_NOT_FOUND', /customerId$/);
        await expectCode(consume(1, { featureId: 'nope' }), 'FEATURE_NOT_FOUND', /featureId$/);
        await expectCode(consume(1, { featureId: 'metered-tokens' }), 'INVALID_ARGUMENT', /featureId$/);
        await expectCode(consume(1, { featureId: 'projects' }), 'INVALID_ARGUMENT', /featureId$/);
        await expectCode(consume(-1), 'INVALID_ARGUMENT', /amount$/);
        await expectCode(consume(Number.NaN), 'INVALID_ARGUMENT', /amount$/);
        await expectCode(consume(1, { overage: 'ALLOW' as never }), 'INVALID_ARGUMENT', /overage$/);
        await expectCode(env.engine.consumeUsage({ customerId: 'c1', featureId: 'gpu-minutes', amount: 1, extra: true } as never), 'INVALID_ARGUMENT', /extra$/);
        expect(await usageOf()).toBe(0);
      });

      it('usageUpdated listeners receive the new usage', async () => {
        const seen: number[] = [];
        env.engine.on('usageUpdated', (e) => seen.push(e.currentUsage));
        await consume(4);
        await consume(3, { overage: 'CAP' });
        await consume(9, { overage: 'CAP' }); // grants 3
        await consume(1, { overage: 'CAP' }); // grants 0: nothing changed, nothing sent
        expect(seen).toEqual([4, 7, 10]);
      });
    });

    describe('reservations', () => {
      it('reserve holds quota: checks count it and consumers cannot take it', async () => {
        const r = await reserve(6, 10 * MINUTE);
        expect(r).toEqual({
          customerId: 'c1',
          featureId: 'gpu-minutes',
          resourceId: null,
          requested: 6,
          granted: 6,
          currentUsage: 6,
          usageLimit: 10,
          remaining: 4,
          usagePeriodStart: T0,
          usagePeriodEnd: FEB29,
          reservationId: r.reservationId,
          status: 'HELD',
          expiresAt: new Date(T0.getTime() + 10 * MINUTE),
          committedAmount: null,
        });
        // Recorded 0 + held 6.
        expect(await check()).toMatchObject({ currentUsage: 6, hasAccess: true });
        expect(await check('gpu-minutes', 5)).toMatchObject({ hasAccess: false, accessDeniedReason: 'RequestedUsageExceedingLimit' });
        const e = await expectCode(consume(5), 'USAGE_LIMIT_EXCEEDED');
        expect(e.details.available).toBe(4);
        expect(await consume(4)).toMatchObject({ granted: 4, currentUsage: 10, remaining: 0 });
        await expectCode(reserve(1), 'USAGE_LIMIT_EXCEEDED');
      });

      it('reserve with REJECT refuses what does not fit, with CAP holds what is left', async () => {
        await consume(7);
        const e = await expectCode(reserve(5), 'USAGE_LIMIT_EXCEEDED');
        expect(e.details.available).toBe(3);
        expect(await reserve(5, MINUTE, { overage: 'CAP' })).toMatchObject({ requested: 5, granted: 3, currentUsage: 10, remaining: 0, status: 'HELD' });
      });

      it('commit with a smaller amount records it and returns the rest: hold 6, commit 2, 8 left', async () => {
        const r = await reserve(6);
        const c = await env.engine.commitReservation({ reservationId: r.reservationId, amount: 2 });
        expect(c).toMatchObject({ reservationId: r.reservationId, status: 'COMMITTED', committedAmount: 2, currentUsage: 2 });
        expect(await usageOf()).toBe(2);
        await expectCode(consume(9), 'USAGE_LIMIT_EXCEEDED');
        expect(await consume(8)).toMatchObject({ currentUsage: 10 });
      });

      it('commit without an amount records all that was held', async () => {
        const r = await reserve(6);
        expect(await env.engine.commitReservation({ reservationId: r.reservationId })).toMatchObject({ status: 'COMMITTED', committedAmount: 6, currentUsage: 6 });
        expect(await usageOf()).toBe(6);
        const history = await env.engine.getUsageHistory({ customerId: 'c1', featureId: 'gpu-minutes', start: T0, end: FEB29 });
        expect(history.periods).toEqual([{ start: T0, end: FEB29, value: 6 }]);
      });

      it('commit of more than was held is INVALID_ARGUMENT and keeps the hold', async () => {
        const r = await reserve(6);
        await expectCode(env.engine.commitReservation({ reservationId: r.reservationId, amount: 7 }), 'INVALID_ARGUMENT', /amount$/);
        expect(await usageOf()).toBe(6);
        expect(await env.engine.commitReservation({ reservationId: r.reservationId, amount: 6 })).toMatchObject({ status: 'COMMITTED' });
      });

      it('committing twice records once', async () => {
        const r = await reserve(6);
        await env.engine.commitReservation({ reservationId: r.reservationId, amount: 4 });
        expect(await env.engine.commitReservation({ reservationId: r.reservationId, amount: 4 })).toMatchObject({ status: 'COMMITTED', committedAmount: 4 });
        expect(await usageOf()).toBe(4);
      });

      it('release returns all of it', async () => {
        const r = await reserve(6);
        expect(await env.engine.releaseReservation({ reservationId: r.reservationId })).toMatchObject({ status: 'RELEASED', currentUsage: 0, committedAmount: null });
        expect(await usageOf()).toBe(0);
        expect(await consume(10)).toMatchObject({ granted: 10 });
      });

      it('release twice is idempotent', async () => {
        const r = await reserve(6);
        await env.engine.releaseReservation({ reservationId: r.reservationId });
        const changes = await changeCount();
        expect(await env.engine.releaseReservation({ reservationId: r.reservationId })).toMatchObject({ status: 'RELEASED' });
        expect(await changeCount()).toBe(changes);
        expect(await usageOf()).toBe(0);
      });

      it('expiry returns the quota with no job: held until expiresIn has passed', async () => {
        const r = await reserve(6, 60_000);
        env.clock.advance(59_999);
        expect(await usageOf()).toBe(6);
        await expectCode(consume(5), 'USAGE_LIMIT_EXCEEDED');
        env.clock.advance(1);
        // expiresAt = reserved + 60 s: from then on the hold no longer counts.
        expect(await usageOf()).toBe(0);
        expect(await consume(10)).toMatchObject({ granted: 10 });
        expect(await env.engine.releaseReservation({ reservationId: r.reservationId })).toMatchObject({ status: 'EXPIRED' });
      });

      it('a check answered before the expiry does not keep the hold alive in the cache', async () => {
        await reserve(6, 60_000);
        expect(await usageOf()).toBe(6);
        expect(await usageOf()).toBe(6);
        env.clock.advance({ minutes: 5 });
        expect(await usageOf()).toBe(0);
      });

      it('commit after expiry is CONFLICT and records nothing', async () => {
        const r = await reserve(6, 60_000);
        env.clock.advance({ minutes: 2 });
        await expectCode(env.engine.commitReservation({ reservationId: r.reservationId }), 'CONFLICT');
        expect(await usageOf()).toBe(0);
      });

      it('commit after release is CONFLICT', async () => {
        const r = await reserve(6);
        await env.engine.releaseReservation({ reservationId: r.reservationId });
        await expectCode(env.engine.commitReservation({ reservationId: r.reservationId }), 'CONFLICT');
        expect(await usageOf()).toBe(0);
      });

      it('release after commit is CONFLICT and keeps the usage', async () => {
        const r = await reserve(6);
        await env.engine.commitReservation({ reservationId: r.reservationId, amount: 5 });
        await expectCode(env.engine.releaseReservation({ reservationId: r.reservationId }), 'CONFLICT');
        expect(await usageOf()).toBe(5);
      });

      it('an unknown id is RESERVATION_NOT_FOUND', async () => {
        await expectCode(env.engine.commitReservation({ reservationId: 'res_nope' }), 'RESERVATION_NOT_FOUND', /reservationId$/);
        await expectCode(env.engine.releaseReservation({ reservationId: 'res_nope' }), 'RESERVATION_NOT_FOUND', /reservationId$/);
      });

      it('a commit counts in the window the quota was reserved in', async () => {
        env.clock.set('2024-02-29T09:00:00Z');
        const r = await reserve(6, 2 * 60 * MINUTE);
        env.clock.set('2024-02-29T10:30:00Z');
        // The new window starts empty; the hold belongs to the previous one.
        expect(await usageOf()).toBe(0);
        await env.engine.commitReservation({ reservationId: r.reservationId, amount: 3 });
        expect(await usageOf()).toBe(0);
        const history = await env.engine.getUsageHistory({ customerId: 'c1', featureId: 'gpu-minutes', start: T0, end: MAR31 });
        expect(history.periods).toEqual([{ start: T0, end: FEB29, value: 3 }]);
      });

      it('several holds add up, and each returns on its own', async () => {
        const a = await reserve(3);
        const b = await reserve(4, 2 * MINUTE);
        await consume(2);
        expect(await usageOf()).toBe(9); // 3 + 4 held + 2 recorded
        await env.engine.releaseReservation({ reservationId: a.reservationId });
        expect(await usageOf()).toBe(6);
        env.clock.advance({ minutes: 2 });
        expect(await usageOf()).toBe(2);
        await expectCode(env.engine.commitReservation({ reservationId: b.reservationId }), 'CONFLICT');
      });

      it('a repeated idempotency key returns the first reservation and holds nothing more', async () => {
        const first = await reserve(4, MINUTE, { idempotencyKey: 'hold-1' });
        expect(await reserve(4, MINUTE, { idempotencyKey: 'hold-1' })).toEqual(first);
        expect(await usageOf()).toBe(4);
      });

      it('a reservation idempotency key is the customer\'s own', async () => {
        await env.engine.provisionCustomer({ customerId: 'c2' });
        const mine = await reserve(4, MINUTE, { idempotencyKey: 'hold-1' });
        const other = await env.engine.reserveUsage({ customerId: 'c2', featureId: 'gpu-minutes', amount: 5, expiresIn: MINUTE, idempotencyKey: 'hold-1' });
        expect(other).toMatchObject({ customerId: 'c2', granted: 5, status: 'HELD' });
        expect(other.reservationId).not.toBe(mine.reservationId);
        expect(((await env.engine.getMeteredEntitlement({ customerId: 'c2', featureId: 'gpu-minutes' })) as MeteredEntitlement).currentUsage).toBe(5);
      });

      it('rejects an expiresIn beyond 7 days, or missing, and unknown fields', async () => {
        await expectCode(reserve(1, 7 * 24 * 60 * MINUTE + 1), 'INVALID_ARGUMENT', /expiresIn$/);
        await expectCode(env.engine.reserveUsage({ customerId: 'c1', featureId: 'gpu-minutes', amount: 1 } as never), 'INVALID_ARGUMENT', /expiresIn$/);
        await expectCode(env.engine.commitReservation({ reservationId: 'x', amount: 1, extra: 1 } as never), 'INVALID_ARGUMENT', /extra$/);
        expect(await reserve(1, 7 * 24 * 60 * MINUTE)).toMatchObject({ status: 'HELD' });
      });

      it('concurrent reservations never exceed a hard limit: 20 x 1 against 10 holds exactly 10', async () => {
        const results = await Promise.allSettled(Array.from({ length: 20 }, () => reserve(1)));
        expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(10);
        expect(await usageOf()).toBe(10);
      });
    });
  });
}

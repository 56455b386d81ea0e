import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  TesseraError,
  type EntitlementsUpdatedEvent,
  type MeteredEntitlement,
  type TesseraErrorCode,
  type UsageUpdatedEvent,
} from '@tessera/core';
import { engineOn, storeFactories } from './stores.js';
import { rejection } from '../support/rejection.js';

type Env = Awaited<ReturnType<typeof engineOn>>;

async function expectCode(call: Promise<unknown>, code: TesseraErrorCode, field?: RegExp): Promise<TesseraError> {
  const e = await rejection(call);
  expect(e.code).toBe(code);
  if (field) expect(e.details.field).toMatch(field);
  return e;
}

const at = (iso: string): Date => new Date(iso);
const T0 = at('2024-01-31T10:00:00Z');

for (const factory of storeFactories()) {
  describe(factory.name, () => {
    let env: Env;
    beforeEach(async () => {
      env = await engineOn(factory);
      await env.engine.provisionCustomer({ customerId: 'c1' });
    });
    afterEach(async () => {
      await env.cleanup();
    });

    const usageOf = async (featureId = 'api-calls', customerId = 'c1'): Promise<number> =>
      ((await env.engine.getMeteredEntitlement({ customerId, featureId })) as MeteredEntitlement).currentUsage;
    const changeCount = async (): Promise<number> => (await env.engine.getChanges({ after: 0, limit: 10000 })).length;

    describe('reportUsage', () => {
      it('SET replaces and DELTA adds: SET 10, DELTA 5 -> 15, SET 3 -> 3', async () => {
        expect((await env.engine.reportUsage({ customerId: 'c1', featureId: 'api-calls', value: 10, updateBehavior: 'SET' })).currentUsage).toBe(10);
        expect((await env.engine.reportUsage({ customerId: 'c1', featureId: 'api-calls', value: 5, updateBehavior: 'DELTA' })).currentUsage).toBe(15);
        expect(await usageOf()).toBe(15);
        expect((await env.engine.reportUsage({ customerId: 'c1', featureId: 'api-calls', value: 3, updateBehavior: 'SET' })).currentUsage).toBe(3);
        expect(await usageOf()).toBe(3);
      });

      it('DELTA is the default behaviour', async () => {
        await env.engine.reportUsage({ customerId: 'c1', featureId: 'api-calls', value: 4 });
        await env.engine.reportUsage({ customerId: 'c1', featureId: 'api-calls', value: 4 });
        expect(await usageOf()).toBe(8);
      });

      it('returns the usage and its window', async () => {
        const r = await env.engine.reportUsage({ customerId: 'c1', featureId: 'api-calls', value: 2 });
        expect(r).toEqual({
          customerId: 'c1',
          featureId: 'api-calls',
          resourceId: null,
          currentUsage: 2,
          usagePeriodStart: T0,
          usagePeriodEnd: at('2024-02-29T10:00:00Z'),
          timestamp: T0,
        });
        const seats = await env.engine.reportUsage({ customerId: 'c1', featureId: 'seats', value: 1 });
        expect(seats).toMatchObject({ currentUsage: 1, usagePeriodStart: null, usagePeriodEnd: null });
      });

      it('a negative DELTA may take usage down to 0', async () => {
        await env.engine.reportUsage({ customerId: 'c1', featureId: 'seats', value: 3 });
        expect((await env.engine.reportUsage({ customerId: 'c1', featureId: 'seats', value: -3 })).currentUsage).toBe(0);
        expect(await usageOf('seats')).toBe(0);
      });

      it('a DELTA taking usage below 0 is rejected and writes nothing', async () => {
        await env.engine.reportUsage({ customerId: 'c1', featureId: 'seats', value: 3 });
        const changes = await changeCount();
        await expectCode(env.engine.reportUsage({ customerId: 'c1', featureId: 'seats', value: -4 }), 'INVALID_ARGUMENT', /value$/);
        expect(await usageOf('seats')).toBe(3);
        expect(await changeCount()).toBe(changes);
      });

      it('a negative SET is rejected', async () => {
        await expectCode(
          env.engine.reportUsage({ customerId: 'c1', featureId: 'api-calls', value: -1, updateBehavior: 'SET' }),
          'INVALID_ARGUMENT',
          /value$/,
        );
      });

      it('rejects a NUMERIC feature with INVALID_ARGUMENT', async () => {
        await expectCode(env.engine.reportUsage({ customerId: 'c1', featureId: 'projects', value: 1 }), 'INVALID_ARGUMENT', /featureId$/);
      });

      it('throws FEATURE_NOT_FOUND for an unknown feature', async () => {
        await expectCode(env.engine.reportUsage({ customerId: 'c1', featureId: 'teleports', value: 1 }), 'FEATURE_NOT_FOUND', /featureId$/);
      });

      it('throws CUSTOMER_NOT_FOUND for an unknown customer', async () => {
        await expectCode(env.engine.reportUsage({ customerId: 'ghost', featureId: 'api-calls', value: 1 }), 'CUSTOMER_NOT_FOUND', /customerId$/);
      });

      it('rejects a missing value and an unknown field', async () => {
        await expectCode(env.engine.reportUsage({ customerId: 'c1', featureId: 'api-calls' } as never), 'INVALID_ARGUMENT', /value$/);
        await expectCode(
          env.engine.reportUsage({ customerId: 'c1', featureId: 'api-calls', value: 1, behaviour: 'SET' } as never),
          'INVALID_ARGUMENT',
          /behaviour$/,
        );
      });
    });

    it('concurrent reports are all counted', async () => {
      await Promise.all(Array.from({ length: 25 }, () => env.engine.reportUsage({ customerId: 'c1', featureId: 'api-calls', value: 2 })));
      expect(await usageOf()).toBe(50);
    });

    it('concurrent reports with one idempotency key count once', async () => {
      const results = await Promise.all(
        Array.from({ length: 10 }, () => env.engine.reportUsage({ customerId: 'c1', featureId: 'api-calls', value: 3, idempotencyKey: 'same' })),
      );
      expect(results.map((r) => r.currentUsage)).toEqual(Array(10).fill(3));
      expect(await usageOf()).toBe(3);
    });

    describe('idempotency', () => {
      it('a repeated key returns the first result and counts once, even with another value', async () => {
        const first = await env.engine.reportUsage({ customerId: 'c1', featureId: 'api-calls', value: 5, idempotencyKey: 'k1' });
        env.clock.advance({ minutes: 1 });
        const again = await env.engine.reportUsage({ customerId: 'c1', featureId: 'api-calls', value: 5, idempotencyKey: 'k1' });
        const other = await env.engine.reportUsage({ customerId: 'c1', featureId: 'api-calls', value: 9, idempotencyKey: 'k1' });
        expect(again).toEqual(first);
        expect(other).toEqual(first);
        expect(await usageOf()).toBe(5);
      });

      it('a key used by a rejected report is still free', async () => {
        await env.engine.reportUsage({ customerId: 'c1', featureId: 'seats', value: 3 });
        await expectCode(env.engine.reportUsage({ customerId: 'c1', featureId: 'seats', value: -4, idempotencyKey: 'k' }), 'INVALID_ARGUMENT');
        expect((await env.engine.reportUsage({ customerId: 'c1', featureId: 'seats', value: 2, idempotencyKey: 'k' })).currentUsage).toBe(5);
      });
    });

    describe('reportUsageBulk', () => {
      it('records every item and returns the results in order', async () => {
        const results = await env.engine.reportUsageBulk({
          usages: [
            { customerId: 'c1', featureId: 'api-calls', value: 2 },
            { customerId: 'c1', featureId: 'seats', value: 1 },
            { customerId: 'c1', featureId: 'api-calls', value: 3 },
          ],
        });
        expect(results.map((r) => [r.featureId, r.currentUsage])).toEqual([
          ['api-calls', 2],
          ['seats', 1],
          ['api-calls', 5],
        ]);
        expect(await usageOf()).toBe(5);
        expect(await usageOf('seats')).toBe(1);
      });

      it('is atomic: one unknown feature fails the batch with FEATURE_NOT_FOUND and nothing is counted', async () => {
        await env.engine.provisionCustomer({ customerId: 'c2' });
        const changes = await changeCount();
        await expectCode(
          env.engine.reportUsageBulk({
            usages: [
              { customerId: 'c1', featureId: 'api-calls', value: 2 },
              { customerId: 'c2', featureId: 'seats', value: 1 },
              { customerId: 'c1', featureId: 'teleports', value: 1 },
              { customerId: 'c1', featureId: 'api-calls', value: 3 },
            ],
          }),
          'FEATURE_NOT_FOUND',
          /usages\[2\]\.featureId$/,
        );
        expect(await usageOf()).toBe(0);
        expect(await usageOf('seats', 'c2')).toBe(0);
        expect(await changeCount()).toBe(changes);
      });

      it('counts an idempotency key repeated within one batch once', async () => {
        const results = await env.engine.reportUsageBulk({
          usages: [
            { customerId: 'c1', featureId: 'api-calls', value: 5, idempotencyKey: 'dup' },
            { customerId: 'c1', featureId: 'api-calls', value: 5, idempotencyKey: 'dup' },
          ],
        });
        expect(results.map((r) => r.currentUsage)).toEqual([5, 5]);
        expect(await usageOf()).toBe(5);
      });

      it('accepts an empty batch', async () => {
        expect(await env.engine.reportUsageBulk({ usages: [] })).toEqual([]);
      });
    });

    describe('windows', () => {
      it('a report with a timestamp in the previous monthly window counts there, not in the current one', async () => {
        env.clock.set('2024-03-05T00:00:00Z');
        const late = await env.engine.reportUsage({ customerId: 'c1', featureId: 'api-calls', value: 7, timestamp: '2024-02-15T00:00:00Z' });
        expect(late).toMatchObject({
          currentUsage: 7,
          usagePeriodStart: T0,
          usagePeriodEnd: at('2024-02-29T10:00:00Z'),
          timestamp: at('2024-02-15T00:00:00Z'),
        });
        expect(await usageOf()).toBe(0);
        const later = await env.engine.reportUsage({ customerId: 'c1', featureId: 'api-calls', value: 3, timestamp: new Date('2024-02-28T00:00:00Z') });
        expect(later.currentUsage).toBe(10); // 7 + 3 in the window [Jan 31, Feb 29)
        const now = await env.engine.reportUsage({ customerId: 'c1', featureId: 'api-calls', value: 1 });
        expect(now).toMatchObject({ currentUsage: 1, usagePeriodStart: at('2024-02-29T10:00:00Z'), usagePeriodEnd: at('2024-03-31T10:00:00Z') });
        env.clock.set('2024-02-20T00:00:00Z');
        expect(await usageOf()).toBe(10);
      });

      it('usage carries over on an upgrade mid-window: free with 80 calls moves to basic with 80 of 1000', async () => {
        env.clock.advance({ days: 10 });
        await env.engine.reportUsage({ customerId: 'c1', featureId: 'api-calls', value: 80 });
        await env.engine.provisionSubscription({ customerId: 'c1', planId: 'basic', billingPeriod: 'MONTHLY' });
        const e = (await env.engine.getMeteredEntitlement({ customerId: 'c1', featureId: 'api-calls' })) as MeteredEntitlement;
        // The window keeps the anchor of the free subscription it replaced (Jan 31 10:00).
        expect(e).toMatchObject({
          currentUsage: 80,
          usageLimit: 1000,
          hasAccess: true,
          usagePeriodStart: T0,
          usagePeriodEnd: at('2024-02-29T10:00:00Z'),
        });
      });
    });

    describe('events and the change feed', () => {
      it('usageUpdated listeners receive the new usage', async () => {
        const seen: UsageUpdatedEvent[] = [];
        const handler = (e: UsageUpdatedEvent) => seen.push(e);
        env.engine.on('usageUpdated', handler);
        await env.engine.reportUsage({ customerId: 'c1', featureId: 'api-calls', value: 4 });
        await env.engine.reportUsage({ customerId: 'c1', featureId: 'api-calls', value: 6 });
        expect(seen).toEqual([
          {
            customerId: 'c1',
            resourceId: null,
            featureId: 'api-calls',
            currentUsage: 4,
            usagePeriodStart: T0,
            usagePeriodEnd: at('2024-02-29T10:00:00Z'),
            at: T0,
          },
          expect.objectContaining({ currentUsage: 10 }),
        ]);
        env.engine.off('usageUpdated', handler);
        await env.engine.reportUsage({ customerId: 'c1', featureId: 'api-calls', value: 1 });
        expect(seen).toHaveLength(2);
      });

      it('a listener sees the new usage when it checks', async () => {
        const usages: number[] = [];
        env.engine.addListener('usageUpdated', () => {
          void usageOf().then((u) => usages.push(u));
        });
        await env.engine.reportUsage({ customerId: 'c1', featureId: 'api-calls', value: 4 });
        // The check reads the store (the write dropped the cached view): on PostgreSQL that is a round trip.
        await vi.waitFor(() => expect(usages).toEqual([4]));
      });

      it('no event is sent for a rejected report', async () => {
        const seen: UsageUpdatedEvent[] = [];
        env.engine.on('usageUpdated', (e) => seen.push(e));
        await rejection(
          env.engine.reportUsageBulk({
            usages: [
              { customerId: 'c1', featureId: 'api-calls', value: 1 },
              { customerId: 'c1', featureId: 'nope', value: 1 },
            ],
          }),
        );
        expect(seen).toEqual([]);
      });

      it('entitlementsUpdated fires on provisionSubscription', async () => {
        const seen: EntitlementsUpdatedEvent[] = [];
        env.engine.addListener('entitlementsUpdated', (e) => seen.push(e));
        await env.engine.provisionSubscription({ customerId: 'c1', planId: 'basic', billingPeriod: 'MONTHLY' });
        expect(seen).toContainEqual({ customerId: 'c1', resourceId: null, reason: 'subscription.updated', at: T0 });
      });

      it('getChanges returns increasing seqs with their kinds', async () => {
        await env.engine.reportUsage({ customerId: 'c1', featureId: 'api-calls', value: 1 });
        const changes = await env.engine.getChanges({ after: 0 });
        // createEngine published the catalog; provisionCustomer wrote the customer and its free plan.
        expect(changes.map((c) => c.kind)).toEqual(['catalog.published', 'customer.updated', 'subscription.updated', 'usage.updated']);
        expect(changes.map((c) => c.seq)).toEqual([1, 2, 3, 4]);
        expect(changes[3]).toMatchObject({ customerId: 'c1', entityId: 'api-calls', at: T0.getTime() });
        expect((await env.engine.getChanges({ after: 2 })).map((c) => c.seq)).toEqual([3, 4]);
        expect((await env.engine.getChanges({ after: 1, limit: 2 })).map((c) => c.seq)).toEqual([2, 3]);
      });
    });
  });
}

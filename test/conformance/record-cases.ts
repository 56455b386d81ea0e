/**
 * Conformance cases for the records a store keeps: round trips of every record type (every field,
 * JSON fields, nulls), upserts, and the orderings and filters of the list methods.
 */
import { NO_WINDOW_END, type StoreTx } from '@tessera/core';
import { describe, expect } from 'vitest';
import type { Harness } from './cases.js';
import {
  DAY,
  T0,
  bareCustomer,
  bareSubscription,
  bareUsage,
  catalogVersion,
  customer,
  event,
  expectCode,
  idempotency,
  reservation,
  subscription,
  usage,
  usageKey,
} from './fixtures.js';

/** Registers the record cases inside the adapter's conformance suite. */
export function recordCases({ read, write, test }: Harness): void {
  describe('records', () => {
    test('round-trips catalog versions in version order and refuses a duplicate version', async () => {
      await write(async (tx) => {
        await tx.insertCatalogVersion(catalogVersion(2));
        await tx.insertCatalogVersion(catalogVersion(1));
      });
      expect(await read((tx) => tx.listCatalogVersions())).toEqual([catalogVersion(1), catalogVersion(2)]);
      await expectCode('CONFLICT', () => write((tx) => tx.insertCatalogVersion({ ...catalogVersion(2), publishedAt: 1 })));
      expect((await read((tx) => tx.listCatalogVersions()))[1]).toEqual(catalogVersion(2));
    });

    test('round-trips customers with every field, JSON and nulls, and upsert replaces the whole record', async () => {
      expect(await read((tx) => tx.getCustomer('c1'))).toBeUndefined();
      await write(async (tx) => {
        await tx.putCustomer(customer('c1'));
        await tx.putCustomer(bareCustomer('c2'));
      });
      expect(await read((tx) => tx.getCustomer('c1'))).toEqual(customer('c1'));
      expect(await read((tx) => tx.getCustomer('c2'))).toEqual(bareCustomer('c2'));

      const archived = customer('c1', { name: null, email: null, billingInfo: null, metadata: { only: 'this' }, archivedAt: T0 + DAY, updatedAt: T0 + DAY });
      await write((tx) => tx.putCustomer(archived));
      expect(await read((tx) => tx.getCustomer('c1'))).toEqual(archived);
      expect(await read((tx) => tx.countCustomers())).toBe(2);
    });

    test('round-trips subscriptions with every field, JSON and nulls, and upsert replaces', async () => {
      await write(async (tx) => {
        await tx.putSubscription(subscription('s1', 'c1'));
        await tx.putSubscription(bareSubscription('s2', 'c1'));
      });
      expect(await read((tx) => tx.getSubscription('s1'))).toEqual(subscription('s1', 'c1'));
      expect(await read((tx) => tx.getSubscription('s2'))).toEqual(bareSubscription('s2', 'c1'));
      expect(await read((tx) => tx.getSubscription('nope'))).toBeUndefined();

      const canceled = subscription('s1', 'c1', { status: 'CANCELED', planId: 'free', addons: [], scheduledUpdates: [], endDate: T0 + DAY });
      await write((tx) => tx.putSubscription(canceled));
      expect(await read((tx) => tx.getSubscription('s1'))).toEqual(canceled);
    });

    test('lists a customer’s subscriptions of any status, oldest first, then by id', async () => {
      await write(async (tx) => {
        await tx.putSubscription(subscription('s-b', 'c1', { createdAt: T0 + 2 }));
        await tx.putSubscription(subscription('s-c', 'c1', { createdAt: T0 + 1, status: 'EXPIRED' }));
        await tx.putSubscription(subscription('s-a', 'c1', { createdAt: T0 + 1, status: 'CANCELED' }));
        await tx.putSubscription(subscription('s-x', 'c2', { createdAt: T0 }));
      });
      const ids = (await read((tx) => tx.listSubscriptionsByCustomer('c1'))).map((s) => s.id);
      expect(ids).toEqual(['s-a', 's-c', 's-b']);
      expect(await read((tx) => tx.listSubscriptionsByCustomer('c3'))).toEqual([]);
    });

    test('round-trips usage cells by their full key, and putUsage replaces', async () => {
      await write(async (tx) => {
        await tx.putUsage(usage());
        await tx.putUsage(bareUsage({ featureId: 'seats' }));
      });
      expect(await read((tx) => tx.getUsage(usageKey()))).toEqual(usage());
      expect(await read((tx) => tx.getUsage({ ...usageKey(), featureId: 'seats', windowStart: 0, windowEnd: NO_WINDOW_END }))).toEqual(
        bareUsage({ featureId: 'seats' }),
      );
      // Each key part matters.
      for (const other of [{ customerId: 'c2' }, { resourceId: 'r1' }, { entityId: 'e1' }, { featureId: 'other' }, { windowStart: T0 + 1 }, { windowEnd: T0 + 1 }]) {
        expect(await read((tx) => tx.getUsage(usageKey(other)))).toBeUndefined();
      }
      await write((tx) => tx.putUsage(usage({ value: 43.5, count: 8, min: null, updatedAt: T0 + 9 })));
      expect(await read((tx) => tx.getUsage(usageKey()))).toEqual(usage({ value: 43.5, count: 8, min: null, updatedAt: T0 + 9 }));
      expect(await read((tx) => tx.listUsage({ customerId: 'c1' }))).toHaveLength(2);
    });

    test('lists usage by customer with feature, resource and window-overlap filters, by windowStart then featureId', async () => {
      const A = usage({ featureId: 'f1', windowStart: 0, windowEnd: 100 });
      const B = usage({ featureId: 'f2', windowStart: 0, windowEnd: 100 });
      const C = bareUsage({ featureId: 'f3' }); // [0, NO_WINDOW_END)
      const D = usage({ featureId: 'f1', windowStart: 100, windowEnd: 200 });
      const E = usage({ featureId: 'f1', resourceId: 'r1', windowStart: 200, windowEnd: 300 });
      const other = usage({ customerId: 'c2', featureId: 'f1', windowStart: 0, windowEnd: 100 });
      await write(async (tx) => {
        for (const u of [E, other, C, D, B, A]) await tx.putUsage(u);
      });
      const list = (q: Parameters<StoreTx['listUsage']>[0]) => read((tx) => tx.listUsage(q));
      expect(await list({ customerId: 'c1' })).toEqual([A, B, C, D, E]);
      expect(await list({ customerId: 'c1', featureId: 'f1' })).toEqual([A, D, E]);
      expect(await list({ customerId: 'c1', resourceId: 'r1' })).toEqual([E]);
      expect(await list({ customerId: 'c1', resourceId: '' })).toEqual([A, B, C, D]);
      // Overlap with [from, to): a window ending exactly at `from` or starting exactly at `to` is out.
      expect(await list({ customerId: 'c1', from: 100 })).toEqual([C, D, E]);
      expect(await list({ customerId: 'c1', to: 100 })).toEqual([A, B, C]);
      expect(await list({ customerId: 'c1', from: 100, to: 200 })).toEqual([C, D]);
      expect(await list({ customerId: 'c1', featureId: 'f1', from: 150, to: 250 })).toEqual([D, E]);
      expect(await list({ customerId: 'c1', featureId: 'f1', resourceId: '', from: 150, to: 250 })).toEqual([D]);
      expect(await list({ customerId: 'c9' })).toEqual([]);
    });

    test('addDistinctValue is true the first time a value is seen in a cell’s window, false after', async () => {
      const k = usageKey();
      const seen = await write(async (tx) => [
        await tx.addDistinctValue(k, 'u1'),
        await tx.addDistinctValue(k, 'u1'),
        await tx.addDistinctValue(k, 'u2'),
        await tx.addDistinctValue({ ...k, windowStart: k.windowEnd, windowEnd: k.windowEnd + DAY }, 'u1'),
        await tx.addDistinctValue({ ...k, featureId: 'other' }, 'u1'),
        await tx.addDistinctValue({ ...k, resourceId: 'r1' }, 'u1'),
        await tx.addDistinctValue({ ...k, customerId: 'c2' }, 'u1'),
      ]);
      expect(seen).toEqual([true, false, true, true, true, true, true]);
      expect(await write((tx) => tx.addDistinctValue(k, 'u2'))).toBe(false);
      expect(await write((tx) => tx.addDistinctValue(k, 'U2'))).toBe(true);
    });

    test('insertEvents stores each idempotency key once, within a batch and across calls, first copy wins', async () => {
      const first = event('e1');
      const again = event('e1', { dimensions: { endpoint: '/changed' }, receivedAt: T0 + 99 });
      expect(await write((tx) => tx.insertEvents([first, event('e2'), again]))).toEqual([true, true, false]);
      expect(await write((tx) => tx.insertEvents([event('e2', { eventName: 'changed' }), event('e3')]))).toEqual([false, true]);
      expect(await write((tx) => tx.insertEvents([]))).toEqual([]);
      expect(await read((tx) => tx.getEvent('e1'))).toEqual(first);
      expect(await read((tx) => tx.getEvent('e2'))).toEqual(event('e2'));
      expect(await read((tx) => tx.getEvent('missing'))).toBeUndefined();
    });

    test('insertEvents takes a batch of 1,000 with duplicates inside it', async () => {
      // Keys k0..k989 once each, plus 10 repeats of keys already in the batch.
      const batch = Array.from({ length: 990 }, (_, i) => event(`k${i}`, { timestamp: T0 + i }));
      for (let i = 0; i < 10; i++) batch.splice(100 * (i + 1), 0, event(`k${i * 7}`, { timestamp: 0 }));
      const stored = await write((tx) => tx.insertEvents(batch));
      expect(stored).toHaveLength(1000);
      expect(stored.filter((b) => !b)).toHaveLength(10);
      expect(stored.findIndex((b) => !b)).toBe(100);
      expect(await read((tx) => tx.getEvent('k7'))).toEqual(event('k7', { timestamp: T0 + 7 }));
    });

    test('lists a customer’s events of one name and resource with timestamp in [from, to), by timestamp then key', async () => {
      const at = (idempotencyKey: string, timestamp: number, over: Parameters<typeof event>[1] = {}) =>
        event(idempotencyKey, { timestamp, ...over });
      const inRange = [at('e-c', 50), at('e-a', 100), at('e-b', 100), at('e-i', 150, { unmatchedReason: 'no meter' })];
      await write((tx) =>
        tx.insertEvents([
          inRange[2]!,
          at('e-d', 200),
          inRange[0]!,
          at('e-e', 49),
          inRange[3]!,
          at('e-f', 100, { resourceId: 'r1' }),
          at('e-g', 100, { eventName: 'other' }),
          at('e-h', 100, { customerId: 'c2' }),
          inRange[1]!,
        ]),
      );
      const q = { customerId: 'c1', resourceId: '', eventName: 'api.call', from: 50, to: 200 };
      expect(await read((tx) => tx.listEvents(q))).toEqual(inRange);
      expect((await read((tx) => tx.listEvents({ ...q, resourceId: 'r1' }))).map((e) => e.idempotencyKey)).toEqual(['e-f']);
      expect(await read((tx) => tx.listEvents({ ...q, from: 200, to: 200 }))).toEqual([]);
    });

    test('lists unmatched events oldest first (receivedAt, then key) and pages after a cursor', async () => {
      await write((tx) =>
        tx.insertEvents([
          event('k-m', { receivedAt: 10, unmatchedReason: null }),
          event('k-c', { receivedAt: 20, unmatchedReason: 'no meter' }),
          event('k-b', { receivedAt: 10, unmatchedReason: 'unknown customer' }),
          event('k-a', { receivedAt: 20, unmatchedReason: 'no meter' }),
          event('k-z', { receivedAt: 5, unmatchedReason: 'archived' }),
        ]),
      );
      const keys = async (limit: number, after?: { receivedAt: number; idempotencyKey: string }) =>
        (await read((tx) => tx.listUnmatchedEvents(limit, after))).map((e) => e.idempotencyKey);
      expect(await keys(10)).toEqual(['k-z', 'k-b', 'k-a', 'k-c']);
      expect(await keys(2)).toEqual(['k-z', 'k-b']);
      expect(await keys(2, { receivedAt: 10, idempotencyKey: 'k-b' })).toEqual(['k-a', 'k-c']);
      expect(await keys(10, { receivedAt: 20, idempotencyKey: 'k-a' })).toEqual(['k-c']);
      expect(await keys(10, { receivedAt: 20, idempotencyKey: 'k-c' })).toEqual([]);
      expect(await keys(0)).toEqual([]);
      expect((await read((tx) => tx.listUnmatchedEvents(1)))[0]).toEqual(event('k-z', { receivedAt: 5, unmatchedReason: 'archived' }));
    });

    test('round-trips reservations and lists the HELD ones of a cell, any window, expired included', async () => {
      const r1 = reservation('r1', { createdAt: T0 + 2 });
      const r2 = reservation('r2', { createdAt: T0 + 1, windowStart: T0 + 30 * DAY, windowEnd: T0 + 60 * DAY });
      const expired = reservation('r0', { createdAt: T0 + 2, expiresAt: T0 - 1 });
      await write(async (tx) => {
        for (const r of [
          r1,
          r2,
          expired,
          reservation('r3', { status: 'COMMITTED', committedAmount: 4.5 }),
          reservation('r4', { featureId: 'other' }),
          reservation('r5', { resourceId: 'site-1' }),
          reservation('r6', { customerId: 'c2' }),
        ])
          await tx.putReservation(r);
      });
      expect(await read((tx) => tx.getReservation('r3'))).toEqual(reservation('r3', { status: 'COMMITTED', committedAmount: 4.5 }));
      expect(await read((tx) => tx.getReservation('missing'))).toBeUndefined();
      const held = () => read((tx) => tx.listHeldReservations({ customerId: 'c1', resourceId: '', entityId: '', featureId: 'api-calls' }));
      expect(await held()).toEqual([r2, expired, r1]);

      const released = { ...r1, status: 'RELEASED' as const, updatedAt: T0 + 5 };
      await write((tx) => tx.putReservation(released));
      expect(await read((tx) => tx.getReservation('r1'))).toEqual(released);
      expect(await held()).toEqual([r2, expired]);
    });

    test('round-trips idempotency records by (scope, key)', async () => {
      const result = { currentUsage: 5, usagePeriodStart: '2024-01-31T12:00:00.000Z', nested: { list: [1, 'two', null, true] } };
      expect(await read((tx) => tx.getIdempotency('reportUsage', 'k1'))).toBeUndefined();
      await write(async (tx) => {
        await tx.putIdempotency(idempotency('reportUsage', 'k1', result));
        await tx.putIdempotency(idempotency('reportEvent', 'k1', 'a string'));
        await tx.putIdempotency(idempotency('reportUsage', 'k-null', null));
        await tx.putIdempotency(idempotency('reportUsage', 'k-zero', 0));
      });
      expect(await read((tx) => tx.getIdempotency('reportUsage', 'k1'))).toEqual(idempotency('reportUsage', 'k1', result));
      expect(await read((tx) => tx.getIdempotency('reportEvent', 'k1'))).toEqual(idempotency('reportEvent', 'k1', 'a string'));
      expect(await read((tx) => tx.getIdempotency('reportUsage', 'k-null'))).toEqual(idempotency('reportUsage', 'k-null', null));
      expect(await read((tx) => tx.getIdempotency('reportUsage', 'k-zero'))).toEqual(idempotency('reportUsage', 'k-zero', 0));
      expect(await read((tx) => tx.getIdempotency('consumeUsage', 'k1'))).toBeUndefined();
      await write((tx) => tx.putIdempotency(idempotency('reportUsage', 'k1', { replaced: true })));
      expect((await read((tx) => tx.getIdempotency('reportUsage', 'k1')))?.result).toEqual({ replaced: true });
    });

    test('hands out copies: changing a record after put or after get changes nothing stored', async () => {
      const c = customer('c1');
      await write((tx) => tx.putCustomer(c));
      c.metadata.tier = 'mutated';
      (c.billingInfo as { address: { city: string } }).address.city = 'mutated';
      const got = (await read((tx) => tx.getCustomer('c1')))!;
      expect(got).toEqual(customer('c1'));
      got.metadata.tier = 'mutated again';
      expect(await read((tx) => tx.getCustomer('c1'))).toEqual(customer('c1'));
    });
  });
}

/**
 * Conformance cases for entities, the members of a customer with balances of their own
 * (docs/entities.md): entity records (round trip, replace, listing order, paging, the seat filter,
 * deleted ones), and entityId as part of a usage cell's key, of a reservation and of an event.
 */
import type { EntityQuery, EntityRecord, UsageKey, UsageQuery, UsageRecord } from '@tessera/core';
import { describe, expect } from 'vitest';
import type { Harness } from './cases.js';
import { DAY, T0, bareEntity, entity, event, expectCode, reservation, usage, usageKey } from './fixtures.js';

const keyOf = ({ customerId, resourceId, entityId, featureId, windowStart, windowEnd }: UsageKey): UsageKey => ({
  customerId,
  resourceId,
  entityId,
  featureId,
  windowStart,
  windowEnd,
});

const ids = (rows: EntityRecord[]) => rows.map((e) => e.entityId);

/** Registers the entity cases inside the adapter's conformance suite. */
export function entityCases({ read, write, test }: Harness): void {
  describe('entities', () => {
    test('round-trips an entity (JSON metadata, nulls), keyed by customer and entity; putEntity replaces it whole', async () => {
      expect(await read((tx) => tx.getEntity('c1', 'e1'))).toBeUndefined();
      await write(async (tx) => {
        await tx.putEntity(entity('e1'));
        await tx.putEntity(bareEntity('e2'));
        await tx.putEntity(entity('e1', { customerId: 'c2', name: 'of c2' }));
      });
      expect(await read((tx) => tx.getEntity('c1', 'e1'))).toEqual(entity('e1'));
      expect(await read((tx) => tx.getEntity('c1', 'e2'))).toEqual(bareEntity('e2'));
      expect(await read((tx) => tx.getEntity('c2', 'e1'))).toEqual(entity('e1', { customerId: 'c2', name: 'of c2' }));
      expect(await read((tx) => tx.getEntity('c2', 'e2'))).toBeUndefined();
      expect(await read((tx) => tx.getEntity('c1', 'E1'))).toBeUndefined();

      const deleted = bareEntity('e1', { deletedAt: T0 + 5, updatedAt: T0 + 5 });
      await write((tx) => tx.putEntity(deleted));
      expect(await read((tx) => tx.getEntity('c1', 'e1'))).toEqual(deleted);
      const again = entity('e1', { name: 'again', metadata: { n: '2' }, featureId: 'workspaces', updatedAt: T0 + 9 });
      await write((tx) => tx.putEntity(again));
      expect(await read((tx) => tx.getEntity('c1', 'e1'))).toEqual(again);
      // The other customer's entity of the same id is untouched.
      expect(await read((tx) => tx.getEntity('c2', 'e1'))).toEqual(entity('e1', { customerId: 'c2', name: 'of c2' }));
    });

    test('lists a customer’s entities by entityId, paged by `after`, of one seat feature, deleted ones only when asked', async () => {
      await write(async (tx) => {
        // Written out of order: the listing sorts.
        for (const e of [
          entity('u-3'),
          bareEntity('u-1'),
          entity('ws-1', { featureId: 'workspaces' }),
          entity('u-2', { deletedAt: T0 + 3 }),
          entity('u-10'),
          entity('A-upper'),
          entity('u-1', { customerId: 'c2' }),
        ])
          await tx.putEntity(e);
      });
      const list = (q: Omit<EntityQuery, 'customerId'>) => read((tx) => tx.listEntities({ customerId: 'c1', ...q }));
      // Code-unit order: uppercase before lowercase, 'u-10' before 'u-3'.
      expect(ids(await list({ limit: 10 }))).toEqual(['A-upper', 'u-1', 'u-10', 'u-3', 'ws-1']);
      expect(ids(await list({ limit: 10, includeDeleted: true }))).toEqual(['A-upper', 'u-1', 'u-10', 'u-2', 'u-3', 'ws-1']);
      expect(ids(await list({ limit: 10, includeDeleted: false }))).toEqual(['A-upper', 'u-1', 'u-10', 'u-3', 'ws-1']);
      expect(await list({ limit: 10 })).toContainEqual(bareEntity('u-1'));
      expect(await list({ limit: 10, includeDeleted: true })).toContainEqual(entity('u-2', { deletedAt: T0 + 3 }));

      // Pages of two, each after the last id of the one before.
      const pages: string[][] = [];
      let after: string | undefined;
      for (;;) {
        const page = await list({ limit: 2, includeDeleted: true, ...(after === undefined ? {} : { after }) });
        if (page.length === 0) break;
        pages.push(ids(page));
        after = page.at(-1)!.entityId;
      }
      expect(pages).toEqual([['A-upper', 'u-1'], ['u-10', 'u-2'], ['u-3', 'ws-1']]);
      // `after` need not be a stored id; it is exclusive.
      expect(ids(await list({ limit: 10, after: 'u-1' }))).toEqual(['u-10', 'u-3', 'ws-1']);
      expect(ids(await list({ limit: 10, after: 'u-2' }))).toEqual(['u-3', 'ws-1']);
      expect(ids(await list({ limit: 10, after: 'z' }))).toEqual([]);

      // The seat filter: 'seats' (the fixture's), 'workspaces', and u-1 occupies none.
      expect(ids(await list({ limit: 10, featureId: 'seats' }))).toEqual(['A-upper', 'u-10', 'u-3']);
      expect(ids(await list({ limit: 10, featureId: 'seats', includeDeleted: true }))).toEqual(['A-upper', 'u-10', 'u-2', 'u-3']);
      expect(ids(await list({ limit: 1, featureId: 'seats', after: 'A-upper' }))).toEqual(['u-10']);
      expect(ids(await list({ limit: 10, featureId: 'workspaces' }))).toEqual(['ws-1']);
      expect(ids(await list({ limit: 10, featureId: 'nothing' }))).toEqual([]);

      expect(ids(await read((tx) => tx.listEntities({ customerId: 'c2', limit: 10 })))).toEqual(['u-1']);
      expect(await read((tx) => tx.listEntities({ customerId: 'c9', limit: 10 }))).toEqual([]);
    });

    test('a rolled-back entity write leaves nothing, and a read transaction refuses putEntity with CONFLICT', async () => {
      await write((tx) => tx.putEntity(entity('kept')));
      await expect(
        write(async (tx) => {
          await tx.putEntity(entity('e1'));
          await tx.putEntity(entity('kept', { deletedAt: T0 + 1 }));
          expect(await tx.getEntity('c1', 'e1')).toEqual(entity('e1'));
          expect(ids(await tx.listEntities({ customerId: 'c1', limit: 10 }))).toEqual(['e1']);
          throw new Error('abort');
        }),
      ).rejects.toThrow('abort');
      expect(await read((tx) => tx.getEntity('c1', 'e1'))).toBeUndefined();
      expect(await read((tx) => tx.listEntities({ customerId: 'c1', limit: 10, includeDeleted: true }))).toEqual([entity('kept')]);
      await read((tx) => expectCode('CONFLICT', () => tx.putEntity(entity('e2'))));
      expect(await read((tx) => tx.getEntity('c1', 'e2'))).toBeUndefined();
    });
  });

  describe('entityId on usage cells, reservations and events', () => {
    // Three cells that differ only by entity: the customer's own ('') and two entities'.
    const pooled = usage({ value: 10 });
    const e1 = usage({ entityId: 'e1', value: 1, count: 1 });
    const e2 = usage({ entityId: 'e2', value: 2, count: 2 });

    test('usage cells differing only by entityId are distinct for getUsage, putUsage and getUsages', async () => {
      await write(async (tx) => {
        for (const u of [e2, pooled, e1]) await tx.putUsage(u);
      });
      expect(await read((tx) => tx.getUsage(usageKey()))).toEqual(pooled);
      expect(await read((tx) => tx.getUsage(usageKey({ entityId: 'e1' })))).toEqual(e1);
      expect(await read((tx) => tx.getUsage(usageKey({ entityId: 'e2' })))).toEqual(e2);
      expect(await read((tx) => tx.getUsage(usageKey({ entityId: 'e3' })))).toBeUndefined();
      expect(
        await read((tx) => tx.getUsages([usageKey({ entityId: 'e2' }), usageKey({ entityId: 'e3' }), usageKey(), usageKey({ entityId: 'e1' }), usageKey({ entityId: 'e2' })])),
      ).toEqual([e2, undefined, pooled, e1, e2]);

      // Replacing one entity's cell leaves the others as they were.
      const e1Later = { ...e1, value: 5, count: 3, updatedAt: T0 + 20 };
      await write((tx) => tx.putUsage(e1Later));
      expect(await read((tx) => tx.getUsages([usageKey(), usageKey({ entityId: 'e1' }), usageKey({ entityId: 'e2' })]))).toEqual([pooled, e1Later, e2]);
    });

    test('putUsages takes cells differing only by entityId as distinct, and refuses a key repeated with its entity', async () => {
      await write((tx) => tx.putUsage(pooled));
      const e1New = { ...e1, value: 7 };
      await write((tx) => tx.putUsages([e1New, { ...pooled, value: 11 }, e2]));
      expect(await read((tx) => tx.getUsages([usageKey(), usageKey({ entityId: 'e1' }), usageKey({ entityId: 'e2' })]))).toEqual([
        { ...pooled, value: 11 },
        e1New,
        e2,
      ]);
      await write(async (tx) => {
        await expectCode('INVALID_ARGUMENT', () => tx.putUsages([usage({ entityId: 'e3' }), e1, usage({ entityId: 'e1', value: 99 })]));
        expect(await tx.getUsage(usageKey({ entityId: 'e3' }))).toBeUndefined();
      });
      expect(await read((tx) => tx.getUsage(usageKey({ entityId: 'e1' })))).toEqual(e1New);
    });

    test('150 cells of one feature and window, one per entity, round-trip through putUsages and getUsages', async () => {
      const cells: UsageRecord[] = Array.from({ length: 150 }, (_, i) => usage({ entityId: `e-${String(i).padStart(3, '0')}`, value: i, count: i }));
      await write((tx) => tx.putUsages(cells));
      const keys = [...cells].reverse().map(keyOf);
      expect(await read((tx) => tx.getUsages(keys))).toEqual([...cells].reverse());
      expect(await read((tx) => tx.listUsage({ customerId: 'c1', featureId: 'api-calls' }))).toEqual(cells);
    });

    test('listUsage lists every cell without entityId, the customer’s own with entityId \'\', one entity’s with its id', async () => {
      const other = usage({ featureId: 'tokens', entityId: 'e1', value: 4 });
      const later = usage({ entityId: 'e1', windowStart: T0 + 30 * DAY, windowEnd: T0 + 60 * DAY, value: 6 });
      const site = usage({ resourceId: 'site-1', entityId: 'e1', value: 8 });
      await write(async (tx) => {
        for (const u of [later, site, e2, other, e1, pooled, usage({ customerId: 'c2', entityId: 'e1' })]) await tx.putUsage(u);
      });
      const list = (q: Omit<UsageQuery, 'customerId'>) => read((tx) => tx.listUsage({ customerId: 'c1', ...q }));
      // Ordered by window, feature, resource, then entity.
      expect(await list({})).toEqual([pooled, e1, e2, site, other, later]);
      expect(await list({ entityId: '' })).toEqual([pooled]);
      expect(await list({ entityId: 'e1' })).toEqual([e1, site, other, later]);
      expect(await list({ entityId: 'e1', featureId: 'api-calls', resourceId: '' })).toEqual([e1, later]);
      expect(await list({ entityId: 'e1', from: T0 + 30 * DAY })).toEqual([later]);
      expect(await list({ entityId: 'e1', to: T0 + 30 * DAY, featureId: 'tokens' })).toEqual([other]);
      expect(await list({ entityId: 'e2', resourceId: 'site-1' })).toEqual([]);
      expect(await list({ entityId: 'e9' })).toEqual([]);
    });

    test('addDistinctValue counts a value once per entity cell', async () => {
      const k = usageKey();
      const seen = await write(async (tx) => [
        await tx.addDistinctValue(k, 'v'),
        await tx.addDistinctValue({ ...k, entityId: 'e1' }, 'v'),
        await tx.addDistinctValue({ ...k, entityId: 'e2' }, 'v'),
        await tx.addDistinctValue({ ...k, entityId: 'e1' }, 'v'),
        await tx.addDistinctValue(k, 'v'),
      ]);
      expect(seen).toEqual([true, true, true, false, false]);
    });

    test('reservations keep their entityId, and listHeldReservations lists one entity’s (or the customer’s own)', async () => {
      const own = reservation('r-own', { createdAt: T0 + 1 });
      const a = reservation('r-a', { entityId: 'e1', createdAt: T0 + 2 });
      const b = reservation('r-b', { entityId: 'e1', createdAt: T0 });
      const c = reservation('r-c', { entityId: 'e2' });
      const done = reservation('r-d', { entityId: 'e1', status: 'COMMITTED', committedAmount: 2 });
      await write(async (tx) => {
        for (const r of [own, a, b, c, done]) await tx.putReservation(r);
      });
      expect(await read((tx) => tx.getReservation('r-a'))).toEqual(a);
      const held = (entityId: string) => read((tx) => tx.listHeldReservations({ customerId: 'c1', resourceId: '', entityId, featureId: 'api-calls' }));
      expect(await held('')).toEqual([own]);
      expect(await held('e1')).toEqual([b, a]);
      expect(await held('e2')).toEqual([c]);
      expect(await held('e3')).toEqual([]);
      // No entity named: every hold of the feature (what the pooled cell counts), oldest first.
      const all = await read((tx) => tx.listHeldReservations({ customerId: 'c1', resourceId: '', featureId: 'api-calls' }));
      expect(all.map((r) => r.id)).toEqual([b, c, own, a].sort((x, y) => x.createdAt - y.createdAt || (x.id < y.id ? -1 : 1)).map((r) => r.id));
      expect(all).toHaveLength(4);
    });

    test('events keep their entityId through insertEvents, getEvent, listEvents and listUnmatchedEvents', async () => {
      const forEntity = event('k1', { entityId: 'e1', timestamp: T0 + 1 });
      const none = event('k2');
      const unmatched = event('k3', { entityId: 'e2', unmatchedReason: 'no meter', receivedAt: T0 + 50 });
      expect(await write((tx) => tx.insertEvents([forEntity, none, unmatched]))).toEqual([true, true, true]);
      expect(await read((tx) => tx.getEvent('k1'))).toEqual(forEntity);
      expect(await read((tx) => tx.getEvent('k2'))).toEqual(none);
      // By timestamp, then key: k2 and k3 at T0, k1 at T0 + 1.
      expect(await read((tx) => tx.listEvents({ customerId: 'c1', resourceId: '', eventName: 'api.call', from: T0, to: T0 + DAY }))).toEqual([none, unmatched, forEntity]);
      expect(await read((tx) => tx.listUnmatchedEvents(10))).toEqual([unmatched]);
    });
  });
}

/**
 * What a sidecar sends a replica about one customer (packages/http/src/replica/records.ts), read
 * straight from a store: entities and their held reservations go along, and records from a
 * sidecar older than entities (no entityId, no entities) become the customer's own ('').
 */
import { memoryStore, type Store } from '@tessera/core';
import { sqliteStore } from '@tessera/sqlite';
import { describe, expect, it } from 'vitest';
import { exportCustomer, fromPeer, type CustomerExport } from '../../packages/http/src/replica/records.js';
import { entity, reservation, usage } from '../conformance/fixtures.js';

const stores: [string, () => Store][] = [
  ['memory', () => memoryStore()],
  ['sqlite', () => sqliteStore({ filename: ':memory:' })],
];

for (const [name, make] of stores) {
  describe(`exportCustomer on ${name}`, () => {
    it('sends every usage cell, the entities (deleted ones too) and the held reservations of each entity, its own included', async () => {
      const store = make();
      await store.open();
      try {
        const own = reservation('r-own');
        // e2 has no usage cell yet: its reservation is found through its entity record.
        const ofE2 = reservation('r-e2', { entityId: 'e2' });
        const ofE1 = reservation('r-e1', { entityId: 'e1', resourceId: 'site-1' });
        const cells = [usage(), usage({ entityId: 'e1', resourceId: 'site-1', value: 2 })];
        const entities = [entity('e1'), entity('e2'), entity('e3', { deletedAt: 5 })];
        await store.transaction('write', async (tx) => {
          for (const u of cells) await tx.putUsage(u);
          for (const e of entities) await tx.putEntity(e);
          for (const r of [own, ofE2, ofE1, reservation('r-done', { entityId: 'e1', status: 'COMMITTED', committedAmount: 1 })]) await tx.putReservation(r);
        });
        const ex = await store.transaction('read', (tx) => exportCustomer(tx, 'c1', ['api-calls']));
        expect(ex.usage).toEqual(cells);
        expect(ex.entities).toEqual(entities);
        expect([...ex.reservations].sort((a, b) => (a.id < b.id ? -1 : 1))).toEqual([ofE1, ofE2, own]);
      } finally {
        await store.close();
      }
    });
  });
}

describe('fromPeer', () => {
  it('gives usage cells and reservations of a sidecar older than entities entityId \'\', and no entities or overrides', () => {
    const strip = <T extends { entityId: string }>({ entityId: _, ...rest }: T) => rest;
    const old = {
      customerId: 'c1',
      customer: null,
      subscriptions: [],
      usage: [strip(usage())],
      promotionalGrants: [],
      creditGrants: [],
      reservations: [strip(reservation('r1'))],
    } as unknown as CustomerExport;
    expect(fromPeer(old)).toEqual({ ...old, usage: [usage()], reservations: [reservation('r1')], entities: [], entitlementOverrides: [] });
  });

  it('keeps what a current sidecar sends', () => {
    const current: CustomerExport = {
      customerId: 'c1',
      customer: null,
      subscriptions: [],
      usage: [usage({ entityId: 'e1' })],
      promotionalGrants: [],
      creditGrants: [],
      reservations: [reservation('r1', { entityId: 'e1' })],
      entities: [entity('e1')],
      entitlementOverrides: [],
    };
    expect(fromPeer(current)).toEqual(current);
  });
});

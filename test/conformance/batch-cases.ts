/**
 * Conformance cases for the batch operations (getCustomers, getUsages, getIdempotencies, putUsages, appendChanges):
 * answers in input order with repeats and misses, batches longer than one statement's chunk (100
 * rows on PostgreSQL), the distinct-key rule of putUsages, rollback, and seqs in line with appendChange.
 */
import { NO_WINDOW_END, type CustomerRecord, type NewChange, type Store, type UsageKey, type UsageRecord } from '@tessera/core';
import { describe, expect } from 'vitest';
import type { Harness } from './cases.js';
import { DAY, T0, bareCustomer, bareUsage, change, customer, expectCode, idempotency, usage, usageKey } from './fixtures.js';

/** More rows than fit in two statements of a store that chunks by 100. */
const MANY = 250;

const keyOf = ({ customerId, resourceId, entityId, featureId, windowStart, windowEnd }: UsageKey): UsageKey => ({
  customerId,
  resourceId,
  entityId,
  featureId,
  windowStart,
  windowEnd,
});

/** Registers the batch cases inside the adapter's conformance suite; `store` is the test's open store. */
export function batchCases({ read, write, test }: Harness, store: () => Store): void {
  describe('batch operations', () => {
    test('getCustomers answers per id in input order: found, missing, repeated (each answer its own copy)', async () => {
      await write(async (tx) => {
        await tx.putCustomer(customer('c1'));
        await tx.putCustomer(bareCustomer('c2'));
      });
      const got = await read((tx) => tx.getCustomers(['c2', 'nope', 'c1', 'c2', '', 'c1']));
      expect(got).toEqual([bareCustomer('c2'), undefined, customer('c1'), bareCustomer('c2'), undefined, customer('c1')]);
      expect(got[0]).not.toBe(got[3]);
      expect(await read((tx) => tx.getCustomers([]))).toEqual([]);
      expect(await read((tx) => tx.getCustomers(['nope']))).toEqual([undefined]);
      // A write transaction reads its own writes.
      await write(async (tx) => {
        await tx.putCustomer(customer('c3', { name: 'new' }));
        await tx.putCustomer(customer('c1', { name: 'changed' }));
        expect((await tx.getCustomers(['c3', 'c1', 'c2'])).map((c) => c?.name)).toEqual(['new', 'changed', null]);
      });
    });

    test(`getCustomers reads ${MANY} ids with misses and repeats across statement chunks`, async () => {
      const stored = Array.from({ length: 200 }, (_, i) => customer(`c${i}`, { name: `name ${i}`, createdAt: T0 + i }));
      await write(async (tx) => {
        for (const c of stored) await tx.putCustomer(c);
      });
      // Every fifth id is missing; from 200 on, ids repeat ones asked earlier (in another chunk).
      const ids = Array.from({ length: MANY }, (_, i) => (i % 5 === 4 ? `missing-${i}` : `c${(i * 7) % 200}`));
      const byId = new Map<string, CustomerRecord>(stored.map((c) => [c.customerId, c]));
      const got = await read((tx) => tx.getCustomers(ids));
      expect(got).toHaveLength(MANY);
      expect(got).toEqual(ids.map((id) => byId.get(id)));
    });

    test(`getIdempotencies answers per (scope, key) in input order, with misses and repeats, across chunks (${MANY} pairs)`, async () => {
      const stored = Array.from({ length: 150 }, (_, i) => idempotency(`scope-${i % 3}`, `key-${i}`, { n: i, nested: { at: T0 + i } }));
      await write(async (tx) => {
        for (const r of stored) await tx.putIdempotency(r);
      });
      // The same key under another scope is another record; every fourth pair misses.
      const pairs = Array.from({ length: MANY }, (_, i) => {
        const n = (i * 11) % 150;
        return i % 4 === 3 ? { scope: `scope-${(n + 1) % 3}`, key: `key-${n}` } : { scope: `scope-${n % 3}`, key: `key-${n}` };
      });
      const byPair = new Map(stored.map((r) => [`${r.scope}|${r.key}`, r]));
      const got = await read((tx) => tx.getIdempotencies(pairs));
      expect(got).toHaveLength(MANY);
      expect(got).toEqual(pairs.map((p) => byPair.get(`${p.scope}|${p.key}`)));
      expect(got.filter((r) => r === undefined)).toHaveLength(62); // i % 4 === 3 for i < 250
      expect(await read((tx) => tx.getIdempotencies([]))).toEqual([]);
      // A write transaction reads its own writes.
      await write(async (tx) => {
        await tx.putIdempotency(idempotency('scope-x', 'fresh', { ok: true }));
        expect(await tx.getIdempotencies([{ scope: 'scope-x', key: 'fresh' }, { scope: 'scope-x', key: 'key-1' }])).toEqual([
          idempotency('scope-x', 'fresh', { ok: true }),
          undefined,
        ]);
      });
    });

    test('getUsages answers per key in input order; keys differing in one field are different cells', async () => {
      const base = usage();
      const cumulative = bareUsage({ featureId: 'seats' }); // [0, NO_WINDOW_END)
      const laterWindow = usage({ windowStart: T0 + 30 * DAY, windowEnd: T0 + 60 * DAY, value: 2 });
      const otherResource = usage({ resourceId: 'site-1', value: 3 });
      await write(async (tx) => {
        for (const u of [base, cumulative, laterWindow, otherResource]) await tx.putUsage(u);
      });
      const keys: UsageKey[] = [
        usageKey({ windowStart: T0 + 1 }),
        keyOf(otherResource),
        usageKey(),
        usageKey({ windowEnd: T0 + 30 * DAY + 1 }),
        keyOf(cumulative),
        usageKey({ featureId: 'other' }),
        keyOf(laterWindow),
        usageKey({ customerId: 'c2' }),
        usageKey(),
        { ...keyOf(cumulative), windowEnd: NO_WINDOW_END - 1024 },
        usageKey({ resourceId: 'site-2' }),
      ];
      const got = await read((tx) => tx.getUsages(keys));
      expect(got).toEqual([undefined, otherResource, base, undefined, cumulative, undefined, laterWindow, undefined, base, undefined, undefined]);
      expect(got[2]).not.toBe(got[8]);
      expect(await read((tx) => tx.getUsages([]))).toEqual([]);
    });

    test(`getUsages reads ${MANY} keys with misses and repeats across statement chunks`, async () => {
      const stored = Array.from({ length: 200 }, (_, i) =>
        usage({ featureId: `f${i % 20}`, windowStart: T0 + Math.floor(i / 20) * DAY, windowEnd: T0 + (Math.floor(i / 20) + 1) * DAY, value: i }),
      );
      await write(async (tx) => {
        for (const u of stored) await tx.putUsage(u);
      });
      // Every fourth key misses by its window end only; from 200 on, keys repeat earlier ones.
      const keys = Array.from({ length: MANY }, (_, i) => {
        const k = keyOf(stored[(i * 13) % 200]!);
        return i % 4 === 3 ? { ...k, windowEnd: k.windowEnd + 1 } : k;
      });
      const byKey = new Map(stored.map((u) => [JSON.stringify(keyOf(u)), u]));
      const got = await read((tx) => tx.getUsages(keys));
      expect(got).toHaveLength(MANY);
      expect(got).toEqual(keys.map((k) => byKey.get(JSON.stringify(k))));
    });

    test('putUsages inserts new cells and replaces existing ones (every column) in one call', async () => {
      const kept = usage({ featureId: 'kept' });
      await write(async (tx) => {
        await tx.putUsage(usage());
        await tx.putUsage(bareUsage());
        await tx.putUsage(kept);
      });
      const replaced = usage({ value: -3.5, count: 1, sum: -3.5, min: null, max: null, latestAt: null, latestValue: null, updatedAt: T0 + 99 });
      const replacedBare = bareUsage({ value: 7, count: 2, sum: 7.25, min: 0.5, max: 6.75, latestAt: T0 + 5, latestValue: 6.75, updatedAt: T0 + 6 });
      const fresh = usage({ resourceId: 'site-1', value: 1 });
      const freshWindow = usage({ windowStart: T0 + 30 * DAY, windowEnd: T0 + 60 * DAY, value: 2 });
      await write((tx) => tx.putUsages([fresh, replaced, freshWindow, replacedBare]));

      for (const u of [replaced, replacedBare, fresh, freshWindow, kept]) expect(await read((tx) => tx.getUsage(keyOf(u)))).toEqual(u);
      expect(await read((tx) => tx.getUsages([usageKey(), keyOf(fresh), keyOf(kept), keyOf(replacedBare), keyOf(freshWindow)]))).toEqual([
        replaced,
        fresh,
        kept,
        replacedBare,
        freshWindow,
      ]);
      expect(await read((tx) => tx.listUsage({ customerId: 'c1' }))).toHaveLength(5);
      // A write transaction reads what it wrote, and an empty batch writes nothing.
      await write(async (tx) => {
        await tx.putUsages([]);
        await tx.putUsages([usage({ value: 11 })]);
        expect((await tx.getUsages([usageKey()]))[0]?.value).toBe(11);
      });
      expect(await read((tx) => tx.listUsage({ customerId: 'c1' }))).toHaveLength(5);
    });

    test(`putUsages writes ${MANY} cells, replacing and inserting, across statement chunks`, async () => {
      const cell = (i: number, over: Partial<UsageRecord> = {}) => usage({ featureId: `f${i}`, resourceId: i % 2 ? 'site-1' : '', value: i, ...over });
      // Cells 0..99 exist; the batch replaces every other one of them and adds 150 new ones.
      await write(async (tx) => {
        for (let i = 0; i < 100; i++) await tx.putUsage(cell(i, { value: -1, min: null }));
      });
      const batch = Array.from({ length: MANY }, (_, j) => {
        const i = j < 50 ? j * 2 : j + 50;
        return cell(i, { count: j, latestValue: j % 3 ? null : j / 4 });
      });
      await write((tx) => tx.putUsages(batch));
      const all = Array.from({ length: 300 }, (_, i) => i);
      const expected = new Map(batch.map((u) => [u.featureId, u]));
      for (let i = 0; i < 100; i++) if (!expected.has(`f${i}`)) expected.set(`f${i}`, cell(i, { value: -1, min: null }));
      const got = await read((tx) => tx.getUsages(all.map((i) => keyOf(cell(i)))));
      expect(got).toEqual(all.map((i) => expected.get(`f${i}`)));
      expect(await read((tx) => tx.listUsage({ customerId: 'c1' }))).toHaveLength(300);
    });

    test('putUsages with a repeated key rejects with INVALID_ARGUMENT and writes none of the batch', async () => {
      const existing = usage();
      await write((tx) => tx.putUsage(existing));
      const a = usage({ featureId: 'a' });
      await write(async (tx) => {
        await expectCode('INVALID_ARGUMENT', () => tx.putUsages([a, usage({ value: 7 }), usage({ featureId: 'a', value: 8 })]));
        // Also when the repeat is far from the first copy (in another chunk on a chunking store).
        const long = Array.from({ length: 150 }, (_, i) => usage({ featureId: `long-${i}` }));
        long[120] = usage({ featureId: 'long-5', value: 9 });
        await expectCode('INVALID_ARGUMENT', () => tx.putUsages(long));
        // Nothing was written, and the transaction goes on.
        expect(await tx.getUsages([keyOf(a), usageKey(), usageKey({ featureId: 'long-0' }), usageKey({ featureId: 'long-5' })])).toEqual([
          undefined,
          existing,
          undefined,
          undefined,
        ]);
        await tx.putUsages([usage({ featureId: 'b' })]);
      });
      expect(await read((tx) => tx.listUsage({ customerId: 'c1' }))).toEqual([existing, usage({ featureId: 'b' })].sort((x, y) => (x.featureId < y.featureId ? -1 : 1)));
    });

    test('putUsages and appendChanges roll back with a transaction that throws afterwards', async () => {
      await write((tx) => tx.putUsage(usage()));
      const boom = new Error('boom');
      const many = Array.from({ length: 150 }, (_, i) => usage({ featureId: `f${i}` }));
      await expect(
        write(async (tx) => {
          await tx.putUsages([usage({ value: 9 }), usage({ featureId: 'new' }), ...many]);
          expect(await tx.appendChanges([change(), change({ at: T0 + 1 })])).toHaveLength(2);
          expect((await tx.getUsages([usageKey()]))[0]?.value).toBe(9);
          throw boom;
        }),
      ).rejects.toBe(boom);
      expect(await read((tx) => tx.getUsages([usageKey(), usageKey({ featureId: 'new' }), usageKey({ featureId: 'f149' })]))).toEqual([
        usage(),
        undefined,
        undefined,
      ]);
      expect(await read((tx) => tx.listUsage({ customerId: 'c1' }))).toHaveLength(1);
      expect(await store().lastChangeSeq()).toBe(0);
      expect(await store().getChanges(0, 10)).toEqual([]);
    });

    test('appendChanges numbers changes in input order, in line with appendChange before and after', async () => {
      const a = change();
      const b = change({ kind: 'customer.updated', entityId: null, payload: null });
      const c = change({ kind: 'catalog.published', customerId: null, entityId: null, payload: { version: 2 } });
      const d = change({ at: T0 + 1, payload: { n: 1 } });
      const e = change({ at: T0 + 2, entityId: 'seats' });
      const seqs = await write(async (tx) => {
        const first = await tx.appendChange(a);
        const batch = await tx.appendChanges([b, c, d]);
        const empty = await tx.appendChanges([]);
        const last = await tx.appendChange(e);
        return { first, batch, empty, last };
      });
      expect(seqs).toEqual({ first: 1, batch: [2, 3, 4], empty: [], last: 5 });
      const next = await write((tx) => tx.appendChanges([e, a]));
      expect(next).toEqual([6, 7]);
      expect(await store().lastChangeSeq()).toBe(7);
      expect(await store().getChanges(0, 100)).toEqual([a, b, c, d, e, e, a].map((ch, i) => ({ seq: i + 1, ...ch })));
    });

    test(`appendChanges appends ${MANY} changes across statement chunks, readable in order`, async () => {
      const batch: NewChange[] = Array.from({ length: MANY }, (_, i) =>
        change({ at: T0 + i, entityId: `e${i}`, customerId: i % 7 ? `c${i % 3}` : null, payload: i % 5 ? { i } : null }),
      );
      expect(await write((tx) => tx.appendChange(change()))).toBe(1);
      const seqs = await write((tx) => tx.appendChanges(batch));
      expect(seqs).toEqual(batch.map((_, i) => i + 2));
      expect(await store().lastChangeSeq()).toBe(MANY + 1);
      const read = [...(await store().getChanges(1, 200)), ...(await store().getChanges(201, 200))];
      expect(read).toEqual(batch.map((ch, i) => ({ seq: i + 2, ...ch })));
    });
  });
}

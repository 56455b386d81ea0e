/**
 * Conformance cases for `queryCustomers` (getCustomers), held to `runCustomerQuery` of
 * @tessera/core, the reference semantics, on the same records: archived apart, ordered by
 * createdAt then id, the cursor, and the search (A-Z folded, everything else literal, the SQL
 * LIKE wildcards and escape character included). Ids are ASCII and Latin-1, where JavaScript's and
 * SQL's string orders agree (query-cases.ts says where they do not).
 */
import { runCustomerQuery, type CustomerQuery, type CustomerRecord } from '@tessera/core';
import { describe, expect } from 'vitest';
import type { Harness } from './cases.js';
import { T0, customer } from './fixtures.js';

function fixture(): CustomerRecord[] {
  const c = (id: string, at: number, name: string | null, email: string | null, archivedAt: number | null = null) =>
    customer(id, { name, email, archivedAt, createdAt: T0 + at, updatedAt: T0 + at });
  return [
    c('acme', 5, 'Acme Inc', 'OPS@acme.test'),
    c('Zed', 5, 'Zed & Co', null), // same instant as acme: 'Z' sorts first
    c('beta', 1, 'Beta 100% Off', 'b@beta.test'),
    c('beta100x', 2, null, null),
    c('a_b', 3, 'Under_Score', 'x@y.test'),
    c('aXb', 3, 'UnderXScore', null),
    c('bang!', 4, 'Bang!', 'bang@bang.test'),
    c('café', 6, 'CAFÉ Crème', 'cafe@x.test'),
    c('back\\slash', 7, 'Back\\Slash', null),
    c('old', 0, null, null, T0 + 8),
    c('old-2', 0, null, null, T0 + 9),
    c('acme-old', 2, null, null, T0 + 9),
  ];
}

export function customerQueryCases({ read, write, test }: Harness): void {
  describe('queryCustomers', () => {
    const records = fixture();
    const ids = (list: CustomerRecord[]) => list.map((r) => r.customerId);

    test('agrees with runCustomerQuery on every search, archived or not, whole and paged', async () => {
      await write(async (tx) => {
        for (const r of records) await tx.putCustomer(r);
      });
      const searches = [undefined, '', 'a', 'ACME', 'acme.TEST', '100%', '%', '_', 'r_s', 'rxs', '!', 'g!', '\\', 'café', 'CAFÉ', 'crème', 'é', 'old', 'zed & ', 'nothing'];
      for (const archived of [false, true]) {
        for (const search of searches) {
          const q: CustomerQuery = { archived, limit: 100, ...(search !== undefined ? { search } : {}) };
          const expected = runCustomerQuery(records, q);
          const got = await read((tx) => tx.queryCustomers(q));
          expect(got, `archived ${archived}, search ${String(search)}`).toEqual(expected);
          // Paged by 2 from each row's cursor: the same rows, in the same order.
          const paged: CustomerRecord[] = [];
          let after: CustomerQuery['after'];
          for (;;) {
            const page = await read((tx) => tx.queryCustomers({ ...q, limit: 2, ...(after ? { after } : {}) }));
            paged.push(...page);
            if (page.length < 2) break;
            const last = page[page.length - 1]!;
            after = { createdAt: last.createdAt, customerId: last.customerId };
          }
          expect(ids(paged), `paged, archived ${archived}, search ${String(search)}`).toEqual(ids(expected));
        }
      }
    });

    test('answers the exact customers of hand-checked cases', async () => {
      await write(async (tx) => {
        for (const r of records) await tx.putCustomer(r);
      });
      const find = (q: Partial<CustomerQuery>) => read((tx) => tx.queryCustomers({ archived: false, limit: 100, ...q })).then(ids);
      expect(await find({})).toEqual(['beta', 'beta100x', 'aXb', 'a_b', 'bang!', 'Zed', 'acme', 'café', 'back\\slash']);
      expect(await find({ archived: true })).toEqual(['old', 'old-2', 'acme-old']);
      expect(await find({ search: '100%' })).toEqual(['beta']); // not beta100x: % is literal
      expect(await find({ search: 'r_s' })).toEqual(['a_b']); // not UnderXScore: _ is literal
      expect(await find({ search: 'ACME' })).toEqual(['acme']);
      expect(await find({ search: 'CAFÉ' })).toEqual(['café']); // the name, as written
      expect(await find({ search: 'café' })).toEqual(['café']); // the id; É is not folded to é
      expect(await find({ search: 'crème' })).toEqual(['café']); // C folds to c
      expect(await find({ search: 'CRÈME' })).toEqual([]); // È does not fold to è
      expect(await find({ search: '\\s' })).toEqual(['back\\slash']);
      expect(await find({ after: { createdAt: T0 + 5, customerId: 'Zed' } })).toEqual(['acme', 'café', 'back\\slash']);
      expect(await find({ limit: 0 })).toEqual([]);
    });
  });
}

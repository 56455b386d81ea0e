import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TesseraError, type CustomerSummary, type GetCustomersParams } from '@tessera/core';
import { engineOn, storeFactories } from './stores.js';

// getCustomers (packages/core/README.md#listing-customers): search by part of an id, a name or an
// email, A-Z in either case, `%`, `_` and `!` taken literally, archived apart, ordered by creation
// then id, and cursor paging that visits each customer once, on every store.

type Env = Awaited<ReturnType<typeof engineOn>>;
type Engine = Env['engine'];

/** [id, name, email], in creation order; '=' marks one created at the same instant as the one before. */
const CUSTOMERS: [string, string | null, string | null, '=' | '+'][] = [
  ['acme', 'Acme Inc', 'ops@acme.test', '+'],
  // Same instant as acme: the id breaks the tie, and 'G' (0x47) sorts before 'a' (0x61).
  ['Globex', 'Globex Corporation', 'IT@Globex.test', '='],
  ['initech', 'Initech', 'bill.lumbergh@initech.test', '+'],
  ['pct', '100% Pure', 'sales@pure.test', '+'],
  ['100x', 'Hundred Times', null, '+'],
  ['under_score', 'Under Score', null, '+'],
  ['underXscore', 'Underxscore Ltd', 'u@x.test', '+'],
  ['café', 'Café Ünïcode', 'cafe@bistro.test', '+'],
  ['bang!', 'Bang!', 'bang@bistro.test', '+'],
  ['gone', 'Gone Away', 'gone@acme.test', '+'],
  ['gone-too', 'Also Gone', null, '+'],
];
const ARCHIVED = ['gone', 'gone-too'];

async function seed(env: Env): Promise<void> {
  for (const [customerId, name, email, when] of CUSTOMERS) {
    if (when === '+') env.clock.advance({ minutes: 1 });
    await env.engine.provisionCustomer({ customerId, name, email, subscriptionParams: null });
  }
  env.clock.advance({ minutes: 1 });
  for (const id of ARCHIVED) await env.engine.archiveCustomer(id);
}

/** Every page of a listing, in order. */
async function allPages(engine: Engine, params: GetCustomersParams): Promise<CustomerSummary[][]> {
  const pages: CustomerSummary[][] = [];
  let after: string | undefined;
  for (;;) {
    const page = await engine.getCustomers({ ...params, ...(after ? { after } : {}) });
    pages.push(page.data);
    if (!page.pageInfo.hasNextPage) return pages;
    after = page.pageInfo.endCursor!;
  }
}

const ids = (list: CustomerSummary[]) => list.map((c) => c.customerId);

async function expectInvalid(call: Promise<unknown>, field: string): Promise<void> {
  const outcome = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(outcome).toBeInstanceOf(TesseraError);
  expect((outcome as TesseraError).code).toBe('INVALID_ARGUMENT');
  expect((outcome as TesseraError).details.field).toBe(field);
}

for (const factory of storeFactories()) {
  describe(`getCustomers on ${factory.name}`, () => {
    let env: Env;

    beforeAll(async () => {
      env = await engineOn(factory, { start: '2024-01-01T00:00:00Z' });
      await seed(env);
    });
    afterAll(async () => {
      await env?.cleanup();
    });

    it('lists the live customers oldest first, the id breaking a tie, and the archived ones apart', async () => {
      const live = await env.engine.getCustomers();
      expect(ids(live.data)).toEqual(['Globex', 'acme', 'initech', 'pct', '100x', 'under_score', 'underXscore', 'café', 'bang!']);
      expect(live.pageInfo).toEqual({ hasNextPage: false, endCursor: expect.any(String) });
      const acme = live.data[1]!;
      expect(acme).toEqual({
        customerId: 'acme',
        name: 'Acme Inc',
        email: 'ops@acme.test',
        couponId: null,
        billingInfo: null,
        metadata: {},
        hasPaymentMethod: false,
        createdAt: new Date('2024-01-01T00:01:00Z'),
        updatedAt: new Date('2024-01-01T00:01:00Z'),
        archivedAt: null,
      });
      const archived = await env.engine.getCustomers({ archived: true });
      expect(ids(archived.data)).toEqual(['gone', 'gone-too']);
      // Archiving cleared the name and email: an archived customer is found by id only.
      expect(archived.data[0]).toMatchObject({ name: null, email: null, archivedAt: new Date('2024-01-01T00:11:00Z') }); // 10 creation minutes, then one more
      expect(ids((await env.engine.getCustomers({ archived: true, search: 'gone@acme' })).data)).toEqual([]);
      expect(ids((await env.engine.getCustomers({ archived: true, search: 'TOO' })).data)).toEqual(['gone-too']);
    });

    const searches: [string, string[]][] = [
      ['acme', ['acme']], // id, name and email all match: listed once
      ['ACME inc', ['acme']], // part of a name, in another case
      ['globex.TEST', ['Globex']], // part of an email stored in mixed case
      ['LUMBERGH', ['initech']],
      ['bistro', ['café', 'bang!']],
      ['100%', ['pct']], // % is a character, not "anything": '100x' does not match
      ['%', ['pct']],
      ['under_', ['under_score']], // _ is a character, not "any one": 'underXscore' does not match
      ['_', ['under_score']],
      ['!', ['bang!']], // the SQL stores' escape character matches itself too
      ['caf', ['café']],
      // Only A-Z fold: É and é are different letters to every store.
      ['CAFÉ', []],
      ['ÜNÏCODE', []],
      ['ünïcode', []],
      ['Ünïcode', ['café']],
      ['nobody', []],
      ['', ['Globex', 'acme', 'initech', 'pct', '100x', 'under_score', 'underXscore', 'café', 'bang!']],
    ];
    for (const [search, expected] of searches) {
      it(`finds ${JSON.stringify(expected)} searching ${JSON.stringify(search)}`, async () => {
        expect(ids((await env.engine.getCustomers({ search })).data)).toEqual(expected);
      });
    }

    it('pages with a cursor, visiting each customer once in order, also while customers are added', async () => {
      const everyone = ids((await env.engine.getCustomers()).data);
      for (const first of [1, 2, 4, 9, 10]) {
        const pages = await allPages(env.engine, { first });
        expect(pages.every((p) => p.length <= first)).toBe(true);
        expect(ids(pages.flat()), `first: ${first}`).toEqual(everyone);
      }
      const searched = await allPages(env.engine, { search: 'U', first: 2 });
      // 'u' in lumbergh, Pure, Hundred, Under, u@x; not in Ünïcode (Ü is not U).
      expect(ids(searched.flat())).toEqual(['initech', 'pct', '100x', 'under_score', 'underXscore']);
      // A customer created between pages comes after every cursor handed out: the walk ends with it.
      const page = await env.engine.getCustomers({ first: 3 });
      env.clock.advance({ minutes: 1 });
      await env.engine.provisionCustomer({ customerId: 'aaa-late', subscriptionParams: null });
      const rest = await allPages(env.engine, { first: 3, after: page.pageInfo.endCursor! });
      expect([...ids(page.data), ...ids(rest.flat())]).toEqual([...everyone, 'aaa-late']);
      await env.engine.archiveCustomer('aaa-late');
    });

    it('rejects bad params and cursors it did not make with INVALID_ARGUMENT, naming the field', async () => {
      const { engine } = env;
      await expectInvalid(engine.getCustomers({ after: 'not-a-cursor' }), 'getCustomers.after');
      await expectInvalid(engine.getCustomers({ after: Buffer.from(JSON.stringify(['createdAt', 1, 'x'])).toString('base64url') }), 'getCustomers.after');
      await expectInvalid(engine.getCustomers({ after: Buffer.from(JSON.stringify([1.5, 'x'])).toString('base64url') }), 'getCustomers.after');
      await expectInvalid(engine.getCustomers({ first: 0 }), 'getCustomers.first');
      await expectInvalid(engine.getCustomers({ first: 1001 }), 'getCustomers.first');
      await expectInvalid(engine.getCustomers({ first: 2.5 }), 'getCustomers.first');
      await expectInvalid(engine.getCustomers({ search: 'x'.repeat(501) }), 'getCustomers.search');
      await expectInvalid(engine.getCustomers({ search: 'a\u0000b' }), 'getCustomers.search');
      await expectInvalid(engine.getCustomers({ search: '\ud800' }), 'getCustomers.search');
      await expectInvalid(engine.getCustomers({ search: 7 } as unknown as GetCustomersParams), 'getCustomers.search');
      await expectInvalid(engine.getCustomers({ search: null } as unknown as GetCustomersParams), 'getCustomers.search');
      await expectInvalid(engine.getCustomers({ archived: 'yes' } as unknown as GetCustomersParams), 'getCustomers.archived');
      await expectInvalid(engine.getCustomers({ limit: 5 } as unknown as GetCustomersParams), 'getCustomers.limit');
    });

    it('returns, paging with any page size and any search, exactly the matching customers once each, in order', async () => {
      const live = CUSTOMERS.filter(([id]) => !ARCHIVED.includes(id));
      const order = ids((await env.engine.getCustomers()).data);
      // Matching written out independently of the stores: lower-case A-Z only, then a plain substring test.
      const fold = (s: string) => s.replace(/[A-Z]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 32));
      const arbSearch = fc.oneof(fc.constant(''), fc.string({ unit: fc.constantFrom('a', 'C', 'e', 'x', '_', '%', '!', '0', '@', '.', 'é', ' '), minLength: 1, maxLength: 3 }));
      await fc.assert(
        fc.asyncProperty(fc.integer({ min: 1, max: 12 }), arbSearch, async (first, search) => {
          const expected = order.filter((id) => {
            const [, name, email] = live.find(([x]) => x === id)!;
            return [id, name, email].some((v) => v !== null && fold(v).includes(fold(search)));
          });
          const pages = await allPages(env.engine, { first, search });
          expect(ids(pages.flat())).toEqual(expected);
          expect(pages.slice(0, -1).every((p) => p.length === first)).toBe(true);
        }),
        { numRuns: 25 },
      );
    });
  });
}

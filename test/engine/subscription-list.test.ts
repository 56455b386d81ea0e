import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TesseraError, type GetSubscriptionsParams, type Subscription } from '@tessera/core';
import { pricingCatalog } from './pricing-catalog.js';
import { engineOn, storeFactories } from './stores.js';

// getSubscriptions (API.md#subscriptions): every filter operator on every field, and/or nesting,
// every sort field in both directions, and cursor pagination that visits each subscription once,
// also while subscriptions are inserted between pages.

type Env = Awaited<ReturnType<typeof engineOn>>;
type Engine = Env['engine'];

const STRING_FIELDS = ['customerId', 'productId', 'planId', 'resourceId', 'status', 'billingPeriod'] as const;
const DATE_FIELDS = ['createdAt', 'startDate', 'endDate', 'trialEndDate'] as const;
const SORT_FIELDS = ['createdAt', 'customerId', 'productId', 'resourceId', 'status'] as const;
type StringField = (typeof STRING_FIELDS)[number];
type DateField = (typeof DATE_FIELDS)[number];

/** A subscription's value of a filter or sort field (instants as epoch ms; no value is null). */
function valueOf(s: Subscription, field: StringField | DateField): string | number | null {
  switch (field) {
    case 'createdAt':
    case 'startDate':
    case 'endDate':
    case 'trialEndDate':
      return s[field]?.getTime() ?? null;
    default:
      return s[field];
  }
}

/**
 * The reference semantics of one condition: eq/in need a value; ne/notIn also hold where the field
 * has none (a subscription without a billing period is "not MONTHLY"); lt/lte/gt/gte need one.
 */
function holds(s: Subscription, field: StringField | DateField, op: string, operand: unknown): boolean {
  const v = valueOf(s, field);
  const o = operand instanceof Date ? operand.getTime() : operand;
  switch (op) {
    case 'eq':
      return v !== null && v === o;
    case 'ne':
      return v === null || v !== o;
    case 'in':
      return v !== null && (o as unknown[]).includes(v);
    case 'notIn':
      return v === null || !(o as unknown[]).includes(v);
    case 'lt':
      return v !== null && (v as number) < (o as number);
    case 'lte':
      return v !== null && (v as number) <= (o as number);
    case 'gt':
      return v !== null && (v as number) > (o as number);
    case 'gte':
      return v !== null && (v as number) >= (o as number);
    default:
      throw new Error(`unknown op ${op}`);
  }
}

/** Every page of a query, in order. */
async function allPages(engine: Engine, params: GetSubscriptionsParams, between?: (page: number) => Promise<void>): Promise<Subscription[][]> {
  const pages: Subscription[][] = [];
  let after: string | undefined;
  for (;;) {
    const page = await engine.getSubscriptions({ ...params, ...(after ? { after } : {}) });
    pages.push(page.data);
    if (!page.pageInfo.hasNextPage) {
      return pages;
    }
    expect(page.pageInfo.endCursor).toEqual(expect.any(String));
    after = page.pageInfo.endCursor!;
    if (between) await between(pages.length);
  }
}

const ids = (subs: readonly Subscription[]): string[] => subs.map((s) => s.id).sort();

async function expectInvalid(call: Promise<unknown>): Promise<void> {
  const outcome = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(outcome).toBeInstanceOf(TesseraError);
  expect((outcome as TesseraError).code).toBe('INVALID_ARGUMENT');
}

/**
 * 24 customers, one an hour from 2024-01-01, then 8 days on: team monthly (ACTIVE), a pro trial
 * (IN_TRIAL), workspaces (an annual ws-paid and a ws-free, per resource), a team annual cancelled
 * at once (CANCELED, free after it), a storage plan starting on Mar 1 (NOT_STARTED), a premium
 * trial that ran out (EXPIRED, free after it).
 */
async function seed(env: Env): Promise<void> {
  const { engine, clock } = env;
  for (let i = 0; i < 24; i++) {
    const customerId = `cu${String(i).padStart(2, '0')}`;
    switch (i % 6) {
      case 0:
        await engine.provisionCustomer({ customerId, subscriptionParams: { planId: 'team', billingPeriod: 'MONTHLY', billableFeatures: [{ featureId: 'seats', quantity: 1 }] } });
        break;
      case 1:
        await engine.provisionCustomer({ customerId, subscriptionParams: { planId: 'pro', billingPeriod: 'MONTHLY', billableFeatures: [{ featureId: 'seats', quantity: 1 }] } });
        break;
      case 2:
        await engine.provisionCustomer({ customerId, subscriptionParams: { planId: 'ws-paid', billingPeriod: 'ANNUALLY', resourceId: `ws-${i}` } });
        await engine.provisionSubscription({ customerId, planId: 'ws-free', resourceId: `ws-${i}b` });
        break;
      case 3: {
        const { subscription } = await engine.provisionCustomer({ customerId, subscriptionParams: { planId: 'team', billingPeriod: 'ANNUALLY', billableFeatures: [{ featureId: 'seats', quantity: 1 }] } });
        await engine.cancelSubscription({ subscriptionId: subscription!.id, cancellationTime: 'IMMEDIATE' });
        break;
      }
      case 4:
        await engine.provisionCustomer({
          customerId,
          subscriptionParams: { planId: 'storage-volume', billingPeriod: 'MONTHLY', billableFeatures: [{ featureId: 'storage-gb', quantity: 5 }], startDate: '2024-03-01T00:00:00Z' },
        });
        break;
      default:
        await engine.provisionCustomer({ customerId, subscriptionParams: { planId: 'premium', billingPeriod: 'MONTHLY' } });
    }
    clock.advance({ hours: 1 });
  }
  clock.advance({ days: 8 });
}

for (const factory of storeFactories()) {
  describe(factory.name, () => {
    describe('filters and sorts', () => {
      let env: Env;
      let all: Subscription[];

      beforeAll(async () => {
        env = await engineOn(factory, { catalog: pricingCatalog, start: '2024-01-01T00:00:00Z' });
        await seed(env);
        all = (await allPages(env.engine, { first: 1000 })).flat();
      });
      afterAll(async () => {
        await env?.cleanup();
      });

      it('lists every subscription once, oldest first by default', async () => {
        // Per 6 customers: 1 + 1 + 2 + 2 (team, then free) + 1 + 2 (premium, then free) = 9.
        expect(all).toHaveLength(36);
        expect(new Set(all.map((s) => s.id)).size).toBe(36);
        const created = all.map((s) => s.createdAt.getTime());
        expect(created).toEqual([...created].sort((a, b) => a - b));
        expect(new Set(all.map((s) => s.status))).toEqual(new Set(['ACTIVE', 'IN_TRIAL', 'CANCELED', 'NOT_STARTED', 'EXPIRED']));
        const page = await env.engine.getSubscriptions();
        expect(page.data).toHaveLength(36); // default page size 50
        expect(page.pageInfo).toEqual({ hasNextPage: false, endCursor: expect.any(String) });
      });

      const stringCases: [StringField, string, unknown][] = [
        ['customerId', 'eq', 'cu03'],
        ['customerId', 'ne', 'cu03'],
        ['customerId', 'in', ['cu01', 'cu05', 'cu99']],
        ['customerId', 'notIn', ['cu01', 'cu05']],
        ['productId', 'eq', 'workspace'],
        ['productId', 'ne', 'app'],
        ['productId', 'in', ['app', 'storage']],
        ['productId', 'notIn', ['app']],
        ['planId', 'eq', 'team'],
        ['planId', 'ne', 'team'],
        ['planId', 'in', ['team', 'pro']],
        ['planId', 'notIn', ['free', 'team']],
        ['resourceId', 'eq', 'ws-2'],
        ['resourceId', 'ne', 'ws-2'],
        ['resourceId', 'in', ['ws-2', 'ws-8b']],
        ['resourceId', 'notIn', ['ws-2', 'ws-8b']],
        ['status', 'eq', 'ACTIVE'],
        ['status', 'ne', 'ACTIVE'],
        ['status', 'in', ['IN_TRIAL', 'NOT_STARTED']],
        ['status', 'notIn', ['ACTIVE', 'CANCELED']],
        ['billingPeriod', 'eq', 'MONTHLY'],
        ['billingPeriod', 'ne', 'MONTHLY'],
        ['billingPeriod', 'in', ['ANNUALLY']],
        ['billingPeriod', 'notIn', ['MONTHLY']],
      ];
      for (const [field, op, operand] of stringCases) {
        it(`filters ${field} ${op} ${JSON.stringify(operand)}`, async () => {
          const expected = all.filter((s) => holds(s, field, op, operand));
          expect(expected.length).toBeGreaterThan(0);
          const got = (await allPages(env.engine, { filter: { [field]: { [op]: operand } }, first: 1000 })).flat();
          expect(ids(got)).toEqual(ids(expected));
        });
      }

      for (const field of DATE_FIELDS) {
        for (const op of ['lt', 'lte', 'gt', 'gte'] as const) {
          it(`filters ${field} ${op} an instant that some subscription has (boundary included only by lte/gte)`, async () => {
            const values = [...new Set(all.map((s) => valueOf(s, field)).filter((v): v is number => v !== null))].sort((a, b) => a - b);
            expect(values.length).toBeGreaterThan(1);
            const pivot = new Date(values[Math.floor(values.length / 2)]!);
            const expected = all.filter((s) => holds(s, field, op, pivot));
            // The pivot is given as an ISO string: instants cross the API as Date or ISO-8601.
            const got = (await allPages(env.engine, { filter: { [field]: { [op]: pivot.toISOString() } }, first: 1000 })).flat();
            expect(ids(got)).toEqual(ids(expected));
            const asDate = (await allPages(env.engine, { filter: { [field]: { [op]: pivot } }, first: 1000 })).flat();
            expect(ids(asDate)).toEqual(ids(expected));
          });
        }
      }

      it('ANDs the conditions of one filter object', async () => {
        const filter = { productId: { eq: 'app' }, status: { ne: 'CANCELED' }, createdAt: { gte: all[10]!.createdAt } };
        const expected = all.filter((s) => holds(s, 'productId', 'eq', 'app') && holds(s, 'status', 'ne', 'CANCELED') && holds(s, 'createdAt', 'gte', all[10]!.createdAt));
        expect(expected.length).toBeGreaterThan(0);
        expect(ids((await allPages(env.engine, { filter, first: 1000 })).flat())).toEqual(ids(expected));
      });

      it('nests or inside and inside or', async () => {
        const filter = {
          or: [
            { planId: { eq: 'team' }, billingPeriod: { eq: 'MONTHLY' } },
            {
              and: [
                { productId: { eq: 'workspace' } },
                { or: [{ billingPeriod: { eq: 'ANNUALLY' } }, { resourceId: { in: ['ws-2b', 'ws-14b'] } }] },
              ],
            },
            { trialEndDate: { gt: all[0]!.createdAt }, status: { eq: 'EXPIRED' } },
          ],
        };
        const expected = all.filter(
          (s) =>
            (holds(s, 'planId', 'eq', 'team') && holds(s, 'billingPeriod', 'eq', 'MONTHLY')) ||
            (holds(s, 'productId', 'eq', 'workspace') && (holds(s, 'billingPeriod', 'eq', 'ANNUALLY') || holds(s, 'resourceId', 'in', ['ws-2b', 'ws-14b']))) ||
            (holds(s, 'trialEndDate', 'gt', all[0]!.createdAt) && holds(s, 'status', 'eq', 'EXPIRED')),
        );
        // team monthly x4, ws-paid x4, two ws-free, premium x4.
        expect(expected).toHaveLength(14);
        expect(ids((await allPages(env.engine, { filter, first: 1000 })).flat())).toEqual(ids(expected));
      });

      it('an empty and/or list and a filter matching nothing are fine', async () => {
        expect((await env.engine.getSubscriptions({ filter: { customerId: { eq: 'nobody' } } })).data).toEqual([]);
        expect((await env.engine.getSubscriptions({ filter: { and: [{ or: [{ planId: { eq: 'pro' } }, { planId: { eq: 'nope' } }] }] } })).data).toHaveLength(4);
      });

      for (const field of SORT_FIELDS) {
        for (const direction of ['ASC', 'DESC'] as const) {
          it(`sorts by ${field} ${direction}, paging 7 at a time`, async () => {
            const pages = await allPages(env.engine, { sort: { field, direction }, first: 7 });
            expect(pages.slice(0, -1).every((p) => p.length === 7)).toBe(true);
            const seen = pages.flat();
            expect(seen).toHaveLength(all.length);
            expect(ids(seen)).toEqual(ids(all));
            const keys = seen.map((s) => valueOf(s, field) ?? '');
            for (let i = 1; i < keys.length; i++) {
              const [a, b] = [keys[i - 1]!, keys[i]!];
              if (direction === 'ASC') expect(a <= b, `${String(a)} then ${String(b)}`).toBe(true);
              else expect(a >= b, `${String(a)} then ${String(b)}`).toBe(true);
            }
          });
        }
      }

      it('filters, sorts and pages together', async () => {
        const filter = { productId: { in: ['app', 'workspace'] }, status: { notIn: ['CANCELED'] } };
        const pages = await allPages(env.engine, { filter, sort: { field: 'customerId', direction: 'DESC' }, first: 4 });
        const seen = pages.flat();
        const expected = all.filter((s) => holds(s, 'productId', 'in', ['app', 'workspace']) && holds(s, 'status', 'notIn', ['CANCELED']));
        expect(ids(seen)).toEqual(ids(expected));
        const customers = seen.map((s) => s.customerId);
        expect(customers).toEqual([...customers].sort().reverse());
      });

      it('rejects a cursor it did not make, or one of another sort, with INVALID_ARGUMENT', async () => {
        const { engine } = env;
        await expectInvalid(engine.getSubscriptions({ after: 'not-a-cursor' }));
        await expectInvalid(engine.getSubscriptions({ after: Buffer.from('{"x":1}').toString('base64url') }));
        await expectInvalid(engine.getSubscriptions({ after: Buffer.from(JSON.stringify(['createdAt', 1, 7])).toString('base64url') }));
        const byCustomer = await engine.getSubscriptions({ sort: { field: 'customerId' }, first: 2 });
        await expectInvalid(engine.getSubscriptions({ sort: { field: 'createdAt' }, after: byCustomer.pageInfo.endCursor! }));
        await expectInvalid(engine.getSubscriptions({ sort: { field: 'customerId', direction: 'DESC' }, after: 'AAAA' }));
      });

      it('rejects unknown fields, operators of another type, bad values and page sizes with INVALID_ARGUMENT', async () => {
        const { engine } = env;
        const bad: unknown[] = [
          { filter: { plan: { eq: 'team' } } },
          { filter: { planId: { lt: 'team' } } },
          { filter: { createdAt: { in: ['2024-01-01T00:00:00Z'] } } },
          { filter: { createdAt: { gte: 'yesterday' } } },
          { filter: { planId: { eq: 42 } } },
          { sort: { field: 'planId' } },
          { sort: { field: 'createdAt', direction: 'UP' } },
          { first: 0 },
          { first: 1001 },
          { first: 2.5 },
        ];
        for (const params of bad) await expectInvalid(engine.getSubscriptions(params as GetSubscriptionsParams));
      });
    });

    describe('cursor pagination through 10,000 subscriptions', () => {
      const COUNT = 10_000;
      let env: Env;
      let originals: Set<string>;
      let added = 0;

      /** One new customer with a free subscription. */
      const addOne = async (customerId: string) => {
        const { subscription } = await env.engine.provisionCustomer({ customerId, subscriptionParams: { planId: 'free' } });
        added++;
        return subscription!.id;
      };

      beforeAll(async () => {
        env = await engineOn(factory, { catalog: pricingCatalog, start: '2024-01-01T00:00:00Z' });
        originals = new Set();
        for (let i = 0; i < COUNT; i++) {
          // Ten customers share each millisecond: ties on createdAt are broken by id.
          if (i % 10 === 0) env.clock.advance(1);
          originals.add(await addOne(`p${String(i).padStart(5, '0')}`));
        }
      }, 300_000);
      afterAll(async () => {
        await env?.cleanup();
      });

      it('visits each subscription exactly once, oldest first, while new ones are inserted between pages', { timeout: 120_000 }, async () => {
        const inserted: string[] = [];
        const pages = await allPages(env.engine, { first: 1000 }, async (page) => {
          env.clock.advance(1000);
          for (let k = 0; k < 3; k++) inserted.push(await addOne(`new-asc-${page}-${k}`));
        });
        const seen = pages.flat().map((s) => s.id);
        expect(new Set(seen).size).toBe(seen.length); // nothing twice
        const seenSet = new Set(seen);
        expect([...originals].every((id) => seenSet.has(id))).toBe(true);
        // Created after the cursor's position in createdAt order, the new ones come on later pages.
        expect(inserted.filter((id) => !seenSet.has(id))).toEqual([]);
        expect(seen.slice(-inserted.length)).toEqual(inserted);
        const created = pages.flat().map((s) => s.createdAt.getTime());
        expect(created).toEqual([...created].sort((a, b) => a - b));
      });

      it('sorted by customerId DESC, pages skip and repeat nothing while customers sorting before and after the cursor are inserted', { timeout: 120_000 }, async () => {
        const ahead: string[] = [];
        const pages = await allPages(env.engine, { sort: { field: 'customerId', direction: 'DESC' }, first: 700 }, async (page) => {
          env.clock.advance(1000);
          await addOne(`z-${page}`); // sorts before every "p…" customer in DESC order: already passed
          await addOne(`a-${page}`); // sorts after them: to come, on the last page
          // Between two customers of the pages still to come.
          ahead.push(await addOne(`p${String(Math.max(0, COUNT - page * 700 - 350)).padStart(5, '0')}x`));
        });
        const seen = pages.flat();
        const seenIds = new Set(seen.map((s) => s.id));
        expect(seenIds.size).toBe(seen.length);
        expect([...originals].every((id) => seenIds.has(id))).toBe(true);
        expect(ahead.filter((id) => !seenIds.has(id))).toEqual([]);
        expect(seen.some((s) => s.customerId.startsWith('z-'))).toBe(false);
        const customers = seen.map((s) => s.customerId);
        expect(customers).toEqual([...customers].sort().reverse());
        expect(added).toBeGreaterThan(COUNT);
      });
    });
  });
}

/**
 * Conformance cases for `querySubscriptions` (held to `runSubscriptionQuery` of @tessera/core, the
 * reference semantics, on the same records), `countPromotionCodeRedemptions`, invoices, and the
 * record fields added with them (`couponAppliedAt`, `promotionCodeAppliedAt`).
 *
 * Strings in the fixture are ASCII plus Latin-1 letters: there JavaScript's UTF-16 order and
 * SQLite's byte order (UTF-8) agree. They differ only between characters above U+FFFF and those
 * in U+E000..U+FFFF, which no case relies on.
 */
import {
  fieldValue,
  runSubscriptionQuery,
  statusAt,
  type SubscriptionFilter,
  type SubscriptionQuery,
  type SubscriptionRecord,
  type SubscriptionSortField,
  type SubscriptionStatus,
} from '@tessera/core';
import { describe, expect } from 'vitest';
import type { Harness } from './cases.js';
import { DAY, T0, bareInvoice, bareSubscription, customer, expectCode, invoice, subscription } from './fixtures.js';

/** The instant effective statuses are computed at. */
const NOW = T0 + 100 * DAY;

type Dates = Pick<SubscriptionRecord, 'status' | 'startDate' | 'trialEndDate' | 'endDate' | 'cancellationDate'>;
const dates = (d: Partial<Dates>): Dates => ({ status: 'ACTIVE', startDate: NOW - 50 * DAY, trialEndDate: null, endDate: null, cancellationDate: null, ...d });

/** Date shapes, each with the effective status it has at NOW (boundaries included on purpose). */
const SHAPES: [SubscriptionStatus, Dates][] = [
  ['ACTIVE', dates({})],
  // Cancelled at period end: still active until the end date.
  ['ACTIVE', dates({ endDate: NOW + 10 * DAY, cancellationDate: NOW - DAY })],
  ['ACTIVE', dates({ startDate: NOW - 40 * DAY, trialEndDate: NOW - 26 * DAY })],
  // The trial ends exactly now: `now < trialEnd` fails, so ACTIVE although stored IN_TRIAL.
  ['ACTIVE', dates({ status: 'IN_TRIAL', startDate: NOW - 14 * DAY, trialEndDate: NOW })],
  // Starts exactly now: not NOT_STARTED.
  ['ACTIVE', dates({ status: 'NOT_STARTED', startDate: NOW })],
  ['IN_TRIAL', dates({ status: 'IN_TRIAL', startDate: NOW - 5 * DAY, trialEndDate: NOW + 9 * DAY })],
  ['IN_TRIAL', dates({ status: 'IN_TRIAL', startDate: NOW - 5 * DAY, trialEndDate: NOW + 9 * DAY, endDate: NOW + 9 * DAY })],
  ['NOT_STARTED', dates({ status: 'NOT_STARTED', startDate: NOW + 20 * DAY })],
  ['NOT_STARTED', dates({ status: 'NOT_STARTED', startDate: NOW + 20 * DAY, trialEndDate: NOW + 34 * DAY, endDate: NOW + 50 * DAY })],
  // Ends exactly now: `now >= end`.
  ['CANCELED', dates({ endDate: NOW, cancellationDate: NOW - 30 * DAY })],
  ['CANCELED', dates({ status: 'CANCELED', endDate: NOW - 10 * DAY, cancellationDate: NOW - 30 * DAY })],
  // Cancelled before it started: end <= start, so ended although the start is still ahead.
  ['CANCELED', dates({ status: 'NOT_STARTED', startDate: NOW + 30 * DAY, endDate: NOW + 30 * DAY, cancellationDate: NOW - 2 * DAY })],
  // A trial that ran out unconverted; stored ACTIVE, derived EXPIRED.
  ['EXPIRED', dates({ startDate: NOW - 15 * DAY, trialEndDate: NOW - DAY, endDate: NOW - DAY })],
  ['EXPIRED', dates({ startDate: NOW + 5 * DAY, endDate: NOW + DAY })],
  ['EXPIRED', dates({ status: 'IN_TRIAL', endDate: NOW - 5 * DAY })],
  // Awaiting payment wins over every date.
  ['PAYMENT_PENDING', dates({ status: 'PAYMENT_PENDING', startDate: NOW - DAY, endDate: NOW - DAY })],
  ['PAYMENT_PENDING', dates({ status: 'PAYMENT_PENDING', startDate: NOW + 10 * DAY })],
];

const CUSTOMERS = ['acme', 'Zed', 'beta', 'acme-eu', 'café', 'b'];
const PRODUCTS = ['app', 'api', 'App'];
const PLANS = ['free', 'pro', 'team', 'pro-2'];
const RESOURCES = ['', 'site-1', 'site-2', 'site-10', 'site-1 '];
const PERIODS = ['MONTHLY', 'ANNUALLY', null] as const;

/**
 * 34 subscriptions spread over customers, products, plans, resources, billing periods (null
 * included), dates and statuses; createdAt values repeat (ties broken by id) and ids are not in
 * createdAt order.
 */
function querySubscriptionsFixture(): SubscriptionRecord[] {
  return Array.from({ length: 34 }, (_, i) => {
    const [, shape] = SHAPES[i % SHAPES.length]!;
    return subscription(`sub-${String((i * 13) % 34).padStart(2, '0')}`, CUSTOMERS[i % CUSTOMERS.length]!, {
      productId: PRODUCTS[i % PRODUCTS.length]!,
      planId: PLANS[(i * 3) % PLANS.length]!,
      resourceId: RESOURCES[i % RESOURCES.length]!,
      billingPeriod: PERIODS[(i * 2) % PERIODS.length]!,
      ...shape,
      promotionCode: i % 4 === 0 ? 'WELCOME' : i % 4 === 1 ? 'SPRING' : null,
      promotionCodeAppliedAt: i % 4 < 2 ? T0 + i : null,
      createdAt: T0 + ((i * 7) % 11) * DAY,
      updatedAt: T0 + 200 * DAY,
    });
  });
}

const f = {
  eq: (field: string, value: string | number) => ({ field, op: 'eq', value }) as SubscriptionFilter,
  ne: (field: string, value: string | number) => ({ field, op: 'ne', value }) as SubscriptionFilter,
  in: (field: string, value: string[]) => ({ field, op: 'in', value }) as SubscriptionFilter,
  notIn: (field: string, value: string[]) => ({ field, op: 'notIn', value }) as SubscriptionFilter,
  cmp: (field: string, op: 'lt' | 'lte' | 'gt' | 'gte', value: number) => ({ field, op, value }) as SubscriptionFilter,
};

/** Filters for the matrix: each operator on each kind of field, nulls, boundaries, and/or nesting. */
const FILTERS: [string, SubscriptionFilter | undefined][] = [
  ['no filter', undefined],
  ['customerId eq', f.eq('customerId', 'acme')],
  ['customerId eq (no match, case differs)', f.eq('customerId', 'ACME')],
  ['customerId ne', f.ne('customerId', 'acme')],
  ['customerId in', f.in('customerId', ['acme', 'café', 'nobody'])],
  ['customerId notIn', f.notIn('customerId', ['acme', 'Zed'])],
  ['productId eq', f.eq('productId', 'App')],
  ['productId in', f.in('productId', ['app', 'api'])],
  ['planId ne', f.ne('planId', 'free')],
  ['planId notIn', f.notIn('planId', ['pro', 'pro-2'])],
  ["resourceId eq ''", f.eq('resourceId', '')],
  ['resourceId eq (trailing space)', f.eq('resourceId', 'site-1 ')],
  ['resourceId notIn', f.notIn('resourceId', ['', 'site-1'])],
  ['billingPeriod eq (nulls fail)', f.eq('billingPeriod', 'MONTHLY')],
  ['billingPeriod ne (nulls pass)', f.ne('billingPeriod', 'MONTHLY')],
  ['billingPeriod in (nulls fail)', f.in('billingPeriod', ['MONTHLY', 'ANNUALLY'])],
  ['billingPeriod notIn (nulls pass)', f.notIn('billingPeriod', ['ANNUALLY'])],
  ['in [] matches nothing', f.in('billingPeriod', [])],
  ['notIn [] matches everything, nulls too', f.notIn('billingPeriod', [])],
  ['status eq ACTIVE (derived)', f.eq('status', 'ACTIVE')],
  ['status eq IN_TRIAL', f.eq('status', 'IN_TRIAL')],
  ['status eq NOT_STARTED', f.eq('status', 'NOT_STARTED')],
  ['status eq CANCELED', f.eq('status', 'CANCELED')],
  ['status eq EXPIRED', f.eq('status', 'EXPIRED')],
  ['status eq PAYMENT_PENDING', f.eq('status', 'PAYMENT_PENDING')],
  ['status in live', f.in('status', ['ACTIVE', 'IN_TRIAL', 'NOT_STARTED', 'PAYMENT_PENDING'])],
  ['status notIn ended', f.notIn('status', ['CANCELED', 'EXPIRED'])],
  ['status ne ACTIVE', f.ne('status', 'ACTIVE')],
  ['createdAt eq', f.eq('createdAt', T0 + 3 * DAY)],
  ['createdAt ne', f.ne('createdAt', T0 + 3 * DAY)],
  ['createdAt lt (boundary excluded)', f.cmp('createdAt', 'lt', T0 + 3 * DAY)],
  ['createdAt lte (boundary included)', f.cmp('createdAt', 'lte', T0 + 3 * DAY)],
  ['createdAt gt', f.cmp('createdAt', 'gt', T0 + 7 * DAY)],
  ['createdAt gte', f.cmp('createdAt', 'gte', T0 + 7 * DAY)],
  ['startDate eq', f.eq('startDate', NOW)],
  ['startDate lt', f.cmp('startDate', 'lt', NOW)],
  ['endDate lt (nulls fail)', f.cmp('endDate', 'lt', NOW + 11 * DAY)],
  ['endDate gte (nulls fail)', f.cmp('endDate', 'gte', NOW)],
  ['endDate ne (nulls fail)', f.ne('endDate', NOW)],
  ['endDate eq', f.eq('endDate', NOW - DAY)],
  ['trialEndDate gt (nulls fail)', f.cmp('trialEndDate', 'gt', NOW - 30 * DAY)],
  ['trialEndDate lte', f.cmp('trialEndDate', 'lte', NOW)],
  ['and', { and: [f.eq('productId', 'app'), f.in('status', ['ACTIVE', 'IN_TRIAL'])] }],
  ['or', { or: [f.eq('customerId', 'Zed'), f.cmp('endDate', 'lt', NOW)] }],
  [
    'or of ands with a nested or',
    {
      or: [
        { and: [f.eq('productId', 'api'), f.ne('billingPeriod', 'ANNUALLY')] },
        { and: [f.notIn('status', ['ACTIVE']), { or: [f.eq('resourceId', ''), f.cmp('trialEndDate', 'gte', NOW)] }] },
      ],
    },
  ],
  ['and of a null-failing and a null-passing term', { and: [f.cmp('endDate', 'gt', 0), f.notIn('billingPeriod', ['MONTHLY'])] }],
  ['empty and matches everything', { and: [] }],
  ['empty or matches nothing', { or: [] }],
  ['and containing an empty or', { and: [f.eq('customerId', 'acme'), { or: [] }] }],
];

const SORTS: { field: SubscriptionSortField; direction: 'ASC' | 'DESC' }[] = (
  ['createdAt', 'customerId', 'productId', 'resourceId', 'status'] as const
).flatMap((field) => [
  { field, direction: 'ASC' as const },
  { field, direction: 'DESC' as const },
]);

const ids = (rows: readonly SubscriptionRecord[]) => rows.map((r) => r.id);
const cursorOf = (row: SubscriptionRecord, q: SubscriptionQuery) => ({ value: fieldValue(row, q.sort.field, q.now)!, id: row.id });

/** Registers the query, invoice and new-field cases inside the adapter's conformance suite. */
export function queryCases({ read, write, test }: Harness): void {
  describe('querySubscriptions', () => {
    const fixture = querySubscriptionsFixture();
    const load = () =>
      write(async (tx) => {
        for (const s of fixture) await tx.putSubscription(s);
      });

    test('the fixture covers every derived status, billing period and null date', () => {
      // Checks the fixture itself, so that the comparisons below are not vacuous.
      const statuses = new Set(fixture.map((s) => statusAt(s, NOW)));
      expect([...statuses].sort()).toEqual(['ACTIVE', 'CANCELED', 'EXPIRED', 'IN_TRIAL', 'NOT_STARTED', 'PAYMENT_PENDING']);
      for (const [expected, shape] of SHAPES) expect(statusAt({ ...fixture[0]!, ...shape }, NOW)).toBe(expected);
      expect(new Set(fixture.map((s) => s.billingPeriod))).toEqual(new Set(PERIODS));
      expect(fixture.some((s) => s.endDate === null) && fixture.some((s) => s.trialEndDate === null)).toBe(true);
      expect(new Set(fixture.map((s) => s.id)).size).toBe(fixture.length);
      expect(new Set(fixture.map((s) => s.createdAt)).size).toBeLessThan(fixture.length);
      return Promise.resolve();
    });

    test('every filter under every sort returns what runSubscriptionQuery returns', async () => {
      await load();
      const meantEmpty = new Set(['customerId eq (no match, case differs)', 'in [] matches nothing', 'empty or matches nothing', 'and containing an empty or']);
      await read(async (tx) => {
        for (const [name, filter] of FILTERS) {
          for (const sort of SORTS) {
            const q: SubscriptionQuery = { sort, limit: 100, now: NOW, ...(filter ? { filter } : {}) };
            const expected = runSubscriptionQuery(fixture, q);
            expect(await tx.querySubscriptions(q), `${name}, ${sort.field} ${sort.direction}`).toEqual(expected);
            // The fixture gives every other filter something to select, so no comparison is vacuous.
            expect(expected.length === 0, name).toBe(meantEmpty.has(name));
          }
        }
      });
    });

    test('status is derived at query.now, not read from the stored status', async () => {
      await load();
      const later = NOW + 30 * DAY;
      const earlier = NOW - 60 * DAY;
      await read(async (tx) => {
        for (const now of [earlier, later]) {
          for (const filter of [f.eq('status', 'ACTIVE'), f.in('status', ['IN_TRIAL', 'NOT_STARTED']), f.eq('status', 'EXPIRED')]) {
            for (const direction of ['ASC', 'DESC'] as const) {
              const q: SubscriptionQuery = { filter, sort: { field: 'status', direction }, limit: 100, now };
              expect(ids(await tx.querySubscriptions(q))).toEqual(ids(runSubscriptionQuery(fixture, q)));
            }
          }
        }
      });
      const trialNow = { sort: { field: 'createdAt', direction: 'ASC' }, limit: 100, filter: f.eq('status', 'IN_TRIAL') } as const;
      // Every trial running at NOW ends within 9 days; stored statuses say IN_TRIAL throughout.
      const inTrialNow = ids(await read((tx) => tx.querySubscriptions({ ...trialNow, now: NOW })));
      const inTrialLater = ids(await read((tx) => tx.querySubscriptions({ ...trialNow, now: NOW + 10 * DAY })));
      expect(inTrialNow.length).toBeGreaterThan(0);
      expect(inTrialLater.filter((id) => inTrialNow.includes(id))).toEqual([]);
      expect(fixture.filter((s) => inTrialNow.includes(s.id)).every((s) => s.status === 'IN_TRIAL')).toBe(true);
    });

    test('limit caps the page; limit 0 returns nothing', async () => {
      await load();
      const sort = { field: 'customerId', direction: 'ASC' } as const;
      const page = await read((tx) => tx.querySubscriptions({ sort, limit: 5, now: NOW }));
      expect(ids(page)).toEqual(ids(runSubscriptionQuery(fixture, { sort, limit: 5, now: NOW })));
      expect(page).toHaveLength(5);
      expect(await read((tx) => tx.querySubscriptions({ sort, limit: 0, now: NOW }))).toEqual([]);
    });

    test('paging with limit 7 from the last row’s (value, id) visits every match once, in order, for every sort', async () => {
      await load();
      for (const filter of [undefined, f.notIn('billingPeriod', ['ANNUALLY']), f.in('status', ['ACTIVE', 'CANCELED', 'PAYMENT_PENDING'])]) {
        for (const sort of SORTS) {
          const base = { sort, now: NOW, ...(filter ? { filter } : {}) };
          const all = runSubscriptionQuery(fixture, { ...base, limit: 1000 });
          const seen: SubscriptionRecord[] = [];
          let after: SubscriptionQuery['after'];
          for (let pages = 0; ; pages++) {
            expect(pages, 'paging terminates').toBeLessThan(20);
            const q: SubscriptionQuery = { ...base, limit: 7, ...(after ? { after } : {}) };
            const page = await read((tx) => tx.querySubscriptions(q));
            expect(page, `${sort.field} ${sort.direction} page ${pages}`).toEqual(runSubscriptionQuery(fixture, q));
            seen.push(...page);
            if (page.length < 7) break;
            after = cursorOf(page[page.length - 1]!, q);
          }
          expect(ids(seen)).toEqual(ids(all));
        }
      }
    });

    test('paging while subscriptions are inserted between pages skips and repeats nothing', async () => {
      await load();
      let added = 0;
      for (const sort of SORTS) {
        const before = await read((tx) => tx.querySubscriptions({ sort, limit: 1000, now: NOW }));
        const inserted = new Set<string>();
        const seen: string[] = [];
        let after: SubscriptionQuery['after'];
        for (let pages = 0; ; pages++) {
          expect(pages, 'paging terminates').toBeLessThan(40);
          const q: SubscriptionQuery = { sort, limit: 7, now: NOW, ...(after ? { after } : {}) };
          const page = await read((tx) => tx.querySubscriptions(q));
          seen.push(...ids(page));
          if (page.length < 7) break;
          after = cursorOf(page[page.length - 1]!, q);
          // Between the first pages only, so that the walk ends. New subscriptions created later than any existing one, with values that sort both
          // before and after the cursor.
          if (pages >= 4) continue;
          await write(async (tx) => {
            for (let j = 0; j < 2; j++) {
              const n = ++added;
              const id = `new-${String(n).padStart(3, '0')}`;
              inserted.add(id);
              await tx.putSubscription({
                ...bareSubscription(id, n % 2 === 0 ? 'aaa' : 'zzz'),
                productId: n % 2 === 0 ? 'aaa' : 'zzz',
                resourceId: n % 2 === 0 ? '' : 'zzz',
                ...SHAPES[n % SHAPES.length]![1],
                createdAt: T0 + 300 * DAY + n,
              });
            }
          });
        }
        expect(inserted.size).toBeGreaterThan(0);
        expect(new Set(seen).size, `${sort.field} ${sort.direction}: no row repeated`).toBe(seen.length);
        const seenSet = new Set(seen);
        for (const s of before) expect(seenSet.has(s.id), `${sort.field} ${sort.direction}: ${s.id} not skipped`).toBe(true);
        for (const id of seen) expect(before.some((s) => s.id === id) || inserted.has(id)).toBe(true);
        // And the walk came in the query's order.
        const current = await read((tx) => tx.querySubscriptions({ sort, limit: 1000, now: NOW }));
        expect(ids(runSubscriptionQuery(current, { sort, limit: 1000, now: NOW })).filter((id) => seenSet.has(id))).toEqual(seen);
        // Rows created after every existing one follow the cursor of an ascending createdAt walk.
        if (sort.field === 'createdAt' && sort.direction === 'ASC') for (const id of inserted) expect(seenSet.has(id)).toBe(true);
      }
      expect(added).toBeGreaterThan(0);
    });

    test('countPromotionCodeRedemptions counts the subscriptions carrying a code, exactly as written', async () => {
      await load();
      const welcome = fixture.filter((s) => s.promotionCode === 'WELCOME');
      expect(welcome.length).toBeGreaterThan(1);
      await read(async (tx) => {
        expect(await tx.countPromotionCodeRedemptions('WELCOME')).toBe(welcome.length);
        expect(await tx.countPromotionCodeRedemptions('SPRING')).toBe(fixture.filter((s) => s.promotionCode === 'SPRING').length);
        expect(await tx.countPromotionCodeRedemptions('welcome')).toBe(0);
        expect(await tx.countPromotionCodeRedemptions('NOPE')).toBe(0);
      });
      await write((tx) => tx.putSubscription({ ...welcome[0]!, promotionCode: null, promotionCodeAppliedAt: null }));
      expect(await read((tx) => tx.countPromotionCodeRedemptions('WELCOME'))).toBe(welcome.length - 1);
    });
  });

  describe('invoices', () => {
    test('round-trips invoices with every field and nulls; listInvoices orders by createdAt then id', async () => {
      // Inserted out of order; i-b and i-a share a createdAt, so id breaks the tie.
      const all = [
        invoice('i-c', { createdAt: T0 + 3 * DAY }),
        bareInvoice('i-b', { createdAt: T0 + DAY }),
        invoice('i-a', { createdAt: T0 + DAY, subscriptionId: 's2', dedupeKey: 'renewal:s2:1' }),
        invoice('i-d', { createdAt: T0, status: 'PAID' }),
      ];
      await write(async (tx) => {
        for (const i of all) expect(await tx.insertInvoice(i)).toBe(true);
      });
      const [c, b, a, d] = all;
      await read(async (tx) => {
        expect(await tx.listInvoices({ customerId: 'c1' })).toEqual([d, a, b, c]);
        expect(await tx.listInvoices({ customerId: 'c1', subscriptionId: 's1' })).toEqual([d, c]);
        expect(await tx.listInvoices({ customerId: 'c1', subscriptionId: 's2' })).toEqual([a]);
        expect(await tx.listInvoices({ customerId: 'c1', subscriptionId: 'none' })).toEqual([]);
        expect(await tx.listInvoices({ customerId: 'c2' })).toEqual([]);
      });
    });

    test('a second invoice with the same customer and dedupeKey is refused and leaves the first; another customer may reuse the key', async () => {
      const first = invoice('i1', { dedupeKey: 'renewal:s1:2024-02' });
      const again = invoice('i2', { dedupeKey: 'renewal:s1:2024-02', total: '99.00', createdAt: T0 + 5 * DAY });
      const otherCustomer = invoice('i3', { customerId: 'c2', dedupeKey: 'renewal:s1:2024-02' });
      expect(await write((tx) => tx.insertInvoice(first))).toBe(true);
      expect(await write((tx) => tx.insertInvoice(again))).toBe(false);
      // Also within one transaction, after another write.
      expect(
        await write(async (tx) => {
          await tx.putCustomer(customer('c1'));
          return tx.insertInvoice({ ...again, id: 'i4' });
        }),
      ).toBe(false);
      expect(await write((tx) => tx.insertInvoice(otherCustomer))).toBe(true);
      await read(async (tx) => {
        expect(await tx.listInvoices({ customerId: 'c1' })).toEqual([first]);
        expect(await tx.listInvoices({ customerId: 'c2' })).toEqual([otherCustomer]);
      });
    });

    test('a rolled-back transaction leaves no invoice, and its dedupeKey stays free', async () => {
      const boom = new Error('boom');
      await expect(
        write(async (tx) => {
          expect(await tx.insertInvoice(invoice('i1'))).toBe(true);
          expect(await tx.listInvoices({ customerId: 'c1' })).toEqual([invoice('i1')]);
          throw boom;
        }),
      ).rejects.toBe(boom);
      expect(await read((tx) => tx.listInvoices({ customerId: 'c1' }))).toEqual([]);
      expect(await write((tx) => tx.insertInvoice(invoice('i1')))).toBe(true);
      expect(await read((tx) => tx.listInvoices({ customerId: 'c1' }))).toEqual([invoice('i1')]);
    });

    test('insertInvoice in a read transaction rejects with CONFLICT', async () => {
      await read(async (tx) => {
        await expectCode('CONFLICT', () => tx.insertInvoice(invoice('i1')));
      });
      expect(await read((tx) => tx.listInvoices({ customerId: 'c1' }))).toEqual([]);
    });
  });

  describe('applied-at fields', () => {
    test('couponAppliedAt round-trips a value and null, and an absent one reads back as null', async () => {
      const { couponAppliedAt: _, ...withoutField } = customer('c3');
      await write(async (tx) => {
        await tx.putCustomer(customer('c1', { couponAppliedAt: T0 + 7 }));
        await tx.putCustomer(customer('c2', { couponId: null, couponAppliedAt: null }));
        await tx.putCustomer(withoutField);
      });
      await read(async (tx) => {
        expect(await tx.getCustomer('c1')).toEqual(customer('c1', { couponAppliedAt: T0 + 7 }));
        expect((await tx.getCustomer('c2'))?.couponAppliedAt).toBeNull();
        expect((await tx.getCustomer('c3'))?.couponAppliedAt ?? null).toBeNull();
      });
      await write((tx) => tx.putCustomer(customer('c1', { couponId: null, couponAppliedAt: null })));
      expect((await read((tx) => tx.getCustomer('c1')))?.couponAppliedAt).toBeNull();
    });

    test('promotionCodeAppliedAt round-trips a value and null, also through getSubscription, listSubscriptionsByCustomer and querySubscriptions', async () => {
      const { promotionCodeAppliedAt: _, ...withoutField } = subscription('s3', 'c1', { createdAt: T0 + 3 });
      const s1 = subscription('s1', 'c1', { promotionCodeAppliedAt: T0 + 9, createdAt: T0 + 1 });
      const s2 = subscription('s2', 'c1', { promotionCode: null, promotionCodeAppliedAt: null, createdAt: T0 + 2 });
      await write(async (tx) => {
        await tx.putSubscription(s1);
        await tx.putSubscription(s2);
        await tx.putSubscription(withoutField);
      });
      await read(async (tx) => {
        expect(await tx.getSubscription('s1')).toEqual(s1);
        expect((await tx.getSubscription('s2'))?.promotionCodeAppliedAt).toBeNull();
        expect((await tx.getSubscription('s3'))?.promotionCodeAppliedAt ?? null).toBeNull();
        const listed = await tx.listSubscriptionsByCustomer('c1');
        expect(listed.slice(0, 2)).toEqual([s1, s2]);
        const queried = await tx.querySubscriptions({ sort: { field: 'createdAt', direction: 'ASC' }, limit: 2, now: NOW });
        expect(queried).toEqual([s1, s2]);
      });
      await write((tx) => tx.putSubscription({ ...s1, promotionCodeAppliedAt: null }));
      expect((await read((tx) => tx.getSubscription('s1')))?.promotionCodeAppliedAt).toBeNull();
    });
  });
}

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  TesseraError,
  type CatalogDefinition,
  type EntitlementDefinition,
  type FeatureDefinition,
  type MeterCondition,
  type MeteredEntitlement,
  type RawEvent,
  type TesseraErrorCode,
} from '@tessera/core';
import { demoCatalog, engineOn, storeFactories } from './stores.js';

// Meters over raw events (docs/metering.md#meters, #late-events, #history): every aggregation,
// every filter operator, reset windows and late events, and usage history.

type Env = Awaited<ReturnType<typeof engineOn>>;

const at = (iso: string): Date => new Date(iso);
const T0 = at('2024-01-31T10:00:00Z');
const FEB29 = at('2024-02-29T10:00:00Z');
const MAR31 = at('2024-03-31T10:00:00Z');
const APR30 = at('2024-04-30T10:00:00Z');
const MAY31 = at('2024-05-31T10:00:00Z');

/** A COUNT meter on `probe` events with one filter of one condition. */
const probe = (id: string, ...conditions: MeterCondition[]): FeatureDefinition => ({
  id,
  type: 'METERED',
  meter: { eventName: 'probe', filters: [{ conditions }], aggregation: { type: 'COUNT' } },
});

const FEATURES: FeatureDefinition[] = [
  // Aggregations over api_request events.
  { id: 'req-count', type: 'METERED', meter: { eventName: 'api_request', aggregation: { type: 'COUNT' } } },
  { id: 'tokens-sum', type: 'METERED', meter: { eventName: 'api_request', aggregation: { type: 'SUM', field: 'tokens' } } },
  { id: 'tokens-max', type: 'METERED', meter: { eventName: 'api_request', aggregation: { type: 'MAX', field: 'tokens' } } },
  { id: 'tokens-min', type: 'METERED', meter: { eventName: 'api_request', aggregation: { type: 'MIN', field: 'tokens' } } },
  { id: 'tokens-avg', type: 'METERED', meter: { eventName: 'api_request', aggregation: { type: 'AVG', field: 'tokens' } } },
  { id: 'users', type: 'METERED', meter: { eventName: 'api_request', aggregation: { type: 'UNIQUE_COUNT', field: 'user' } } },
  { id: 'queue-depth', type: 'METERED', meter: { eventName: 'queue_sample', aggregation: { type: 'LATEST', field: 'depth' } } },
  // A dimension named like an Object.prototype member.
  { id: 'ctor-unique', type: 'METERED', meter: { eventName: 'odd', aggregation: { type: 'UNIQUE_COUNT', field: 'constructor' } } },
  // One condition per operator, over `probe` events.
  probe('eq-200', { field: 'status', operator: 'EQUALS', value: 200 }),
  probe('eq-200-str', { field: 'status', operator: 'EQUALS', value: '200' }),
  probe('eq-flag', { field: 'flag', operator: 'EQUALS', value: true }),
  probe('ne-200', { field: 'status', operator: 'NOT_EQUALS', value: 200 }),
  probe('ne-pro', { field: 'plan', operator: 'NOT_EQUALS', value: 'pro' }),
  probe('in-plan', { field: 'plan', operator: 'IN', value: ['pro', 'team'] }),
  probe('not-in-plan', { field: 'plan', operator: 'NOT_IN', value: ['pro', 'team'] }),
  probe('gt-200', { field: 'status', operator: 'GREATER_THAN', value: 200 }),
  probe('gte-200', { field: 'status', operator: 'GREATER_THAN_OR_EQUAL', value: 200 }),
  probe('lt-404', { field: 'status', operator: 'LESS_THAN', value: 404 }),
  probe('lte-404', { field: 'status', operator: 'LESS_THAN_OR_EQUAL', value: 404 }),
  probe('gt-plan-str', { field: 'plan', operator: 'GREATER_THAN', value: 'pro' }),
  probe('gte-status-str', { field: 'status', operator: 'GREATER_THAN_OR_EQUAL', value: '200' }),
  probe('lt-route-str', { field: 'route', operator: 'LESS_THAN', value: '/v2' }),
  probe('lte-plan-str', { field: 'plan', operator: 'LESS_THAN_OR_EQUAL', value: 'pro' }),
  probe('contains-chat', { field: 'route', operator: 'CONTAINS', value: 'chat' }),
  probe('contains-status', { field: 'status', operator: 'CONTAINS', value: '0' }),
  probe('starts-v1', { field: 'route', operator: 'STARTS_WITH', value: '/v1/' }),
  probe('ends-search', { field: 'route', operator: 'ENDS_WITH', value: 'search' }),
  probe('region-null', { field: 'region', operator: 'IS_NULL' }),
  probe('region-not-null', { field: 'region', operator: 'IS_NOT_NULL' }),
  probe('pro-and-eu', { field: 'plan', operator: 'EQUALS', value: 'pro' }, { field: 'region', operator: 'EQUALS', value: 'eu' }),
  {
    id: 'team-or-404',
    type: 'METERED',
    meter: {
      eventName: 'probe',
      filters: [{ conditions: [{ field: 'plan', operator: 'EQUALS', value: 'team' }] }, { conditions: [{ field: 'status', operator: 'EQUALS', value: 404 }] }],
      aggregation: { type: 'COUNT' },
    },
  },
  {
    id: 'pro-or-eu',
    type: 'METERED',
    meter: {
      eventName: 'probe',
      filters: [{ conditions: [{ field: 'plan', operator: 'EQUALS', value: 'pro' }] }, { conditions: [{ field: 'region', operator: 'EQUALS', value: 'eu' }] }],
      aggregation: { type: 'COUNT' },
    },
  },
  // Reset periods, over `job` events.
  { id: 'jobs-month', type: 'METERED', meter: { eventName: 'job', aggregation: { type: 'SUM', field: 'units' } } },
  { id: 'jobs-day', type: 'METERED', meter: { eventName: 'job', aggregation: { type: 'SUM', field: 'units' } } },
  { id: 'jobs-hour', type: 'METERED', meter: { eventName: 'job', aggregation: { type: 'COUNT' } } },
  { id: 'jobs-ever', type: 'METERED', meter: { eventName: 'job', aggregation: { type: 'SUM', field: 'units' } } },
  { id: 'jobs-cal-month', type: 'METERED', meter: { eventName: 'job', aggregation: { type: 'COUNT' } } },
];

const RESET: Record<string, Partial<EntitlementDefinition>> = {
  'jobs-day': { resetPeriod: 'DAY' },
  'jobs-hour': { resetPeriod: 'HOUR' },
  'jobs-ever': { resetPeriod: null },
  'jobs-cal-month': { resetPeriod: 'MONTH', resetPeriodConfiguration: { monthlyAccordingTo: 'START_OF_THE_MONTH' } },
};

/** The demo catalog plus the meter-fed features above on the free plan (monthly unless RESET says). */
function meteredCatalog(): CatalogDefinition {
  const c = structuredClone(demoCatalog);
  c.features.push(...structuredClone(FEATURES));
  c.plans
    .find((p) => p.id === 'free')!
    .entitlements!.push(...FEATURES.map((f): EntitlementDefinition => ({ featureId: f.id, usageLimit: 1_000_000, resetPeriod: 'MONTH', ...RESET[f.id] })));
  return c;
}

async function expectCode(call: Promise<unknown>, code: TesseraErrorCode, field?: RegExp): Promise<TesseraError> {
  const outcome = await call.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
  if (outcome.ok) throw new Error(`expected a rejection, got ${JSON.stringify(outcome.value)}`);
  expect(outcome.error).toBeInstanceOf(TesseraError);
  const e = outcome.error as TesseraError;
  expect(e.code).toBe(code);
  if (field) expect(e.details.field).toMatch(field);
  return e;
}

let keys = 0;
/** An event of c1 with a fresh idempotency key. */
const ev = (eventName: string, dimensions: RawEvent['dimensions'], timestamp?: Date | string): RawEvent => ({
  customerId: 'c1',
  eventName,
  idempotencyKey: `k${++keys}`,
  dimensions,
  ...(timestamp === undefined ? {} : { timestamp }),
});

for (const factory of storeFactories()) {
  describe(factory.name, () => {
    let env: Env;
    beforeEach(async () => {
      env = await engineOn(factory, { catalog: meteredCatalog() });
      await env.engine.provisionCustomer({ customerId: 'c1' });
    });
    afterEach(async () => {
      await env.cleanup();
    });

    const check = async (featureId: string): Promise<MeteredEntitlement> =>
      (await env.engine.getMeteredEntitlement({ customerId: 'c1', featureId })) as MeteredEntitlement;
    const usageOf = async (featureId: string): Promise<number> => (await check(featureId)).currentUsage;
    const history = async (featureId: string, start: Date | string, end: Date | string, groupBy?: string) =>
      (await env.engine.getUsageHistory({ customerId: 'c1', featureId, start, end, ...(groupBy === undefined ? {} : { groupBy }) })).periods;

    describe('aggregations', () => {
      const requests = () => [
        ev('api_request', { tokens: 812, user: 'ann' }),
        ev('api_request', { tokens: 90, user: 'bob' }),
        ev('api_request', { tokens: 100, user: 'ann' }),
        ev('api_request', { tokens: 198, user: 1 }),
        // No tokens: a request for COUNT, nothing for the numeric aggregations.
        ev('api_request', { user: '1' }),
        // Not a number: likewise.
        ev('api_request', { tokens: 'many', user: true }),
      ];

      it('COUNT counts every event of the name: 6', async () => {
        await env.engine.reportEvent(requests());
        expect(await usageOf('req-count')).toBe(6);
      });

      it('SUM adds the numeric field: 812 + 90 + 100 + 198 = 1200', async () => {
        await env.engine.reportEvent(requests());
        expect(await usageOf('tokens-sum')).toBe(1200);
      });

      it('MAX and MIN keep the largest and smallest field: 812 and 90', async () => {
        await env.engine.reportEvent(requests());
        expect(await usageOf('tokens-max')).toBe(812);
        expect(await usageOf('tokens-min')).toBe(90);
      });

      it('AVG is sum / count of the events that have the field: 1200 / 4 = 300', async () => {
        await env.engine.reportEvent(requests());
        expect(await usageOf('tokens-avg')).toBe(300);
      });

      it('AVG of 1 and 2 is 1.5, and it moves with each event across calls', async () => {
        await env.engine.reportEvent(ev('api_request', { tokens: 1 }));
        await env.engine.reportEvent(ev('api_request', { tokens: 2 }));
        expect(await usageOf('tokens-avg')).toBe(1.5);
        await env.engine.reportEvent(ev('api_request', { tokens: 6 }));
        expect(await usageOf('tokens-avg')).toBe(3);
      });

      it('UNIQUE_COUNT counts distinct values with their type: ann, bob, 1, "1", true = 5', async () => {
        await env.engine.reportEvent(requests());
        expect(await usageOf('users')).toBe(5);
        // Across calls: a value seen before in the window adds nothing, a new one adds 1.
        await env.engine.reportEvent([ev('api_request', { user: 'bob' }), ev('api_request', { user: 'cat' })]);
        expect(await usageOf('users')).toBe(6);
      });

      it('MAX and MIN with negative values', async () => {
        await env.engine.reportEvent([ev('api_request', { tokens: -5 }), ev('api_request', { tokens: -7 }), ev('api_request', { tokens: -1 })]);
        expect(await usageOf('tokens-max')).toBe(-1);
        expect(await usageOf('tokens-min')).toBe(-7);
        expect(await usageOf('tokens-sum')).toBe(-13);
      });

      it('one event feeds every meter of its name, and the result lists each usage cell', async () => {
        const r = await env.engine.reportEvent(ev('api_request', { tokens: 40, user: 'ann' }));
        expect(r.usage.map((u) => [u.featureId, u.currentUsage]).sort()).toEqual([
          ['req-count', 1],
          ['tokens-avg', 40],
          ['tokens-max', 40],
          ['tokens-min', 40],
          ['tokens-sum', 40],
          ['users', 1],
        ]);
      });

      describe('LATEST', () => {
        beforeEach(() => {
          env.clock.advance({ hours: 1 });
        });
        const ts = (minutes: number) => new Date(T0.getTime() + minutes * 60_000);

        it('is the field of the event with the latest timestamp; an older event arriving later does not replace it', async () => {
          await env.engine.reportEvent(ev('queue_sample', { depth: 7 }, ts(10)));
          await env.engine.reportEvent(ev('queue_sample', { depth: 4 }, ts(30)));
          expect(await usageOf('queue-depth')).toBe(4);
          await env.engine.reportEvent(ev('queue_sample', { depth: 99 }, ts(20)));
          expect(await usageOf('queue-depth')).toBe(4);
          await env.engine.reportEvent(ev('queue_sample', { depth: 0 }, ts(31)));
          expect(await usageOf('queue-depth')).toBe(0);
        });

        it('on a timestamp tie keeps the larger value, so arrival order never matters', async () => {
          await env.engine.reportEvent(ev('queue_sample', { depth: 4 }, ts(30)));
          await env.engine.reportEvent(ev('queue_sample', { depth: 2 }, ts(30)));
          expect(await usageOf('queue-depth')).toBe(4);
          await env.engine.reportEvent(ev('queue_sample', { depth: 9 }, ts(30)));
          expect(await usageOf('queue-depth')).toBe(9);
        });

        it('on a tie within one batch keeps the larger value too', async () => {
          await env.engine.reportEvent([ev('queue_sample', { depth: 9 }, ts(30)), ev('queue_sample', { depth: 4 }, ts(30)), ev('queue_sample', { depth: 5 }, ts(20))]);
          expect(await usageOf('queue-depth')).toBe(9);
        });

        it('takes the value of the latest event even when it is smaller than an earlier one', async () => {
          await env.engine.reportEvent([ev('queue_sample', { depth: 50 }, ts(1)), ev('queue_sample', { depth: -3 }, ts(2))]);
          expect(await usageOf('queue-depth')).toBe(-3);
        });
      });

      it('a dimension named like an Object.prototype member counts only when the event has it', async () => {
        // `constructor` is not a dimension of the first event: MISSING_DIMENSION, no usage.
        const r = await env.engine.reportEvent([ev('odd', { other: 1 }), ev('odd', { constructor: 'x' })]);
        expect(r.unmatched).toBe(1);
        expect(await usageOf('ctor-unique')).toBe(1);
        expect((await env.engine.getUnmatchedEvents()).data.map((e) => e.reason)).toEqual(['MISSING_DIMENSION']);
      });
    });

    describe('filters', () => {
      // Each probe-* feature counts the events its filter passes.
      const events = () => [
        ev('probe', { plan: 'pro', status: 200, route: '/v1/search', region: 'eu', flag: true }), // p1
        ev('probe', { plan: 'free', status: 404, route: '/v2/chat', region: 'us', flag: 'true' }), // p2
        ev('probe', { plan: 'pro', status: '200', route: '/v1/chat' }), // p3: status is a string, no region
        ev('probe', { plan: 'team', status: 500, route: 'health', region: 'eu' }), // p4
        ev('probe', { status: 301 }), // p5: no plan, route or region
      ];
      const expected: [string, number, string][] = [
        ['eq-200', 1, 'p1 only: EQUALS is strict, "200" (p3) is not 200'],
        ['eq-200-str', 1, 'p3 only'],
        ['eq-flag', 1, 'p1 only: "true" (p2) is not true'],
        ['ne-200', 4, 'p2, p3 ("200"), p4, p5'],
        ['ne-pro', 3, 'p2, p4 and p5, which has no plan'],
        ['in-plan', 3, 'p1, p3, p4'],
        ['not-in-plan', 2, 'p2 and p5, which has no plan'],
        ['gt-200', 3, 'p2 (404), p4 (500), p5 (301); p3 is a string'],
        ['gte-200', 4, 'p1, p2, p4, p5'],
        ['lt-404', 2, 'p1 (200), p5 (301)'],
        ['lte-404', 3, 'p1, p2, p5'],
        ['gt-plan-str', 1, 'p4: "team" > "pro"; "free" and "pro" are not'],
        ['gte-status-str', 1, 'p3 only: numbers are not compared with strings'],
        ['lt-route-str', 2, 'p1, p3 ("/v1/..." < "/v2"); "/v2/chat" and "health" are not'],
        ['lte-plan-str', 3, 'p1, p2, p3 ("free" and "pro" <= "pro"); not "team", not a missing plan'],
        ['contains-chat', 2, 'p2, p3'],
        ['contains-status', 1, 'p3 only: CONTAINS applies to strings'],
        ['starts-v1', 2, 'p1, p3'],
        ['ends-search', 1, 'p1'],
        ['region-null', 2, 'p3, p5'],
        ['region-not-null', 3, 'p1, p2, p4'],
        ['pro-and-eu', 1, 'p1: conditions of one filter are ANDed'],
        ['team-or-404', 2, 'p4 by the first filter, p2 by the second'],
        ['pro-or-eu', 3, 'p1 (both filters, counted once), p3, p4'],
      ];

      it.each(expected)('%s counts %i (%s)', async (featureId, count) => {
        await env.engine.reportEvent(events());
        expect(await usageOf(featureId)).toBe(count);
      });

      it('one event counts in exactly the meters whose filters it passes', async () => {
        const r = await env.engine.reportEvent(ev('probe', { plan: 'pro', status: 200, region: 'us', route: '/v2/x', flag: false }));
        expect(r.unmatched).toBe(0);
        expect(r.usage.map((u) => u.featureId).sort()).toEqual(['eq-200', 'gte-200', 'in-plan', 'lt-404', 'lte-404', 'lte-plan-str', 'pro-or-eu', 'region-not-null']);
      });
    });

    describe('windows', () => {
      it('a monthly window anchored on Jan 31 10:00: Feb 29 09:59 counts in [Jan 31, Feb 29 10:00), 10:00 in [Feb 29, Mar 31)', async () => {
        env.clock.set(FEB29);
        const r = await env.engine.reportEvent([ev('job', { units: 3 }, '2024-02-29T09:59:00Z'), ev('job', { units: 5 }, '2024-02-29T10:00:00Z')]);
        expect(r.usage.filter((u) => u.featureId === 'jobs-month').map((u) => [u.usagePeriodStart, u.usagePeriodEnd, u.currentUsage])).toEqual([
          [T0, FEB29, 3],
          [FEB29, MAR31, 5],
        ]);
        expect(await check('jobs-month')).toMatchObject({ currentUsage: 5, usagePeriodStart: FEB29, usagePeriodEnd: MAR31 });
        expect(await history('jobs-month', T0, MAR31)).toEqual([
          { start: T0, end: FEB29, value: 3 },
          { start: FEB29, end: MAR31, value: 5 },
        ]);
      });

      it('a late event counts in its past window: it changes history, not the current usage', async () => {
        await env.engine.reportEvent(ev('job', { units: 10 }, T0));
        env.clock.set('2024-03-05T00:00:00Z');
        await env.engine.reportEvent(ev('job', { units: 1 }));
        expect(await usageOf('jobs-month')).toBe(1);
        const r = await env.engine.reportEvent(ev('job', { units: 7 }, '2024-02-20T00:00:00Z'));
        expect(r.usage.find((u) => u.featureId === 'jobs-month')).toMatchObject({ currentUsage: 17, usagePeriodStart: T0, usagePeriodEnd: FEB29 });
        expect(await usageOf('jobs-month')).toBe(1);
        expect(await history('jobs-month', T0, MAR31)).toEqual([
          { start: T0, end: FEB29, value: 17 }, // 10 + the late 7
          { start: FEB29, end: MAR31, value: 1 },
        ]);
      });

      it('a late event changes its window of LATEST only when it is the latest there', async () => {
        env.clock.set('2024-03-05T00:00:00Z');
        await env.engine.reportEvent(ev('queue_sample', { depth: 5 }, '2024-02-10T00:00:00Z'));
        await env.engine.reportEvent(ev('queue_sample', { depth: 8 }, '2024-02-01T00:00:00Z'));
        await env.engine.reportEvent(ev('queue_sample', { depth: 2 }));
        expect(await usageOf('queue-depth')).toBe(2);
        expect(await history('queue-depth', T0, MAR31)).toEqual([
          { start: T0, end: FEB29, value: 5 },
          { start: FEB29, end: MAR31, value: 2 },
        ]);
      });

      it('DAY and HOUR windows are UTC clock days and hours', async () => {
        env.clock.set('2024-02-01T01:30:00Z');
        const r = await env.engine.reportEvent([
          ev('job', { units: 1 }, '2024-01-31T10:00:00Z'),
          ev('job', { units: 2 }, '2024-01-31T10:59:59.999Z'),
          ev('job', { units: 4 }, '2024-01-31T11:00:00Z'),
          ev('job', { units: 8 }, '2024-01-31T23:59:59Z'),
          ev('job', { units: 16 }, '2024-02-01T00:00:00Z'),
          ev('job', { units: 32 }, '2024-02-01T01:10:00Z'),
        ]);
        const cells = (featureId: string) =>
          r.usage.filter((u) => u.featureId === featureId).map((u) => [u.usagePeriodStart?.toISOString(), u.usagePeriodEnd?.toISOString(), u.currentUsage]);
        expect(cells('jobs-day')).toEqual([
          ['2024-01-31T00:00:00.000Z', '2024-02-01T00:00:00.000Z', 15], // 1 + 2 + 4 + 8
          ['2024-02-01T00:00:00.000Z', '2024-02-02T00:00:00.000Z', 48], // 16 + 32
        ]);
        expect(cells('jobs-hour')).toEqual([
          ['2024-01-31T10:00:00.000Z', '2024-01-31T11:00:00.000Z', 2],
          ['2024-01-31T11:00:00.000Z', '2024-01-31T12:00:00.000Z', 1],
          ['2024-01-31T23:00:00.000Z', '2024-02-01T00:00:00.000Z', 1],
          ['2024-02-01T00:00:00.000Z', '2024-02-01T01:00:00.000Z', 1],
          ['2024-02-01T01:00:00.000Z', '2024-02-01T02:00:00.000Z', 1],
        ]);
        expect(await check('jobs-day')).toMatchObject({ currentUsage: 48, usagePeriodStart: at('2024-02-01T00:00:00Z'), usagePeriodEnd: at('2024-02-02T00:00:00Z') });
        expect(await check('jobs-hour')).toMatchObject({ currentUsage: 1, usagePeriodStart: at('2024-02-01T01:00:00Z') });
        env.clock.set('2024-02-01T02:00:00Z');
        expect(await usageOf('jobs-hour')).toBe(0);
        expect(await usageOf('jobs-day')).toBe(48);
        env.clock.set('2024-02-02T00:00:00Z');
        expect(await usageOf('jobs-day')).toBe(0);
      });

      it('a calendar-month window (START_OF_THE_MONTH) runs from the 1st 00:00 UTC', async () => {
        env.clock.set('2024-02-01T00:00:00Z');
        await env.engine.reportEvent([ev('job', { units: 1 }, '2024-01-31T23:59:59Z'), ev('job', { units: 1 }, '2024-02-01T00:00:00Z')]);
        expect(await check('jobs-cal-month')).toMatchObject({ currentUsage: 1, usagePeriodStart: at('2024-02-01T00:00:00Z'), usagePeriodEnd: at('2024-03-01T00:00:00Z') });
      });

      it('a meter without reset period accumulates across months in one window', async () => {
        await env.engine.reportEvent(ev('job', { units: 5 }));
        env.clock.set('2024-03-15T00:00:00Z');
        await env.engine.reportEvent(ev('job', { units: 6 }));
        env.clock.set('2024-06-15T00:00:00Z');
        const r = await env.engine.reportEvent(ev('job', { units: 7 }));
        expect(r.usage.find((u) => u.featureId === 'jobs-ever')).toMatchObject({ currentUsage: 18, usagePeriodStart: null, usagePeriodEnd: null });
        expect(await check('jobs-ever')).toMatchObject({ currentUsage: 18 });
        expect(await usageOf('jobs-month')).toBe(7);
        expect(await history('jobs-ever', '2024-01-01T00:00:00Z', '2024-12-31T00:00:00Z')).toEqual([{ start: null, end: null, value: 18 }]);
      });
    });

    describe('getUsageHistory', () => {
      /** Reports jobs while the clock moves through the months (events must not be TOO_LATE). */
      async function fourMonths(): Promise<void> {
        const job = async (when: string, units: number, team: string) => {
          env.clock.set(when);
          await env.engine.reportEvent(ev('job', { units, team }));
        };
        await job('2024-02-01T00:00:00Z', 10, 'red');
        await job('2024-02-20T00:00:00Z', 5, 'blue');
        await job('2024-02-29T10:00:00Z', 7, 'red'); // the first instant of the second window
        // Nothing in [Mar 31, Apr 30).
        await job('2024-05-01T00:00:00Z', 3, 'blue');
        await job('2024-05-02T00:00:00Z', 4, 'blue');
      }

      it('returns the windows with usage over several months, oldest first', async () => {
        await fourMonths();
        expect(await history('jobs-month', '2024-01-01T00:00:00Z', '2024-07-01T00:00:00Z')).toEqual([
          { start: T0, end: FEB29, value: 15 },
          { start: FEB29, end: MAR31, value: 7 },
          { start: APR30, end: MAY31, value: 7 },
        ]);
      });

      it('returns the windows that overlap [start, end)', async () => {
        await fourMonths();
        // [Mar 1, May 1) overlaps [Feb 29, Mar 31) and [Apr 30 10:00, May 31).
        expect(await history('jobs-month', '2024-03-01T00:00:00Z', '2024-05-01T00:00:00Z')).toEqual([
          { start: FEB29, end: MAR31, value: 7 },
          { start: APR30, end: MAY31, value: 7 },
        ]);
        // end is exclusive: a range ending at Feb 29 10:00 leaves the window starting then out.
        expect(await history('jobs-month', T0, FEB29)).toEqual([{ start: T0, end: FEB29, value: 15 }]);
        expect(await history('jobs-month', MAR31, APR30)).toEqual([]);
      });

      it('with groupBy splits each window by the dimension', async () => {
        await fourMonths();
        await env.engine.reportEvent(ev('job', { units: 100 })); // no team: its own group, null
        const periods = await history('jobs-month', '2024-01-01T00:00:00Z', '2024-07-01T00:00:00Z', 'team');
        const sorted = periods.map((p) => ({ ...p, groups: [...(p.groups ?? [])].sort((a, b) => String(a.value).localeCompare(String(b.value))) }));
        expect(sorted).toEqual([
          { start: T0, end: FEB29, value: 15, groups: [{ value: 'blue', usage: 5 }, { value: 'red', usage: 10 }] },
          { start: FEB29, end: MAR31, value: 7, groups: [{ value: 'red', usage: 7 }] },
          { start: APR30, end: MAY31, value: 107, groups: [{ value: 'blue', usage: 7 }, { value: null, usage: 100 }] },
        ]);
      });

      it('groupBy recomputes each aggregation per group', async () => {
        env.clock.advance({ hours: 1 });
        const ts = (minutes: number) => new Date(T0.getTime() + minutes * 60_000);
        await env.engine.reportEvent([
          ev('api_request', { tokens: 10, user: 'ann', route: 'a' }, ts(1)),
          ev('api_request', { tokens: 30, user: 'ann', route: 'a' }, ts(2)),
          ev('api_request', { tokens: 5, user: 'bob', route: 'b' }, ts(3)),
          ev('api_request', { user: 'cat', route: 'b' }, ts(4)),
          ev('queue_sample', { depth: 9, route: 'a' }, ts(5)),
          ev('queue_sample', { depth: 4, route: 'a' }, ts(6)),
          ev('queue_sample', { depth: 1, route: 'b' }, ts(6)),
          ev('queue_sample', { depth: 7, route: 'b' }, ts(6)),
        ]);
        const groups = async (featureId: string) => {
          const [p] = await history(featureId, T0, FEB29, 'route');
          return Object.fromEntries((p?.groups ?? []).map((g) => [String(g.value), g.usage]));
        };
        expect(await groups('req-count')).toEqual({ a: 2, b: 2 });
        expect(await groups('tokens-sum')).toEqual({ a: 40, b: 5 });
        expect(await groups('tokens-max')).toEqual({ a: 30, b: 5 });
        expect(await groups('tokens-min')).toEqual({ a: 10, b: 5 });
        expect(await groups('tokens-avg')).toEqual({ a: 20, b: 5 });
        expect(await groups('users')).toEqual({ a: 1, b: 2 });
        expect(await groups('queue-depth')).toEqual({ a: 4, b: 7 }); // b: tie at minute 6 keeps the larger
      });

      it('groupBy a dimension the events lack puts them in one null group, also for names like toString', async () => {
        await env.engine.reportEvent([ev('job', { units: 2 }), ev('job', { units: 3 })]);
        for (const groupBy of ['colour', 'toString']) {
          expect(await history('jobs-month', T0, FEB29, groupBy)).toEqual([{ start: T0, end: FEB29, value: 5, groups: [{ value: null, usage: 5 }] }]);
        }
      });

      it('groupBy on a feature without a meter is INVALID_ARGUMENT', async () => {
        await env.engine.reportUsage({ customerId: 'c1', featureId: 'api-calls', value: 3 });
        await expectCode(env.engine.getUsageHistory({ customerId: 'c1', featureId: 'api-calls', start: T0, end: FEB29, groupBy: 'route' }), 'INVALID_ARGUMENT', /groupBy$/);
        expect((await env.engine.getUsageHistory({ customerId: 'c1', featureId: 'api-calls', start: T0, end: FEB29 })).periods).toEqual([{ start: T0, end: FEB29, value: 3 }]);
      });

      it('rejects a missing or inverted range, an unknown feature and an unknown customer', async () => {
        await expectCode(env.engine.getUsageHistory({ customerId: 'c1', featureId: 'jobs-month', end: FEB29 } as never), 'INVALID_ARGUMENT', /start$/);
        await expectCode(env.engine.getUsageHistory({ customerId: 'c1', featureId: 'jobs-month', start: FEB29, end: T0 }), 'INVALID_ARGUMENT', /end$/);
        await expectCode(env.engine.getUsageHistory({ customerId: 'c1', featureId: 'nope', start: T0, end: FEB29 }), 'FEATURE_NOT_FOUND', /featureId$/);
        await expectCode(env.engine.getUsageHistory({ customerId: 'ghost', featureId: 'jobs-month', start: T0, end: FEB29 }), 'CUSTOMER_NOT_FOUND', /customerId$/);
      });

      it('returns the customer, feature and resource it answers for', async () => {
        await env.engine.reportEvent(ev('job', { units: 2 }));
        expect(await env.engine.getUsageHistory({ customerId: 'c1', featureId: 'jobs-month', start: T0, end: FEB29 })).toEqual({
          customerId: 'c1',
          featureId: 'jobs-month',
          resourceId: null,
          entityId: null,
          periods: [{ start: T0, end: FEB29, value: 2 }],
        });
      });
    });
  });
}

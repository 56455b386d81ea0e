import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createEngine,
  testClock,
  TesseraError,
  type CatalogDefinition,
  type MeteredEntitlement,
  type RawEvent,
  type TesseraErrorCode,
  type UsageUpdatedEvent,
} from '@tessera/core';
import { demoCatalog, engineOn, storeFactories } from './stores.js';
import { rejection } from '../support/rejection.js';

// Raw event ingestion (docs/metering.md#events, #late-events, #nothing-silently-dropped):
// idempotency, whole-batch validation, unmatched events and their reasons, lateness limits.

type Env = Awaited<ReturnType<typeof engineOn>>;

/** The demo catalog plus meter-fed features on the free plan (inherited by basic and pro). */
function meteredCatalog(): CatalogDefinition {
  const c = structuredClone(demoCatalog);
  c.features.push(
    {
      id: 'tokens',
      displayName: 'Tokens',
      type: 'METERED',
      meter: {
        eventName: 'api_request',
        filters: [{ conditions: [{ field: 'route', operator: 'STARTS_WITH', value: '/v1/' }] }],
        aggregation: { type: 'SUM', field: 'tokens' },
      },
    },
    { id: 'requests', displayName: 'Requests', type: 'METERED', meter: { eventName: 'api_request', aggregation: { type: 'COUNT' } } },
    { id: 'upload-bytes', displayName: 'Uploaded bytes', type: 'METERED', meter: { eventName: 'upload', aggregation: { type: 'SUM', field: 'bytes' } } },
    {
      id: 'eu-searches',
      displayName: 'Searches in the EU',
      type: 'METERED',
      meter: { eventName: 'search', filters: [{ conditions: [{ field: 'region', operator: 'EQUALS', value: 'eu' }] }], aggregation: { type: 'COUNT' } },
    },
  );
  c.plans
    .find((p) => p.id === 'free')!
    .entitlements!.push(
      { featureId: 'tokens', usageLimit: 100_000, resetPeriod: 'MONTH' },
      { featureId: 'requests', usageLimit: 1000, resetPeriod: 'MONTH' },
      { featureId: 'upload-bytes', usageLimit: 1_000_000_000, resetPeriod: 'MONTH' },
      { featureId: 'eu-searches', usageLimit: 1000, resetPeriod: 'MONTH' },
    );
  return c;
}

async function expectCode(call: Promise<unknown>, code: TesseraErrorCode, field?: RegExp): Promise<TesseraError> {
  const e = await rejection(call);
  expect(e.code).toBe(code);
  if (field) expect(e.details.field).toMatch(field);
  return e;
}

const at = (iso: string): Date => new Date(iso);
const T0 = at('2024-01-31T10:00:00Z');
const FEB29 = at('2024-02-29T10:00:00Z');
const MINUTE = 60_000;
const DAY = 86_400_000;

/** A request event of customer c1. */
const req = (key: string, dims: RawEvent['dimensions'], extra: Partial<RawEvent> = {}): RawEvent => ({
  customerId: 'c1',
  eventName: 'api_request',
  idempotencyKey: key,
  dimensions: dims,
  ...extra,
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

    const usageOf = async (featureId: string, customerId = 'c1'): Promise<number> =>
      ((await env.engine.getMeteredEntitlement({ customerId, featureId })) as MeteredEntitlement).currentUsage;
    const changeCount = async (): Promise<number> => (await env.engine.getChanges({ after: 0, limit: 10000 })).length;
    const unmatched = async () => (await env.engine.getUnmatchedEvents({ first: 1000 })).data;

    describe('reportEvent', () => {
      it('meters a batch into usage and returns what it did, per feature and window', async () => {
        const r = await env.engine.reportEvent([
          req('req-1', { route: '/v1/search', tokens: 812 }),
          req('req-2', { route: '/v1/chat', tokens: 90 }),
        ]);
        expect(r.accepted).toBe(2);
        expect(r.duplicates).toBe(0);
        expect(r.unmatched).toBe(0);
        // 812 + 90 = 902 tokens; both events also count as requests.
        expect([...r.usage].sort((a, b) => a.featureId.localeCompare(b.featureId))).toEqual([
          { customerId: 'c1', resourceId: null, featureId: 'requests', currentUsage: 2, usagePeriodStart: T0, usagePeriodEnd: FEB29 },
          { customerId: 'c1', resourceId: null, featureId: 'tokens', currentUsage: 902, usagePeriodStart: T0, usagePeriodEnd: FEB29 },
        ]);
        expect(await usageOf('tokens')).toBe(902);
        expect(await usageOf('requests')).toBe(2);
      });

      it('accepts a single event as well as a list', async () => {
        const r = await env.engine.reportEvent(req('one', { route: '/v1/x', tokens: 5 }));
        expect(r).toMatchObject({ accepted: 1, duplicates: 0, unmatched: 0 });
        expect(await usageOf('tokens')).toBe(5);
      });

      it('accepts an empty list and does nothing', async () => {
        expect(await env.engine.reportEvent([])).toEqual({ accepted: 0, duplicates: 0, unmatched: 0, usage: [] });
      });

      it('a filter that does not pass leaves that meter out: /v2/ routes count as requests but not tokens', async () => {
        await env.engine.reportEvent([req('a', { route: '/v1/a', tokens: 10 }), req('b', { route: '/v2/b', tokens: 1000 })]);
        expect(await usageOf('tokens')).toBe(10);
        expect(await usageOf('requests')).toBe(2);
        expect(await unmatched()).toEqual([]);
      });

      it('usageUpdated listeners receive the new usage of every cell the batch changed', async () => {
        const seen: UsageUpdatedEvent[] = [];
        env.engine.on('usageUpdated', (e) => seen.push(e));
        await env.engine.reportEvent([req('a', { route: '/v1/a', tokens: 10 }), req('b', { route: '/v1/b', tokens: 7 })]);
        env.clock.advance({ minutes: 1 });
        await env.engine.reportEvent(req('c', { route: '/v1/c', tokens: 3 }));
        const base = { customerId: 'c1', resourceId: null, usagePeriodStart: T0, usagePeriodEnd: FEB29 };
        // One event per cell and call: tokens 10 + 7 = 17 then 20, requests 2 then 3.
        expect([...seen].sort((a, b) => a.at.getTime() - b.at.getTime() || a.featureId.localeCompare(b.featureId))).toEqual([
          { ...base, featureId: 'requests', currentUsage: 2, at: T0 },
          { ...base, featureId: 'tokens', currentUsage: 17, at: T0 },
          { ...base, featureId: 'requests', currentUsage: 3, at: new Date(T0.getTime() + MINUTE) },
          { ...base, featureId: 'tokens', currentUsage: 20, at: new Date(T0.getTime() + MINUTE) },
        ]);
      });
    });

    describe('idempotency', () => {
      it('a key repeated within one batch is stored and counted once', async () => {
        const r = await env.engine.reportEvent([
          req('k1', { route: '/v1/a', tokens: 10 }),
          req('k1', { route: '/v1/a', tokens: 99 }),
          req('k2', { route: '/v1/a', tokens: 5 }),
        ]);
        expect(r).toMatchObject({ accepted: 2, duplicates: 1, unmatched: 0 });
        // The first copy wins: 10 + 5, not 99.
        expect(await usageOf('tokens')).toBe(15);
        expect(await usageOf('requests')).toBe(2);
      });

      it('a key reported again in a later call changes nothing and is counted as a duplicate', async () => {
        await env.engine.reportEvent([req('k1', { route: '/v1/a', tokens: 10 }), req('k2', { route: '/v1/a', tokens: 5 })]);
        env.clock.advance({ hours: 1 });
        const changes = await changeCount();
        const again = await env.engine.reportEvent([req('k1', { route: '/v1/a', tokens: 10 }), req('k2', { route: '/v1/b', tokens: 500 })]);
        expect(again).toEqual({ accepted: 0, duplicates: 2, unmatched: 0, usage: [] });
        expect(await usageOf('tokens')).toBe(15);
        expect(await usageOf('requests')).toBe(2);
        expect(await changeCount()).toBe(changes);
        const mixed = await env.engine.reportEvent([req('k1', { route: '/v1/a', tokens: 10 }), req('k3', { route: '/v1/a', tokens: 1 })]);
        expect(mixed).toMatchObject({ accepted: 1, duplicates: 1 });
        expect(await usageOf('tokens')).toBe(16);
      });

      it('a key stays claimed once the event was stored unmatched', async () => {
        await env.engine.reportEvent({ customerId: 'c1', eventName: 'nobody_listens', idempotencyKey: 'u1' });
        const r = await env.engine.reportEvent(req('u1', { route: '/v1/a', tokens: 10 }));
        expect(r).toMatchObject({ accepted: 0, duplicates: 1, unmatched: 0 });
        expect(await usageOf('tokens')).toBe(0);
        expect((await unmatched()).map((e) => e.idempotencyKey)).toEqual(['u1']);
      });

      it('a key stays claimed after a restart on the same store', async () => {
        if (env.reopen === null) return; // the memory store has no second instance on the same data
        await env.engine.reportEvent(req('k1', { route: '/v1/a', tokens: 10 }));
        await env.engine.close();
        const engine = await createEngine({ store: env.reopen(), clock: env.clock });
        try {
          expect(await engine.reportEvent(req('k1', { route: '/v1/a', tokens: 10 }))).toMatchObject({ accepted: 0, duplicates: 1 });
          expect(((await engine.getMeteredEntitlement({ customerId: 'c1', featureId: 'tokens' })) as MeteredEntitlement).currentUsage).toBe(10);
        } finally {
          await engine.close();
        }
      });
    });

    describe('validation', () => {
      it('a malformed event rejects the whole batch, listing every problem by index and field, and stores nothing', async () => {
        await env.engine.reportEvent([req('before', { route: '/v1/a', tokens: 1 }), { customerId: 'c1', eventName: 'nobody_listens', idempotencyKey: 'u0' }]);
        const changes = await changeCount();
        const unmatchedBefore = await unmatched();
        const e = await expectCode(
          env.engine.reportEvent([
            req('good', { route: '/v1/a', tokens: 10 }),
            { customerId: 'c1', eventName: 'api_request', dimensions: { route: '/v1/a', tokens: 1 } } as unknown as RawEvent,
            req('obj', { route: '/v1/a', meta: { nested: true } } as unknown as RawEvent['dimensions']),
            req('when', { route: '/v1/a', tokens: 1 }, { timestamp: 'yesterday' }),
            { ...req('extra', { route: '/v1/a', tokens: 1 }), colour: 'red' } as unknown as RawEvent,
            { customerId: 'c1', eventName: 'nobody_listens', idempotencyKey: 'u-new' },
          ]),
          'INVALID_ARGUMENT',
        );
        expect(e.details.problems?.map((p) => p.path)).toEqual([
          'events[1].idempotencyKey',
          'events[2].dimensions.meta',
          'events[3].timestamp',
          'events[4].colour',
        ]);
        expect(e.details.field).toBe('events[1].idempotencyKey');
        expect(await usageOf('tokens')).toBe(1);
        expect(await usageOf('requests')).toBe(1);
        expect(await unmatched()).toEqual(unmatchedBefore);
        expect(await changeCount()).toBe(changes);
        // Nothing was claimed either: the valid events of the rejected batch go through on retry.
        expect(await env.engine.reportEvent([req('good', { route: '/v1/a', tokens: 10 }), { customerId: 'c1', eventName: 'nobody_listens', idempotencyKey: 'u-new' }])).toMatchObject({
          accepted: 2,
          duplicates: 0,
          unmatched: 1,
        });
        expect(await usageOf('tokens')).toBe(11);
      });

      it('lists several problems of one event, and rejects dimensions that are not strings, finite numbers or booleans', async () => {
        const e = await expectCode(
          env.engine.reportEvent([
            { customerId: '', eventName: 'api_request', idempotencyKey: 7, dimensions: { a: null, b: Number.NaN, c: [1], d: 'ok', e: Infinity } } as unknown as RawEvent,
            { eventName: 'api_request', idempotencyKey: 'x', dimensions: 'route=/v1' } as unknown as RawEvent,
          ]),
          'INVALID_ARGUMENT',
        );
        expect(e.details.problems?.map((p) => p.path)).toEqual([
          'events[0].customerId',
          'events[0].idempotencyKey',
          'events[0].dimensions.a',
          'events[0].dimensions.b',
          'events[0].dimensions.c',
          'events[0].dimensions.e',
          'events[1].customerId',
          'events[1].dimensions',
        ]);
      });

      it('rejects an event stamped more than 5 minutes ahead (clock skew allowance), and accepts one exactly 5 minutes ahead', async () => {
        const ahead = (ms: number) => new Date(T0.getTime() + ms);
        const e = await expectCode(env.engine.reportEvent(req('f1', { route: '/v1/a', tokens: 3 }, { timestamp: ahead(5 * MINUTE + 1) })), 'INVALID_ARGUMENT', /timestamp$/);
        expect(e.details.problems).toHaveLength(1);
        expect(await usageOf('tokens')).toBe(0);
        expect(await unmatched()).toEqual([]);
        expect(await env.engine.reportEvent(req('f2', { route: '/v1/a', tokens: 3 }, { timestamp: ahead(5 * MINUTE).toISOString() }))).toMatchObject({ accepted: 1 });
        expect(await usageOf('tokens')).toBe(3);
      });

      it('keeps every dimension, whatever its name (e.g. __proto__ from parsed JSON)', async () => {
        const dimensions = JSON.parse('{"__proto__":"x","constructor":"y","a":1}') as Record<string, string | number>;
        await env.engine.reportEvent({ customerId: 'c1', eventName: 'page_view', idempotencyKey: 'proto', dimensions });
        const [stored] = await unmatched();
        expect(Object.keys(stored!.dimensions).sort()).toEqual(['__proto__', 'a', 'constructor']);
        expect(Object.getOwnPropertyDescriptor(stored!.dimensions, '__proto__')?.value).toBe('x');
      });

      it('rejects a non-object event and a batch over the configured maximum', async () => {
        const e = await expectCode(env.engine.reportEvent([req('a', {}), 'oops' as unknown as RawEvent]), 'INVALID_ARGUMENT');
        expect(e.details.problems?.map((p) => p.path)).toEqual(['events[1]']);
        const made = factory.make();
        const small = await createEngine({ store: made.store, catalog: meteredCatalog(), clock: testClock(T0), events: { maxBatch: 2 } });
        try {
          await small.provisionCustomer({ customerId: 'c1' });
          await expectCode(small.reportEvent([req('a', {}), req('b', {}), req('c', {})]), 'INVALID_ARGUMENT', /^events$/);
          expect(await small.reportEvent([req('a', {}), req('b', {})])).toMatchObject({ accepted: 2 });
        } finally {
          await small.close();
          made.cleanup();
        }
      });
    });

    describe('unmatched events', () => {
      it('an unknown customer: stored and listed with CUSTOMER_NOT_FOUND', async () => {
        const r = await env.engine.reportEvent({ customerId: 'ghost', eventName: 'api_request', idempotencyKey: 'g1', dimensions: { route: '/v1/a', tokens: 5 } });
        expect(r).toEqual({ accepted: 1, duplicates: 0, unmatched: 1, usage: [] });
        expect(await unmatched()).toEqual([
          {
            idempotencyKey: 'g1',
            customerId: 'ghost',
            eventName: 'api_request',
            resourceId: null,
            dimensions: { route: '/v1/a', tokens: 5 },
            timestamp: T0,
            receivedAt: T0,
            reason: 'CUSTOMER_NOT_FOUND',
          },
        ]);
        // Provisioning the customer later does not count it retroactively.
        await env.engine.provisionCustomer({ customerId: 'ghost' });
        expect(await usageOf('tokens', 'ghost')).toBe(0);
      });

      it('an archived customer: CUSTOMER_NOT_FOUND', async () => {
        await env.engine.provisionCustomer({ customerId: 'gone' });
        await env.engine.archiveCustomer('gone');
        await env.engine.reportEvent({ customerId: 'gone', eventName: 'api_request', idempotencyKey: 'a1', dimensions: { route: '/v1/a', tokens: 5 } });
        expect((await unmatched()).map((e) => [e.idempotencyKey, e.reason])).toEqual([['a1', 'CUSTOMER_NOT_FOUND']]);
      });

      it('no meter has the name: NO_MATCHING_METER', async () => {
        const r = await env.engine.reportEvent({ customerId: 'c1', eventName: 'page_view', idempotencyKey: 'p1', dimensions: { path: '/' } });
        expect(r).toMatchObject({ accepted: 1, unmatched: 1, usage: [] });
        expect((await unmatched()).map((e) => [e.idempotencyKey, e.reason])).toEqual([['p1', 'NO_MATCHING_METER']]);
      });

      it('the only meter of the name filters the event out: NO_MATCHING_METER', async () => {
        const r = await env.engine.reportEvent([
          { customerId: 'c1', eventName: 'search', idempotencyKey: 's-us', dimensions: { region: 'us' } },
          { customerId: 'c1', eventName: 'search', idempotencyKey: 's-none' },
          { customerId: 'c1', eventName: 'search', idempotencyKey: 's-eu', dimensions: { region: 'eu' } },
        ]);
        expect(r).toMatchObject({ accepted: 3, unmatched: 2 });
        expect((await unmatched()).map((e) => [e.idempotencyKey, e.reason])).toEqual([
          ['s-none', 'NO_MATCHING_METER'],
          ['s-us', 'NO_MATCHING_METER'],
        ]);
        expect(await usageOf('eu-searches')).toBe(1);
      });

      it('a meter matched but the numeric field is missing or not a number: MISSING_DIMENSION', async () => {
        const r = await env.engine.reportEvent([
          { customerId: 'c1', eventName: 'upload', idempotencyKey: 'up1', dimensions: { file: 'a.csv' } },
          { customerId: 'c1', eventName: 'upload', idempotencyKey: 'up2', dimensions: { bytes: '2048' } },
          { customerId: 'c1', eventName: 'upload', idempotencyKey: 'up3', dimensions: { bytes: 2048 } },
        ]);
        expect(r).toMatchObject({ accepted: 3, unmatched: 2 });
        expect((await unmatched()).map((e) => [e.idempotencyKey, e.reason])).toEqual([
          ['up1', 'MISSING_DIMENSION'],
          ['up2', 'MISSING_DIMENSION'],
        ]);
        expect(await usageOf('upload-bytes')).toBe(2048);
      });

      it('an event some meter counted is not unmatched, even when another meter of its name lacked the field', async () => {
        // `requests` (COUNT) takes it; `tokens` (SUM) lacks the field: it counts as a request only.
        const r = await env.engine.reportEvent(req('r1', { route: '/v1/a' }));
        expect(r).toMatchObject({ accepted: 1, unmatched: 0 });
        expect(await usageOf('requests')).toBe(1);
        expect(await usageOf('tokens')).toBe(0);
        expect(await unmatched()).toEqual([]);
      });

      it('an event older than 35 days is stored but not counted: TOO_LATE; 35 days exactly still counts', async () => {
        env.clock.set('2024-03-20T10:00:00Z');
        const now = Date.parse('2024-03-20T10:00:00Z');
        const r = await env.engine.reportEvent([
          req('late', { route: '/v1/a', tokens: 7 }, { timestamp: new Date(now - 35 * DAY - 1) }),
          req('just', { route: '/v1/a', tokens: 5 }, { timestamp: new Date(now - 35 * DAY) }),
        ]);
        expect(r).toMatchObject({ accepted: 2, unmatched: 1 });
        expect((await unmatched()).map((e) => [e.idempotencyKey, e.reason])).toEqual([['late', 'TOO_LATE']]);
        // 35 days before Mar 20 10:00 is Feb 14 10:00, in the window [Jan 31, Feb 29).
        const history = await env.engine.getUsageHistory({ customerId: 'c1', featureId: 'tokens', start: T0, end: '2024-04-30T00:00:00Z' });
        expect(history.periods).toEqual([{ start: T0, end: FEB29, value: 5 }]);
      });

      it('the lateness limit is configurable: createEngine({ events: { maxLatenessMs } })', async () => {
        const made = factory.make();
        const clock = testClock(T0);
        const engine = await createEngine({ store: made.store, catalog: meteredCatalog(), clock, events: { maxLatenessMs: 60 * MINUTE } });
        try {
          await engine.provisionCustomer({ customerId: 'c1' });
          clock.advance({ hours: 3 });
          const now = clock.nowMs();
          const r = await engine.reportEvent([
            req('old', { route: '/v1/a', tokens: 7 }, { timestamp: new Date(now - 61 * MINUTE) }),
            req('recent', { route: '/v1/a', tokens: 5 }, { timestamp: new Date(now - 59 * MINUTE) }),
          ]);
          expect(r).toMatchObject({ accepted: 2, unmatched: 1 });
          expect((await engine.getUnmatchedEvents()).data.map((e) => [e.idempotencyKey, e.reason])).toEqual([['old', 'TOO_LATE']]);
          expect(((await engine.getMeteredEntitlement({ customerId: 'c1', featureId: 'tokens' })) as MeteredEntitlement).currentUsage).toBe(5);
        } finally {
          await engine.close();
          made.cleanup();
        }
      });

      it('the future skew allowance is configurable: createEngine({ events: { maxFutureMs } })', async () => {
        const made = factory.make();
        const engine = await createEngine({ store: made.store, catalog: meteredCatalog(), clock: testClock(T0), events: { maxFutureMs: 0 } });
        try {
          await engine.provisionCustomer({ customerId: 'c1' });
          await expectCode(engine.reportEvent(req('f', { route: '/v1/a', tokens: 1 }, { timestamp: new Date(T0.getTime() + 1) })), 'INVALID_ARGUMENT', /timestamp$/);
          expect(await engine.reportEvent(req('f', { route: '/v1/a', tokens: 1 }, { timestamp: T0 }))).toMatchObject({ accepted: 1 });
        } finally {
          await engine.close();
          made.cleanup();
        }
      });

      it('the customer check comes first: an unknown customer with an old event is CUSTOMER_NOT_FOUND', async () => {
        env.clock.advance({ days: 40 });
        await env.engine.reportEvent({ customerId: 'ghost', eventName: 'api_request', idempotencyKey: 'g', timestamp: T0 });
        expect((await unmatched()).map((e) => e.reason)).toEqual(['CUSTOMER_NOT_FOUND']);
      });

      it('getUnmatchedEvents pages oldest first with first/after', async () => {
        // Received one minute apart, keys deliberately not in alphabetical order of arrival.
        const keys = ['m-e', 'm-c', 'm-a', 'm-d', 'm-b'];
        for (const key of keys) {
          await env.engine.reportEvent({ customerId: 'c1', eventName: 'page_view', idempotencyKey: key });
          env.clock.advance({ minutes: 1 });
        }
        // Two in one call share receivedAt: ordered by key after the earlier ones.
        await env.engine.reportEvent([
          { customerId: 'c1', eventName: 'page_view', idempotencyKey: 'm-z' },
          { customerId: 'c1', eventName: 'page_view', idempotencyKey: 'm-y' },
        ]);
        const p1 = await env.engine.getUnmatchedEvents({ first: 2 });
        expect(p1.data.map((e) => e.idempotencyKey)).toEqual(['m-e', 'm-c']);
        expect(p1.pageInfo.hasNextPage).toBe(true);
        const p2 = await env.engine.getUnmatchedEvents({ first: 2, after: p1.pageInfo.endCursor! });
        expect(p2.data.map((e) => e.idempotencyKey)).toEqual(['m-a', 'm-d']);
        expect(p2.pageInfo.hasNextPage).toBe(true);
        const p3 = await env.engine.getUnmatchedEvents({ first: 2, after: p2.pageInfo.endCursor! });
        expect(p3.data.map((e) => e.idempotencyKey)).toEqual(['m-b', 'm-y']);
        expect(p3.pageInfo.hasNextPage).toBe(true);
        const p4 = await env.engine.getUnmatchedEvents({ first: 2, after: p3.pageInfo.endCursor! });
        expect(p4.data.map((e) => e.idempotencyKey)).toEqual(['m-z']);
        expect(p4.pageInfo.hasNextPage).toBe(false);
        expect(p4.data[0]!.receivedAt).toEqual(new Date(T0.getTime() + 5 * MINUTE));
        // A page after the last one is empty; every event is listed exactly once.
        const p5 = await env.engine.getUnmatchedEvents({ first: 2, after: p4.pageInfo.endCursor! });
        expect(p5).toEqual({ data: [], pageInfo: { hasNextPage: false, endCursor: null } });
        const all = await env.engine.getUnmatchedEvents({});
        expect(all.data.map((e) => e.idempotencyKey)).toEqual(['m-e', 'm-c', 'm-a', 'm-d', 'm-b', 'm-y', 'm-z']);
        expect(all.pageInfo.hasNextPage).toBe(false);
      });

      it('getUnmatchedEvents rejects a bad cursor and a bad page size', async () => {
        await expectCode(env.engine.getUnmatchedEvents({ after: 'not-a-cursor' }), 'INVALID_ARGUMENT', /after$/);
        await expectCode(env.engine.getUnmatchedEvents({ first: 0 }), 'INVALID_ARGUMENT', /first$/);
      });
    });
  });
}

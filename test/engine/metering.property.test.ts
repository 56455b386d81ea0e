import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TesseraError, type CatalogDefinition, type FeatureDefinition, type MeteredEntitlement, type RawEvent, type UsagePeriod } from '@tessera/core';
import { QuotaModel, arbQuotaOperations, arbReorderedBatches, referenceAggregate, type AggregatedEvent, type QuotaOutcome } from '@tessera/testing';
import { demoCatalog, engineOn, storeFactories } from './stores.js';

// Properties of metering (docs/metering.md) and of consumption and reservations
// (docs/conventions.md#consumption-and-reservations). Property runs on the engine are slower than
// on pure rules: 40 by default so CI stays fast. Run more locally with
//   FC_NUM_RUNS=1000 npx vitest run test/engine/metering.property.test.ts
const NUM_RUNS = Number(process.env.FC_NUM_RUNS ?? 40);
const fcOptions = { numRuns: NUM_RUNS };

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
/** Events of the order properties fall in [BASE, BASE + 4 days): four UTC day windows. */
const BASE = Date.parse('2024-02-05T00:00:00Z');
const SLOT = 5 * HOUR;
const SLOTS = 19; // slot 19 starts at 95 h, inside the 4th day
const QUOTA_LIMIT = 20;

const AGGREGATED: FeatureDefinition[] = [
  { id: 'p-count', type: 'METERED', meter: { eventName: 'job', aggregation: { type: 'COUNT' } } },
  { id: 'p-sum', type: 'METERED', meter: { eventName: 'job', aggregation: { type: 'SUM', field: 'v' } } },
  { id: 'p-max', type: 'METERED', meter: { eventName: 'job', aggregation: { type: 'MAX', field: 'v' } } },
  { id: 'p-min', type: 'METERED', meter: { eventName: 'job', aggregation: { type: 'MIN', field: 'v' } } },
  { id: 'p-avg', type: 'METERED', meter: { eventName: 'job', aggregation: { type: 'AVG', field: 'v' } } },
  { id: 'p-unique', type: 'METERED', meter: { eventName: 'job', aggregation: { type: 'UNIQUE_COUNT', field: 'u' } } },
  { id: 'p-latest', type: 'METERED', meter: { eventName: 'job', aggregation: { type: 'LATEST', field: 'v' } } },
];
const AGGREGATED_IDS = AGGREGATED.map((f) => f.id);
const AGGREGATIONS = new Map(AGGREGATED.map((f) => [f.id, f.meter!.aggregation]));

/** The demo catalog plus daily meters of every aggregation and a cumulative hard quota. */
function propertyCatalog(): CatalogDefinition {
  const c = structuredClone(demoCatalog);
  c.features.push(...structuredClone(AGGREGATED), { id: 'p-quota', type: 'METERED' });
  c.plans
    .find((p) => p.id === 'free')!
    .entitlements!.push(
      ...AGGREGATED.map((f) => ({ featureId: f.id, usageLimit: 1_000_000, resetPeriod: 'DAY' as const })),
      { featureId: 'p-quota', usageLimit: QUOTA_LIMIT },
    );
  return c;
}

// ---------------------------------------------------------------------------------------------
// Events and their model

/** One event of a batch; its idempotency key is its index. `v` is an integer so sums are exact. */
interface EventSpec {
  slot: number;
  v: number | undefined;
  u: string | number | boolean;
}

const arbDimensionValue = fc.constantFrom<string | number | boolean>('a', 'b', 'c', '1', 1, 2, true, false);

/** Events at 5-hour slots (timestamp ties are frequent), v mostly present, u from a small typed pool. */
const arbEventSpec: fc.Arbitrary<EventSpec> = fc.record({
  slot: fc.integer({ min: 0, max: SLOTS }),
  v: fc.option(fc.integer({ min: -50, max: 100 }), { nil: undefined, freq: 6 }),
  u: arbDimensionValue,
});

const arbEventBatch: fc.Arbitrary<EventSpec[]> = fc.array(arbEventSpec, { minLength: 1, maxLength: 25 });

/** A batch and the same events in another order and batching (arbReorderedBatches). */
const arbEventBatchReordered = arbEventBatch.chain((events) => fc.tuple(fc.constant(events), arbReorderedBatches(events.map((_, i) => i))));

const dimensionsOf = (spec: EventSpec): Record<string, string | number | boolean> => (spec.v === undefined ? { u: spec.u } : { v: spec.v, u: spec.u });

const toEvent = (customerId: string, spec: EventSpec, i: number): RawEvent => ({
  customerId,
  eventName: 'job',
  idempotencyKey: `${customerId}/e${i}`,
  timestamp: new Date(BASE + spec.slot * SLOT),
  dimensions: dimensionsOf(spec),
});

/**
 * The reference: every aggregation per UTC day, from scratch (referenceAggregate of the kit, which
 * shares no code with the engine). Days without input are absent.
 */
function model(events: readonly EventSpec[], featureIds: readonly string[] = AGGREGATED_IDS): Record<string, { start: number; value: number }[]> {
  const byDay = new Map<number, AggregatedEvent[]>();
  for (const e of events) {
    const timestamp = BASE + e.slot * SLOT;
    const day = timestamp - (timestamp % DAY);
    byDay.set(day, [...(byDay.get(day) ?? []), { timestamp, dimensions: dimensionsOf(e) }]);
  }
  const days = [...byDay.keys()].sort((a, b) => a - b);
  return Object.fromEntries(
    featureIds.map((id) => [
      id,
      days.flatMap((start) => {
        const value = referenceAggregate(AGGREGATIONS.get(id)!, byDay.get(start)!);
        return value === undefined ? [] : [{ start, value }];
      }),
    ]),
  );
}

// ---------------------------------------------------------------------------------------------
// Consumption and reservations: the kit's QuotaModel is the reference, arbQuotaOperations the
// interleavings (reserve, consume, commit, release, clock advances).

/** The outcome of one call: what it answered, or the error code it threw (null: no call). */
type Outcome = QuotaOutcome | null;

async function outcomeOf<T>(call: Promise<T>, shape: (r: T) => Record<string, unknown>): Promise<Outcome> {
  try {
    return shape(await call);
  } catch (e) {
    if (e instanceof TesseraError) return { code: e.code };
    throw e;
  }
}

for (const factory of storeFactories()) {
  describe(factory.name, () => {
    let env: Awaited<ReturnType<typeof engineOn>>;
    let run = 0;
    beforeEach(async () => {
      env = await engineOn(factory, { catalog: propertyCatalog() });
    });
    afterEach(async () => {
      await env.cleanup();
    });

    /** Fresh customers subscribed at BASE, with the clock moved past the last event slot. */
    const freshCustomers = async (n: number): Promise<string[]> => {
      env.clock.set(BASE);
      const ids = Array.from({ length: n }, (_, i) => `p${++run}-${i}`);
      for (const customerId of ids) await env.engine.provisionCustomer({ customerId });
      env.clock.set(BASE + 4 * DAY);
      return ids;
    };
    /** Every aggregated feature's history of a customer, as [windowStart, value] per feature. */
    const histories = async (customerId: string): Promise<Record<string, { start: number; value: number }[]>> => {
      const out: Record<string, { start: number; value: number }[]> = {};
      for (const featureId of AGGREGATED_IDS) {
        const { periods } = await env.engine.getUsageHistory({ customerId, featureId, start: new Date(BASE), end: new Date(BASE + 5 * DAY) });
        out[featureId] = periods.map((p: UsagePeriod) => ({ start: p.start!.getTime(), value: p.value }));
      }
      return out;
    };

    it('any order or batching of the same events gives the same usage, equal to the model, for every aggregation', async () => {
      await fc.assert(
        fc.asyncProperty(arbEventBatchReordered, async ([events, batches]) => {
          const [inOrder, reordered] = await freshCustomers(2);
          await env.engine.reportEvent(events.map((e, i) => toEvent(inOrder!, e, i)));
          for (const batch of batches) await env.engine.reportEvent(batch.map((i) => toEvent(reordered!, events[i]!, i)));
          const expected = model(events);
          expect(await histories(inOrder!)).toEqual(expected);
          expect(await histories(reordered!)).toEqual(expected);
        }),
        fcOptions,
      );
    });

    it('duplicates never change usage: reporting any subset again (even with other dimensions) is all duplicates', async () => {
      const arbWithRepeats = arbEventBatch.chain((events) =>
        fc.tuple(fc.constant(events), fc.subarray(events.map((_, i) => i)), fc.array(arbEventSpec, { minLength: events.length, maxLength: events.length })),
      );
      await fc.assert(
        fc.asyncProperty(arbWithRepeats, async ([events, repeated, altered]) => {
          const [customerId] = await freshCustomers(1);
          // Duplicates within the first batch too: every event appears twice in it.
          const first = events.flatMap((e, i) => [toEvent(customerId!, e, i), toEvent(customerId!, altered[i]!, i)]);
          const r = await env.engine.reportEvent(first);
          expect(r).toMatchObject({ accepted: events.length, duplicates: events.length, unmatched: 0 });
          const before = await histories(customerId!);
          expect(before).toEqual(model(events));
          const again = await env.engine.reportEvent(repeated.map((i) => toEvent(customerId!, altered[i]!, i)));
          expect(again).toEqual({ accepted: 0, duplicates: repeated.length, unmatched: 0, usage: [] });
          expect(await histories(customerId!)).toEqual(before);
        }),
        fcOptions,
      );
    });

    it('UNIQUE_COUNT of each day equals the size of the set of typed values reported that day', async () => {
      const arbUniqueEvents = fc.array(
        fc.record({
          slot: fc.integer({ min: 0, max: SLOTS }),
          u: fc.oneof(fc.integer({ min: 0, max: 6 }), fc.integer({ min: 0, max: 6 }).map(String), fc.boolean(), fc.constantFrom('x', 'y')),
        }),
        { minLength: 1, maxLength: 40 },
      );
      await fc.assert(
        fc.asyncProperty(arbUniqueEvents, async (events) => {
          const [customerId] = await freshCustomers(1);
          await env.engine.reportEvent(events.map((e, i) => toEvent(customerId!, { slot: e.slot, v: undefined, u: e.u }, i)));
          // referenceAggregate counts distinct typed values ('1' and 1 differ).
          const expected = model(events.map((e) => ({ slot: e.slot, v: undefined, u: e.u })), ['p-unique']);
          expect((await histories(customerId!))['p-unique']).toEqual(expected['p-unique']);
        }),
        fcOptions,
      );
    });

    it('for any interleaving of reserve, commit, release, expiry and consume, usage plus live holds never exceed the limit, grants equal the model, and ended holds are fully returned', async () => {
      await fc.assert(
        fc.asyncProperty(arbQuotaOperations(), async (ops) => {
          const customerId = `q${++run}`;
          await env.engine.provisionCustomer({ customerId });
          const m = new QuotaModel(QUOTA_LIMIT);
          /** Granted as the engine reported it: consumed plus committed. */
          let grantedTotal = 0;
          const check = async () =>
            ((await env.engine.getMeteredEntitlement({ customerId, featureId: 'p-quota' })) as MeteredEntitlement).currentUsage;
          for (const op of ops) {
            const now = env.clock.nowMs();
            let expected: Outcome = null;
            let actual: Outcome = null;
            switch (op.kind) {
              case 'advance':
                env.clock.advance(op.ms);
                break;
              case 'consume': {
                expected = m.consume(op.amount, op.overage, now);
                actual = await outcomeOf(env.engine.consumeUsage({ customerId, featureId: 'p-quota', amount: op.amount, overage: op.overage }), (r) => {
                  grantedTotal += r.granted;
                  return { granted: r.granted };
                });
                break;
              }
              case 'reserve': {
                let id = '';
                actual = await outcomeOf(
                  env.engine.reserveUsage({ customerId, featureId: 'p-quota', amount: op.amount, overage: op.overage, expiresIn: op.expiresIn }),
                  (r) => {
                    id = r.reservationId;
                    return { granted: r.granted, status: r.status };
                  },
                );
                expected = m.reserve(id, op.amount, op.overage, op.expiresIn, now);
                break;
              }
              case 'commit': {
                const h = m.pick(op.pick);
                if (!h) continue;
                // A partial commit: anything from 0 to the held amount.
                const amount = op.amount === undefined ? undefined : op.amount % (h.amount + 1);
                const wasCommitted = h.status === 'COMMITTED';
                expected = m.commit(h, amount, now);
                actual = await outcomeOf(env.engine.commitReservation({ reservationId: h.id, ...(amount === undefined ? {} : { amount }) }), (r) => {
                  if (!wasCommitted) grantedTotal += r.committedAmount ?? 0;
                  return { status: r.status, committedAmount: r.committedAmount };
                });
                break;
              }
              case 'release': {
                const h = m.pick(op.pick);
                if (!h) continue;
                expected = m.release(h, now);
                actual = await outcomeOf(env.engine.releaseReservation({ reservationId: h.id }), (r) => ({ status: r.status }));
                break;
              }
            }
            expect(actual).toEqual(expected);
            const live = m.usage(env.clock.nowMs());
            expect(live).toBeLessThanOrEqual(QUOTA_LIMIT);
            expect(await check()).toBe(live);
          }
          expect(grantedTotal).toBe(m.recorded);
          // Once every hold has ended (arbQuotaOperations holds for 10 minutes at most), everything not recorded is available again.
          env.clock.advance(11 * MINUTE);
          expect(await check()).toBe(m.recorded);
          const rest = await env.engine.consumeUsage({ customerId, featureId: 'p-quota', amount: QUOTA_LIMIT + 1, overage: 'CAP' });
          expect(rest.granted).toBe(QUOTA_LIMIT - m.recorded);
          expect(await check()).toBe(QUOTA_LIMIT);
        }),
        fcOptions,
      );
    });
  });
}

import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TesseraError, type CatalogDefinition, type FeatureDefinition, type MeteredEntitlement, type RawEvent, type UsagePeriod } from '@tessera/core';
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

/** The same events, permuted and cut into consecutive batches (`cuts[i]`: a batch ends after i). */
const arbReordering = (n: number) =>
  fc.record({
    order: fc.shuffledSubarray(
      Array.from({ length: n }, (_, i) => i),
      { minLength: n, maxLength: n },
    ),
    cuts: fc.array(fc.boolean(), { minLength: n, maxLength: n }),
  });

const arbEventBatchReordered = arbEventBatch.chain((events) => fc.tuple(fc.constant(events), arbReordering(events.length)));

const toEvent = (customerId: string, spec: EventSpec, i: number): RawEvent => ({
  customerId,
  eventName: 'job',
  idempotencyKey: `${customerId}/e${i}`,
  timestamp: new Date(BASE + spec.slot * SLOT),
  dimensions: spec.v === undefined ? { u: spec.u } : { v: spec.v, u: spec.u },
});

/** The reference model: every aggregation per UTC day, from scratch. Days without input are absent. */
function model(events: readonly EventSpec[]): Record<string, { start: number; value: number }[]> {
  const byDay = new Map<number, EventSpec[]>();
  for (const e of events) {
    const ts = BASE + e.slot * SLOT;
    const day = ts - (ts % DAY);
    byDay.set(day, [...(byDay.get(day) ?? []), e]);
  }
  const out: Record<string, { start: number; value: number }[]> = Object.fromEntries(AGGREGATED_IDS.map((id) => [id, []]));
  for (const day of [...byDay.keys()].sort((a, b) => a - b)) {
    const es = byDay.get(day)!;
    const withV = es.filter((e) => e.v !== undefined);
    const vs = withV.map((e) => e.v!);
    out['p-count']!.push({ start: day, value: es.length });
    out['p-unique']!.push({ start: day, value: new Set(es.map((e) => `${typeof e.u}:${String(e.u)}`)).size });
    if (vs.length === 0) continue;
    const sum = vs.reduce((a, b) => a + b, 0);
    out['p-sum']!.push({ start: day, value: sum });
    out['p-max']!.push({ start: day, value: Math.max(...vs) });
    out['p-min']!.push({ start: day, value: Math.min(...vs) });
    out['p-avg']!.push({ start: day, value: sum / vs.length });
    // Latest timestamp wins; on a tie, the larger value.
    const latest = withV.reduce((best, e) => (e.slot > best.slot || (e.slot === best.slot && e.v! > best.v!) ? e : best));
    out['p-latest']!.push({ start: day, value: latest.v! });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Consumption and reservations and their model

type QuotaOp =
  | { kind: 'reserve'; amount: number; expiresIn: number; overage: 'REJECT' | 'CAP' }
  | { kind: 'consume'; amount: number; overage: 'REJECT' | 'CAP' }
  | { kind: 'commit'; pick: number; amount: number | undefined }
  | { kind: 'release'; pick: number }
  | { kind: 'advance'; ms: number };

const arbOverage = fc.constantFrom<'REJECT' | 'CAP'>('REJECT', 'CAP');

/** Interleavings of reserve, consume, commit (full or partial), release and clock advances (expiry). */
const arbQuotaOps: fc.Arbitrary<QuotaOp[]> = fc.array(
  fc.oneof(
    { weight: 4, arbitrary: fc.record({ kind: fc.constant('reserve' as const), amount: fc.integer({ min: 0, max: 9 }), expiresIn: fc.integer({ min: 1, max: 10 }).map((m) => m * MINUTE), overage: arbOverage }) },
    { weight: 3, arbitrary: fc.record({ kind: fc.constant('consume' as const), amount: fc.integer({ min: 0, max: 9 }), overage: arbOverage }) },
    { weight: 3, arbitrary: fc.record({ kind: fc.constant('commit' as const), pick: fc.nat(), amount: fc.option(fc.nat({ max: 9 }), { nil: undefined }) }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('release' as const), pick: fc.nat() }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 1, max: 6 * 60 }).map((s) => s * 1000) }) },
  ),
  { maxLength: 30 },
);

interface ModelHold {
  id: string;
  amount: number;
  expiresAt: number;
  status: 'HELD' | 'COMMITTED' | 'RELEASED';
  committed: number | null;
}

/** The outcome of one op: what it answered, or the error code it threw. */
type Outcome = Record<string, unknown> | null;

class QuotaModel {
  /** Usage recorded: consumed plus committed. */
  recorded = 0;
  readonly holds: ModelHold[] = [];

  held(now: number): number {
    return this.holds.filter((h) => h.status === 'HELD' && h.expiresAt > now).reduce((a, h) => a + h.amount, 0);
  }

  /** How much of `amount` fits now, or null when REJECT refuses it. */
  fit(amount: number, overage: 'REJECT' | 'CAP', now: number): number | null {
    const available = Math.max(0, QUOTA_LIMIT - this.recorded - this.held(now));
    if (amount <= available) return amount;
    return overage === 'CAP' ? available : null;
  }
}

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
        fc.asyncProperty(arbEventBatchReordered, async ([events, { order, cuts }]) => {
          const [inOrder, reordered] = await freshCustomers(2);
          await env.engine.reportEvent(events.map((e, i) => toEvent(inOrder!, e, i)));
          let batch: RawEvent[] = [];
          for (let k = 0; k < order.length; k++) {
            const i = order[k]!;
            batch.push(toEvent(reordered!, events[i]!, i));
            if (cuts[k] || k === order.length - 1) {
              await env.engine.reportEvent(batch);
              batch = [];
            }
          }
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
          const sets = new Map<number, Set<string>>();
          for (const e of events) {
            const ts = BASE + e.slot * SLOT;
            const day = ts - (ts % DAY);
            const set = sets.get(day) ?? new Set<string>();
            set.add(`${typeof e.u}:${String(e.u)}`);
            sets.set(day, set);
          }
          const expected = [...sets.entries()].sort(([a], [b]) => a - b).map(([start, set]) => ({ start, value: set.size }));
          expect((await histories(customerId!))['p-unique']).toEqual(expected);
        }),
        fcOptions,
      );
    });

    it('for any interleaving of reserve, commit, release, expiry and consume, usage plus live holds never exceed the limit, grants equal the model, and ended holds are fully returned', async () => {
      await fc.assert(
        fc.asyncProperty(arbQuotaOps, async (ops) => {
          const customerId = `q${++run}`;
          await env.engine.provisionCustomer({ customerId });
          const m = new QuotaModel();
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
                const fits = m.fit(op.amount, op.overage, now);
                expected = fits === null ? { code: 'USAGE_LIMIT_EXCEEDED' } : { granted: fits };
                if (fits !== null) m.recorded += fits;
                actual = await outcomeOf(env.engine.consumeUsage({ customerId, featureId: 'p-quota', amount: op.amount, overage: op.overage }), (r) => {
                  grantedTotal += r.granted;
                  return { granted: r.granted };
                });
                break;
              }
              case 'reserve': {
                const fits = m.fit(op.amount, op.overage, now);
                expected = fits === null ? { code: 'USAGE_LIMIT_EXCEEDED' } : { granted: fits, status: 'HELD' };
                let id = '';
                actual = await outcomeOf(
                  env.engine.reserveUsage({ customerId, featureId: 'p-quota', amount: op.amount, overage: op.overage, expiresIn: op.expiresIn }),
                  (r) => {
                    id = r.reservationId;
                    return { granted: r.granted, status: r.status };
                  },
                );
                if (fits !== null) m.holds.push({ id, amount: fits, expiresAt: now + op.expiresIn, status: 'HELD', committed: null });
                break;
              }
              case 'commit': {
                if (m.holds.length === 0) continue;
                const h = m.holds[op.pick % m.holds.length]!;
                // A partial commit: anything from 0 to the held amount.
                const amount = op.amount === undefined ? undefined : op.amount % (h.amount + 1);
                const wasCommitted = h.status === 'COMMITTED';
                if (wasCommitted) expected = { status: 'COMMITTED', committedAmount: h.committed };
                else if (h.status === 'RELEASED' || h.expiresAt <= now) expected = { code: 'CONFLICT' };
                else {
                  h.status = 'COMMITTED';
                  h.committed = amount ?? h.amount;
                  m.recorded += h.committed;
                  expected = { status: 'COMMITTED', committedAmount: h.committed };
                }
                actual = await outcomeOf(env.engine.commitReservation({ reservationId: h.id, ...(amount === undefined ? {} : { amount }) }), (r) => {
                  if (!wasCommitted) grantedTotal += r.committedAmount ?? 0;
                  return { status: r.status, committedAmount: r.committedAmount };
                });
                break;
              }
              case 'release': {
                if (m.holds.length === 0) continue;
                const h = m.holds[op.pick % m.holds.length]!;
                if (h.status === 'COMMITTED') expected = { code: 'CONFLICT' };
                else if (h.status === 'RELEASED') expected = { status: 'RELEASED' };
                else if (h.expiresAt <= now) expected = { status: 'EXPIRED' };
                else {
                  h.status = 'RELEASED';
                  expected = { status: 'RELEASED' };
                }
                actual = await outcomeOf(env.engine.releaseReservation({ reservationId: h.id }), (r) => ({ status: r.status }));
                break;
              }
            }
            expect(actual).toEqual(expected);
            const live = m.recorded + m.held(env.clock.nowMs());
            expect(live).toBeLessThanOrEqual(QUOTA_LIMIT);
            expect(await check()).toBe(live);
          }
          expect(grantedTotal).toBe(m.recorded);
          // Once every hold has ended, everything not recorded is available again.
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

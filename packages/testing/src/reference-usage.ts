/**
 * Reference models of usage, written from docs/conventions.md#usage-reports and docs/metering.md
 * independently of the engine: what a sequence of `reportUsage` calls must answer, and what a
 * meter's aggregation of a window's events must be. Deliberately plain loops, sharing no code
 * with `rules/` or the engine, so that a bug there is not copied here.
 */
import type { MeterAggregation, ReportUsageParams } from '@tessera/core';

/** What `expectedUsage` predicts for a sequence of reports. */
export interface ExpectedUsage {
  /**
   * `currentUsage` each report must answer, in order; null for a report the engine must refuse
   * (a DELTA taking usage below 0: nothing is written and its key stays free).
   */
  results: (number | null)[];
  /** Usage after the whole sequence, by customer then feature (only cells a report touched). */
  usage: Record<string, Record<string, number>>;
}

/**
 * What a sequence of `reportUsage` calls applied in order at one instant (one usage window) must
 * answer: SET replaces, DELTA adds, a DELTA taking usage below 0 is refused, and an idempotency
 * key already claimed by that customer returns its first result and changes nothing, whatever
 * value and behaviour the retry carries. Pairs with `arbUsageSequence`, whose sequences are
 * meant to be applied this way.
 * Example: expectedUsage([{ customerId: 'c1', featureId: 'f', value: 5 }, { ..., value: 3, updateBehavior: 'SET' }])
 *   = { results: [5, 3], usage: { c1: { f: 3 } } }.
 */
export function expectedUsage(reports: readonly Pick<ReportUsageParams, 'customerId' | 'featureId' | 'value' | 'updateBehavior' | 'idempotencyKey'>[]): ExpectedUsage {
  const usage: Record<string, Record<string, number>> = {};
  const firstResult = new Map<string, number>();
  const results: (number | null)[] = [];
  for (const r of reports) {
    const key = r.idempotencyKey === undefined ? undefined : JSON.stringify([r.customerId, r.idempotencyKey]);
    const replay = key === undefined ? undefined : firstResult.get(key);
    if (replay !== undefined) {
      results.push(replay);
      continue;
    }
    const cells = (usage[r.customerId] ??= {});
    const current = cells[r.featureId] ?? 0;
    const next = r.updateBehavior === 'SET' ? r.value : current + r.value;
    if (next < 0) {
      results.push(null);
      continue;
    }
    cells[r.featureId] = next;
    if (key !== undefined) firstResult.set(key, next);
    results.push(next);
  }
  return { results, usage };
}

/** An event as `referenceAggregate` reads it: epoch ms and its dimensions. */
export interface AggregatedEvent {
  timestamp: number;
  dimensions?: Readonly<Record<string, unknown>>;
}

/**
 * A meter's usage of one window from that window's events, by the table of docs/metering.md:
 * COUNT counts every event; SUM, MAX, MIN, AVG and LATEST read events whose `field` is a finite
 * number (LATEST: the latest timestamp, ties going to the larger value); UNIQUE_COUNT counts
 * distinct typed values of `field` ('1' and 1 differ) among events that have it. Returns
 * undefined when no event feeds the aggregation (the window has no usage period).
 * Example: referenceAggregate({ type: 'LATEST', field: 'v' }, [{ timestamp: 1, dimensions: { v: 3 } }, { timestamp: 1, dimensions: { v: 5 } }]) = 5.
 */
export function referenceAggregate(aggregation: { type: MeterAggregation; field?: string }, events: readonly AggregatedEvent[]): number | undefined {
  if (aggregation.type === 'COUNT') return events.length === 0 ? undefined : events.length;
  const field = aggregation.field;
  if (field === undefined) throw new RangeError(`referenceAggregate: ${aggregation.type} needs a field`);
  if (aggregation.type === 'UNIQUE_COUNT') {
    const values = new Set<string>();
    for (const e of events) {
      const v = e.dimensions?.[field];
      if (v !== undefined) values.add(`${typeof v}:${String(v)}`);
    }
    return values.size === 0 ? undefined : values.size;
  }
  const numeric = events.flatMap((e) => {
    const v = e.dimensions?.[field];
    return typeof v === 'number' && Number.isFinite(v) ? [{ at: e.timestamp, v }] : [];
  });
  if (numeric.length === 0) return undefined;
  const vs = numeric.map((e) => e.v);
  let sum = 0;
  for (const v of vs) sum += v;
  switch (aggregation.type) {
    case 'SUM':
      return sum;
    case 'AVG':
      return sum / vs.length;
    case 'MAX':
      return Math.max(...vs);
    case 'MIN':
      return Math.min(...vs);
    case 'LATEST':
      return numeric.reduce((best, e) => (e.at > best.at || (e.at === best.at && e.v > best.v) ? e : best)).v;
  }
}

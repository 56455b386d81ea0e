import type { DimensionValue, MeterCondition, MeterDefinition } from '../catalog/types.js';
import type { UsageRecord } from '../records.js';

/** Dimensions of a raw event. */
export type Dimensions = Readonly<Record<string, DimensionValue>>;

function compare(a: DimensionValue, b: DimensionValue): number | undefined {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  return undefined;
}

/** Whether one condition holds for the event's dimensions (docs/metering.md#filters). */
export function conditionHolds(c: MeterCondition, dims: Dimensions): boolean {
  const has = Object.prototype.hasOwnProperty.call(dims, c.field);
  const v = has ? dims[c.field] : undefined;
  switch (c.operator) {
    case 'IS_NULL':
      return v === undefined;
    case 'IS_NOT_NULL':
      return v !== undefined;
    case 'IN':
      return v !== undefined && Array.isArray(c.value) && c.value.includes(v);
    case 'NOT_IN':
      return v === undefined || !Array.isArray(c.value) || !c.value.includes(v);
    case 'EQUALS':
      return v !== undefined && v === c.value;
    case 'NOT_EQUALS':
      return v !== c.value;
    case 'CONTAINS':
      return typeof v === 'string' && typeof c.value === 'string' && v.includes(c.value);
    case 'STARTS_WITH':
      return typeof v === 'string' && typeof c.value === 'string' && v.startsWith(c.value);
    case 'ENDS_WITH':
      return typeof v === 'string' && typeof c.value === 'string' && v.endsWith(c.value);
    default: {
      if (v === undefined || c.value === undefined || Array.isArray(c.value)) return false;
      const d = compare(v, c.value);
      if (d === undefined) return false;
      if (c.operator === 'GREATER_THAN') return d > 0;
      if (c.operator === 'GREATER_THAN_OR_EQUAL') return d >= 0;
      if (c.operator === 'LESS_THAN') return d < 0;
      return d <= 0;
    }
  }
}

/** A meter takes an event when it has the meter's name and some filter (conditions ANDed) holds; no filters: all. */
export function meterMatches(meter: MeterDefinition, eventName: string, dims: Dimensions): boolean {
  if (meter.eventName !== eventName) return false;
  if (!meter.filters || meter.filters.length === 0) return true;
  return meter.filters.some((f) => f.conditions.every((c) => conditionHolds(c, dims)));
}

/**
 * The value an event contributes to a meter, or undefined when it lacks what the aggregation
 * needs (SUM, MAX, MIN, AVG and LATEST need a finite number in `field`; UNIQUE_COUNT any value).
 */
export function meterInput(meter: MeterDefinition, dims: Dimensions): number | string | undefined {
  const agg = meter.aggregation;
  if (agg.type === 'COUNT') return 1;
  const v = agg.field === undefined || !Object.prototype.hasOwnProperty.call(dims, agg.field) ? undefined : dims[agg.field];
  if (v === undefined) return undefined;
  if (agg.type === 'UNIQUE_COUNT') return typeof v === 'string' ? `s:${v}` : `${typeof v}:${String(v)}`;
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

/**
 * Folds one event into a usage cell's running state and returns the new `value`. Incremental:
 * a cell never needs the events again (docs/metering.md#aggregations). For UNIQUE_COUNT the caller
 * passes `isNewDistinct` (whether the value was unseen in the window).
 */
export function foldEvent(
  rec: UsageRecord,
  meter: MeterDefinition,
  input: number | string,
  timestamp: number,
  isNewDistinct = false,
): void {
  rec.count += 1;
  const n = typeof input === 'number' ? input : 0;
  switch (meter.aggregation.type) {
    case 'COUNT':
      rec.value = rec.count;
      return;
    case 'SUM':
      rec.sum += n;
      rec.value = rec.sum;
      return;
    case 'MAX':
      rec.max = rec.max === null ? n : Math.max(rec.max, n);
      rec.value = rec.max;
      return;
    case 'MIN':
      rec.min = rec.min === null ? n : Math.min(rec.min, n);
      rec.value = rec.min;
      return;
    case 'AVG':
      rec.sum += n;
      rec.value = rec.sum / rec.count;
      return;
    case 'UNIQUE_COUNT':
      if (isNewDistinct) rec.sum += 1;
      rec.value = rec.sum;
      return;
    case 'LATEST':
      // Equal timestamps keep the larger value, so arrival order never changes the result.
      if (rec.latestAt === null || timestamp > rec.latestAt || (timestamp === rec.latestAt && n > (rec.latestValue ?? -Infinity))) {
        rec.latestAt = timestamp;
        rec.latestValue = n;
      }
      rec.value = rec.latestValue ?? 0;
      return;
  }
}

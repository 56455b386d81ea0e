import { TesseraError } from '../../errors.js';
import { isLimitCellEntity } from './limit-cells.js';
import { usagePeriod } from '../../rules/windows.js';
import { requireLiveCustomer } from '../runtime/lookups.js';
import { meterInput, meterMatches } from '../../rules/meters.js';
import type { EventRecord } from '../../records.js';
import type { EngineContext } from '../runtime/context.js';
import { decodeCursor, MAX_ID_LENGTH, Params } from '../runtime/params.js';

/** Usage in one window of the history. */
export interface UsagePeriod {
  start: Date | null;
  end: Date | null;
  value: number;
  /** Per value of the `groupBy` dimension (meter-fed features only), when asked. */
  groups?: { value: string | number | boolean | null; usage: number }[];
  /** With `groupByEntity`: the usage of each entity with a cell in the window (deleted ones too), by entityId. */
  entities?: { entityId: string; usage: number }[];
}

/** `getUsageHistory` result. */
export interface UsageHistory {
  customerId: string;
  featureId: string;
  resourceId: string | null;
  /** The entity asked for; null for the customer's pooled usage. */
  entityId: string | null;
  periods: UsagePeriod[];
}

/**
 * `getUsageHistory`: the usage cells of a feature overlapping [start, end), oldest first. With
 * `groupBy` (a dimension of a meter-fed feature) each window is split by that dimension's value,
 * recomputed from the stored events (history is not the hot path; checks never rescan).
 */
export async function getUsageHistory(ctx: EngineContext, params: unknown): Promise<UsageHistory> {
  const p = new Params(params, 'getUsageHistory', ['customerId', 'featureId', 'resourceId', 'entityId', 'start', 'end', 'groupBy', 'groupByEntity']);
  const customerId = p.id('customerId');
  const featureId = p.id('featureId');
  const resourceId = p.optId('resourceId') ?? '';
  const entityId = p.optId('entityId') ?? '';
  const groupByEntity = p.optBoolean('groupByEntity') ?? false;
  if (groupByEntity && entityId !== '') p.fail('groupByEntity', 'give entityId or groupByEntity, not both');
  const start = p.optInstant('start');
  const end = p.optInstant('end');
  if (start === undefined) p.fail('start', 'is required');
  if (end === undefined) p.fail('end', 'is required');
  if (end! <= start!) p.fail('end', 'must be after start');
  const groupBy = p.optId('groupBy');
  const feature = ctx.latest().catalog.features.get(featureId);
  if (!feature) throw new TesseraError('FEATURE_NOT_FOUND', `getUsageHistory.featureId: no feature "${featureId}"`, { field: 'featureId', value: featureId });
  if (groupBy !== undefined && !feature.meter) p.fail('groupBy', `feature "${featureId}" has no meter; only meter-fed usage can be grouped by a dimension`);
  return ctx.store.transaction('read', async (tx) => {
    await requireLiveCustomer(tx, customerId, 'getUsageHistory.customerId');
    // A deleted entity's cells stay: its history reads as a live one's (docs/entities.md#history).
    const cells = await tx.listUsage({ customerId, featureId, resourceId, entityId, from: start!, to: end! });
    const perEntity = groupByEntity ? (await tx.listUsage({ customerId, featureId, resourceId, from: start!, to: end! })).filter((c) => c.entityId !== '' && !isLimitCellEntity(c.entityId)) : [];
    const periods: UsagePeriod[] = [];
    for (const cell of cells) {
      const { usagePeriodStart, usagePeriodEnd } = usagePeriod(cell.windowStart, cell.windowEnd);
      const period: UsagePeriod = { start: usagePeriodStart, end: usagePeriodEnd, value: cell.value };
      if (groupBy !== undefined) {
        const events = (await tx.listEvents({ customerId, resourceId, eventName: feature.meter!.eventName, from: cell.windowStart, to: cell.windowEnd })).filter(
          (e) => entityId === '' || e.entityId === entityId,
        );
        period.groups = groupEvents(events, feature.meter!, groupBy);
      }
      if (groupByEntity) {
        period.entities = perEntity
          .filter((c) => c.windowStart === cell.windowStart && c.windowEnd === cell.windowEnd)
          .sort((a, b) => (a.entityId < b.entityId ? -1 : a.entityId > b.entityId ? 1 : 0))
          .map((c) => ({ entityId: c.entityId, usage: c.value }));
      }
      periods.push(period);
    }
    return { customerId, featureId, resourceId: resourceId === '' ? null : resourceId, entityId: entityId === '' ? null : entityId, periods };
  });
}

function groupEvents(events: EventRecord[], meter: NonNullable<import('../../catalog/types.js').FeatureDefinition['meter']>, groupBy: string) {
  const groups = new Map<string, { value: string | number | boolean | null; inputs: (number | string)[]; latest: [number, number] | null }>();
  for (const e of events) {
    if (e.unmatchedReason !== null || !meterMatches(meter, e.eventName, e.dimensions)) continue;
    const input = meterInput(meter, e.dimensions);
    if (input === undefined) continue;
    const gv = Object.prototype.hasOwnProperty.call(e.dimensions, groupBy) ? (e.dimensions[groupBy] ?? null) : null;
    const id = `${typeof gv}:${String(gv)}`;
    const g = groups.get(id) ?? { value: gv, inputs: [], latest: null };
    g.inputs.push(input);
    if (typeof input === 'number' && (!g.latest || e.timestamp > g.latest[0] || (e.timestamp === g.latest[0] && input > g.latest[1]))) g.latest = [e.timestamp, input];
    groups.set(id, g);
  }
  return [...groups.values()].map((g) => {
    const nums = g.inputs.filter((x): x is number => typeof x === 'number');
    let usage = 0;
    switch (meter.aggregation.type) {
      case 'COUNT':
        usage = g.inputs.length;
        break;
      case 'SUM':
        usage = nums.reduce((a, b) => a + b, 0);
        break;
      case 'MAX':
        usage = Math.max(...nums);
        break;
      case 'MIN':
        usage = Math.min(...nums);
        break;
      case 'AVG':
        usage = nums.reduce((a, b) => a + b, 0) / nums.length;
        break;
      case 'UNIQUE_COUNT':
        usage = new Set(g.inputs).size;
        break;
      case 'LATEST':
        usage = g.latest?.[1] ?? 0;
        break;
    }
    return { value: g.value, usage };
  });
}

/** An event that was stored but counted by no meter, and why. */
export interface UnmatchedEvent {
  idempotencyKey: string;
  customerId: string;
  eventName: string;
  resourceId: string | null;
  dimensions: Record<string, string | number | boolean>;
  timestamp: Date;
  receivedAt: Date;
  reason: string;
}

/** `getUnmatchedEvents`: stored events no meter or customer took, oldest first, cursor-paged. */
export async function getUnmatchedEvents(ctx: EngineContext, params: unknown = {}): Promise<{ data: UnmatchedEvent[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } }> {
  const p = new Params(params ?? {}, 'getUnmatchedEvents', ['first', 'after']);
  // Pages hold at most 1,000 events: a larger `first` pages by 1,000 (and says so in hasNextPage).
  const first = Math.min(p.optNumber('first', { min: 1, integer: true }) ?? 100, 1000);
  const afterRaw = p.optId('after');
  let after: { receivedAt: number; idempotencyKey: string } | undefined;
  if (afterRaw !== undefined) {
    // Every decoded part is type-checked: a crafted cursor reaches the store's query otherwise.
    const parsed = decodeCursor(afterRaw);
    const [receivedAt, key] = Array.isArray(parsed) && parsed.length === 2 ? (parsed as unknown[]) : [];
    if (!Number.isSafeInteger(receivedAt) || typeof key !== 'string' || key.length === 0 || key.length > MAX_ID_LENGTH) {
      p.fail('after', 'must be an endCursor returned by an earlier page');
    }
    after = { receivedAt: receivedAt as number, idempotencyKey: key as string };
  }
  const rows = await ctx.store.transaction('read', (tx) => tx.listUnmatchedEvents(Math.min(first, 1000) + 1, after));
  const page = rows.slice(0, first);
  const last = page[page.length - 1];
  return {
    data: page.map((e) => ({
      idempotencyKey: e.idempotencyKey,
      customerId: e.customerId,
      eventName: e.eventName,
      resourceId: e.resourceId === '' ? null : e.resourceId,
      dimensions: e.dimensions,
      timestamp: new Date(e.timestamp),
      receivedAt: new Date(e.receivedAt),
      reason: e.unmatchedReason ?? 'UNKNOWN',
    })),
    pageInfo: {
      hasNextPage: rows.length > first,
      endCursor: last ? Buffer.from(JSON.stringify([last.receivedAt, last.idempotencyKey])).toString('base64url') : null,
    },
  };
}

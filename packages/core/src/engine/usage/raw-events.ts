import type { DimensionValue, FeatureDefinition, MeterDefinition } from '../../catalog/types.js';
import { usagePeriod, type Window } from '../../rules/windows.js';
import { TesseraError } from '../../errors.js';
import { foldEvent, meterInput, meterMatches } from '../../rules/meters.js';
import type { EventRecord, UsageKey, UsageRecord } from '../../records.js';
import type { ResolvedEntitlement } from '../../rules/entitlements.js';
import type { Catalog } from '../../catalog/catalog.js';
import { write, type EngineContext } from '../runtime/context.js';
import { customerView } from '../checks/entitlements.js';
import { MAX_ID_LENGTH, requireSafeUsage } from '../runtime/params.js';
import { isWellFormed, JSON_VALUE_LIMITS } from '../../json-value.js';
import { BatchWrites } from './usage-cells.js';
import { usageKeyId } from '../../store/usage-keys.js';
import { entitlementFor, noteUsage, windowFor } from './usage.js';
import { isLimitCellEntity, limitKeys } from './limit-cells.js';
import { usagePayload } from './usage-payload.js';
import { noteUsageThresholds, type UsageRise } from '../alerts/thresholds.js';
import type { CustomerView } from '../checks/view.js';
import { closedPastGrace, DEFAULT_LATE_USAGE_GRACE_MS } from './late-usage.js';

/** One raw event (see API.md). `idempotencyKey` is required: each key is stored once, ever. */
export interface RawEvent {
  customerId: string;
  eventName: string;
  idempotencyKey: string;
  dimensions?: Record<string, DimensionValue>;
  resourceId?: string;
  /** The entity it happened for (docs/entities.md): meters add to its cell and the customer's pooled cell. */
  entityId?: string;
  /** When it happened (default now); late events count in the window they belong to. */
  timestamp?: Date | string;
}

/** What a `reportEvent` call did. Duplicates and unmatched events are accepted, counted, not errors. */
export interface ReportEventResult {
  /** Events stored now (new keys). */
  accepted: number;
  /** Events whose key was stored before (or earlier in the batch): nothing changed for them. */
  duplicates: number;
  /** Stored events that no meter counted, with the reason in `getUnmatchedEvents`. */
  unmatched: number;
  /** The usage cells the batch changed, with their new values. */
  usage: { customerId: string; resourceId: string | null; entityId?: string; featureId: string; currentUsage: number; usagePeriodStart: Date | null; usagePeriodEnd: Date | null }[];
}

/** Why a stored event produced no usage. */
export type UnmatchedReason = 'CUSTOMER_NOT_FOUND' | 'ENTITY_NOT_FOUND' | 'NO_MATCHING_METER' | 'MISSING_DIMENSION' | 'TOO_LATE';

/** Ingest limits (docs/metering.md#late-events). */
export interface EventLimits {
  /** Events stamped further ahead than this are rejected (clock skew allowance), ms. Default 5 minutes. */
  maxFutureMs: number;
  /** Events older than this are stored but not counted (TOO_LATE), ms. Default 35 days. */
  maxLatenessMs: number;
  /** Largest batch. Default 10,000. */
  maxBatch: number;
}

export const DEFAULT_EVENT_LIMITS: EventLimits = { maxFutureMs: 5 * 60_000, maxLatenessMs: 35 * 86_400_000, maxBatch: 10_000 };

interface Problem {
  path: string;
  message: string;
}

interface EventInput {
  customerId: string;
  eventName: string;
  idempotencyKey: string;
  resourceId: string;
  entityId: string;
  dimensions: Record<string, DimensionValue>;
  timestamp: number;
}

/** Keys of one event's dimensions (docs/metering.md). */
const MAX_DIMENSIONS = 100;

const EVENT_FIELDS = new Set(['customerId', 'eventName', 'idempotencyKey', 'dimensions', 'resourceId', 'entityId', 'timestamp']);

function checkId(v: unknown, path: string, problems: Problem[], required: boolean): string | undefined {
  if (v === undefined || v === null) {
    if (required) problems.push({ path, message: 'is required' });
    return undefined;
  }
  if (typeof v !== 'string' || v.length === 0 || v.length > MAX_ID_LENGTH) {
    problems.push({ path, message: `must be a non-empty string of at most ${MAX_ID_LENGTH} characters` });
    return undefined;
  }
  if (!isWellFormed(v)) {
    // A SQL store would keep U+FFFD instead: two different keys would collide.
    problems.push({ path, message: 'must not contain a lone surrogate (malformed UTF-16)' });
    return undefined;
  }
  return v;
}

/** Validates a whole batch, collecting every problem with its index and field. */
function readEvents(raw: unknown, now: number, limits: EventLimits): EventInput[] {
  const list = Array.isArray(raw) ? raw : [raw];
  const problems: Problem[] = [];
  if (list.length > limits.maxBatch) problems.push({ path: 'events', message: `at most ${limits.maxBatch} events per call` });
  const out: EventInput[] = [];
  // Not forEach: it skips the holes of a sparse array, which must be refused, not ignored.
  for (let i = 0; i < list.length && i <= limits.maxBatch; i++) {
    const e: unknown = list[i];
    const at = Array.isArray(raw) ? `events[${i}]` : 'event';
    if (!(i in list)) {
      problems.push({ path: at, message: 'is an empty slot (a sparse array); give an event or remove it' });
      continue;
    }
    if (typeof e !== 'object' || e === null || Array.isArray(e)) {
      problems.push({ path: at, message: 'must be an object' });
      continue;
    }
    const ev = e as Record<string, unknown>;
    for (const k of Object.keys(ev)) if (!EVENT_FIELDS.has(k) && ev[k] !== undefined) problems.push({ path: `${at}.${k}`, message: 'unknown field' });
    const customerId = checkId(ev.customerId, `${at}.customerId`, problems, true);
    const eventName = checkId(ev.eventName, `${at}.eventName`, problems, true);
    const idempotencyKey = checkId(ev.idempotencyKey, `${at}.idempotencyKey`, problems, true);
    const resourceId = checkId(ev.resourceId, `${at}.resourceId`, problems, false) ?? '';
    const entityId = checkId(ev.entityId, `${at}.entityId`, problems, false) ?? '';
    // Own keys only, on a plain record: a dimension may be called __proto__ or toString.
    const dims: Record<string, DimensionValue> = Object.create(null) as Record<string, DimensionValue>;
    if (ev.dimensions !== undefined && ev.dimensions !== null) {
      if (typeof ev.dimensions !== 'object' || Array.isArray(ev.dimensions)) problems.push({ path: `${at}.dimensions`, message: 'must be an object' });
      else {
        const entries = Object.entries(ev.dimensions as Record<string, unknown>);
        if (entries.length > MAX_DIMENSIONS) problems.push({ path: `${at}.dimensions`, message: `must have at most ${MAX_DIMENSIONS} keys` });
        else for (const [k, v] of entries) {
          const ok =
            (typeof v === 'string' && v.length <= JSON_VALUE_LIMITS.maxStringLength && isWellFormed(v)) ||
            typeof v === 'boolean' ||
            (typeof v === 'number' && Number.isFinite(v));
          if (k.length > MAX_ID_LENGTH || !isWellFormed(k)) problems.push({ path: `${at}.dimensions`, message: `key "${k.slice(0, 50)}" must be at most ${MAX_ID_LENGTH} well-formed characters` });
          else if (!ok) problems.push({ path: `${at}.dimensions.${k}`, message: `must be a string (at most ${JSON_VALUE_LIMITS.maxStringLength} characters), a finite number or a boolean` });
          else Object.defineProperty(dims, k, { value: v, enumerable: true, writable: true, configurable: true });
        }
      }
    }
    let timestamp = now;
    if (ev.timestamp !== undefined && ev.timestamp !== null) {
      const ms = ev.timestamp instanceof Date ? ev.timestamp.getTime() : typeof ev.timestamp === 'string' ? Date.parse(ev.timestamp) : NaN;
      if (!Number.isFinite(ms)) problems.push({ path: `${at}.timestamp`, message: 'must be a Date or an ISO-8601 string' });
      else if (ms > now + limits.maxFutureMs) problems.push({ path: `${at}.timestamp`, message: `is more than ${limits.maxFutureMs / 1000} s in the future` });
      else timestamp = ms;
    }
    if (customerId && eventName && idempotencyKey) out.push({ customerId, eventName, idempotencyKey, resourceId, entityId, dimensions: dims, timestamp });
  }
  if (problems.length > 0) {
    const first = problems.slice(0, 5).map((p) => `${p.path} ${p.message}`).join('; ');
    throw new TesseraError('INVALID_ARGUMENT', `reportEvent: ${problems.length} problem(s), nothing stored: ${first}`, {
      field: problems[0]!.path,
      problems,
    });
  }
  return out;
}

const metersByCatalog = new WeakMap<Catalog, Map<string, FeatureDefinition[]>>();

/** Features whose meter listens to an event name (indexed once per catalog). */
function metersFor(catalog: Catalog, eventName: string): FeatureDefinition[] {
  let index = metersByCatalog.get(catalog);
  if (!index) {
    index = new Map();
    for (const f of catalog.features.values()) {
      if (f.type !== 'METERED' || !f.meter) continue;
      const list = index.get(f.meter.eventName) ?? [];
      list.push(f);
      index.set(f.meter.eventName, list);
    }
    metersByCatalog.set(catalog, index);
  }
  return index.get(eventName) ?? [];
}


/**
 * `reportEvent`: stores raw events once per idempotency key and folds each new one into the
 * usage of every meter that takes it, in the window of its timestamp. The batch is validated
 * whole; one transaction; one read and one write per usage cell touched.
 */
export async function reportEvent(ctx: EngineContext, events: unknown, limits: EventLimits): Promise<ReportEventResult> {
  const inputs = readEvents(events, ctx.clock.nowMs(), limits);
  const catalog = ctx.latest().catalog;
  const views = new Map<string, CustomerView>();
  for (const e of inputs) if (!views.has(e.customerId)) views.set(e.customerId, await customerView(ctx, e.customerId));
  return write(ctx, async (fx) => {
    const now = fx.now;
    const ids = [...views.keys()];
    const found = await fx.tx.getCustomers(ids);
    const exists = new Map<string, boolean>(ids.map((id, i) => [id, found[i] !== undefined && found[i]!.archivedAt === null]));
    // An event for an entity the customer does not have (or deleted) is stored, counted by no meter.
    const liveEntities = new Map<string, boolean>();
    for (const e of inputs) {
      const id = `${e.customerId}\u0000${e.entityId}`;
      if (e.entityId !== '' && !liveEntities.has(id)) {
        const entity = await fx.tx.getEntity(e.customerId, e.entityId);
        liveEntities.set(id, entity !== undefined && entity.deletedAt === null);
      }
    }
    const grace = ctx.lateUsageGraceMs ?? DEFAULT_LATE_USAGE_GRACE_MS;
    // Per meter of each event: the entitlement in force at its timestamp and the window it counts in.
    const plans: { meters: FeatureDefinition[]; reason: UnmatchedReason | null; windows: { ent: ResolvedEntitlement | undefined; w: Window }[] }[] = [];
    const records: EventRecord[] = inputs.map((e) => {
      let reason: UnmatchedReason | null = null;
      let meters: FeatureDefinition[] = [];
      if (!exists.get(e.customerId)) reason = 'CUSTOMER_NOT_FOUND';
      else if (e.entityId !== '' && !liveEntities.get(`${e.customerId}\u0000${e.entityId}`)) reason = 'ENTITY_NOT_FOUND';
      else if (e.timestamp < now - limits.maxLatenessMs) reason = 'TOO_LATE';
      else {
        const named = metersFor(catalog, e.eventName).filter((f) => meterMatches(f.meter!, e.eventName, e.dimensions));
        meters = named.filter((f) => meterInput(f.meter!, e.dimensions) !== undefined);
        if (named.length === 0) reason = 'NO_MATCHING_METER';
        else if (meters.length === 0) reason = 'MISSING_DIMENSION';
      }
      let windows: { ent: ResolvedEntitlement | undefined; w: Window }[] = [];
      if (reason === null) {
        const view = views.get(e.customerId)!;
        windows = meters.map((f) => {
          const ent = entitlementFor(view, e.resourceId, f.id, e.timestamp, now);
          return { ent, w: windowFor(ent, e.timestamp) };
        });
        // An event counts in every meter's window or in none: one window closed past the grace makes it TOO_LATE (docs/metering.md#late-usage).
        if (windows.some((x) => closedPastGrace(x.w, now, grace))) {
          reason = 'TOO_LATE';
          meters = [];
          windows = [];
        }
      }
      plans.push({ meters, reason, windows });
      return {
        idempotencyKey: e.idempotencyKey,
        customerId: e.customerId,
        eventName: e.eventName,
        resourceId: e.resourceId,
        entityId: e.entityId,
        dimensions: e.dimensions,
        timestamp: e.timestamp,
        receivedAt: now,
        unmatchedReason: reason,
      };
    });
    const stored = await fx.tx.insertEvents(records);
    // Which cell and input each stored event feeds, in batch order.
    const folds: { key: UsageKey; id: string; meter: MeterDefinition; input: string | number; timestamp: number; e: ResolvedEntitlement | undefined }[] = [];
    // The customer's cell of an entitlement's current window, made once per batch rather than per
    // event: most events of a batch fall in the window of the one before.
    const cellOf = new Map<ResolvedEntitlement, { w: Window; key: UsageKey; id: string }>();
    let accepted = 0;
    let unmatched = 0;
    for (let i = 0; i < inputs.length; i++) {
      if (!stored[i]) continue;
      accepted++;
      const plan = plans[i]!;
      if (plan.reason !== null) {
        unmatched++;
        continue;
      }
      const e = inputs[i]!;
      for (let m = 0; m < plan.meters.length; m++) {
        const f = plan.meters[m]!;
        const { ent, w } = plan.windows[m]!;
        let cell = ent === undefined ? undefined : cellOf.get(ent);
        // Checked field by field: an entitlement object may be shared by customers on one plan.
        if (cell === undefined || cell.w !== w || cell.key.customerId !== e.customerId || cell.key.resourceId !== e.resourceId || cell.key.featureId !== f.id) {
          const key: UsageKey = { customerId: e.customerId, resourceId: e.resourceId, entityId: '', featureId: f.id, windowStart: w.start, windowEnd: w.end };
          cell = { w, key, id: usageKeyId(key) };
          if (ent !== undefined) cellOf.set(ent, cell);
        }
        const { key, id } = cell;
        const input = meterInput(f.meter!, e.dimensions)!;
        folds.push({ key, id, meter: f.meter as MeterDefinition, input, timestamp: e.timestamp, e: ent });
        // An entity's event feeds its own cell too, aggregated the same way (docs/entities.md#usage-consumption-and-reservations).
        // Thresholds watch the pooled cell only (docs/alerts.md): the entity's cell carries no entitlement for them.
        if (e.entityId !== '') {
          const own = { ...key, entityId: e.entityId };
          folds.push({ key: own, id: usageKeyId(own), meter: f.meter as MeterDefinition, input, timestamp: e.timestamp, e: undefined });
        }
        // Further limits count the same events in their own windows' cells (docs/limits.md).
        for (const k of limitKeys(ent, key, e.timestamp) ?? []) folds.push({ key: k, id: usageKeyId(k), meter: f.meter as MeterDefinition, input, timestamp: e.timestamp, e: undefined });
      }
    }
    // Distinct values are claimed in key order (as BatchWrites orders cells, so that concurrent
    // batches take their locks in one order); a value is new on its first sight in the batch
    // only, and only if the store did not have it.
    const distinct = new Map<string, { key: UsageKey; value: string; isNew: boolean }>();
    for (const f of folds) {
      if (f.meter.aggregation.type !== 'UNIQUE_COUNT') continue;
      const value = String(f.input);
      const id = `${f.id}\u0000${value}`;
      if (!distinct.has(id)) distinct.set(id, { key: f.key, value, isNew: false });
    }
    for (const id of [...distinct.keys()].sort()) {
      const d = distinct.get(id)!;
      d.isNew = await fx.tx.addDistinctValue(d.key, d.value);
    }
    const writes = new BatchWrites(fx.tx, now);
    await writes.load(
      folds.map((f) => f.key),
      folds.map((f) => f.id),
    );
    // Each cell's usage before the batch and its entitlement, for the thresholds it crosses (alerts/thresholds.ts).
    const before = new Map<UsageRecord, { value: number; e: ResolvedEntitlement | undefined }>();
    for (const f of folds) {
      const rec = writes.loaded(f.key, f.id);
      if (!before.has(rec)) before.set(rec, { value: rec.value, e: f.e });
      let isNew = false;
      if (f.meter.aggregation.type === 'UNIQUE_COUNT') {
        const d = distinct.get(`${f.id}\u0000${String(f.input)}`)!;
        isNew = d.isNew;
        d.isNew = false;
      }
      foldEvent(rec, f.meter, f.input, f.timestamp, isNew);
    }
    // A SUM over huge values must not store Infinity or an imprecise total (docs/conventions.md#boundary).
    // AVG keeps a running sum beside the value: both are stored.
    for (const rec of writes.touched()) {
      requireSafeUsage(rec.value, `events (meter of feature "${rec.featureId}")`);
      requireSafeUsage(rec.sum, `events (meter of feature "${rec.featureId}")`);
    }
    await writes.flush();
    const usage: ReportEventResult['usage'] = [];
    const rises: UsageRise[] = [];
    for (const rec of writes.touched()) {
      fx.queueChange('usage.updated', rec.customerId, rec.featureId, usagePayload(rec, rec.value));
      noteUsage(ctx, fx, rec, rec.value);
      const was = before.get(rec);
      if (was) rises.push({ e: was.e, key: rec, before: was.value, after: rec.value });
      usage.push({
        customerId: rec.customerId,
        resourceId: rec.resourceId === '' ? null : rec.resourceId,
        ...(rec.entityId === '' || isLimitCellEntity(rec.entityId) ? {} : { entityId: rec.entityId }),
        featureId: rec.featureId,
        currentUsage: rec.value,
        ...usagePeriod(rec.windowStart, rec.windowEnd),
      });
    }
    await noteUsageThresholds(ctx, fx, rises);
    return { accepted, duplicates: inputs.length - accepted, unmatched, usage };
  });
}

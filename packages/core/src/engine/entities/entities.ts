// createEntity, deleteEntity, getEntities (docs/entities.md).
import { limitKeys } from '../usage/limit-cells.js';
import { TesseraError } from '../../errors.js';
import type { EntityRecord, UsageKey } from '../../records.js';
import type { Metadata } from '../../catalog/types.js';
import { write, type EngineContext, type WriteEffects } from '../runtime/context.js';
import { requireLiveCustomer } from '../runtime/lookups.js';
import { decodeCursor, MAX_ID_LENGTH, Params } from '../runtime/params.js';
import { customerView } from '../checks/entitlements.js';
import { consumeInTx } from '../usage/consumption.js';
import { emptyUsage } from '../usage/usage-cells.js';
import { entitlementFor, noteUsage, windowFor } from '../usage/usage.js';
import { usagePayload } from '../usage/usage-payload.js';
import { isTesseraError } from '../../errors.js';
import type { CustomerView } from '../checks/view.js';

/** A member of a customer with balances of its own (docs/entities.md). */
export interface Entity {
  customerId: string;
  entityId: string;
  /** The seat feature the entity occupies (one unit of its usage while live); null when none. */
  featureId: string | null;
  name: string | null;
  metadata: Metadata;
  createdAt: Date;
  updatedAt: Date;
  /** When it was deleted; null while live. */
  deletedAt: Date | null;
}

/** Parameters of `createEntity`. */
export interface CreateEntityParams {
  customerId: string;
  entityId: string;
  /** A METERED feature without a meter whose usage counts the customer's entities (a seat). */
  featureId?: string;
  name?: string;
  metadata?: Metadata;
}

/** Parameters of `getEntities`: cursor-paged by entityId (`limit` at most 1,000, default 100). */
export interface GetEntitiesParams {
  customerId: string;
  featureId?: string;
  includeDeleted?: boolean;
  limit?: number;
  cursor?: string;
}

function toEntity(r: EntityRecord): Entity {
  return {
    customerId: r.customerId,
    entityId: r.entityId,
    featureId: r.featureId,
    name: r.name,
    metadata: { ...r.metadata },
    createdAt: new Date(r.createdAt),
    updatedAt: new Date(r.updatedAt),
    deletedAt: r.deletedAt === null ? null : new Date(r.deletedAt),
  };
}

const sameMetadata = (a: Metadata, b: Metadata) => {
  const ka = Object.keys(a).sort();
  const kb = Object.keys(b).sort();
  return ka.length === kb.length && ka.every((k, i) => k === kb[i] && a[k] === b[k]);
};

/** The seat feature named by `featureId`: a METERED feature without a meter; throws otherwise. */
function requireSeatFeature(ctx: EngineContext, featureId: string, where: string): void {
  const f = ctx.latest().catalog.features.get(featureId);
  if (!f) throw new TesseraError('FEATURE_NOT_FOUND', `${where}: no feature "${featureId}" in the catalog`, { field: 'featureId', value: featureId });
  if (f.type !== 'METERED' || f.meter) {
    throw new TesseraError('INVALID_ARGUMENT', `${where}: "${featureId}" must be a METERED feature without a meter: its usage counts the customer's entities`, { field: 'featureId', value: featureId });
  }
}

function changed(ctx: EngineContext, fx: WriteEffects, r: EntityRecord, event: 'entityCreated' | 'entityDeleted'): Promise<number> {
  fx.emit(event, { customerId: r.customerId, entityId: r.entityId, featureId: r.featureId, at: new Date(fx.now) });
  return fx.change('entity.updated', r.customerId, r.entityId, { featureId: r.featureId, deleted: r.deletedAt !== null });
}

/**
 * `createEntity`: creates an entity of a customer, or revives a deleted one. With `featureId` it
 * occupies a seat: one unit of that feature's customer-level usage, taken in the same write, so
 * creating one over the seat limit throws USAGE_LIMIT_EXCEEDED with the seat's denial reason in
 * `details.reason`. Creating a live entity again is a no-op when equal, CONFLICT otherwise.
 */
export async function createEntity(ctx: EngineContext, params: unknown): Promise<Entity> {
  const p = new Params(params, 'createEntity', ['customerId', 'entityId', 'featureId', 'name', 'metadata']);
  const customerId = p.id('customerId');
  const entityId = p.id('entityId');
  const featureId = p.optId('featureId') ?? null;
  const name = p.optString('name') ?? null;
  const metadata = p.optMetadata('metadata') ?? {};
  if (featureId !== null) requireSeatFeature(ctx, featureId, 'createEntity.featureId');
  const view = await customerView(ctx, customerId);
  return write(ctx, async (fx) => {
    await requireLiveCustomer(fx.tx, customerId, 'createEntity.customerId');
    const old = await fx.tx.getEntity(customerId, entityId);
    if (old && old.deletedAt === null) {
      if (old.featureId === featureId && old.name === name && sameMetadata(old.metadata, metadata)) return toEntity(old);
      throw new TesseraError('CONFLICT', `createEntity: entity "${entityId}" of customer "${customerId}" exists with other fields; delete it first or use another id`, {
        field: 'entityId',
        value: entityId,
      });
    }
    if (featureId !== null) await takeSeat(ctx, fx, view, customerId, entityId, featureId);
    const rec: EntityRecord = { customerId, entityId, featureId, name, metadata, createdAt: old?.createdAt ?? fx.now, updatedAt: fx.now, deletedAt: null };
    await fx.tx.putEntity(rec);
    await changed(ctx, fx, rec, 'entityCreated');
    return toEntity(rec);
  });
}

/** One unit of the seat feature, as consumeUsage takes it; over the limit, the seat's denial. */
async function takeSeat(ctx: EngineContext, fx: WriteEffects, view: CustomerView, customerId: string, entityId: string, featureId: string): Promise<void> {
  try {
    await consumeInTx(ctx, fx, view, { customerId, featureId, resourceId: '', entityId: '', amount: 1, overage: 'REJECT', idempotencyKey: undefined }, 'createEntity');
  } catch (e) {
    if (!isTesseraError(e) || e.code !== 'USAGE_LIMIT_EXCEEDED') throw e;
    throw new TesseraError('USAGE_LIMIT_EXCEEDED', `createEntity: entity "${entityId}" needs a "${featureId}" seat and the customer has none left (${e.message})`, {
      ...e.details,
      field: 'featureId',
      value: featureId,
    });
  }
}

/**
 * `deleteEntity`: marks an entity deleted; its seat (one unit of its feature's usage, in the
 * current window) is freed, its past usage stays. Throws ENTITY_NOT_FOUND for an unknown or
 * already deleted entity.
 */
export async function deleteEntity(ctx: EngineContext, params: unknown): Promise<Entity> {
  const p = new Params(params, 'deleteEntity', ['customerId', 'entityId']);
  const customerId = p.id('customerId');
  const entityId = p.id('entityId');
  const view = await customerView(ctx, customerId);
  return write(ctx, async (fx) => {
    await requireLiveCustomer(fx.tx, customerId, 'deleteEntity.customerId');
    const rec = await fx.tx.getEntity(customerId, entityId);
    if (!rec || rec.deletedAt !== null) {
      throw new TesseraError('ENTITY_NOT_FOUND', `deleteEntity: customer "${customerId}" has no live entity "${entityId}"`, { field: 'entityId', value: entityId });
    }
    if (rec.featureId !== null) {
      const e = entitlementFor(view, '', rec.featureId, fx.now, fx.now);
      const w = windowFor(e, fx.now);
      const key: UsageKey = { customerId, resourceId: '', entityId: '', featureId: rec.featureId, windowStart: w.start, windowEnd: w.end };
      // The seat was taken in every limit's cell (createEntity consumes it): it is freed in each.
      for (const k of [key, ...(limitKeys(e, key, fx.now) ?? [])]) {
        const usage = (await fx.tx.getUsage(k)) ?? emptyUsage(k, fx.now);
        // Never below 0: a seat feature that resets counts only the seats taken in this window (docs/entities.md#seats).
        usage.value = Math.max(0, usage.value - 1);
        usage.updatedAt = fx.now;
        await fx.tx.putUsage(usage);
        await fx.change('usage.updated', customerId, rec.featureId, usagePayload(k, usage.value));
        noteUsage(ctx, fx, k, usage.value);
      }
    }
    rec.deletedAt = fx.now;
    rec.updatedAt = fx.now;
    await fx.tx.putEntity(rec);
    await changed(ctx, fx, rec, 'entityDeleted');
    return toEntity(rec);
  });
}

/** `getEntities`: a customer's entities ordered by entityId, cursor-paged. Throws CUSTOMER_NOT_FOUND. */
export async function getEntities(ctx: EngineContext, params: unknown): Promise<{ data: Entity[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } }> {
  const p = new Params(params, 'getEntities', ['customerId', 'featureId', 'includeDeleted', 'limit', 'cursor']);
  const customerId = p.id('customerId');
  const featureId = p.optId('featureId');
  const includeDeleted = p.optBoolean('includeDeleted') ?? false;
  const limit = p.optNumber('limit', { min: 1, max: 1000, integer: true }) ?? 100;
  const cursor = p.optId('cursor');
  let after: string | undefined;
  if (cursor !== undefined) {
    // Every decoded part is type-checked: a crafted cursor reaches the store's query otherwise.
    const decoded = decodeCursor(cursor);
    const id = Array.isArray(decoded) && decoded.length === 1 ? (decoded as unknown[])[0] : undefined;
    if (typeof id !== 'string' || id.length === 0 || id.length > MAX_ID_LENGTH) p.fail('cursor', 'must be an endCursor returned by an earlier page');
    after = id as string;
  }
  const rows = await ctx.store.transaction('read', async (tx) => {
    await requireLiveCustomer(tx, customerId, 'getEntities.customerId');
    return tx.listEntities({ customerId, includeDeleted, limit: limit + 1, ...(featureId !== undefined ? { featureId } : {}), ...(after !== undefined ? { after } : {}) });
  });
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return {
    data: page.map(toEntity),
    pageInfo: { hasNextPage: rows.length > limit, endCursor: last ? Buffer.from(JSON.stringify([last.entityId])).toString('base64url') : null },
  };
}

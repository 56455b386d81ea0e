import { TesseraError } from '../../errors.js';
import { readJsonValue } from '../../json-value.js';
import type { EntitlementOverrideRecord } from '../../records.js';
import { removeOverrides } from '../../rules/overrides.js';
import { promotionalEntitlement } from '../../rules/promotions.js';
import { write, type EngineContext, type WriteEffects } from '../runtime/context.js';
import { requireLiveCustomer } from '../runtime/lookups.js';
import { Params } from '../runtime/params.js';

/** A per-customer entitlement override as reads return it (docs/overrides.md). */
export interface EntitlementOverride {
  id: string;
  customerId: string;
  resourceId: string | null;
  featureId: string;
  /** What it grants instead of the subscription's entitlement, as a plan entitlement would. */
  entitlement: {
    value?: number;
    usageLimit?: number;
    isUnlimited?: boolean;
    hasSoftLimit?: boolean;
    resetPeriod?: string | null;
    resetPeriodConfiguration?: Record<string, unknown>;
    enumValues?: string[];
  };
  startDate: Date;
  /** Exclusive; null: until removed. */
  endDate: Date | null;
  reason: string | null;
  removedAt: Date | null;
  createdAt: Date;
  /** At the read's instant: SCHEDULED before its start, ACTIVE, EXPIRED past its end, REMOVED (or replaced). */
  status: 'SCHEDULED' | 'ACTIVE' | 'EXPIRED' | 'REMOVED';
}

const ENTITLEMENT_FIELDS = ['value', 'usageLimit', 'isUnlimited', 'hasSoftLimit', 'resetPeriod', 'resetPeriodConfiguration', 'enumValues'] as const;

/** The API shape of an override at `now`. */
export function toOverride(o: EntitlementOverrideRecord, now: number): EntitlementOverride {
  const status =
    o.removedAt !== null && o.removedAt <= now ? 'REMOVED' : o.endDate !== null && now >= o.endDate ? 'EXPIRED' : now < o.startDate ? 'SCHEDULED' : 'ACTIVE';
  const { featureId: _f, ...entitlement } = o.entitlement;
  return {
    id: o.id,
    customerId: o.customerId,
    resourceId: o.resourceId === '' ? null : o.resourceId,
    featureId: o.featureId,
    entitlement: structuredClone(entitlement) as EntitlementOverride['entitlement'],
    startDate: new Date(o.startDate),
    endDate: o.endDate === null ? null : new Date(o.endDate),
    reason: o.reason,
    removedAt: o.removedAt === null ? null : new Date(o.removedAt),
    createdAt: new Date(o.createdAt),
    status,
  };
}

/**
 * `setEntitlementOverride`: from `startDate` (default now) to `endDate` (exclusive; default until
 * removed), the customer's entitlement to the feature is `entitlement` instead of what its
 * subscriptions grant; promotional grants still add (docs/overrides.md). Replaces the customer's
 * live override of the same feature and resource. The entitlement is validated as a catalog
 * entitlement of the feature's type. Throws INVALID_ARGUMENT, FEATURE_NOT_FOUND, CUSTOMER_NOT_FOUND.
 */
export async function setEntitlementOverride(ctx: EngineContext, params: unknown): Promise<EntitlementOverride> {
  const method = 'setEntitlementOverride';
  const p = new Params(params, method, ['customerId', 'featureId', 'resourceId', 'entitlement', 'startDate', 'endDate', 'reason']);
  const customerId = p.id('customerId');
  const featureId = p.id('featureId');
  const resourceId = p.optId('resourceId') ?? '';
  const feature = ctx.latest().catalog.features.get(featureId);
  if (!feature) throw new TesseraError('FEATURE_NOT_FOUND', `${p.at('featureId')}: no feature "${featureId}"`, { field: p.at('featureId'), value: featureId });
  const e = p.optObject('entitlement', ENTITLEMENT_FIELDS) ?? p.fail('entitlement', `is required: an object with the fields a ${feature.type} entitlement takes`);
  // Copied as a checked JSON value before it is validated and stored (docs/conventions.md#boundary).
  const given = readJsonValue(e.raw, e.path) as Record<string, unknown>;
  const entitlement = promotionalEntitlement(feature, { ...given, featureId } as Parameters<typeof promotionalEntitlement>[1], e.path);
  const startDate = p.optInstant('startDate');
  const endDate = p.optInstant('endDate');
  const reason = p.optString('reason', 1000) ?? null;
  const now = ctx.clock.nowMs();
  if (endDate !== undefined && endDate <= (startDate ?? now)) p.fail('endDate', 'must be after startDate (or after now when startDate is not given)');
  if (endDate !== undefined && endDate <= now) p.fail('endDate', 'is not in the future: such an override would never be in force');
  return write(ctx, async (fx) => {
    await requireLiveCustomer(fx.tx, customerId, `${method}.customerId`);
    const existing = await fx.tx.listEntitlementOverrides(customerId);
    const { overrides, removed } = removeOverrides(existing, { featureId, resourceId }, fx.now);
    for (const id of removed) await fx.tx.putEntitlementOverride(overrides.find((o) => o.id === id)!);
    const rec: EntitlementOverrideRecord = {
      id: ctx.newId('ovr'),
      customerId,
      resourceId,
      featureId,
      entitlement,
      startDate: startDate ?? fx.now,
      endDate: endDate ?? null,
      reason,
      removedAt: null,
      createdAt: fx.now,
    };
    await fx.tx.putEntitlementOverride(rec);
    await fx.change('override.updated', customerId, featureId, { resourceId, set: rec.id, removed });
    const out = toOverride(rec, fx.now);
    announce(fx, customerId, resourceId, featureId, out);
    return out;
  });
}

/**
 * `removeEntitlementOverride`: ends now the customer's override of the feature (for `resourceId`,
 * else the customer level), in force or scheduled; the subscription's entitlement applies again.
 * Returns how many were removed (0: none was live; nothing is written).
 */
export async function removeEntitlementOverride(ctx: EngineContext, params: unknown): Promise<{ removed: number }> {
  const method = 'removeEntitlementOverride';
  const p = new Params(params, method, ['customerId', 'featureId', 'resourceId']);
  const customerId = p.id('customerId');
  const featureId = p.id('featureId');
  const resourceId = p.optId('resourceId') ?? '';
  return write(ctx, async (fx) => {
    await requireLiveCustomer(fx.tx, customerId, `${method}.customerId`);
    const existing = await fx.tx.listEntitlementOverrides(customerId);
    const { overrides, removed } = removeOverrides(existing, { featureId, resourceId }, fx.now);
    if (removed.length === 0) return { removed: 0 };
    for (const id of removed) await fx.tx.putEntitlementOverride(overrides.find((o) => o.id === id)!);
    await fx.change('override.updated', customerId, featureId, { resourceId, removed });
    announce(fx, customerId, resourceId, featureId, null);
    return { removed: removed.length };
  });
}

/** `getEntitlementOverrides`: every override of the customer (removed and expired included, with their status), oldest first. */
export async function getEntitlementOverrides(ctx: EngineContext, params: unknown): Promise<EntitlementOverride[]> {
  const method = 'getEntitlementOverrides';
  const p = new Params(params, method, ['customerId']);
  const customerId = p.id('customerId');
  return ctx.store.transaction('read', async (tx) => {
    await requireLiveCustomer(tx, customerId, `${method}.customerId`);
    const now = ctx.clock.nowMs();
    return (await tx.listEntitlementOverrides(customerId)).map((o) => toOverride(o, now));
  });
}

function announce(fx: WriteEffects, customerId: string, resourceId: string, featureId: string, override: EntitlementOverride | null): void {
  fx.invalidate(customerId);
  const at = new Date(fx.now);
  fx.emit('entitlementsUpdated', { customerId, resourceId: resourceId || null, reason: 'override.updated', at });
  fx.emit('entitlementOverrideUpdated', { customerId, resourceId: resourceId || null, featureId, override, at });
}

import { TesseraError } from '../../errors.js';
import { requireLiveCustomer } from '../runtime/lookups.js';
import { PROMOTIONAL_PERIODS, promotionalEntitlement, promotionalPeriodEnd, revokeGrants } from '../../rules/promotions.js';
import type { PromotionalGrantRecord } from '../../records.js';
import { write, type EngineContext } from '../runtime/context.js';
import { Params } from '../runtime/params.js';
import { readJsonValue } from '../../json-value.js';

/** A promotional entitlement as reads return it. */
export interface PromotionalEntitlement {
  id: string;
  customerId: string;
  resourceId: string | null;
  featureId: string;
  value?: number;
  usageLimit?: number;
  isUnlimited?: boolean;
  hasSoftLimit?: boolean;
  resetPeriod?: string | null;
  enumValues?: string[];
  startDate: Date;
  endDate: Date | null;
  revokedAt: Date | null;
  /** ACTIVE now, EXPIRED past its end, REVOKED. */
  status: 'ACTIVE' | 'EXPIRED' | 'REVOKED';
}

/** The API shape of a grant at `now`. */
export function toPromotion(g: PromotionalGrantRecord, now: number): PromotionalEntitlement {
  const status = g.revokedAt !== null && g.revokedAt <= now ? 'REVOKED' : g.endDate !== null && now >= g.endDate ? 'EXPIRED' : 'ACTIVE';
  return {
    id: g.id,
    customerId: g.customerId,
    resourceId: g.resourceId === '' ? null : g.resourceId,
    ...g.entitlement,
    featureId: g.featureId,
    startDate: new Date(g.startDate),
    endDate: g.endDate === null ? null : new Date(g.endDate),
    revokedAt: g.revokedAt === null ? null : new Date(g.revokedAt),
    status,
  };
}

/**
 * `grantPromotionalEntitlements`: grants features for a period (no subscription needed); a new
 * grant of a feature replaces the one in force for the same resource. They combine with plan and
 * add-on entitlements (docs/conventions.md#combining-sources) and lapse at their end with no job.
 */
export async function grantPromotionalEntitlements(ctx: EngineContext, params: unknown): Promise<PromotionalEntitlement[]> {
  const p = new Params(params, 'grantPromotionalEntitlements', ['customerId', 'resourceId', 'promotionalEntitlements']);
  const customerId = p.id('customerId');
  const resourceId = p.optId('resourceId') ?? '';
  const catalog = ctx.latest().catalog;
  const now = ctx.clock.nowMs();
  const inputs = p.array('promotionalEntitlements', (item, path) => {
    const e = new Params(item, path, ['featureId', 'period', 'customEndDate', 'value', 'usageLimit', 'isUnlimited', 'hasSoftLimit', 'resetPeriod', 'resetPeriodConfiguration', 'enumValues']);
    const featureId = e.id('featureId');
    const feature = catalog.features.get(featureId);
    if (!feature) throw new TesseraError('FEATURE_NOT_FOUND', `${e.at('featureId')}: no feature "${featureId}"`, { field: e.at('featureId'), value: featureId });
    const period = e.optEnum('period', PROMOTIONAL_PERIODS);
    if (!period) e.fail('period', `is required: one of ${PROMOTIONAL_PERIODS.join(', ')}`);
    const customEnd = e.optInstant('customEndDate');
    const { period: _p, customEndDate: _c, ...given } = e.raw;
    // Copied as a checked JSON value: these fields are stored as they are (docs/conventions.md#boundary).
    const rest = readJsonValue(given, path) as Record<string, unknown>;
    const entitlement = promotionalEntitlement(feature, { ...(rest as object), featureId } as Parameters<typeof promotionalEntitlement>[1], path);
    // Checked here against the read clock; recomputed from the write's own instant below.
    promotionalPeriodEnd(period!, now, customEnd);
    return { featureId, entitlement, period: period!, customEnd };
  }, 100);
  if (inputs.length === 0) p.fail('promotionalEntitlements', 'must not be empty');
  return write(ctx, async (fx) => {
    await requireLiveCustomer(fx.tx, customerId, 'grantPromotionalEntitlements.customerId');
    let grants = await fx.tx.listPromotionalGrants(customerId);
    const out: PromotionalGrantRecord[] = [];
    for (const i of inputs) {
      const revoked = revokeGrants(grants, { customerId, featureId: i.featureId, resourceId }, fx.now);
      for (const id of revoked.revoked) await fx.tx.putPromotionalGrant(revoked.grants.find((g) => g.id === id) as PromotionalGrantRecord);
      grants = revoked.grants as PromotionalGrantRecord[];
      const rec: PromotionalGrantRecord = {
        id: ctx.newId('promo'),
        customerId,
        resourceId,
        featureId: i.featureId,
        entitlement: i.entitlement,
        startDate: fx.now,
        endDate: promotionalPeriodEnd(i.period, fx.now, i.customEnd),
        revokedAt: null,
        createdAt: fx.now,
      };
      await fx.tx.putPromotionalGrant(rec);
      grants.push(rec);
      out.push(rec);
    }
    await fx.change('promotion.updated', customerId, null, { granted: out.map((g) => g.featureId) });
    fx.invalidate(customerId);
    fx.emit('entitlementsUpdated', { customerId, resourceId: resourceId || null, reason: 'promotion.updated', at: new Date(fx.now) });
    return out.map((g) => toPromotion(g, fx.now));
  });
}

/** `revokePromotionalEntitlements`: ends the grants of a feature now. Returns how many were revoked. */
export async function revokePromotionalEntitlements(ctx: EngineContext, params: unknown): Promise<{ revoked: number }> {
  const p = new Params(params, 'revokePromotionalEntitlements', ['customerId', 'featureId', 'resourceId']);
  const customerId = p.id('customerId');
  const featureId = p.id('featureId');
  const resourceId = p.optId('resourceId') ?? '';
  return write(ctx, async (fx) => {
    await requireLiveCustomer(fx.tx, customerId, 'revokePromotionalEntitlements.customerId');
    const grants = await fx.tx.listPromotionalGrants(customerId);
    const { grants: next, revoked } = revokeGrants(grants, { customerId, featureId, resourceId }, fx.now);
    for (const id of revoked) await fx.tx.putPromotionalGrant(next.find((g) => g.id === id) as PromotionalGrantRecord);
    if (revoked.length > 0) {
      await fx.change('promotion.updated', customerId, featureId, { revoked });
      fx.invalidate(customerId);
      fx.emit('entitlementsUpdated', { customerId, resourceId: resourceId || null, reason: 'promotion.updated', at: new Date(fx.now) });
    }
    return { revoked: revoked.length };
  });
}

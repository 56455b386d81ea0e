/**
 * Promotional entitlements: a feature granted to one customer (or one of its resources) for a
 * period, outside any plan (docs/credits.md#promotional-entitlements). Pure: grants and `at` in,
 * entitlement sources out; they combine with plan and add-on sources by the rules of
 * rules/entitlements.ts (limits add, highest value, unlimited wins...).
 */
import type { EntitlementDefinition, FeatureDefinition } from '../catalog/types.js';
import { checkEntitlements } from '../catalog/validate-features.js';
import { newContext } from '../catalog/validate-context.js';
import { TesseraError, invalidArgument } from '../errors.js';
import { addDaysUtc, addMonthsUtc } from './calendar.js';
import type { EntitlementSource } from './entitlements.js';

/** How long a promotional grant lasts, from its start. */
export type PromotionalPeriod = 'ONE_WEEK' | 'ONE_MONTH' | 'SIX_MONTHS' | 'ONE_YEAR' | 'LIFETIME' | 'CUSTOM';
export const PROMOTIONAL_PERIODS: readonly PromotionalPeriod[] = ['ONE_WEEK', 'ONE_MONTH', 'SIX_MONTHS', 'ONE_YEAR', 'LIFETIME', 'CUSTOM'];

const PERIOD_MONTHS: Partial<Record<PromotionalPeriod, number>> = { ONE_MONTH: 1, SIX_MONTHS: 6, ONE_YEAR: 12 };

/**
 * When a promotional grant starting at `start` ends (epoch ms, UTC, exclusive), or null for
 * LIFETIME. ONE_WEEK is 7 days; months and years follow the UTC calendar with month ends clamped
 * (docs/conventions.md#calendar): ONE_MONTH from Jan 31 2024 ends Feb 29 2024. CUSTOM ends at
 * `customEndDate`, which must be after `start`.
 * Throws `INVALID_ARGUMENT` for an unknown period, a CUSTOM period without a later
 * `customEndDate`, or a `customEndDate` given with another period.
 */
export function promotionalPeriodEnd(period: PromotionalPeriod, start: number, customEndDate?: number): number | null {
  if (!Number.isFinite(start)) throw invalidArgument('startDate', 'must be an instant (epoch ms)', { value: start });
  if (!PROMOTIONAL_PERIODS.includes(period)) {
    throw invalidArgument('period', `must be one of ${PROMOTIONAL_PERIODS.join(', ')}`, { value: period, allowed: PROMOTIONAL_PERIODS });
  }
  if (period === 'CUSTOM') {
    if (typeof customEndDate !== 'number' || !Number.isFinite(customEndDate) || customEndDate <= start) {
      throw invalidArgument('customEndDate', 'a CUSTOM period needs a customEndDate after the grant starts', { value: customEndDate });
    }
    return customEndDate;
  }
  if (customEndDate !== undefined) {
    throw invalidArgument('customEndDate', `applies only to period CUSTOM (period is ${period}): remove it`, { value: customEndDate });
  }
  if (period === 'LIFETIME') return null;
  if (period === 'ONE_WEEK') return addDaysUtc(start, 7);
  return addMonthsUtc(start, PERIOD_MONTHS[period]!);
}

/**
 * A promotional entitlement granted to a customer, stored as it was granted. In force at `at`
 * when startDate <= at < endDate (endDate null: forever) and not revoked by then.
 */
export interface PromotionalGrant {
  id: string;
  customerId: string;
  /** '' for the customer level (applies to every resource), else the resource it applies to. */
  resourceId: string;
  featureId: string;
  /** What it grants, as a plan entitlement would (validated by `promotionalEntitlement`). */
  entitlement: EntitlementDefinition;
  startDate: number;
  /** Exclusive; null: LIFETIME. */
  endDate: number | null;
  /** When it was revoked; null while not revoked. */
  revokedAt: number | null;
}

/** What a caller asks to grant for one feature (the fields of `grantPromotionalEntitlements`). */
export interface PromotionalEntitlementInput {
  featureId: string;
  value?: number;
  usageLimit?: number;
  isUnlimited?: boolean;
  hasSoftLimit?: boolean;
  resetPeriod?: EntitlementDefinition['resetPeriod'];
  resetPeriodConfiguration?: EntitlementDefinition['resetPeriodConfiguration'];
  enumValues?: string[];
}

const ENTITLEMENT_KEYS = [
  'value',
  'usageLimit',
  'isUnlimited',
  'hasSoftLimit',
  'resetPeriod',
  'resetPeriodConfiguration',
  'enumValues',
] as const;

/**
 * The entitlement a promotional grant gives, checked against the feature's type by the same
 * rules as a plan's (docs/catalog.md#entitlements): BOOLEAN takes no fields; NUMERIC `value` or
 * `isUnlimited`; METERED `usageLimit` or `isUnlimited`, `hasSoftLimit`, `resetPeriod`; ENUM
 * `enumValues`. Fields left undefined are dropped.
 * Throws `INVALID_ARGUMENT` listing every problem (`details.problems`, paths under `field`).
 */
export function promotionalEntitlement(
  feature: FeatureDefinition,
  input: PromotionalEntitlementInput,
  field = 'promotionalEntitlements[0]',
): EntitlementDefinition {
  if (input.featureId !== feature.id) {
    throw invalidArgument(`${field}.featureId`, `is '${input.featureId}' but the feature given is '${feature.id}'`, { value: input.featureId });
  }
  const entitlement: EntitlementDefinition = { featureId: feature.id };
  for (const key of ENTITLEMENT_KEYS) {
    const v = input[key];
    if (v !== undefined) (entitlement as unknown as Record<string, unknown>)[key] = structuredClone(v);
  }
  const ctx = newContext();
  ctx.features.set(feature.id, { item: feature as unknown as Record<string, unknown>, path: 'feature', index: 0 });
  checkEntitlements(ctx, [entitlement], 'promotionalEntitlements');
  if (ctx.problems.length > 0) {
    const problems = ctx.problems.map((p) => ({ path: p.path.replace('promotionalEntitlements[0]', field), message: p.message }));
    throw new TesseraError('INVALID_ARGUMENT', `${problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`, {
      field: problems[0]!.path,
      problems,
    });
  }
  return entitlement;
}

/** True when the grant is in force at `at`: started, not ended (endDate exclusive), not revoked. */
export function isGrantActiveAt(grant: PromotionalGrant, at: number): boolean {
  return grant.startDate <= at && (grant.endDate === null || at < grant.endDate) && (grant.revokedAt === null || at < grant.revokedAt);
}

/** The grants in force at `at`, in the given order. */
export function activeGrantsAt(grants: readonly PromotionalGrant[], at: number): PromotionalGrant[] {
  return grants.filter((g) => isGrantActiveAt(g, at));
}

/**
 * The grants that apply to `resourceId`: its own and the customer-level ones (resourceId ''),
 * as subscriptions combine (docs/conventions.md#combining-sources). '' gives the customer-level
 * grants only.
 */
export function grantsForResource(grants: readonly PromotionalGrant[], resourceId: string): PromotionalGrant[] {
  return grants.filter((g) => g.resourceId === '' || g.resourceId === resourceId);
}

/**
 * Entitlement sources of kind PROMOTIONAL for the grants in force at `at` (of `resourceId` and
 * the customer level when it is given; all grants when not), each with quantity 1 and its window
 * anchored at the grant's start. The grant's `featureId` is the one that counts. Feed them with
 * the plan and add-on sources to `resolveEntitlements`.
 */
export function grantSources(grants: readonly PromotionalGrant[], at: number, resourceId?: string): EntitlementSource[] {
  const scoped = resourceId === undefined ? grants : grantsForResource(grants, resourceId);
  return activeGrantsAt(scoped, at).map((g) => ({
    kind: 'PROMOTIONAL',
    sourceId: g.id,
    entitlement: g.entitlement.featureId === g.featureId ? g.entitlement : { ...g.entitlement, featureId: g.featureId },
    quantity: 1,
    anchor: g.startDate,
  }));
}

/**
 * The first instant after `at` at which the set of grants in force changes (a start, an end or a
 * revocation), or Infinity when none will: resolved entitlements hold until then.
 */
export function nextGrantTransition(grants: readonly PromotionalGrant[], at: number): number {
  let next = Number.POSITIVE_INFINITY;
  for (const g of grants) {
    for (const t of [g.startDate, g.endDate, g.revokedAt]) if (t !== null && t > at && t < next) next = t;
  }
  return next;
}

/**
 * Revokes at `at` the grants of `featureId` for `resourceId` ('' or absent: the customer level)
 * that are in force or still to start, as `revokePromotionalEntitlements` does; also what the
 * engine calls before granting a feature again, so that a new grant replaces the old one.
 * Returns new grant states (the input is not changed) and the ids revoked (none: nothing to do).
 */
export function revokeGrants(
  grants: readonly PromotionalGrant[],
  match: { customerId: string; featureId: string; resourceId?: string },
  at: number,
): { grants: PromotionalGrant[]; revoked: string[] } {
  const resourceId = match.resourceId ?? '';
  const revoked: string[] = [];
  const out = grants.map((g) => {
    const live = g.revokedAt === null && (g.endDate === null || at < g.endDate);
    if (!live || g.customerId !== match.customerId || g.featureId !== match.featureId || g.resourceId !== resourceId) return g;
    revoked.push(g.id);
    return { ...g, revokedAt: at };
  });
  return { grants: out, revoked };
}

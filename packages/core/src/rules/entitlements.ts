import type {
  BillingPeriod,
  EntitlementDefinition,
  FeatureDefinition,
  RolloverDefinition,
  FeatureType,
  MonthlyResetAnchor,
  ResetPeriod,
  PriceDefinition,
  WeekDay,
} from '../catalog/types.js';
import { RESET_PERIODS } from '../catalog/types.js';
import type { WindowSpec } from './windows.js';
import { combineLimits, type ResolvedLimit } from './limits.js';

/**
 * Where an entitlement comes from. BILLABLE_QUANTITY is a plan's per-unit priced feature granted
 * by the quantity bought (docs/conventions.md#billable-quantities). Ranks order ties: plan, then
 * billable quantity, then add-on, then promotion; an OVERRIDE (rules/overrides.ts) stands in for
 * the plan, quantities and add-ons, so it orders first.
 */
export type EntitlementSourceKind = 'PLAN' | 'BILLABLE_QUANTITY' | 'ADDON' | 'PROMOTIONAL' | 'OVERRIDE';

/** One grant of a feature: an entitlement definition times a quantity, anchored for its windows. */
export interface EntitlementSource {
  kind: EntitlementSourceKind;
  /** The plan, add-on or grant id, for display and deterministic ordering. */
  sourceId: string;
  entitlement: EntitlementDefinition;
  /** Add-on quantity or units bought (BILLABLE_QUANTITY); 1 for plans and grants. Multiplies `usageLimit` (not `value`). */
  quantity: number;
  /** Epoch ms that MONTH/YEAR/unconfigured WEEK windows count from (the subscription's usage anchor). */
  anchor: number;
}

/**
 * A feature's entitlement after combining every source (docs/conventions.md#combining-sources):
 * usage limits add (times quantity), numeric values take the highest, unlimited wins, a soft limit
 * on any source makes the combined limit soft, ENUM values unite, and the shortest reset period
 * wins (ties: plan, then billable quantity, then add-on, then promotion, then earliest anchor, then
 * source id).
 */
export interface ResolvedEntitlement {
  featureId: string;
  type: FeatureType;
  isUnlimited: boolean;
  /** NUMERIC: the highest value; null when unlimited or not NUMERIC. */
  value: number | null;
  /** METERED: the summed limit; null when unlimited or not METERED. */
  usageLimit: number | null;
  hasSoftLimit: boolean;
  resetPeriod: ResetPeriod | null;
  /** How the usage window is computed; resetPeriod null means one window for all time. */
  window: WindowSpec;
  /** ENUM: the values enabled (sorted). */
  enumValues: string[];
  /**
   * METERED: the limit of each entity of the entity feature `featureId` (docs/entities.md), summed
   * over the sources that give one (times quantity, as usage limits); null when no source does.
   */
  perEntity: { featureId: string; usageLimit: number } | null;
  sources: { kind: EntitlementSourceKind; sourceId: string; quantity: number }[];
  /** METERED: the alert thresholds of every source united (percents, ascending); absent when none. */
  usageAlerts?: number[];
  /**
   * METERED, bounded: the further limits beside `usageLimit`, each on its own reset period,
   * shortest first (docs/limits.md); absent when none.
   */
  limits?: ResolvedLimit[];
  /**
   * METERED, bounded and windowed: the rollover of unused allowance of the primary limit
   * (docs/rollovers.md#combining-sources); absent when none.
   */
  rollover?: RolloverDefinition;
}

const periodRank = (p: ResetPeriod | null | undefined): number => (p ? RESET_PERIODS.indexOf(p) : RESET_PERIODS.length);
const kindRank: Record<EntitlementSourceKind, number> = { PLAN: 0, BILLABLE_QUANTITY: 1, ADDON: 2, PROMOTIONAL: 3, OVERRIDE: -1 };

function compareSources(a: EntitlementSource, b: EntitlementSource): number {
  return (
    periodRank(a.entitlement.resetPeriod) - periodRank(b.entitlement.resetPeriod) ||
    kindRank[a.kind] - kindRank[b.kind] ||
    a.anchor - b.anchor ||
    cmp(a.sourceId, b.sourceId) ||
    a.quantity - b.quantity ||
    cmp(canonical(a.entitlement), canonical(b.entitlement))
  );
}

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Key-sorted JSON, so that full ties still order the same whatever the input order. */
function canonical(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'undefined';
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  const o = v as Record<string, unknown>;
  return `{${Object.keys(o)
    .filter((k) => o[k] !== undefined)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`)
    .join(',')}}`;
}

/**
 * Combines the sources of one feature into its entitlement. Order-independent: any permutation
 * of `sources` gives the same result. Returns undefined when `sources` is empty.
 */
export function combineEntitlement(
  feature: FeatureDefinition,
  sources: readonly EntitlementSource[],
): ResolvedEntitlement | undefined {
  if (sources.length === 0) return undefined;
  const sorted = [...sources].sort(compareSources);
  let isUnlimited = false;
  let value: number | null = null;
  let usageLimit = 0;
  let hasSoftLimit = false;
  const enumValues = new Set<string>();
  let perEntity: { featureId: string; usageLimit: number } | null = null;
  let alerts: Set<number> | undefined;
  for (const s of sorted) {
    for (const p of s.entitlement.alerts?.usagePercent ?? []) (alerts ??= new Set()).add(p);
    const e = s.entitlement;
    // The catalog makes every perEntity of a feature name one entity feature; one that differs
    // (an older catalog version) does not add to another entity feature's limit.
    const per = e.perEntity;
    if (per && (perEntity === null || perEntity.featureId === per.featureId)) {
      const sum: number = perEntity === null ? 0 : perEntity.usageLimit;
      perEntity = { featureId: per.featureId, usageLimit: sum + per.usageLimit * s.quantity };
    }
    if (e.isUnlimited) isUnlimited = true;
    if (e.hasSoftLimit) hasSoftLimit = true;
    if (typeof e.value === 'number') value = value === null ? e.value : Math.max(value, e.value);
    if (typeof e.usageLimit === 'number') usageLimit += e.usageLimit * s.quantity;
    for (const v of e.enumValues ?? []) enumValues.add(v);
  }
  // BOOLEAN and ENUM entitlements have no numeric bound; "unlimited" means nothing for them.
  const bounded = feature.type === 'NUMERIC' || feature.type === 'METERED';
  const first = sorted[0]!;
  const cfg = first.entitlement.resetPeriodConfiguration;
  const resetPeriod = feature.type === 'METERED' ? (first.entitlement.resetPeriod ?? null) : null;
  const window: WindowSpec = { resetPeriod, anchor: first.anchor };
  if (resetPeriod === 'MONTH' && cfg?.monthlyAccordingTo) window.monthlyAccordingTo = cfg.monthlyAccordingTo as MonthlyResetAnchor;
  if (resetPeriod === 'WEEK' && cfg?.weeklyAccordingTo) window.weeklyAccordingTo = cfg.weeklyAccordingTo as WeekDay;
  // Unlimited wins over every limit; a never-resetting primary has no further limits (validated).
  const extra = feature.type === 'METERED' && !isUnlimited && resetPeriod !== null ? combineLimits(sorted, resetPeriod) : undefined;
  if (extra) usageLimit += extra.primaryExtra;
  // The first source in combine order that rolls over on the combined period gives the settings (docs/rollovers.md#combining-sources).
  const rollover = feature.type === 'METERED' && !isUnlimited && resetPeriod !== null ? sorted.find((s) => s.entitlement.rollover !== undefined && s.entitlement.resetPeriod === resetPeriod)?.entitlement.rollover : undefined;
  return {
    featureId: feature.id,
    type: feature.type,
    isUnlimited: bounded && isUnlimited,
    value: feature.type === 'NUMERIC' && !isUnlimited ? value : null,
    usageLimit: feature.type === 'METERED' && !isUnlimited ? usageLimit : null,
    hasSoftLimit: feature.type === 'METERED' && hasSoftLimit,
    resetPeriod,
    window,
    // Frozen: checks return this array, and every customer sharing the resolution reads it (docs/conventions.md#check-results).
    enumValues: Object.freeze(feature.type === 'ENUM' ? [...enumValues].sort() : []) as string[],
    perEntity: feature.type === 'METERED' ? perEntity : null,
    sources: sorted.map((s) => ({ kind: s.kind, sourceId: s.sourceId, quantity: s.quantity })),
    // Absent rather than empty: most entitlements carry none, and results compare by shape.
    ...(alerts && feature.type === 'METERED' ? { usageAlerts: [...alerts].sort((a, b) => a - b) } : {}),
    ...(extra && extra.limits.length > 0 ? { limits: extra.limits } : {}),
    ...(rollover ? { rollover: { max: rollover.max, expiresAfter: rollover.expiresAfter } } : {}),
  };
}

/**
 * Resolves every feature granted by `sources`. Sources naming a feature the catalog no longer
 * has are ignored (the check for such a feature answers FeatureNotFound).
 */
export function resolveEntitlements(
  features: ReadonlyMap<string, FeatureDefinition>,
  sources: readonly EntitlementSource[],
): Map<string, ResolvedEntitlement> {
  const byFeature = new Map<string, EntitlementSource[]>();
  for (const s of sources) {
    const list = byFeature.get(s.entitlement.featureId);
    if (list) list.push(s);
    else byFeature.set(s.entitlement.featureId, [s]);
  }
  const out = new Map<string, ResolvedEntitlement>();
  for (const [featureId, list] of byFeature) {
    const feature = features.get(featureId);
    if (!feature) continue;
    const resolved = combineEntitlement(feature, list);
    if (resolved) out.set(featureId, resolved);
  }
  return out;
}

/**
 * The billable quantities that grant under a plan: those of features the plan prices PER_UNIT in
 * `billingPeriod` (any period when null), so that a feature is granted exactly when it is billed.
 * A quantity left over from another billing period or catalog version grants nothing.
 */
export function grantingQuantities(
  prices: readonly PriceDefinition[] | undefined,
  billingPeriod: BillingPeriod | null,
  billableFeatures: readonly { featureId: string; quantity: number }[],
): { featureId: string; quantity: number }[] {
  if (billableFeatures.length === 0) return [];
  const perUnit = new Set<string>();
  for (const p of prices ?? []) {
    if (p.billingModel === 'PER_UNIT' && p.featureId !== undefined && (billingPeriod === null || p.billingPeriod === billingPeriod)) perUnit.add(p.featureId);
  }
  return billableFeatures.filter((b) => perUnit.has(b.featureId));
}

/**
 * The sources a subscription's plan brings (docs/conventions.md#billable-quantities): its
 * entitlements, except that a METERED or NUMERIC feature with a quantity in `quantities` (see
 * `grantingQuantities`) is granted that quantity instead of the plan's own limit or value (the
 * quantity is the entitlement; it does not add to the plan's included units). The plan's
 * entitlement for such a feature still gives its shape: reset period, its configuration, a
 * soft limit, alert thresholds and a rollover. BOOLEAN and ENUM features keep the plan's entitlement; the quantity only bills.
 * Example: plan `team` with seats usageLimit 100 and 5 seats bought grants seats usageLimit 5.
 */
export function planSources(
  planId: string,
  entitlements: readonly EntitlementDefinition[],
  quantities: readonly { featureId: string; quantity: number }[],
  features: ReadonlyMap<string, FeatureDefinition>,
  anchor: number,
): EntitlementSource[] {
  const bought = new Map<string, number>();
  for (const q of quantities) {
    const type = features.get(q.featureId)?.type;
    if (type === 'METERED' || type === 'NUMERIC') bought.set(q.featureId, q.quantity);
  }
  const out: EntitlementSource[] = [];
  for (const entitlement of entitlements) {
    if (!bought.has(entitlement.featureId)) out.push({ kind: 'PLAN', sourceId: planId, entitlement, quantity: 1, anchor });
  }
  for (const [featureId, quantity] of bought) {
    const shape = entitlements.find((e) => e.featureId === featureId);
    const entitlement: EntitlementDefinition =
      features.get(featureId)!.type === 'NUMERIC' ? { featureId, value: quantity } : { featureId, usageLimit: 1 };
    if (entitlement.usageLimit !== undefined && shape) {
      if (shape.resetPeriod !== undefined) entitlement.resetPeriod = shape.resetPeriod;
      if (shape.resetPeriodConfiguration !== undefined) entitlement.resetPeriodConfiguration = shape.resetPeriodConfiguration;
      if (shape.hasSoftLimit !== undefined) entitlement.hasSoftLimit = shape.hasSoftLimit;
      // Percent thresholds and a rollover's max (units) do not scale with the quantity: kept as the
      // plan gives them. Further limits and perEntity would be multiplied by it, so they are not.
      if (shape.alerts !== undefined) entitlement.alerts = shape.alerts;
      if (shape.rollover !== undefined) entitlement.rollover = shape.rollover;
    }
    // METERED: one unit of limit per unit bought, times the quantity, so the source shows it.
    out.push({ kind: 'BILLABLE_QUANTITY', sourceId: planId, entitlement, quantity, anchor });
  }
  return out;
}

/** Why a metered check denies, or undefined when it allows. */
export type MeteredDecision = undefined | 'RequestedUsageExceedingLimit';

/**
 * The metered check of the hosted SDKs (docs/conventions.md#checks): allowed when unlimited or
 * soft-limited, else iff currentUsage + requestedUsage <= usageLimit. A customer exactly at the
 * limit with requestedUsage 0 still has access.
 */
export function decideMetered(e: Pick<ResolvedEntitlement, 'isUnlimited' | 'hasSoftLimit' | 'usageLimit'>, currentUsage: number, requestedUsage: number): MeteredDecision {
  if (e.isUnlimited || e.hasSoftLimit) return undefined;
  return currentUsage + requestedUsage <= (e.usageLimit ?? 0) ? undefined : 'RequestedUsageExceedingLimit';
}

/** Whether every requested ENUM value is enabled. */
export function enumCovers(e: ResolvedEntitlement, requested: readonly string[]): boolean {
  for (const v of requested) if (!e.enumValues.includes(v)) return false;
  return true;
}

import type {
  EntitlementDefinition,
  FeatureDefinition,
  FeatureType,
  MonthlyResetAnchor,
  ResetPeriod,
  WeekDay,
} from '../catalog/types.js';
import { RESET_PERIODS } from '../catalog/types.js';
import type { WindowSpec } from './windows.js';

/**
 * Where an entitlement comes from. Ranks order ties: plan before add-on before promotion; an
 * OVERRIDE (rules/overrides.ts) stands in for the plan and add-ons, so it orders first.
 */
export type EntitlementSourceKind = 'PLAN' | 'ADDON' | 'PROMOTIONAL' | 'OVERRIDE';

/** One grant of a feature: an entitlement definition times a quantity, anchored for its windows. */
export interface EntitlementSource {
  kind: EntitlementSourceKind;
  /** The plan, add-on or grant id, for display and deterministic ordering. */
  sourceId: string;
  entitlement: EntitlementDefinition;
  /** Add-on quantity; 1 for plans and grants. Multiplies `usageLimit` (not `value`). */
  quantity: number;
  /** Epoch ms that MONTH/YEAR/unconfigured WEEK windows count from (the subscription's usage anchor). */
  anchor: number;
}

/**
 * A feature's entitlement after combining every source (docs/conventions.md#combining-sources):
 * usage limits add (times quantity), numeric values take the highest, unlimited wins, a soft limit
 * on any source makes the combined limit soft, ENUM values unite, and the shortest reset period
 * wins (ties: plan, then add-on, then promotion, then earliest anchor, then source id).
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
  sources: { kind: EntitlementSourceKind; sourceId: string; quantity: number }[];
}

const periodRank = (p: ResetPeriod | null | undefined): number => (p ? RESET_PERIODS.indexOf(p) : RESET_PERIODS.length);
const kindRank: Record<EntitlementSourceKind, number> = { PLAN: 0, ADDON: 1, PROMOTIONAL: 2, OVERRIDE: -1 };

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
  for (const s of sorted) {
    const e = s.entitlement;
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
  return {
    featureId: feature.id,
    type: feature.type,
    isUnlimited: bounded && isUnlimited,
    value: feature.type === 'NUMERIC' && !isUnlimited ? value : null,
    usageLimit: feature.type === 'METERED' && !isUnlimited ? usageLimit : null,
    hasSoftLimit: feature.type === 'METERED' && hasSoftLimit,
    resetPeriod,
    window,
    enumValues: feature.type === 'ENUM' ? [...enumValues].sort() : [],
    sources: sorted.map((s) => ({ kind: s.kind, sourceId: s.sourceId, quantity: s.quantity })),
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

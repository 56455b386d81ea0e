/**
 * Per-customer entitlement overrides (docs/overrides.md): an entitlement that, while in force,
 * stands in for what the customer's subscriptions grant for one feature (plan, add-ons and any
 * other subscription source), where a promotional grant adds to them. Promotional grants still
 * add on top of an override. Pure: overrides, sources and `at` in, sources out.
 */
import type { EntitlementDefinition } from '../catalog/types.js';
import type { EntitlementSource } from './entitlements.js';

/** An override as stored (records.ts: `EntitlementOverrideRecord` has this shape and more). */
export interface EntitlementOverrideState {
  id: string;
  /** '' for the customer level (every resource), else the resource it applies to. */
  resourceId: string;
  featureId: string;
  entitlement: EntitlementDefinition;
  startDate: number;
  /** Exclusive; null: until removed. */
  endDate: number | null;
  /** When it was removed or replaced; null while not. */
  removedAt: number | null;
}

/** True when the override is in force at `at`: started, not ended (endDate exclusive), not removed by then. */
export function isOverrideActiveAt(o: EntitlementOverrideState, at: number): boolean {
  return o.startDate <= at && (o.endDate === null || at < o.endDate) && (o.removedAt === null || at < o.removedAt);
}

/**
 * The override in force for each feature at `at` for `resourceId`: a resource's own override wins
 * over a customer-level one ('' applies to every resource); between two of the same level, the
 * later start (then the greater id) wins, although the engine keeps at most one live per key.
 */
export function overridesInForce(overrides: readonly EntitlementOverrideState[], at: number, resourceId: string): Map<string, EntitlementOverrideState> {
  const out = new Map<string, EntitlementOverrideState>();
  for (const o of overrides) {
    if ((o.resourceId !== '' && o.resourceId !== resourceId) || !isOverrideActiveAt(o, at)) continue;
    const held = out.get(o.featureId);
    if (held === undefined || outranks(o, held)) out.set(o.featureId, o);
  }
  return out;
}

function outranks(a: EntitlementOverrideState, b: EntitlementOverrideState): boolean {
  if ((a.resourceId !== '') !== (b.resourceId !== '')) return a.resourceId !== '';
  return a.startDate !== b.startDate ? a.startDate > b.startDate : a.id > b.id;
}

/**
 * Applies the overrides in force at `at` for `resourceId` to a resource's entitlement sources:
 * for each overridden feature every source but PROMOTIONAL is dropped and one OVERRIDE source
 * added. Its windows count from the anchor of the sources it replaces (the subscription's usage
 * anchor, so usage already counted this month still counts), or from its own start when the
 * customer had none. Returns `sources` itself when no override is in force.
 */
export function applyOverrides(sources: readonly EntitlementSource[], overrides: readonly EntitlementOverrideState[], at: number, resourceId: string): EntitlementSource[] {
  if (overrides.length === 0) return sources as EntitlementSource[];
  const inForce = overridesInForce(overrides, at, resourceId);
  if (inForce.size === 0) return sources as EntitlementSource[];
  const anchors = new Map<string, number>();
  const out: EntitlementSource[] = [];
  for (const s of sources) {
    const featureId = s.entitlement.featureId;
    if (!inForce.has(featureId) || s.kind === 'PROMOTIONAL') {
      out.push(s);
      continue;
    }
    anchors.set(featureId, Math.min(anchors.get(featureId) ?? Number.POSITIVE_INFINITY, s.anchor));
  }
  for (const [featureId, o] of inForce) {
    out.push({
      kind: 'OVERRIDE',
      sourceId: o.id,
      entitlement: o.entitlement.featureId === featureId ? o.entitlement : { ...o.entitlement, featureId },
      quantity: 1,
      anchor: anchors.get(featureId) ?? o.startDate,
    });
  }
  return out;
}

/**
 * The first instant after `at` at which the set of overrides in force changes (a start, an end
 * or a removal), or Infinity when none will: resolved entitlements hold until then.
 */
export function nextOverrideTransition(overrides: readonly EntitlementOverrideState[], at: number): number {
  let next = Number.POSITIVE_INFINITY;
  for (const o of overrides) {
    for (const t of [o.startDate, o.endDate, o.removedAt]) if (t !== null && t > at && t < next) next = t;
  }
  return next;
}

/**
 * Marks removed at `at` the overrides of `featureId` for `resourceId` that are in force or still
 * to start, as `removeEntitlementOverride` does and as setting a new one does first (one live
 * override per customer, resource and feature). Returns new states (the input is not changed)
 * and the ids removed (none: nothing to do).
 */
export function removeOverrides<T extends EntitlementOverrideState>(
  overrides: readonly T[],
  match: { featureId: string; resourceId: string },
  at: number,
): { overrides: T[]; removed: string[] } {
  const removed: string[] = [];
  const out = overrides.map((o) => {
    const live = o.removedAt === null && (o.endDate === null || at < o.endDate);
    if (!live || o.featureId !== match.featureId || o.resourceId !== match.resourceId) return o;
    removed.push(o.id);
    return { ...o, removedAt: at };
  });
  return { overrides: out, removed };
}

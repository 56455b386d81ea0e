/**
 * Catalog versioning: what a publish changes, as numbers. Pure; the engine stores the record.
 */
import type { CatalogVersionRecord } from '../records.js';
import type { AddonDefinition, CatalogDefinition, EntitlementDefinition, PlanDefinition } from './types.js';

/**
 * `value` as JSON with object keys sorted (by UTF-16 code unit), so that two values that differ
 * only in key order give the same string. Follows `JSON.stringify` otherwise: `undefined`,
 * functions and symbols are left out of objects and become `null` in arrays, non-finite numbers
 * become `null`, `toJSON` is honoured; a top-level `undefined` gives `"null"`. Throws a
 * `TypeError` on a bigint or a circular structure, as `JSON.stringify` does.
 */
export function canonicalJson(value: unknown): string {
  return canonical(value, new Set()) ?? 'null';
}

function canonical(value: unknown, ancestors: Set<object>): string | undefined {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return JSON.stringify(value);
    case 'number':
      return Number.isFinite(value) ? JSON.stringify(value) : 'null';
    case 'bigint':
      throw new TypeError('canonicalJson: cannot serialise a bigint');
    case 'object':
      break;
    default:
      return undefined;
  }
  const toJSON = (value as { toJSON?: unknown }).toJSON;
  if (typeof toJSON === 'function') return canonical(toJSON.call(value), ancestors);
  if (ancestors.has(value)) throw new TypeError('canonicalJson: cannot serialise a circular structure');
  ancestors.add(value);
  let out: string;
  if (Array.isArray(value)) {
    out = `[${value.map((v) => canonical(v, ancestors) ?? 'null').join(',')}]`;
  } else {
    const record = value as Record<string, unknown>;
    const parts: string[] = [];
    for (const key of Object.keys(record).sort()) {
      const v = canonical(record[key], ancestors);
      if (v !== undefined) parts.push(`${JSON.stringify(key)}:${v}`);
    }
    out = `{${parts.join(',')}}`;
  }
  ancestors.delete(value);
  return out;
}

/**
 * The catalog version a publish of `definition` creates after `previous` (undefined for the first
 * publish), at `publishedAt` (UTC epoch ms).
 *
 * - `changed` is false when `definition` is canonically identical to `previous.definition` (key
 *   order aside): then `record` is `previous` itself and the caller stores nothing.
 * - Otherwise `record.version` is `previous.version + 1` (1 for the first) and each plan and
 *   add-on gets a version: 1 when it was not in `previous`; the previous one when its canonical
 *   content is unchanged; the previous one + 1 when it changed. A plan's content is its own
 *   definition together with the entitlements it resolves to through its parents, so a change to a
 *   parent's entitlements bumps every descendant too.
 *
 * Only `previous` is compared, so a plan that was removed and is published again later starts at
 * 1 again. A plan or add-on version is therefore only meaningful together with the catalog version
 * it was published in (subscriptions store both), and "newer" means "a later catalog version".
 * Not content: a plan's position in its product (ordering is the product's concern) and the
 * definitions of the features it names (features are not versioned per plan).
 *
 * `definition` is not validated here; validate it first (`validateCatalog`). It is copied, so the
 * record does not change when the caller mutates its object later.
 */
export function nextCatalogVersion(
  previous: CatalogVersionRecord | undefined,
  definition: CatalogDefinition,
  publishedAt: number,
): { record: CatalogVersionRecord; changed: boolean } {
  if (previous && canonicalJson(previous.definition) === canonicalJson(definition)) {
    return { record: previous, changed: false };
  }
  const before = previous ? planFingerprints(previous.definition) : new Map<string, string>();
  const beforeAddons = previous ? addonFingerprints(previous.definition) : new Map<string, string>();
  return {
    changed: true,
    record: {
      version: (previous?.version ?? 0) + 1,
      publishedAt,
      definition: structuredClone(definition),
      planVersions: bump(planFingerprints(definition), before, previous?.planVersions),
      addonVersions: bump(addonFingerprints(definition), beforeAddons, previous?.addonVersions),
    },
  };
}

function bump(
  now: ReadonlyMap<string, string>,
  before: ReadonlyMap<string, string>,
  versions: Readonly<Record<string, number>> | undefined,
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [id, fingerprint] of now) {
    const last = versions?.[id];
    const was = before.get(id);
    if (last === undefined || was === undefined) out[id] = 1;
    else out[id] = was === fingerprint ? last : last + 1;
  }
  return out;
}

function firstById<T extends { id: string }>(items: readonly T[] | undefined): Map<string, T> {
  const out = new Map<string, T>();
  for (const item of items ?? []) if (!out.has(item.id)) out.set(item.id, item);
  return out;
}

function planFingerprints(definition: CatalogDefinition): Map<string, string> {
  const plans = firstById(definition.plans);
  const out = new Map<string, string>();
  for (const [id, plan] of plans) {
    out.set(id, canonicalJson({ plan, resolvedEntitlements: resolveEntitlements(plan, plans) }));
  }
  return out;
}

function addonFingerprints(definition: CatalogDefinition): Map<string, string> {
  const out = new Map<string, string>();
  for (const [id, addon] of firstById<AddonDefinition>(definition.addons)) out.set(id, canonicalJson(addon));
  return out;
}

/** The plan's entitlements with its ancestors', nearest first wins per feature, sorted by feature id. */
function resolveEntitlements(plan: PlanDefinition, plans: ReadonlyMap<string, PlanDefinition>): EntitlementDefinition[] {
  const byFeature = new Map<string, EntitlementDefinition>();
  // The visited set stops at a parent cycle: versions may be asked about an unvalidated definition.
  const visited = new Set<string>();
  for (let p: PlanDefinition | undefined = plan; p && !visited.has(p.id); p = p.parentPlanId ? plans.get(p.parentPlanId) : undefined) {
    visited.add(p.id);
    for (const e of p.entitlements ?? []) if (!byFeature.has(e.featureId)) byFeature.set(e.featureId, e);
  }
  return [...byFeature.values()].sort((a, b) => (a.featureId < b.featureId ? -1 : a.featureId > b.featureId ? 1 : 0));
}

// Resolved entitlements shared by the customers whose sources are the same catalog objects, so that
// a resident view costs a few objects instead of one per feature (bench/README.md#memory).
import type { FeatureDefinition } from '../../catalog/types.js';
import { resolveEntitlements, type EntitlementSource, type ResolvedEntitlement } from '../../rules/entitlements.js';

/** What a resource's resolved entitlements offer their readers: a Map, or a customer's view of a shared one. */
export interface ResolvedEntitlements {
  get(featureId: string): ResolvedEntitlement | undefined;
  keys(): IterableIterator<string>;
}

/** One resolution shared by every customer with the same sources; `anchor` is the one it was resolved with. */
interface Shared {
  template: Map<string, ResolvedEntitlement>;
  anchor: number;
}

/** Distinct source sets remembered per catalog (a few MB at most); past it the cache starts again. Plans x add-on quantities usually stay far below. */
const MAX_SHARED = 1_000;
const NOTHING: ReadonlyMap<string, ResolvedEntitlement> = new Map();
const byFeatures = new WeakMap<ReadonlyMap<string, FeatureDefinition>, Map<string, Shared>>();
const objectIds = new WeakMap<object, number>();
let lastId = 0;

function idOf(o: object): number {
  let id = objectIds.get(o);
  if (id === undefined) objectIds.set(o, (id = ++lastId));
  return id;
}

/**
 * The key under which customers share a resolution, or undefined when theirs is their own. Shared
 * only when every source is a plan's or an add-on's entitlement (catalog objects, the same for
 * every subscriber of one catalog version) under one usage anchor: then the resolution differs
 * between customers only in its windows' anchor. Promotions, overrides and bought quantities are
 * records of one customer and resolve per customer, as before.
 */
function shareKey(sources: readonly EntitlementSource[]): string | undefined {
  const anchor = sources[0]!.anchor;
  let key = '';
  for (const s of sources) {
    if ((s.kind !== 'PLAN' && s.kind !== 'ADDON') || s.anchor !== anchor) return undefined;
    key += `${s.kind === 'PLAN' ? 'P' : 'A'}${idOf(s.entitlement)}*${s.quantity}\u0000${s.sourceId}\u0001`;
  }
  return key;
}

/**
 * `resolveEntitlements(features, sources)`, shared with every customer whose sources are the same
 * catalog objects (shareKey). Resolved entitlements are never changed after resolution; a customer
 * whose anchor differs from the shared one sees copies with their own anchor for the windowed
 * features (AnchoredEntitlements), made when first read.
 */
export function resolveShared(features: ReadonlyMap<string, FeatureDefinition>, sources: readonly EntitlementSource[]): ResolvedEntitlements {
  if (sources.length === 0) return NOTHING;
  const key = shareKey(sources);
  if (key === undefined) return resolveEntitlements(features, sources);
  let cache = byFeatures.get(features);
  if (cache === undefined) byFeatures.set(features, (cache = new Map()));
  let shared = cache.get(key);
  if (shared === undefined) {
    if (cache.size >= MAX_SHARED) cache.clear();
    shared = { template: resolveEntitlements(features, sources), anchor: sources[0]!.anchor };
    cache.set(key, shared);
  }
  const anchor = sources[0]!.anchor;
  return anchor === shared.anchor ? shared.template : new AnchoredEntitlements(shared.template, anchor);
}

/**
 * A shared resolution as seen by a customer with another usage anchor: features without a usage
 * window (and without further limits) are the shared objects; a windowed one is copied once, on
 * its first read, with the customer's anchor in its windows.
 */
class AnchoredEntitlements implements ResolvedEntitlements {
  private own: Map<string, ResolvedEntitlement> | undefined;

  constructor(
    private readonly template: Map<string, ResolvedEntitlement>,
    private readonly anchor: number,
  ) {}

  get(featureId: string): ResolvedEntitlement | undefined {
    const e = this.template.get(featureId);
    if (e === undefined || (e.window.resetPeriod == null && e.limits === undefined)) return e;
    let mine = this.own?.get(featureId);
    if (mine === undefined) (this.own ??= new Map()).set(featureId, (mine = withAnchor(e, this.anchor)));
    return mine;
  }

  keys(): IterableIterator<string> {
    return this.template.keys();
  }
}

/** `e` with `anchor` in its window and its further limits' windows; everything else shared. */
function withAnchor(e: ResolvedEntitlement, anchor: number): ResolvedEntitlement {
  const out: ResolvedEntitlement = {
    featureId: e.featureId,
    type: e.type,
    isUnlimited: e.isUnlimited,
    value: e.value,
    usageLimit: e.usageLimit,
    hasSoftLimit: e.hasSoftLimit,
    resetPeriod: e.resetPeriod,
    window: { ...e.window, anchor },
    enumValues: e.enumValues,
    perEntity: e.perEntity,
    sources: e.sources,
  };
  if (e.usageAlerts !== undefined) out.usageAlerts = e.usageAlerts;
  // Every optional field goes with the copy: a rollover dropped here left the customer without it (test/engine/shared-resolution.test.ts).
  if (e.rollover !== undefined) out.rollover = e.rollover;
  if (e.limits !== undefined) out.limits = e.limits.map((l) => ({ usageLimit: l.usageLimit, resetPeriod: l.resetPeriod, window: { ...l.window, anchor } }));
  return out;
}

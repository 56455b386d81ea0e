import type { FeatureDefinition, FeatureType, ResetPeriod } from '../../catalog/types.js';
import type { EntitlementSource, ResolvedEntitlement } from '../../rules/entitlements.js';
import { grantingQuantities, planSources, resolveEntitlements } from '../../rules/entitlements.js';
import { resolveShared, type ResolvedEntitlements } from './shared-resolution.js';
import { grantsAt, nextTransition } from '../../rules/lifecycle.js';
import type { CreditGrantRecord, CustomerRecord, EntitlementOverrideRecord, PromotionalGrantRecord, SubscriptionRecord } from '../../records.js';
import { grantSources, nextGrantTransition } from '../../rules/promotions.js';
import { applyOverrides, nextOverrideTransition } from '../../rules/overrides.js';
import type { PublishedCatalog } from '../runtime/context.js';
import { BoundedCache } from './bounded-cache.js';
import { featureInfo, type FeatureInfo } from './feature-info.js';
import { FixedDate } from './fixed-date.js';
import { limitSlots, limitsFresh, type LimitSlot } from './limit-slots.js';
import type { RolloverChunk } from '../../rules/rollover.js';

/** The usage of one feature in one window, as last read or written by this engine. */
export interface UsageCell {
  start: number;
  end: number;
  /** Recorded usage in the window. */
  value: number;
  /** Quota held by live reservations in the window. */
  held: number;
  /** Earliest expiry among the held reservations (Infinity when none): the cell is stale after it. */
  heldUntil: number;
  /** The chunks carried into the window (docs/rollovers.md); absent when the feature does not roll over. */
  carried?: readonly RolloverChunk[] | undefined;
}

const NO_DATE: Date = new FixedDate(Number.NaN);

/**
 * Everything a check of one entitled feature reads, in one object: one Map lookup reaches the
 * feature, its public description, the entitlement's limits and the cached usage cell, whose
 * fields live here rather than in an object of their own. A warm check is bound by dependent
 * memory loads, not arithmetic (bench/README.md#where-the-time-goes), so each hop saved counts.
 * The slot is itself the cached UsageCell; with no cell cached, `end` is -Infinity so no instant
 * is inside it.
 */
export class CheckSlot implements UsageCell {
  /** The feature's type and credit cost, copied so that a check never reads the catalog's object. */
  readonly type: FeatureType;
  readonly creditCost: FeatureDefinition['creditCost'];
  readonly usageLimit: number | null;
  readonly isUnlimited: boolean;
  readonly hasSoftLimit: boolean;
  readonly resetPeriod: ResetPeriod | null;
  /** The override in force that the entitlement comes from (docs/overrides.md); undefined when none. */
  readonly overrideId: string | undefined;
  start = 0;
  end = -Infinity;
  value = 0;
  held = 0;
  heldUntil = Infinity;
  /** The chunks carried into the cached window (docs/rollovers.md), read with the cell; undefined when none roll over. */
  carried: readonly RolloverChunk[] | undefined = undefined;
  /** The window's bounds as the read-only Dates every check in the window returns (made once per window). */
  startDate: Date = NO_DATE;
  endDate: Date = NO_DATE;
  /** The cells of the entitlement's further limits (docs/limits.md); undefined when it has none. */
  readonly limits: LimitSlot[] | undefined;

  constructor(
    readonly entitlement: ResolvedEntitlement,
    /** The feature as the latest catalog had it when resolved (views are dropped on publish). */
    readonly feature: FeatureDefinition,
    readonly info: FeatureInfo,
  ) {
    this.type = feature.type;
    this.creditCost = feature.creditCost;
    this.usageLimit = entitlement.usageLimit;
    this.isUnlimited = entitlement.isUnlimited;
    this.hasSoftLimit = entitlement.hasSoftLimit;
    this.resetPeriod = entitlement.resetPeriod;
    this.overrideId = entitlement.sources.find((s) => s.kind === 'OVERRIDE')?.sourceId;
    this.limits = limitSlots(entitlement.limits);
  }

  /** Caches a usage cell read or written by this engine. */
  keep(cell: UsageCell): void {
    if (cell.start !== this.startDate.getTime()) this.startDate = new FixedDate(cell.start);
    if (cell.end !== this.endDate.getTime()) this.endDate = new FixedDate(cell.end);
    this.start = cell.start;
    this.end = cell.end;
    this.value = cell.value;
    this.held = cell.held;
    this.heldUntil = cell.heldUntil;
    this.carried = cell.carried;
  }

  /** Forgets the cached cell (and the further limits' cells), so the next check reads them from the store. */
  drop(): void {
    this.end = -Infinity;
    if (this.limits !== undefined) for (const l of this.limits) l.end = -Infinity;
  }

  /**
   * Whether the cached cell still answers at `now`: its window contains now and no held
   * reservation has expired since it was read; with further limits, theirs too.
   */
  fresh(now: number): boolean {
    return now >= this.start && now < this.end && now < this.heldUntil && (this.limits === undefined || limitsFresh(this.limits, now));
  }
}

/**
 * The slots of features without usage (BOOLEAN, NUMERIC, ENUM) hold nothing of one customer's:
 * every customer whose resolution is shared (shared-resolution.ts) shares them too. Keyed by the
 * resolved entitlement, so a new catalog or another resolution makes its own.
 */
const sharedSlots = new WeakMap<ResolvedEntitlement, CheckSlot>();

function sharedSlot(entitlement: ResolvedEntitlement, feature: FeatureDefinition): CheckSlot {
  let slot = sharedSlots.get(entitlement);
  if (slot === undefined || slot.feature !== feature) sharedSlots.set(entitlement, (slot = new CheckSlot(entitlement, feature, featureInfo(feature))));
  return slot;
}

/** A customer's entitlements for one resource ('' = customer level) at the instants [from, until). */
export interface ResourceView {
  /** Shared with the customers on the same plan (shared-resolution.ts): read, never changed. */
  entitlements: ResolvedEntitlements;
  /** Some subscription grants entitlements here now. */
  hasActiveSubscription: boolean;
  /** Some subscription of the customer ever named this resource ('' always counts). */
  known: boolean;
  /**
   * A slot per entitled feature once it has been checked (CustomerView.slotOf makes them): most
   * customers have most features never checked, and a slot costs about 150 bytes.
   */
  slots: Map<string, CheckSlot>;
}

/**
 * A customer's state as the fast path needs it: the customer, their subscriptions, and the
 * entitlements resolved per resource for the period in which no subscription changes status.
 */
export class CustomerView {
  /** Set on a hit, cleared by the cache's eviction pass (SIEVE, bounded-cache.ts). */
  visited = false;
  /** Views of other resources than the customer level; made on the first such check (most customers have none). */
  private resources: Map<string, ResourceView> | undefined;
  /** The customer-level resource (''), which nearly every check asks for: a field, not a Map lookup. */
  private base: ResourceView | undefined;
  /** The slots of `base`, one hop nearer for the warm check. */
  private baseSlotMap: Map<string, CheckSlot> | undefined;
  /** Resolved entitlements hold for now in [from, until). */
  private from = 0;
  private until = -Infinity;
  /** The customer exists and is not archived: read by every check, kept here to spare it a hop to the record. */
  readonly live: boolean;

  constructor(
    readonly customer: CustomerRecord | undefined,
    readonly subscriptions: SubscriptionRecord[],
    private readonly catalogs: Map<number, PublishedCatalog>,
    private readonly features: () => ReadonlyMap<string, FeatureDefinition>,
    readonly promotions: PromotionalGrantRecord[] = [],
    /** Credit grants, for checks of features that cost credits (balances are computed at each check). */
    readonly credits: CreditGrantRecord[] = [],
    /** Entitlement overrides (docs/overrides.md); their starts and ends bound the resolution like a grant's. */
    readonly overrides: EntitlementOverrideRecord[] = [],
  ) {
    this.live = customer !== undefined && customer.archivedAt === null;
  }

  /** The resolved view of a resource at `now`, recomputed when a subscription changed status since. */
  resource(resourceId: string, now: number): ResourceView {
    if (now >= this.until || now < this.from) {
      // Usage cells go too: a new entitlement may count in another window.
      this.resources = undefined;
      this.base = undefined;
      this.baseSlotMap = undefined;
      this.from = now;
      this.until = this.nextChange(now);
    }
    let rv = resourceId === '' ? this.base : this.resources?.get(resourceId);
    if (!rv) {
      // A whole literal: `{ ...x, usage }` gives (on Node 20's V8) nearly every object its own hidden
      // class, and every later read of it on the check path goes megamorphic.
      const r = this.resolve(resourceId, now);
      rv = { entitlements: r.entitlements, hasActiveSubscription: r.hasActiveSubscription, known: r.known, slots: new Map() };
      if (resourceId === '') {
        this.base = rv;
        this.baseSlotMap = rv.slots;
      }
      else (this.resources ??= new Map()).set(resourceId, rv);
    }
    return rv;
  }

  /** The customer-level slots at `now`: resource('').slots, without reaching through the resource view when warm. */
  baseSlots(now: number): Map<string, CheckSlot> {
    const slots = this.baseSlotMap;
    return slots !== undefined && now < this.until && now >= this.from ? slots : this.resource('', now).slots;
  }

  /** The check slot of a feature the resource is entitled to, made on its first use; undefined when not entitled (or not in the catalog). */
  slotOf(rv: ResourceView, featureId: string): CheckSlot | undefined {
    let slot = rv.slots.get(featureId);
    if (slot === undefined) {
      const entitlement = rv.entitlements.get(featureId);
      const feature = entitlement && this.features().get(featureId);
      if (!entitlement || !feature) return undefined;
      slot = feature.type === 'METERED' ? new CheckSlot(entitlement, feature, featureInfo(feature)) : sharedSlot(entitlement, feature);
      rv.slots.set(featureId, slot);
    }
    return slot;
  }

  /** Whether the entitlements resolved for now also hold at `at` (no subscription or grant changes between). */
  holdsAt(at: number): boolean {
    if (at >= this.from && at < this.until) return true;
    // An instant a little before the resolution (an event stamped before its view was resolved
    // inside the write) holds too when nothing changes in between; the resolution then covers it
    // from there, so a batch of such events resolves nothing again.
    if (at < this.from && this.nextChange(at) > this.from) {
      this.from = at;
      return true;
    }
    return false;
  }

  /** The resource's view if already computed (no recomputation). */
  cachedResource(resourceId: string): ResourceView | undefined {
    return resourceId === '' ? this.base : this.resources?.get(resourceId);
  }

  /** The first instant after `at` at which a subscription, grant or override changes what is in force. */
  private nextChange(at: number): number {
    return Math.min(nextTransition(this.subscriptions, at), nextGrantTransition(this.promotions, at), nextOverrideTransition(this.overrides, at));
  }

  private resolve(resourceId: string, now: number): Omit<ResourceView, 'slots'> {
    const known =
      resourceId === '' ||
      this.subscriptions.some((s) => s.resourceId === resourceId) ||
      this.promotions.some((g) => g.resourceId === resourceId) ||
      this.overrides.some((o) => o.resourceId === resourceId);
    const granting = grantingSubscriptions(this.subscriptions, resourceId, now);
    const sources = granting.flatMap((sub) => subscriptionSources(sub, this.catalogs, now));
    sources.push(...grantSources(this.promotions, now, resourceId));
    return { entitlements: resolveShared(this.features(), applyOverrides(sources, this.overrides, now, resourceId)), hasActiveSubscription: granting.length > 0, known };
  }

  /** Entitlements in force at an arbitrary instant (late usage), not cached. */
  entitlementsAt(resourceId: string, at: number): Map<string, ResolvedEntitlement> {
    const sources = grantingSubscriptions(this.subscriptions, resourceId, at).flatMap((sub) => subscriptionSources(sub, this.catalogs, at));
    sources.push(...grantSources(this.promotions, at, resourceId));
    return resolveEntitlements(this.features(), applyOverrides(sources, this.overrides, at, resourceId));
  }
}


/**
 * The subscriptions whose entitlements apply to a resource at `at`: those granting then, for the
 * resource or the customer level. Where a trial runs beside a paid subscription of the same
 * product, the trial's plan is the one in force (docs/conventions.md#combining-sources): plans of
 * one product never stack.
 */
export function grantingSubscriptions(subs: readonly SubscriptionRecord[], resourceId: string, at: number): SubscriptionRecord[] {
  const live = subs.filter((s) => (s.resourceId === resourceId || s.resourceId === '') && grantsAt(s, at));
  const trialing = new Set(live.filter((s) => s.trialEndDate !== null && at < s.trialEndDate).map((s) => `${s.productId}\u0000${s.resourceId}`));
  if (trialing.size === 0) return live;
  return live.filter((s) => (s.trialEndDate !== null && at < s.trialEndDate) || !trialing.has(`${s.productId}\u0000${s.resourceId}`));
}

/** The catalog version a subscription resolves in at `at`: a due scheduled migration applies without a job. */
export function effectiveCatalogVersion(sub: SubscriptionRecord, at: number): number {
  let version = sub.catalogVersion;
  for (const u of sub.scheduledUpdates) if (u.kind === 'MIGRATION' && u.at <= at && u.catalogVersion !== undefined) version = u.catalogVersion;
  return version;
}

/**
 * The entitlement sources a subscription brings: its plan (with inheritance) with the per-unit
 * quantities bought in place of the plan's own limits (rules/entitlements.ts planSources), and
 * add-ons x quantity.
 */
export function subscriptionSources(sub: SubscriptionRecord, catalogs: Map<number, PublishedCatalog>, at: number): EntitlementSource[] {
  const published = catalogs.get(effectiveCatalogVersion(sub, at));
  if (!published) return [];
  const { catalog } = published;
  const quantities = grantingQuantities(catalog.plans.get(sub.planId)?.prices, sub.billingPeriod, sub.billableFeatures);
  const out = planSources(sub.planId, catalog.planEntitlements(sub.planId), quantities, catalog.features, sub.usageAnchor);
  for (const a of sub.addons) {
    for (const entitlement of catalog.addons.get(a.addonId)?.entitlements ?? []) {
      out.push({ kind: 'ADDON', sourceId: a.addonId, entitlement, quantity: a.quantity, anchor: sub.usageAnchor });
    }
  }
  return out;
}

/** Customers whose last write is remembered individually; past it, all earlier loads count as raced. */
const TOUCHED_LIMIT = 10_000;

/**
 * The bounded cache of customer views. `generation` moves on every write that concerns a cached
 * customer, so that a load that raced with a write (it read before the write committed and
 * finishes after) does not install what it read. Loads are judged per customer: a write to one
 * customer does not throw away a load of another, which matters on stores whose transactions run
 * side by side (PostgreSQL), where a load and a write often overlap.
 */
export class ViewCache {
  private readonly cache: BoundedCache<string, CustomerView>;
  private gen = 0;
  /** The generation of each customer's last write, for the most recent TOUCHED_LIMIT customers. */
  private readonly touched = new Map<string, number>();
  /** Writes at or below this generation are no longer remembered per customer. */
  private floor = 0;

  constructor(maxCustomers: number) {
    this.cache = new BoundedCache(maxCustomers);
  }

  get generation(): number {
    return this.gen;
  }

  get size(): number {
    return this.cache.size;
  }

  /** Size, bound and evictions, for the engine's metrics. */
  stats(): { size: number; maxSize: number; evictions: number } {
    return { size: this.cache.size, maxSize: this.cache.maxEntries, evictions: this.cache.evictions };
  }

  get(customerId: string): CustomerView | undefined {
    return this.cache.get(customerId);
  }

  /** True when a write concerning the customer happened after generation `loadedAt`. */
  changedSince(customerId: string, loadedAt: number): boolean {
    const at = this.touched.get(customerId);
    return at !== undefined ? at > loadedAt : this.floor > loadedAt;
  }

  /** Installs a view loaded when the generation was `loadedAt`, unless a write to the customer came between. */
  install(customerId: string, view: CustomerView, loadedAt: number): void {
    if (!this.changedSince(customerId, loadedAt)) this.cache.set(customerId, view);
  }

  /** Notes a write to the customer whose effect was patched into the cached view in place. */
  touch(customerId: string): void {
    this.gen++;
    if (this.touched.size >= TOUCHED_LIMIT) {
      this.floor = this.gen;
      this.touched.clear();
    }
    this.touched.delete(customerId);
    this.touched.set(customerId, this.gen);
  }

  invalidate(customerId: string): void {
    this.touch(customerId);
    this.cache.delete(customerId);
  }

  clear(): void {
    this.gen++;
    this.floor = this.gen;
    this.touched.clear();
    this.cache.clear();
  }
}

/**
 * The cached usage cell of a feature when it still answers at `now`: its window contains now
 * (cells are dropped whenever the entitlement is recomputed, so the window is the right one)
 * and no held reservation has expired since it was read.
 */
export function freshCell(rv: ResourceView, featureId: string, now: number): UsageCell | undefined {
  const slot = rv.slots.get(featureId);
  return slot !== undefined && slot.fresh(now) ? slot : undefined;
}

/**
 * The cached usage cell of a feature for the window [start, end), fresh or not, for a write to
 * patch in place: the primary cell or a further limit's (docs/limits.md); undefined when none is cached.
 */
export function cachedCell(rv: ResourceView | undefined, featureId: string, start: number, end: number): UsageCell | undefined {
  const slot = rv?.slots.get(featureId);
  if (slot === undefined) return undefined;
  if (slot.start === start && slot.end === end) return slot;
  if (slot.limits !== undefined) for (const l of slot.limits) if (l.start === start && l.end === end) return l;
  return undefined;
}

/**
 * Caches a usage cell for a feature the resource is entitled to (others are never read from the
 * view), with its further limits' cells when it has some (`limits`, in the entitlement's order).
 */
export function keepCell(view: CustomerView, rv: ResourceView, featureId: string, cell: UsageCell, limits?: readonly UsageCell[]): void {
  const slot = view.slotOf(rv, featureId);
  if (slot === undefined) return;
  slot.keep(cell);
  if (slot.limits !== undefined && limits !== undefined) slot.limits.forEach((l, i) => l.keep(limits[i]!));
}

/** Forgets a feature's cached cell when it carries a rollover balance, which late usage in a closed window moves (docs/rollovers.md#late-usage). */
export function dropCarried(rv: ResourceView | undefined, featureId: string): void {
  const slot = rv?.slots.get(featureId);
  if (slot !== undefined && slot.carried !== undefined) slot.drop();
}

/** Forgets a feature's cached usage cell, so the next check reads it from the store. */
export function dropCell(rv: ResourceView | undefined, featureId: string): void {
  rv?.slots.get(featureId)?.drop();
}

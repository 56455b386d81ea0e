/**
 * Checks as of a past instant (docs/as-of.md): `getEntitlement({ ..., at })` and
 * `getEntitlements({ ..., at })`. Kept apart from the check path so that the warm check pays
 * nothing for it: one read transaction loads the customer's records, a view made for this answer
 * only (never installed in the cache) resolves them at `at` with the same rules as every check
 * (subscription status, effective catalog version, promotions and overrides at `at`), and the
 * usage is the stored total of the window containing `at`. Nothing is written.
 */
import { limitKeys } from '../usage/limit-cells.js';
import { readCarried } from '../usage/rollover-cells.js';
import type { FeatureType } from '../../catalog/types.js';
import type { CustomerRecord, UsageKey } from '../../records.js';
import type { StoreTx } from '../../store/store.js';
import { usageWindow } from '../../rules/windows.js';
import type { EngineContext } from '../runtime/context.js';
import { Params } from '../runtime/params.js';
import { decide, NEED_CELL, readCheck, type Entitlement } from './entitlements.js';
import { CustomerView, type UsageCell } from './view.js';

/**
 * Reads `at` (epoch milliseconds, an ISO-8601 string or a Date) as epoch ms. Throws
 * INVALID_ARGUMENT when it is malformed or later than `now`: the future's usage is not known, and
 * what is scheduled is answered by the subscription's scheduled updates (docs/as-of.md#the-future).
 */
export function readAt(p: Params, now: number): number {
  const raw = p.raw.at;
  let at: number | undefined;
  if (typeof raw === 'number') {
    // 8.64e15 ms is the latest instant a Date holds: beyond it there is no date to name in the error.
    if (!Number.isSafeInteger(raw) || raw < 0 || raw > 8.64e15) p.fail('at', 'must be epoch milliseconds (a non-negative integer up to 8.64e15), an ISO-8601 string or a Date');
    at = raw;
  } else {
    at = p.optInstant('at');
  }
  if (at === undefined) p.fail('at', 'is required here');
  if (at! > now) {
    p.fail('at', `is ${new Date(at!).toISOString()}, after now (${new Date(now).toISOString()}); give a past instant, or leave at out to check now`, { now: new Date(now).toISOString() });
  }
  return at!;
}

/** True when a check's params carry `at` (the as-of path; null counts as absent, like every optional param). Read on every check: one field load. */
export function hasAt(params: unknown): boolean {
  if (typeof params !== 'object' || params === null) return false;
  const at = (params as { at?: unknown }).at;
  return at !== undefined && at !== null;
}

function refuseEntity(p: Params): void {
  if (p.has('entityId')) p.fail('entityId', 'is not supported with `at`: an entity is checked as of now only (docs/as-of.md#what-is-not-historic)');
}

/**
 * The customer as it was at `at`: undefined before it was created; live when archived later (it
 * was live then). Unarchiving keeps no record of the earlier archiving (docs/as-of.md).
 */
function customerAt(customer: CustomerRecord | undefined, at: number): CustomerRecord | undefined {
  if (!customer || customer.createdAt > at) return undefined;
  if (customer.archivedAt !== null && customer.archivedAt > at) return { ...customer, archivedAt: null };
  return customer;
}

/** Loads a customer's records in `tx` into a view used for this answer only. */
async function viewAt(ctx: EngineContext, tx: StoreTx, customerId: string, at: number): Promise<CustomerView> {
  const features = () => ctx.latest().catalog.features;
  const customer = customerAt(await tx.getCustomer(customerId), at);
  if (!customer) return new CustomerView(undefined, [], ctx.catalogs, features);
  const subs = await tx.listSubscriptionsByCustomer(customerId);
  const promotions = await tx.listPromotionalGrants(customerId);
  const credits = await tx.listCreditGrants(customerId);
  const overrides = await tx.listEntitlementOverrides(customerId);
  return new CustomerView(customer, subs, ctx.catalogs, features, promotions, credits, overrides);
}

/**
 * The usage of a feature in the window containing `at`: the window's total as stored now, reports
 * and events stamped later in that window included (docs/as-of.md#usage-then). Reservations are
 * not historic: nothing is held.
 */
async function cellAt(tx: StoreTx, view: CustomerView, customerId: string, resourceId: string, featureId: string, at: number): Promise<{ cell: UsageCell; limits: UsageCell[] | undefined }> {
  const e = view.resource(resourceId, at).entitlements.get(featureId)!;
  const w = usageWindow(e.window, at);
  const key: UsageKey = { customerId, resourceId, entityId: '', featureId, windowStart: w.start, windowEnd: w.end };
  const read = async (k: UsageKey): Promise<UsageCell> => ({ start: k.windowStart, end: k.windowEnd, value: (await tx.getUsage(k))?.value ?? 0, held: 0, heldUntil: Infinity });
  // Further limits' cells too (docs/limits.md): each as stored for its window containing `at`.
  const keys = limitKeys(e, key, at);
  const limits: UsageCell[] | undefined = keys ? [] : undefined;
  for (const k of keys ?? []) limits!.push(await read(k));
  const cell = await read(key);
  // The rollover of then: the ledger of the windows before the one containing `at` (docs/rollovers.md#as-of).
  // Holds are not historic (docs/as-of.md#what-is-not-historic): none counts in the ledger either.
  if (e.rollover !== undefined) cell.carried = (await readCarried(tx, view, e, key))?.carried;
  return { cell, limits };
}

/**
 * `getEntitlement({ ..., at })` and the typed getters with `at`: the answer the check would have
 * given at `at` (docs/as-of.md). Reads the store, never the cache; writes nothing. Throws
 * INVALID_ARGUMENT for a malformed or future `at` or with `entityId`.
 */
export async function checkAsOf(ctx: EngineContext, params: unknown, method: string, expected: FeatureType | undefined): Promise<Entitlement> {
  const input = readCheck(params, method);
  const p = new Params(params, method);
  refuseEntity(p);
  const at = readAt(p, ctx.clock.nowMs());
  return ctx.store.transaction('read', async (tx) => {
    const view = await viewAt(ctx, tx, input.customerId, at);
    const first = decide(ctx, view, input, expected, at, undefined);
    if (first !== NEED_CELL) return first;
    const read = await cellAt(tx, view, input.customerId, input.resourceId, input.featureId, at);
    return decide(ctx, view, input, expected, at, read.cell, read.limits) as Entitlement;
  });
}

/**
 * `getEntitlements({ customerId, resourceId?, at })`: every entitlement in force at `at`, by
 * feature id, each as `checkAsOf` answers it, from one read transaction. Empty for a customer
 * unknown or archived at `at`.
 */
export async function entitlementsAsOf(ctx: EngineContext, p: Params): Promise<Entitlement[]> {
  refuseEntity(p);
  const customerId = p.id('customerId');
  const resourceId = p.optId('resourceId') ?? '';
  const at = readAt(p, ctx.clock.nowMs());
  return ctx.store.transaction('read', async (tx) => {
    const view = await viewAt(ctx, tx, customerId, at);
    if (!view.live) return [];
    const out: Entitlement[] = [];
    for (const featureId of [...view.resource(resourceId, at).entitlements.keys()].sort()) {
      const input = { customerId, featureId, resourceId, entityId: '', requestedUsage: 0, requestedValues: [] };
      const first = decide(ctx, view, input, undefined, at, undefined);
      if (first !== NEED_CELL) {
        out.push(first);
        continue;
      }
      const read = await cellAt(tx, view, customerId, resourceId, featureId, at);
      out.push(decide(ctx, view, input, undefined, at, read.cell, read.limits) as Entitlement);
    }
    return out;
  });
}


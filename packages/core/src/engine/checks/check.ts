// The warm-or-cold dispatch behind every entitlement check method, split out of engine.ts so the check path is not buried in the facade.
import type { FeatureType } from '../../catalog/types.js';
import type { EngineContext } from '../runtime/context.js';
import { evaluate, evaluateCached, warmCheck, readCheck, type Entitlement, type EntitlementOfType, type GetEntitlementParams } from './entitlements.js';
import { checkAsOf, hasAt } from './as-of.js';

/**
 * A warm check is answered synchronously from the view (no microtask hops); a cold one reads the
 * store. Malformed params reject the promise, never throw. Checks are counted, not traced: one
 * field increment on the warm path; only checks that read the store are timed and get a span
 * (docs/operating.md#traces).
 */
export function check<T extends FeatureType | undefined>(ctx: EngineContext, params: GetEntitlementParams, method: string, expected: T): Promise<EntitlementOfType<T>> {
  // With `expected` set, every path answers that shape (denials included): entitlements.ts#deny.
  type R = Promise<EntitlementOfType<T>>;
  try {
    // A check as of a past instant reads the store, never the view (docs/as-of.md).
    if (hasAt(params)) return checkAsOf(ctx, params, method, expected) as R;
    const fast = warmCheck(ctx, params, expected);
    if (fast !== undefined) {
      if (fast.hasAccess) ctx.metrics.viewAllowed++;
      else ctx.metrics.viewDenied++;
      return Promise.resolve(fast) as R;
    }
    const input = readCheck(params, method);
    const warm = evaluateCached(ctx, input, expected);
    if (warm !== undefined) {
      if (warm.hasAccess) ctx.metrics.viewAllowed++;
      else ctx.metrics.viewDenied++;
      return Promise.resolve(warm) as R;
    }
    const t = ctx.telemetry;
    return (t ? t.span('tessera.check', method, input, () => storeCheck(ctx, input, method, expected)) : storeCheck(ctx, input, method, expected)) as R;
  } catch (e) {
    ctx.metrics.checkErrors++;
    return Promise.reject(e);
  }
}

/** A check that reads the store (a view or a usage cell to load), timed. */
async function storeCheck(ctx: EngineContext, input: ReturnType<typeof readCheck>, method: string, expected: FeatureType | undefined): Promise<Entitlement> {
  const started = performance.now();
  try {
    const e = await evaluate(ctx, input, expected);
    ctx.metrics.storeCheck(e.hasAccess, (performance.now() - started) / 1000, method);
    return e;
  } catch (e) {
    ctx.metrics.checkErrors++;
    throw e;
  }
}

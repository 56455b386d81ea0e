// The warm-or-cold dispatch behind every entitlement check method, split out of engine.ts so the check path is not buried in the facade.
import type { FeatureType } from '../catalog/types.js';
import type { EngineContext } from './context.js';
import { evaluate, evaluateCached, warmCheck, readCheck, type Entitlement, type EntitlementOfType, type GetEntitlementParams } from './entitlements.js';

/**
 * A warm check is answered synchronously from the view (no microtask hops); a cold one reads the
 * store. Malformed params reject the promise, never throw.
 */
export function check<T extends FeatureType | undefined>(ctx: EngineContext, params: GetEntitlementParams, method: string, expected: T): Promise<EntitlementOfType<T>> {
  // With `expected` set, every path answers that shape (denials included): entitlements.ts#deny.
  type R = Promise<EntitlementOfType<T>>;
  try {
    const fast = warmCheck(ctx, params, expected);
    if (fast !== undefined) return Promise.resolve(fast) as R;
    const input = readCheck(params, method);
    const warm = evaluateCached(ctx, input, expected);
    return (warm !== undefined ? Promise.resolve(warm) : evaluate(ctx, input, expected)) as R;
  } catch (e) {
    return Promise.reject(e);
  }
}

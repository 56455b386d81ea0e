import { invalidArgument } from '../errors.js';
import type { UsageKey } from '../records.js';

/** A usage cell's key as one string, ordered as the key's fields are (ids hold no NUL). */
export function usageKeyId(k: UsageKey): string {
  return `${k.customerId}\u0000${k.resourceId}\u0000${k.entityId}\u0000${k.featureId}\u0000${k.windowStart}\u0000${k.windowEnd}`;
}

/**
 * The keys of `records` (as usageKeyId), checked distinct as `StoreTx.putUsages` requires.
 * Throws INVALID_ARGUMENT naming the first record that repeats an earlier key.
 */
export function distinctUsageKeys(records: readonly UsageKey[]): string[] {
  const keys = records.map(usageKeyId);
  const seen = new Set<string>();
  for (const [i, key] of keys.entries()) {
    if (seen.has(key)) {
      const { customerId, resourceId, entityId, featureId, windowStart, windowEnd } = records[i]!;
      throw invalidArgument(`records[${i}]`, 'repeats the key of an earlier record (the keys must be distinct)', {
        value: { customerId, resourceId, entityId, featureId, windowStart, windowEnd },
      });
    }
    seen.add(key);
  }
  return keys;
}

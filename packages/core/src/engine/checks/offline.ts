import { TesseraError } from '../../errors.js';
import type { Store } from '../../store/store.js';
import type { Entitlement } from './entitlements.js';
import type { FeatureType } from '../../catalog/types.js';

/** What a check answers for a feature when there is no store to ask (offline mode, store down). */
export interface FallbackEntitlement {
  hasAccess: boolean;
  value?: number;
  usageLimit?: number;
  isUnlimited?: boolean;
  enumValues?: string[];
}

/** Fallback values by feature id. */
export type Fallback = Record<string, FallbackEntitlement>;

const offlineError = () => new TesseraError('OFFLINE', 'the engine runs offline (createEngine({ offline: true })): only checks answer, from fallback values', {});

/** The store of an offline engine: every access fails with OFFLINE. */
export function offlineStore(): Store {
  return {
    kind: 'offline',
    async open() {},
    transaction: () => Promise.reject(offlineError()),
    getChanges: () => Promise.reject(offlineError()),
    lastChangeSeq: async () => 0,
    async close() {},
  };
}

/**
 * A check answered from fallback values (isFallback: true). A feature without a fallback denies
 * with `Unknown`. The type is the one a typed check asks for, else the catalog's when the engine
 * has one, else guessed from the values.
 */
export function fallbackEntitlement(
  fallback: Fallback,
  input: { customerId: string; featureId: string; resourceId: string; requestedUsage: number },
  type: FeatureType | undefined,
): Entitlement {
  const f = fallback[input.featureId];
  const common = {
    customerId: input.customerId,
    resourceId: input.resourceId === '' ? null : input.resourceId,
    featureId: input.featureId,
    isFallback: true,
  };
  if (!f) return unknownFallback(common, type, input.requestedUsage);
  const t = type ?? (f.usageLimit !== undefined ? 'METERED' : f.value !== undefined ? 'NUMERIC' : f.enumValues ? 'ENUM' : 'BOOLEAN');
  switch (t) {
    case 'METERED': {
      const limit = f.usageLimit ?? null;
      const ok = f.hasAccess && (f.isUnlimited === true || limit === null || input.requestedUsage <= limit);
      return {
        ...common,
        type: 'METERED',
        hasAccess: ok,
        ...(ok ? {} : { accessDeniedReason: f.hasAccess ? ('RequestedUsageExceedingLimit' as const) : ('Unknown' as const) }),
        usageLimit: f.isUnlimited ? null : limit,
        currentUsage: 0,
        requestedUsage: input.requestedUsage,
        hasSoftLimit: false,
        isUnlimited: f.isUnlimited === true,
        resetPeriod: null,
      };
    }
    case 'NUMERIC':
      return { ...common, type: 'NUMERIC', hasAccess: f.hasAccess, value: f.value ?? null, isUnlimited: f.isUnlimited === true };
    case 'ENUM':
      return { ...common, type: 'ENUM', hasAccess: f.hasAccess, enumValues: f.enumValues ?? [], requestedValues: [] };
    default:
      return { ...common, type: 'BOOLEAN', hasAccess: f.hasAccess };
  }
}

/** The denial for a feature without a fallback value, shaped as `type` when it is known (docs/conventions.md#typed-checks). */
function unknownFallback(
  common: { customerId: string; resourceId: string | null; featureId: string; isFallback: boolean },
  type: FeatureType | undefined,
  requestedUsage: number,
): Entitlement {
  const denied = { ...common, hasAccess: false, accessDeniedReason: 'Unknown' as const };
  switch (type) {
    case 'METERED':
      return { ...denied, type, usageLimit: null, currentUsage: 0, requestedUsage, hasSoftLimit: false, isUnlimited: false, resetPeriod: null };
    case 'NUMERIC':
      return { ...denied, type, value: null, isUnlimited: false };
    case 'ENUM':
      return { ...denied, type, enumValues: [], requestedValues: [] };
    case 'BOOLEAN':
      return { ...denied, type };
    default:
      return { ...denied, type: undefined };
  }
}

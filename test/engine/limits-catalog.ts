import type { CatalogDefinition, EntitlementDefinition } from '@tessera/core';

// The catalog of the tests of several limits on one feature (docs/limits.md).

/** One free plan: api-calls 100/HOUR + 2,000/MONTH, requests (a meter) 5/HOUR + 8/DAY, plus a one-limit feature. */
export function limitsCatalog(extra: EntitlementDefinition[] = []): CatalogDefinition {
  return {
    features: [
      { id: 'api-calls', displayName: 'API calls', type: 'METERED' },
      { id: 'plain', displayName: 'One limit', type: 'METERED' },
      { id: 'requests', displayName: 'Requests', type: 'METERED', meter: { eventName: 'request', aggregation: { type: 'COUNT' } } },
    ],
    products: [{ id: 'app', displayName: 'App', defaultPlanId: 'free', downgradePlanId: 'free', cancellationTime: 'IMMEDIATE', startWith: 'FREE_PLAN' }],
    plans: [
      {
        id: 'free',
        productId: 'app',
        displayName: 'Free',
        pricingType: 'FREE',
        entitlements: [
          { featureId: 'api-calls', usageLimit: 100, resetPeriod: 'HOUR', limits: [{ usageLimit: 2000, resetPeriod: 'MONTH' }] },
          { featureId: 'plain', usageLimit: 10, resetPeriod: 'MONTH' },
          { featureId: 'requests', usageLimit: 5, resetPeriod: 'HOUR', limits: [{ usageLimit: 8, resetPeriod: 'DAY' }] },
          ...extra,
        ],
      },
    ],
  };
}

import type { CatalogDefinition, EntitlementDefinition } from '@tessera/core';

/**
 * The catalogs of the entity tests (docs/entities.md): the two examples of the docs on one free
 * plan, plus a meter-fed feature per entity.
 * - Example A: each seat gets 100 AI messages a month, the customer 10,000 pooled; 200 seats.
 * - Example B: the customer may have 3 workspaces, each workspace 5 projects.
 */
export function entitiesCatalog(over: { seats?: number; pooled?: number; perSeat?: number; extra?: EntitlementDefinition[] } = {}): CatalogDefinition {
  return {
    features: [
      { id: 'seats', displayName: 'Seats', type: 'METERED' },
      { id: 'ai-messages', displayName: 'AI messages', type: 'METERED' },
      { id: 'workspaces', displayName: 'Workspaces', type: 'METERED' },
      { id: 'projects', displayName: 'Projects', type: 'METERED' },
      { id: 'tokens', displayName: 'Tokens', type: 'METERED', meter: { eventName: 'completion', aggregation: { type: 'SUM', field: 'tokens' } } },
    ],
    products: [{ id: 'app', displayName: 'App', defaultPlanId: 'team', downgradePlanId: 'team', cancellationTime: 'IMMEDIATE', startWith: 'FREE_PLAN' }],
    plans: [
      {
        id: 'team',
        productId: 'app',
        displayName: 'Team',
        pricingType: 'FREE',
        entitlements: [
          { featureId: 'seats', usageLimit: over.seats ?? 200 },
          { featureId: 'ai-messages', usageLimit: over.pooled ?? 10_000, resetPeriod: 'MONTH', perEntity: { featureId: 'seats', usageLimit: over.perSeat ?? 100 } },
          { featureId: 'workspaces', usageLimit: 3 },
          { featureId: 'projects', isUnlimited: true, perEntity: { featureId: 'workspaces', usageLimit: 5 } },
          { featureId: 'tokens', usageLimit: 1000, resetPeriod: 'MONTH', perEntity: { featureId: 'seats', usageLimit: 400 } },
          ...(over.extra ?? []),
        ],
      },
    ],
  };
}

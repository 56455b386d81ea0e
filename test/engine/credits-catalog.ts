import type { CatalogDefinition, PlanDefinition } from '@tessera/core';
import { demoCatalog } from '../../packages/core/examples/demo-catalog.js';

/**
 * The demo catalog (free, basic, pro; a seats add-on) extended for the credits, promotions and
 * paywall tests:
 * - a credit currency `ai-credits` at $0.01 a credit (what automatic recharges cost), and
 *   `bonus-points`, a currency without a unit price (it cannot be recharged);
 * - `ai-tokens`, a METERED feature costing 2 ai-credits per token, unlimited on `free` and so,
 *   by inheritance, on `basic` and `pro`;
 * - German prices in EUR on `basic`, `pro` and the add-on (`countryOverrides.DE`), so the paywall
 *   differs between the base (USD) and Germany;
 * - `legacy`, a hidden free plan (left out of paywalls unless asked for), last in product order;
 * - a second product, `workspaces` (one subscription per resource), with a free plan `ws-free`,
 *   so that resource-scoped checks have a resource the customer holds.
 */
export const creditsCatalog: CatalogDefinition = (() => {
  const c = structuredClone(demoCatalog);
  c.features.push({ id: 'ai-tokens', displayName: 'AI tokens', type: 'METERED', units: 'token', unitsPlural: 'tokens', creditCost: { currencyId: 'ai-credits', amount: '2' } });
  c.creditCurrencies = [
    { id: 'ai-credits', displayName: 'AI credits', unitPrice: { amount: '0.01', currency: 'USD' } },
    { id: 'bonus-points', displayName: 'Bonus points' },
  ];
  const plan = (id: string): PlanDefinition => c.plans.find((p) => p.id === id)!;
  plan('free').entitlements!.push({ featureId: 'ai-tokens', isUnlimited: true });
  const germany: Record<string, Record<string, string>> = {
    basic: { MONTHLY: '18.00', ANNUALLY: '180.00' },
    pro: { MONTHLY: '45.00', ANNUALLY: '450.00' },
  };
  for (const [planId, amounts] of Object.entries(germany)) {
    for (const price of plan(planId).prices!) price.countryOverrides = { DE: { currency: 'EUR', amount: amounts[price.billingPeriod]! } };
  }
  c.addons![0]!.prices![0]!.countryOverrides = { DE: { currency: 'EUR', amount: '9.00' } };
  c.plans.push({
    id: 'legacy',
    productId: 'app',
    displayName: 'Legacy (grandfathered)',
    parentPlanId: 'free',
    pricingType: 'FREE',
    hidden: true,
    entitlements: [{ featureId: 'projects', value: 5 }],
  });
  c.products.push({ id: 'workspaces', displayName: 'Workspaces', multipleSubscriptions: true, metadata: { tier: 'beta' } });
  c.plans.push({ id: 'ws-free', productId: 'workspaces', displayName: 'Workspace', pricingType: 'FREE', entitlements: [{ featureId: 'seats', usageLimit: 3 }] });
  return c;
})();

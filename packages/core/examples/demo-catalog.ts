import type { CatalogDefinition } from '@tessera/core';

/**
 * The catalog of the demo and of many tests: one product with free, basic and pro plans,
 * a boolean, a numeric, an enum and two metered features (monthly API calls; seats, never reset),
 * and a seats add-on.
 */
export const demoCatalog: CatalogDefinition = {
  features: [
    { id: 'sso', displayName: 'Single sign-on', type: 'BOOLEAN' },
    { id: 'projects', displayName: 'Projects', type: 'NUMERIC', units: 'project', unitsPlural: 'projects' },
    { id: 'api-calls', displayName: 'API calls', type: 'METERED', units: 'call', unitsPlural: 'calls' },
    { id: 'seats', displayName: 'Seats', type: 'METERED', units: 'seat', unitsPlural: 'seats' },
    { id: 'export', displayName: 'Export formats', type: 'ENUM', enumValues: ['csv', 'json', 'parquet'] },
  ],
  products: [
    {
      id: 'app',
      displayName: 'The App',
      defaultPlanId: 'free',
      downgradePlanId: 'free',
      cancellationTime: 'END_OF_BILLING_PERIOD',
      startWith: 'FREE_PLAN',
    },
  ],
  plans: [
    {
      id: 'free',
      productId: 'app',
      displayName: 'Free',
      pricingType: 'FREE',
      entitlements: [
        { featureId: 'projects', value: 3 },
        { featureId: 'api-calls', usageLimit: 100, resetPeriod: 'MONTH' },
        { featureId: 'seats', usageLimit: 1 },
        { featureId: 'export', enumValues: ['csv'] },
      ],
    },
    {
      id: 'basic',
      productId: 'app',
      displayName: 'Basic',
      parentPlanId: 'free',
      pricingType: 'PAID',
      prices: [
        { billingPeriod: 'MONTHLY', billingModel: 'FLAT_FEE', currency: 'USD', amount: '20.00' },
        { billingPeriod: 'ANNUALLY', billingModel: 'FLAT_FEE', currency: 'USD', amount: '200.00' },
      ],
      entitlements: [
        { featureId: 'projects', value: 10 },
        { featureId: 'api-calls', usageLimit: 1000, resetPeriod: 'MONTH' },
        { featureId: 'seats', usageLimit: 5 },
        { featureId: 'export', enumValues: ['csv', 'json'] },
      ],
      compatibleAddonIds: ['extra-seats'],
    },
    {
      id: 'pro',
      productId: 'app',
      displayName: 'Pro',
      parentPlanId: 'basic',
      pricingType: 'PAID',
      prices: [
        { billingPeriod: 'MONTHLY', billingModel: 'FLAT_FEE', currency: 'USD', amount: '50.00' },
        { billingPeriod: 'ANNUALLY', billingModel: 'FLAT_FEE', currency: 'USD', amount: '500.00' },
      ],
      entitlements: [
        { featureId: 'sso' },
        { featureId: 'projects', isUnlimited: true },
        { featureId: 'api-calls', usageLimit: 10000, resetPeriod: 'MONTH', hasSoftLimit: true },
        { featureId: 'seats', usageLimit: 20 },
        { featureId: 'export', enumValues: ['csv', 'json', 'parquet'] },
      ],
      trial: { days: 14, onEnd: 'CONVERT_TO_PAID' },
      compatibleAddonIds: ['extra-seats'],
    },
  ],
  addons: [
    {
      id: 'extra-seats',
      productId: 'app',
      displayName: '5 extra seats',
      entitlements: [{ featureId: 'seats', usageLimit: 5 }],
      prices: [{ billingPeriod: 'MONTHLY', billingModel: 'FLAT_FEE', currency: 'USD', amount: '10.00' }],
      maxQuantity: 10,
    },
  ],
};

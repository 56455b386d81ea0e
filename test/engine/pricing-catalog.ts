import type { CatalogDefinition, PlanDefinition } from '@tessera/core';

/**
 * The catalog of the billing and lifecycle tests. Amounts are chosen so that invoices can be
 * worked out by hand:
 *
 * - product `app` (sign-up gives `free`, a paid subscription that ends gives `free`, cancellation
 *   at the end of the billing period), plans in upgrade order:
 *   - `free`: FREE.
 *   - `team`: per seat. MONTHLY 10.00 + 5.00/seat, ANNUALLY 100.00 + 50.00/seat (1 to 100 seats);
 *     in GB: GBP 8.00 + 4.00/seat monthly, GBP 80.00 + 40.00/seat annually. The seats bought are
 *     the seats entitlement, in place of the plans' `seats` 100 (core docs/conventions.md#billable-quantities).
 *   - `pro` (inherits team): MONTHLY 30.00 + 8.00/seat, ANNUALLY 300.00 + 80.00/seat; a 14-day
 *     trial that converts to paid.
 *   - `premium` (inherits pro): MONTHLY 99.00, ANNUALLY 990.00; a 7-day trial that downgrades.
 *   - add-ons: `extra-storage` (3.00 a month, 30.00 a year, +10 GB each, at most 5), `backup`
 *     (2.00 a month, needs extra-storage), `sla` (25.00 a month, pro and premium only).
 * - product `api` (nothing on sign-up): `api-payg` at 5.00 a month plus api calls in arrears,
 *   2.00 per started block of 1,000 calls (USAGE_BASED package on a feature reset monthly).
 * - product `storage` (nothing on sign-up): PER_UNIT prices on `storage-gb` with the tiers of
 *   docs/pricing.md (1-10 at 5.00 + 10.00 flat, 11-20 at 4.00 + 20.00 flat, 21+ at 3.00), GRADUATED
 *   and VOLUME, and a package plan (4.00 per started block of 5 GB, plus 1.00 per seat).
 * - product `workspace`: one subscription per resource (`ws-free`, `ws-paid` at 15.00 a month).
 * - coupons: `twenty-3m` (20% for 3 months), `fixed-1000` (1000.00 USD off, forever), `free-100`
 *   (100% off), `ten-forever` (10% forever, for customer coupons).
 * - promotion codes: SAVE20, BIGFIXED, ALLFREE, EXPIRED (expired 2024-01-15), ONCE (one
 *   redemption), INACTIVE.
 * - tax: DE 19%, GB 20%.
 */
export const pricingCatalog: CatalogDefinition = {
  features: [
    { id: 'sso', displayName: 'Single sign-on', type: 'BOOLEAN' },
    { id: 'projects', displayName: 'Projects', type: 'NUMERIC' },
    { id: 'seats', displayName: 'Seats', type: 'METERED', units: 'seat', unitsPlural: 'seats' },
    { id: 'storage-gb', displayName: 'Storage', type: 'METERED', units: 'GB', unitsPlural: 'GB' },
    { id: 'api-calls', displayName: 'API calls', type: 'METERED', units: 'call', unitsPlural: 'calls' },
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
    { id: 'api', displayName: 'API', cancellationTime: 'END_OF_BILLING_PERIOD', startWith: 'NONE' },
    { id: 'storage', displayName: 'Storage', cancellationTime: 'IMMEDIATE', startWith: 'NONE' },
    { id: 'workspace', displayName: 'Workspaces', multipleSubscriptions: true, startWith: 'NONE', cancellationTime: 'IMMEDIATE' },
  ],
  plans: [
    {
      id: 'free',
      productId: 'app',
      displayName: 'Free',
      pricingType: 'FREE',
      entitlements: [
        { featureId: 'projects', value: 3 },
        { featureId: 'seats', usageLimit: 1 },
        { featureId: 'storage-gb', usageLimit: 5 },
      ],
    },
    {
      id: 'team',
      productId: 'app',
      displayName: 'Team',
      pricingType: 'PAID',
      prices: [
        { billingPeriod: 'MONTHLY', billingModel: 'FLAT_FEE', currency: 'USD', amount: '10.00', countryOverrides: { GB: { currency: 'GBP', amount: '8.00' } } },
        {
          billingPeriod: 'MONTHLY',
          billingModel: 'PER_UNIT',
          featureId: 'seats',
          currency: 'USD',
          amount: '5.00',
          minUnitQuantity: 1,
          maxUnitQuantity: 100,
          countryOverrides: { GB: { currency: 'GBP', amount: '4.00' } },
        },
        { billingPeriod: 'ANNUALLY', billingModel: 'FLAT_FEE', currency: 'USD', amount: '100.00', countryOverrides: { GB: { currency: 'GBP', amount: '80.00' } } },
        {
          billingPeriod: 'ANNUALLY',
          billingModel: 'PER_UNIT',
          featureId: 'seats',
          currency: 'USD',
          amount: '50.00',
          minUnitQuantity: 1,
          maxUnitQuantity: 100,
          countryOverrides: { GB: { currency: 'GBP', amount: '40.00' } },
        },
      ],
      entitlements: [
        { featureId: 'projects', value: 10 },
        { featureId: 'seats', usageLimit: 100 },
        { featureId: 'storage-gb', usageLimit: 50 },
      ],
      compatibleAddonIds: ['extra-storage', 'backup'],
    },
    {
      id: 'pro',
      productId: 'app',
      displayName: 'Pro',
      parentPlanId: 'team',
      pricingType: 'PAID',
      prices: [
        { billingPeriod: 'MONTHLY', billingModel: 'FLAT_FEE', currency: 'USD', amount: '30.00', countryOverrides: { GB: { currency: 'GBP', amount: '25.00' } } },
        {
          billingPeriod: 'MONTHLY',
          billingModel: 'PER_UNIT',
          featureId: 'seats',
          currency: 'USD',
          amount: '8.00',
          minUnitQuantity: 1,
          maxUnitQuantity: 100,
          countryOverrides: { GB: { currency: 'GBP', amount: '7.00' } },
        },
        { billingPeriod: 'ANNUALLY', billingModel: 'FLAT_FEE', currency: 'USD', amount: '300.00', countryOverrides: { GB: { currency: 'GBP', amount: '250.00' } } },
        {
          billingPeriod: 'ANNUALLY',
          billingModel: 'PER_UNIT',
          featureId: 'seats',
          currency: 'USD',
          amount: '80.00',
          minUnitQuantity: 1,
          maxUnitQuantity: 100,
          countryOverrides: { GB: { currency: 'GBP', amount: '70.00' } },
        },
      ],
      entitlements: [
        { featureId: 'sso' },
        { featureId: 'projects', isUnlimited: true },
        { featureId: 'storage-gb', usageLimit: 200 },
      ],
      trial: { days: 14, onEnd: 'CONVERT_TO_PAID' },
      compatibleAddonIds: ['extra-storage', 'backup', 'sla'],
    },
    {
      id: 'premium',
      productId: 'app',
      displayName: 'Premium',
      parentPlanId: 'pro',
      pricingType: 'PAID',
      prices: [
        { billingPeriod: 'MONTHLY', billingModel: 'FLAT_FEE', currency: 'USD', amount: '99.00' },
        { billingPeriod: 'ANNUALLY', billingModel: 'FLAT_FEE', currency: 'USD', amount: '990.00' },
      ],
      entitlements: [{ featureId: 'storage-gb', usageLimit: 1000 }],
      trial: { days: 7, onEnd: 'DOWNGRADE' },
      compatibleAddonIds: ['sla'],
    },
    {
      id: 'api-payg',
      productId: 'api',
      displayName: 'API pay-as-you-go',
      pricingType: 'PAID',
      prices: [
        { billingPeriod: 'MONTHLY', billingModel: 'FLAT_FEE', currency: 'USD', amount: '5.00' },
        { billingPeriod: 'MONTHLY', billingModel: 'USAGE_BASED', featureId: 'api-calls', currency: 'USD', amount: '2.00', blockSize: 1000 },
      ],
      entitlements: [{ featureId: 'api-calls', usageLimit: 1_000_000, hasSoftLimit: true, resetPeriod: 'MONTH' }],
    },
    {
      id: 'storage-graduated',
      productId: 'storage',
      displayName: 'Storage (graduated)',
      pricingType: 'PAID',
      prices: [
        {
          billingPeriod: 'MONTHLY',
          billingModel: 'PER_UNIT',
          featureId: 'storage-gb',
          currency: 'USD',
          tiersMode: 'GRADUATED',
          minUnitQuantity: 0,
          tiers: [
            { upTo: 10, unitAmount: '5.00', flatAmount: '10.00' },
            { upTo: 20, unitAmount: '4.00', flatAmount: '20.00' },
            { upTo: null, unitAmount: '3.00' },
          ],
        },
      ],
      entitlements: [{ featureId: 'storage-gb', usageLimit: 1000 }],
    },
    {
      id: 'storage-volume',
      productId: 'storage',
      displayName: 'Storage (volume)',
      pricingType: 'PAID',
      prices: [
        {
          billingPeriod: 'MONTHLY',
          billingModel: 'PER_UNIT',
          featureId: 'storage-gb',
          currency: 'USD',
          tiersMode: 'VOLUME',
          minUnitQuantity: 0,
          tiers: [
            { upTo: 10, unitAmount: '5.00', flatAmount: '10.00' },
            { upTo: 20, unitAmount: '4.00', flatAmount: '20.00' },
            { upTo: null, unitAmount: '3.00' },
          ],
        },
      ],
      entitlements: [{ featureId: 'storage-gb', usageLimit: 1000 }],
    },
    {
      id: 'storage-package',
      productId: 'storage',
      displayName: 'Storage (packages)',
      pricingType: 'PAID',
      prices: [
        { billingPeriod: 'MONTHLY', billingModel: 'PER_UNIT', featureId: 'storage-gb', currency: 'USD', amount: '4.00', blockSize: 5, minUnitQuantity: 0 },
        { billingPeriod: 'MONTHLY', billingModel: 'PER_UNIT', featureId: 'seats', currency: 'USD', amount: '1.00', minUnitQuantity: 0 },
      ],
      entitlements: [{ featureId: 'storage-gb', usageLimit: 1000 }],
    },
    { id: 'ws-free', productId: 'workspace', displayName: 'Workspace free', pricingType: 'FREE', entitlements: [{ featureId: 'projects', value: 1 }] },
    {
      id: 'ws-paid',
      productId: 'workspace',
      displayName: 'Workspace paid',
      pricingType: 'PAID',
      prices: [
        { billingPeriod: 'MONTHLY', billingModel: 'FLAT_FEE', currency: 'USD', amount: '15.00' },
        { billingPeriod: 'ANNUALLY', billingModel: 'FLAT_FEE', currency: 'USD', amount: '150.00' },
      ],
      entitlements: [{ featureId: 'projects', value: 5 }],
    },
  ],
  addons: [
    {
      id: 'extra-storage',
      productId: 'app',
      displayName: 'Extra storage',
      entitlements: [{ featureId: 'storage-gb', usageLimit: 10 }],
      prices: [
        { billingPeriod: 'MONTHLY', billingModel: 'FLAT_FEE', currency: 'USD', amount: '3.00', countryOverrides: { GB: { currency: 'GBP', amount: '2.50' } } },
        { billingPeriod: 'ANNUALLY', billingModel: 'FLAT_FEE', currency: 'USD', amount: '30.00', countryOverrides: { GB: { currency: 'GBP', amount: '25.00' } } },
      ],
      maxQuantity: 5,
    },
    {
      id: 'backup',
      productId: 'app',
      displayName: 'Backup',
      prices: [
        { billingPeriod: 'MONTHLY', billingModel: 'FLAT_FEE', currency: 'USD', amount: '2.00', countryOverrides: { GB: { currency: 'GBP', amount: '1.60' } } },
        { billingPeriod: 'ANNUALLY', billingModel: 'FLAT_FEE', currency: 'USD', amount: '20.00', countryOverrides: { GB: { currency: 'GBP', amount: '16.00' } } },
      ],
      dependencies: ['extra-storage'],
    },
    {
      id: 'sla',
      productId: 'app',
      displayName: 'SLA',
      prices: [{ billingPeriod: 'MONTHLY', billingModel: 'FLAT_FEE', currency: 'USD', amount: '25.00' }],
      maxQuantity: 1,
    },
  ],
  coupons: [
    { id: 'twenty-3m', name: '20% for 3 months', type: 'PERCENTAGE', value: '20', durationInMonths: 3 },
    { id: 'fixed-1000', name: '1000 off', type: 'FIXED', value: '1000.00', currency: 'USD' },
    { id: 'free-100', name: 'Free', type: 'PERCENTAGE', value: '100' },
    { id: 'ten-forever', name: '10% forever', type: 'PERCENTAGE', value: '10' },
  ],
  promotionCodes: [
    { code: 'SAVE20', couponId: 'twenty-3m' },
    { code: 'BIGFIXED', couponId: 'fixed-1000' },
    { code: 'ALLFREE', couponId: 'free-100' },
    { code: 'EXPIRED', couponId: 'twenty-3m', expiresAt: '2024-01-15T00:00:00Z' },
    { code: 'ONCE', couponId: 'twenty-3m', maxRedemptions: 1 },
    { code: 'INACTIVE', couponId: 'twenty-3m', active: false },
  ],
  taxRates: [
    { countryCode: 'DE', rate: '0.19' },
    { countryCode: 'GB', rate: '0.20' },
  ],
};

/**
 * Version 2 of the catalog: team costs 12.00 a month (was 10.00) and gives 15 projects (was 10);
 * everything else is unchanged.
 */
export const pricingCatalogV2: CatalogDefinition = {
  ...pricingCatalog,
  plans: pricingCatalog.plans.map((plan): PlanDefinition => {
    if (plan.id !== 'team') return plan;
    return {
      ...plan,
      prices: plan.prices!.map((p) => (p.billingPeriod === 'MONTHLY' && p.billingModel === 'FLAT_FEE' ? { ...p, amount: '12.00' } : p)),
      entitlements: plan.entitlements!.map((e) => (e.featureId === 'projects' ? { ...e, value: 15 } : e)),
    };
  }),
};

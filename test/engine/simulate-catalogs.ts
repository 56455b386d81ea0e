import type { CatalogDefinition, Engine, TestClock } from '@tessera/core';

/**
 * The catalogs of the simulation tests (test/engine/simulate.test.ts, test/http/cli-simulate.test.ts).
 * Stored: `basic` 10.00 a month; `api` 5.00 a month plus API calls in arrears, graduated: the
 * first 1,000 at 0.01, the rest at 0.005; `legacy` 20.00 a month.
 * Candidate: `basic` rises to 12.00; `api` gains a tier (1,001-5,000 at 0.005, beyond at 0.002);
 * `legacy` is gone, its customers mapped to `standard` at 18.00.
 */
const product = { id: 'app', displayName: 'App', startWith: 'NONE', cancellationTime: 'END_OF_BILLING_PERIOD' } as const;
const apiEntitlement = { featureId: 'api-calls', usageLimit: 1_000_000, hasSoftLimit: true, resetPeriod: 'MONTH' } as const;
const flat = (amount: string) => ({ billingPeriod: 'MONTHLY', billingModel: 'FLAT_FEE', currency: 'USD', amount }) as const;
const usage = (tiers: { upTo: number | null; unitAmount: string }[]) =>
  ({ billingPeriod: 'MONTHLY', billingModel: 'USAGE_BASED', featureId: 'api-calls', currency: 'USD', tiersMode: 'GRADUATED', tiers }) as const;

export const stored: CatalogDefinition = {
  features: [{ id: 'api-calls', displayName: 'API calls', type: 'METERED' }],
  products: [product],
  plans: [
    { id: 'basic', productId: 'app', pricingType: 'PAID', prices: [flat('10.00')] },
    {
      id: 'api',
      productId: 'app',
      pricingType: 'PAID',
      prices: [flat('5.00'), usage([{ upTo: 1000, unitAmount: '0.01' }, { upTo: null, unitAmount: '0.005' }])],
      entitlements: [apiEntitlement],
    },
    { id: 'legacy', productId: 'app', pricingType: 'PAID', prices: [flat('20.00')] },
  ],
};

export const candidate: CatalogDefinition = {
  ...stored,
  plans: [
    { id: 'basic', productId: 'app', pricingType: 'PAID', prices: [flat('12.00')] },
    {
      id: 'api',
      productId: 'app',
      pricingType: 'PAID',
      prices: [
        flat('5.00'),
        usage([
          { upTo: 1000, unitAmount: '0.01' },
          { upTo: 5000, unitAmount: '0.005' },
          { upTo: null, unitAmount: '0.002' },
        ]),
      ],
      entitlements: [apiEntitlement],
    },
    { id: 'standard', productId: 'app', pricingType: 'PAID', prices: [flat('18.00')] },
  ],
};

/** API calls each `api` customer makes in January, February and March of the generated history. */
export const HISTORY_CALLS = [3000, 8000, 500] as const;

/**
 * A quarter of history on `stored` from 2026-01-01: customers `h0000`, `h0001`... on `basic`,
 * `api` and `legacy` in turn (i % 3), the `api` ones calling HISTORY_CALLS, ticked to 2026-04-01.
 * Per customer (worked in test/engine/simulate.test.ts): basic 30.00 -> 36.00, api 85.00 -> 76.00,
 * legacy 60.00 -> 54.00 (mapped to standard).
 */
export async function writeHistory(
  engine: Pick<Engine, 'provisionCustomer' | 'reportUsageBulk' | 'tick'>,
  clock: TestClock,
  customers: number,
): Promise<string[]> {
  const plans = ['basic', 'api', 'legacy'] as const;
  const ids = Array.from({ length: customers }, (_, i) => `h${String(i).padStart(4, '0')}`);
  clock.set('2026-01-01T00:00:00Z');
  for (const [i, customerId] of ids.entries()) await engine.provisionCustomer({ customerId, subscriptionParams: { planId: plans[i % 3]!, billingPeriod: 'MONTHLY' } });
  const api = ids.filter((_, i) => i % 3 === 1);
  for (const [m, calls] of HISTORY_CALLS.entries()) {
    clock.set(`2026-0${m + 1}-10T00:00:00Z`);
    for (let i = 0; i < api.length; i += 500) await engine.reportUsageBulk({ usages: api.slice(i, i + 500).map((customerId) => ({ customerId, featureId: 'api-calls', value: calls })) });
  }
  for (const at of ['2026-02-01', '2026-03-01', '2026-04-01']) {
    clock.set(`${at}T00:00:00Z`);
    await engine.tick();
  }
  return ids;
}

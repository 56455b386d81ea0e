/**
 * The catalog and setup every bench shares: one free default plan with ten features (so that a
 * provisioned customer resolves ten entitlements), a BOOLEAN and a monthly METERED feature fed by
 * reportUsage for the checks, and two meters over one raw event (SUM of a field and COUNT).
 */
import { createEngine, type CatalogDefinition, type Clock, type Engine, type Store } from '@tessera/core';

export const benchCatalog: CatalogDefinition = {
  features: [
    { id: 'sso', type: 'BOOLEAN' },
    { id: 'audit-log', type: 'BOOLEAN' },
    { id: 'api-calls', type: 'METERED', units: 'call', unitsPlural: 'calls' },
    { id: 'storage-gb', type: 'METERED', units: 'GB' },
    { id: 'seats', type: 'METERED', units: 'seat', unitsPlural: 'seats' },
    { id: 'projects', type: 'NUMERIC', units: 'project', unitsPlural: 'projects' },
    { id: 'retention-days', type: 'NUMERIC', units: 'day', unitsPlural: 'days' },
    { id: 'export', type: 'ENUM', enumValues: ['csv', 'json', 'parquet'] },
    {
      id: 'tokens',
      type: 'METERED',
      units: 'token',
      unitsPlural: 'tokens',
      meter: { eventName: 'request', aggregation: { type: 'SUM', field: 'tokens' } },
    },
    {
      id: 'requests',
      type: 'METERED',
      units: 'request',
      unitsPlural: 'requests',
      meter: { eventName: 'request', aggregation: { type: 'COUNT' } },
    },
  ],
  products: [{ id: 'app', defaultPlanId: 'standard', downgradePlanId: 'standard' }],
  plans: [
    {
      id: 'standard',
      productId: 'app',
      pricingType: 'FREE',
      entitlements: [
        { featureId: 'sso' },
        { featureId: 'audit-log' },
        // Limits far above what a bench reports, so every check grants access.
        { featureId: 'api-calls', usageLimit: 1e12, resetPeriod: 'MONTH' },
        { featureId: 'storage-gb', usageLimit: 1000 },
        { featureId: 'seats', usageLimit: 50 },
        { featureId: 'projects', value: 10 },
        { featureId: 'retention-days', value: 90 },
        { featureId: 'export', enumValues: ['csv', 'json'] },
        { featureId: 'tokens', usageLimit: 1e15, resetPeriod: 'MONTH' },
        { featureId: 'requests', usageLimit: 1e12, resetPeriod: 'MONTH' },
      ],
    },
  ],
};

/** Entitlements each provisioned customer resolves. */
export const FEATURES_PER_CUSTOMER = benchCatalog.plans!.find((p) => p.id === 'standard')!.entitlements!.length;

export const customerId = (i: number): string => `cust-${String(i).padStart(7, '0')}`;

/** An engine on `store` with the bench catalog. */
export function benchEngine(store: Store, opts: { clock?: Clock; maxCustomers?: number } = {}): Promise<Engine> {
  return createEngine({
    store,
    catalog: benchCatalog,
    ...(opts.clock ? { clock: opts.clock } : {}),
    ...(opts.maxCustomers ? { cache: { maxCustomers: opts.maxCustomers } } : {}),
  });
}

/**
 * Provisions customers [from, to) on the default plan, `concurrency` calls in flight at a time
 * (the store serialises them; overlap only hides the awaits).
 */
export async function provisionCustomers(engine: Engine, from: number, to: number, concurrency = 64): Promise<void> {
  let next = from;
  const worker = async () => {
    while (next < to) {
      const i = next++;
      await engine.provisionCustomer({ customerId: customerId(i) });
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, to - from) }, worker));
}

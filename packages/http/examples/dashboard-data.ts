/**
 * Demo data for the dashboard (packages/http/README.md#dashboard): the demo catalog with a German
 * price and a credit currency, a few dozen customers, four months of API calls. Used by
 * examples/dashboard.ts, the browser tests (test/ui/) and the screenshot script.
 */
import type { CatalogDefinition, Engine, TestClock } from '@tessera/core';
import { demoCatalog } from '../../core/examples/demo-catalog.js';

/** The demo catalog plus what the dashboard shows off: a price by country and credits. */
export const dashboardCatalog: CatalogDefinition = {
  ...demoCatalog,
  plans: demoCatalog.plans.map((p) =>
    p.id === 'basic' ? { ...p, prices: (p.prices ?? []).map((price) => ({ ...price, countryOverrides: { DE: { currency: 'EUR', amount: price.billingPeriod === 'MONTHLY' ? '19.00' : '190.00' } } })) } : p,
  ),
  creditCurrencies: [{ id: 'credits', displayName: 'Credits' }],
};

/** When the demo starts; `seedDashboard` moves the clock on by four months. */
export const DEMO_START = new Date('2026-08-01T00:00:00.000Z');

const DAY = 86_400_000;

/**
 * Fills `engine` (created with `dashboardCatalog` and `clock` at DEMO_START): customers acme
 * (basic, usage every month, a promotion, credits), globex (pro in trial), initech (free),
 * umbrella (archived) and c01..c30 (free).
 */
export async function seedDashboard(engine: Engine, clock: TestClock): Promise<void> {
  await engine.provisionCustomer({ customerId: 'acme', name: 'Acme Inc', email: 'ops@acme.test', subscriptionParams: { planId: 'basic', billingPeriod: 'MONTHLY' } });
  await engine.provisionCustomer({ customerId: 'initech', name: 'Initech', email: 'billing@initech.test' });
  await engine.provisionCustomer({ customerId: 'umbrella', name: 'Umbrella Corp', email: 'it@umbrella.test' });
  await engine.archiveCustomer('umbrella');
  for (let i = 1; i <= 30; i++) {
    const id = `c${String(i).padStart(2, '0')}`;
    await engine.provisionCustomer({ customerId: id, name: `Customer ${i}`, email: `${id}@example.test` });
  }
  for (let month = 0; month < 4; month++) {
    for (let d = 0; d < 28; d += 3) {
      await engine.reportUsage({ customerId: 'acme', featureId: 'api-calls', value: 20 + ((month * 7 + d * 5) % 40), idempotencyKey: `seed-${month}-${d}` });
      clock.advance(3 * DAY);
    }
    clock.set(new Date(Date.UTC(2026, 7 + month + 1, 1, 12)));
    await engine.tick();
  }
  await engine.reportUsage({ customerId: 'acme', featureId: 'seats', value: 4 });
  await engine.provisionCustomer({ customerId: 'globex', name: 'Globex', email: 'hank@globex.test', subscriptionParams: { planId: 'pro', billingPeriod: 'MONTHLY' } });
  await engine.grantPromotionalEntitlements({ customerId: 'acme', promotionalEntitlements: [{ featureId: 'sso', period: 'ONE_MONTH' }] });
  await engine.grantCredits({ customerId: 'acme', currencyId: 'credits', amount: '500' });
  await engine.consumeCredits({ customerId: 'acme', currencyId: 'credits', amount: '120', idempotencyKey: 'seed-burn' });
}

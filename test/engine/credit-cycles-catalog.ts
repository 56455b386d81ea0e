import type { CatalogDefinition, PlanDefinition } from '@tessera/core';
import { creditsCatalog } from './credits-catalog.js';

/**
 * The credits catalog (test/engine/credits-catalog.ts) with credits granted on cycles of their own:
 * - `pro` (billed monthly or yearly) grants 1,000 ai-credits every MONTH, expiring at the end of
 *   each month, unused ones rolling over up to 500; and 10 bonus-points every WEEK that never expire;
 * - `basic` grants 100 PROMOTIONAL ai-credits every DAY, expiring at the end of each day, no rollover;
 * - the `extra-seats` add-on grants 20 ai-credits every MONTH per seat held, never expiring.
 */
export const cycleCatalog: CatalogDefinition = (() => {
  const c = structuredClone(creditsCatalog);
  const plan = (id: string): PlanDefinition => c.plans.find((p) => p.id === id)!;
  plan('pro').creditGrants = [
    { currencyId: 'ai-credits', amount: '1000', cadence: 'MONTH', expires: 'END_OF_CYCLE', rollover: { max: '500' } },
    { currencyId: 'bonus-points', amount: '10', cadence: 'WEEK', expires: 'NEVER' },
  ];
  plan('basic').creditGrants = [{ currencyId: 'ai-credits', amount: '100', cadence: 'DAY', category: 'PROMOTIONAL', priority: 5 }];
  c.addons!.find((a) => a.id === 'extra-seats')!.creditGrants = [{ currencyId: 'ai-credits', amount: '20', cadence: 'MONTH', expires: 'NEVER' }];
  return c;
})();

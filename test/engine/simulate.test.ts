import { afterEach, describe, expect, it } from 'vitest';
import type { CatalogSimulation, CustomerSimulation } from '@tessera/core';
import { candidate, stored } from './simulate-catalogs.js';
import { engineOn, storeFactories } from './stores.js';
import { rejection } from '../support/rejection.js';

// simulateCatalog (core docs/simulation.md) on a quarter of history worked out by hand.
//
// Catalogs (test/engine/simulate-catalogs.ts): `basic` 10.00 -> 12.00 a month; `api` 5.00 a month
// plus API calls graduated (first 1,000 at 0.01, the rest at 0.005), to which the candidate adds a
// tier (1,001-5,000 at 0.005, beyond at 0.002); `legacy` at 20.00, mapped to `standard` at 18.00.

const quarter = { from: '2026-01-01T00:00:00Z', to: '2026-04-01T00:00:00Z' };

type Env = Awaited<ReturnType<typeof engineOn>>;

/** Three customers from Jan 1, API calls in each month, ticked to Apr 1 (the quarter billed). */
async function history(env: Env): Promise<void> {
  const { engine, clock } = env;
  for (const [customerId, planId] of [['c-basic', 'basic'], ['c-api', 'api'], ['c-legacy', 'legacy']] as const) {
    await engine.provisionCustomer({ customerId, subscriptionParams: { planId, billingPeriod: 'MONTHLY' } });
  }
  const months: [string, number][] = [['2026-01', 3000], ['2026-02', 8000], ['2026-03', 500]];
  for (const [month, calls] of months) {
    clock.set(`${month}-10T00:00:00Z`);
    await engine.reportUsage({ customerId: 'c-api', featureId: 'api-calls', value: calls });
  }
  for (const at of ['2026-02-01', '2026-03-01', '2026-04-01']) {
    clock.set(`${at}T00:00:00Z`);
    await engine.tick();
  }
}

const byId = (r: CatalogSimulation, id: string): CustomerSimulation => r.customers.find((c) => c.customerId === id)!;

for (const factory of storeFactories().filter((f) => f.name !== 'postgres')) {
  describe(`simulateCatalog (${factory.name})`, () => {
    let env: Env | undefined;
    afterEach(async () => {
      await env?.cleanup();
      env = undefined;
    });

    it('prices the quarter under the candidate: a price rise, a new tier and a plan mapping', async () => {
      env = await engineOn(factory, { catalog: stored, start: '2026-01-01T00:00:00Z' });
      await history(env);
      const seqBefore = await env.engine.lastChangeSeq();
      const progress: [number, number][] = [];
      const r = await env.engine.simulateCatalog({ catalog: candidate, ...quarter, planMapping: { legacy: 'standard' }, onProgress: (d, t) => progress.push([d, t]) });
      expect(await env.engine.lastChangeSeq()).toBe(seqBefore); // wrote nothing
      expect(progress.at(-1)).toEqual([3, 3]);
      expect(r.period).toEqual({ start: new Date(quarter.from), end: new Date(quarter.to) });

      // c-basic: Jan, Feb, Mar at 10.00 = 30.00; at 12.00 = 36.00: +6.00.
      expect(byId(r, 'c-basic').totals).toEqual([{ currency: 'USD', before: '30.00', after: '36.00', difference: '6.00' }]);
      expect(byId(r, 'c-basic').outcome).toBe('WORSE_OFF');
      expect(byId(r, 'c-basic').invoices.map((i) => [i.kind, i.lines.map((l) => `${l.kind} ${l.before} -> ${l.after} (${l.difference})`)])).toEqual([
        ['PROVISIONING', ['PLAN 10.00 -> 12.00 (2.00)']],
        ['RENEWAL', ['PLAN 10.00 -> 12.00 (2.00)']],
        ['RENEWAL', ['PLAN 10.00 -> 12.00 (2.00)']],
      ]);

      // c-api: fees 3 x 5.00 = 15.00 on both sides. Usage in arrears:
      //   Jan 3,000 calls: 1,000 x 0.01 + 2,000 x 0.005 = 20.00 on both (the new tier starts above 5,000).
      //   Feb 8,000 calls: before 10.00 + 7,000 x 0.005 = 45.00;
      //                    after  10.00 + 4,000 x 0.005 + 3,000 x 0.002 = 10.00 + 20.00 + 6.00 = 36.00: -9.00.
      //   Mar 500 calls (billed Apr 1, period in the quarter): 5.00 on both.
      // Total: 15 + 20 + 45 + 5 = 85.00 before, 15 + 20 + 36 + 5 = 76.00 after.
      const api = byId(r, 'c-api');
      expect(api.totals).toEqual([{ currency: 'USD', before: '85.00', after: '76.00', difference: '-9.00' }]);
      expect(api.outcome).toBe('BETTER_OFF');
      const usageInvoices = api.invoices.filter((i) => i.kind === 'USAGE');
      expect(usageInvoices.map((i) => [new Date(i.periodStart!).toISOString().slice(0, 7), i.before?.total, i.after?.total, i.difference])).toEqual([
        ['2026-01', '20.00', '20.00', '0.00'],
        ['2026-02', '45.00', '36.00', '-9.00'],
        ['2026-03', '5.00', '5.00', '0.00'],
      ]);
      expect(usageInvoices[1]!.lines).toEqual([expect.objectContaining({ kind: 'USAGE', before: '45.00', after: '36.00', difference: '-9.00' })]);

      // c-legacy -> standard: 3 x 20.00 = 60.00 before, 3 x 18.00 = 54.00 after: -6.00.
      expect(byId(r, 'c-legacy').totals).toEqual([{ currency: 'USD', before: '60.00', after: '54.00', difference: '-6.00' }]);
      expect(byId(r, 'c-legacy').invoices.every((i) => i.planId === 'legacy' && i.after?.planId === 'standard')).toBe(true);

      expect(r.totals).toMatchObject({ customers: 3, betterOff: 2, worseOff: 1, unchanged: 0, mixed: 0 });
      expect(r.totals.revenueByPlan).toEqual([
        { planId: 'api', currency: 'USD', before: '85.00', after: '76.00', difference: '-9.00' },
        { planId: 'basic', currency: 'USD', before: '30.00', after: '36.00', difference: '6.00' },
        { planId: 'legacy', currency: 'USD', before: '60.00', after: '54.00', difference: '-6.00' },
      ]);
      // Largest first; the two 6.00 changes in customer id order.
      expect(r.totals.largestChanges.map((c) => [c.customerId, c.difference])).toEqual([
        ['c-api', '-9.00'],
        ['c-basic', '6.00'],
        ['c-legacy', '-6.00'],
      ]);
    });

    it('streams customers to onCustomer, and customerIds narrows the replay', async () => {
      env = await engineOn(factory, { catalog: stored, start: '2026-01-01T00:00:00Z' });
      await history(env);
      const seen: string[] = [];
      const r = await env.engine.simulateCatalog({ catalog: candidate, ...quarter, customerIds: ['c-basic', 'c-api'], planMapping: { legacy: 'standard' }, onCustomer: (c) => seen.push(c.customerId) });
      expect(seen.sort()).toEqual(['c-api', 'c-basic']);
      expect(r.customers).toEqual([]);
      expect(r.totals.customers).toBe(2);
      // February alone: only the periods starting in [from, to).
      const feb = await env.engine.simulateCatalog({ catalog: candidate, from: '2026-02-01T00:00:00Z', to: '2026-03-01T00:00:00Z', customerIds: ['c-api'] });
      expect(byId(feb, 'c-api').totals).toEqual([{ currency: 'USD', before: '50.00', after: '41.00', difference: '-9.00' }]);
    });

    it('refuses an invalid candidate with the paths of its problems, and an unmapped plan, writing nothing', async () => {
      env = await engineOn(factory, { catalog: stored, start: '2026-01-01T00:00:00Z' });
      await history(env);
      const seq = await env.engine.lastChangeSeq();
      const bad = { ...candidate, plans: [...candidate.plans, { id: 'broken', productId: 'nope', pricingType: 'PAID' as const }] };
      const invalid = await rejection(env.engine.simulateCatalog({ catalog: bad, ...quarter, planMapping: { legacy: 'standard' } }));
      expect(invalid.code).toBe('INVALID_ARGUMENT');
      expect((invalid.details as { problems: { path: string }[] }).problems.map((p) => p.path)).toContain('plans[3].productId');
      const unmapped = await rejection(env.engine.simulateCatalog({ catalog: candidate, ...quarter }));
      expect(unmapped.code).toBe('PLAN_NOT_FOUND');
      expect(unmapped.message).toMatch(/"legacy".*planMapping/);
      const wrongTarget = await rejection(env.engine.simulateCatalog({ catalog: candidate, ...quarter, planMapping: { legacy: 'gold' } }));
      expect(wrongTarget.message).toContain('simulateCatalog.planMapping.legacy');
      const backwards = await rejection(env.engine.simulateCatalog({ catalog: candidate, from: quarter.to, to: quarter.from }));
      expect(backwards.message).toContain('simulateCatalog.to');
      expect(await env.engine.lastChangeSeq()).toBe(seq);
    });
  });
}

import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { arbScenario, playTimeline, type TimelineStep } from '@tessera/testing';
import { pricingCatalog } from './pricing-catalog.js';
import { engineOn, storeFactories } from './stores.js';

// The identity of simulateCatalog (core docs/simulation.md#identity): on histories the engine
// itself wrote (provisions and plan changes, updates, cancellations, usage, ticks across months,
// coupons, tax, tiers, add-ons, countries), simulating the unchanged catalog reproduces every
// stored invoice of the period: each line's amount and each total, a difference of zero.
//
// A subscription keeps no history of its quantities and add-ons (docs/simulation.md#scope): the
// periods of a subscription billed before an in-place updateSubscription are priced with its
// state now. Customers whose subscription was updated in place are replayed too, but the identity
// is asserted on the others.

const START = '2026-01-01T00:00:00Z';

/** Customers whose subscription an updateSubscription step changed in place. */
function updatedCustomers(steps: readonly TimelineStep[]): Set<string> {
  const out = new Set<string>();
  for (const s of steps) {
    const ref = s.updateSubscription?.subscriptionId;
    if (typeof ref === 'string' && ref.startsWith('$')) {
      const customerId = steps[Number(ref.slice(1)) - 1]?.provisionSubscription?.customerId;
      if (customerId) out.add(customerId);
    }
  }
  return out;
}

const isZero = (s: string | null): boolean => s !== null && Number(s) === 0;

for (const factory of storeFactories().filter((f) => f.name !== 'postgres')) {
  describe(`simulateCatalog identity (${factory.name})`, () => {
    let cleanup: (() => Promise<void>) | undefined;
    afterEach(async () => {
      await cleanup?.();
      cleanup = undefined;
    });

    it('simulating the unchanged catalog reproduces the stored invoices exactly', async () => {
      await fc.assert(
        fc.asyncProperty(arbScenario(pricingCatalog, { customers: 3, start: START, maxActions: 12, estimates: false }), async (steps) => {
          const env = await engineOn(factory, { catalog: pricingCatalog, start: START });
          try {
            await playTimeline(env.engine, env.clock, steps, { onError: 'record' });
            env.clock.advance({ months: 1 });
            await env.engine.tick();
            const updated = updatedCustomers(steps);
            const all = ['c1', 'c2', 'c3'];
            const exact = all.filter((c) => !updated.has(c));
            const to = new Date(env.clock.now().getTime() + 86_400_000);
            const r = await env.engine.simulateCatalog({ catalog: pricingCatalog, from: START, to });
            // Every customer with a subscription (of any status) is replayed, updated ones included.
            const known = new Set((await env.engine.getSubscriptions({ first: 1000 })).data.map((s) => s.customerId));
            expect(r.customers.map((c) => c.customerId).sort()).toEqual([...known].sort());
            for (const c of r.customers.filter((x) => exact.includes(x.customerId))) {
              const stored = await env.engine.getInvoices({ customerId: c.customerId });
              // Nothing left out: one comparison per stored invoice, each with both sides.
              const asStored = stored.map((s) => `${s.kind} ${s.periodStart?.getTime() ?? null} ${s.total}`).sort();
              expect(c.invoices.map((i) => `${i.before?.kind} ${i.before?.periodStart} ${i.before?.total}`).sort()).toEqual(asStored);
              for (const inv of c.invoices) {
                expect(inv.after, `${c.customerId} ${inv.key}`).not.toBeNull();
                expect(inv.after!.total).toBe(inv.before!.total);
                expect(inv.after!.subTotal).toBe(inv.before!.subTotal);
                expect(inv.after!.tax).toBe(inv.before!.tax);
                expect(inv.after!.discount).toBe(inv.before!.discount);
                expect(inv.after!.lines.map((l) => [l.kind, l.amount])).toEqual(inv.before!.lines.map((l) => [l.kind, l.amount]));
                expect(inv.lines.every((l) => isZero(l.difference))).toBe(true);
                expect(isZero(inv.difference)).toBe(true);
              }
              expect(c.outcome).toBe('UNCHANGED');
            }
            expect(r.totals.worseOff + r.totals.betterOff + r.totals.mixed).toBeLessThanOrEqual(updated.size);
          } finally {
            await env.cleanup();
          }
        }),
        { numRuns: factory.name === 'memory' ? 100 : 25 },
      );
    }, 60_000);
  });
}

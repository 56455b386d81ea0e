import { describe, expect, it } from 'vitest';
import type { InvoiceLine } from '../src/rules/invoice.js';
import { compareDocuments, customerSimulation, diffLines, SimulationTally, type SimulatedDocument } from '../src/rules/simulation.js';

// The pure half of simulateCatalog (rules/simulation.ts): pairing lines and documents, a
// customer's outcome, and totals that stay bounded however many customers stream through.

const line = (kind: InvoiceLine['kind'], amount: string, description: string = kind): InvoiceLine => ({ kind, description, amount, currency: 'USD' });

const doc = (key: string, total: string, lines: InvoiceLine[], planId = 'basic', currency = 'USD'): SimulatedDocument => ({
  key,
  kind: 'RENEWAL',
  subscriptionId: 'sub_1',
  planId,
  currency,
  periodStart: 0,
  periodEnd: 1,
  lines,
  subTotal: total,
  discount: '0',
  tax: '0',
  total,
});

describe('diffLines', () => {
  it('pairs lines by kind and position, whatever their descriptions; a line on one side only counts against 0', () => {
    const before = [line('PLAN', '10.00', 'Basic (monthly)'), line('ADDON', '3.00'), line('ADDON', '2.00')];
    const after = [line('PLAN', '12.00', 'Basic v2 (monthly)'), line('ADDON', '3.50'), line('TAX', '2.48')];
    expect(diffLines(before, after)).toEqual([
      { kind: 'PLAN', description: 'Basic v2 (monthly)', before: '10.00', after: '12.00', difference: '2.00' },
      { kind: 'ADDON', description: 'ADDON', before: '3.00', after: '3.50', difference: '0.50' },
      { kind: 'ADDON', description: 'ADDON', before: '2.00', after: null, difference: '-2.00' },
      { kind: 'TAX', description: 'TAX', before: null, after: '2.48', difference: '2.48' },
    ]);
  });
});

describe('customerSimulation', () => {
  it('totals each currency on its own side and calls the outcome from the signs', () => {
    const up = compareDocuments(doc('k1', '10.00', [line('PLAN', '10.00')]), doc('k1', '12.00', [line('PLAN', '12.00')]), true);
    const gone = compareDocuments(doc('k2', '5.00', [line('USAGE', '5.00')]), null, true);
    expect(gone.difference).toBe('-5.00');
    expect(customerSimulation('c1', [up]).outcome).toBe('WORSE_OFF');
    expect(customerSimulation('c1', [gone]).outcome).toBe('BETTER_OFF');
    // 10.00 -> 12.00 and 5.00 -> 0: 15.00 -> 12.00 in all.
    expect(customerSimulation('c1', [up, gone]).totals).toEqual([{ currency: 'USD', before: '15.00', after: '12.00', difference: '-3.00' }]);
    // A candidate billing in EUR: USD goes down, EUR up: MIXED, never summed across currencies.
    const moved = compareDocuments(doc('k3', '10.00', [line('PLAN', '10.00')]), doc('k3', '9.00', [{ ...line('PLAN', '9.00'), currency: 'EUR' }], 'basic', 'EUR'), true);
    const mixed = customerSimulation('c1', [moved]);
    expect(mixed.totals.map((t) => [t.currency, t.difference])).toEqual([['USD', '-10.00'], ['EUR', '9.00']]);
    expect(mixed.outcome).toBe('MIXED');
    const same = compareDocuments(doc('k4', '1.00', [line('PLAN', '1.00')]), doc('k4', '1.00', [line('PLAN', '1.00')]), false);
    expect(customerSimulation('c2', [same]).outcome).toBe('UNCHANGED');
  });
});

describe('SimulationTally', () => {
  it('keeps only the `largest` changes, largest first, ties in customer id order, and sums revenue by plan', () => {
    const tally = new SimulationTally(3);
    // Customer i (0..99) pays i.00 more on plan p<i % 2>; i = 0 is unchanged.
    for (let i = 0; i < 100; i++) {
      const before = doc(`k${i}`, '10.00', [line('PLAN', '10.00')], `p${i % 2}`);
      const after = doc(`k${i}`, `${10 + i}.00`, [line('PLAN', `${10 + i}.00`)], `p${i % 2}`);
      tally.add(customerSimulation(`c${String(i).padStart(3, '0')}`, [compareDocuments(before, after, true)]));
    }
    const t = tally.totals();
    expect(t).toMatchObject({ customers: 100, worseOff: 99, betterOff: 0, unchanged: 1, mixed: 0 });
    expect(t.largestChanges.map((c) => [c.customerId, c.difference])).toEqual([['c099', '99.00'], ['c098', '98.00'], ['c097', '97.00']]);
    // p0: 50 customers x 10.00 = 500.00 before; after 500.00 + (0 + 2 + ... + 98) = 500.00 + 2450.00.
    expect(t.revenueByPlan).toEqual([
      { planId: 'p0', currency: 'USD', before: '500.00', after: '2950.00', difference: '2450.00' },
      { planId: 'p1', currency: 'USD', before: '500.00', after: '3000.00', difference: '2500.00' },
    ]);
  });
});

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Decimal } from '../src/money.js';
import type { ResolvedPrice } from '../src/rules/pricing.js';
import { capStanding, spendPeriod, unitsWithinCap, usageSpend, withinCap } from '../src/rules/spend-caps.js';

const usagePrice = (p: Partial<ResolvedPrice>): ResolvedPrice =>
  ({ billingPeriod: 'MONTHLY', billingModel: 'USAGE_BASED', featureId: 'api-calls', currency: 'USD', billingCountryCode: null, ...p }) as ResolvedPrice;
const included = usagePrice({ tiersMode: 'GRADUATED', tiers: [{ upTo: 1000, unitAmount: '0' }, { upTo: null, unitAmount: '0.01' }] });
const ask = (prices: ResolvedPrice[], usage: number, cap: string, requested: number) => ({ prices, usage, spentElsewhere: new Decimal(0), cap: new Decimal(cap), currency: 'USD', requested });

describe('spend caps (rules)', () => {
  it('prices usage as invoice lines do: 1,400 calls with 1,000 included at 0.01 = 4.00', () => {
    expect(usageSpend([included], 1400, 'USD').toFixed(2)).toBe('4.00');
    expect(usageSpend([included], 900, 'USD').toFixed(2)).toBe('0.00');
    // Each line is rounded to the cent: 1 unit at 0.004 bills 0.00, 2 bill 0.01 (0.008 half-up).
    expect(usageSpend([usagePrice({ amount: '0.004' })], 2, 'USD').toFixed(2)).toBe('0.01');
    // A price in another currency is not counted under a USD cap.
    expect(usageSpend([usagePrice({ amount: '1', currency: 'EUR' })], 5, 'USD').toFixed(2)).toBe('0.00');
  });

  it('fits 100 of 150 requested at 1,400 under 5.00, all of 100, and none once past the cap', () => {
    expect(unitsWithinCap(ask([included], 1400, '5.00', 150))).toBe(100);
    expect(unitsWithinCap(ask([included], 1400, '5.00', 100))).toBe(100);
    expect(unitsWithinCap(ask([included], 1700, '5.00', 10))).toBe(0);
    expect(withinCap(ask([included], 1500, '5.00', 0))).toBe(true);
    expect(withinCap(ask([included], 1501, '5.00', 0))).toBe(false);
    // Spend elsewhere under a customer cap leaves less: 4.50 elsewhere + 0.50 = 50 calls.
    expect(unitsWithinCap({ ...ask([included], 1000, '5.00', 80), spentElsewhere: new Decimal('4.50') })).toBe(50);
  });

  it('counts packages by the block: 10 units per 1.00 block, 2.50 cap -> 20 units fit', () => {
    expect(unitsWithinCap(ask([usagePrice({ amount: '1.00', blockSize: 10 })], 0, '2.50', 35))).toBe(20);
  });

  it('never grants units whose spend passes the cap, whatever the tiers (VOLUME included)', () => {
    const volume = usagePrice({ tiersMode: 'VOLUME', tiers: [{ upTo: 100, unitAmount: '0.05' }, { upTo: null, unitAmount: '0.02', flatAmount: '1' }] });
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 500 }), fc.integer({ min: 0, max: 2000 }), fc.integer({ min: 0, max: 400 }), (usage, cents, requested) => {
        const cap = new Decimal(cents).div(100);
        for (const prices of [[volume], [included]]) {
          const fit = unitsWithinCap({ ...ask(prices, usage, '0', requested), cap });
          expect(fit).toBeGreaterThanOrEqual(0);
          expect(fit).toBeLessThanOrEqual(requested);
          if (fit > 0) expect(usageSpend(prices, usage + fit, 'USD').lte(cap)).toBe(true);
          if (fit === requested) expect(withinCap({ ...ask(prices, usage, '0', requested), cap })).toBe(usageSpend(prices, usage + requested, 'USD').lte(cap));
        }
      }),
      { numRuns: 200 },
    );
  });

  it('shows cap, spent and remaining with the currency digits, remaining never below zero', () => {
    expect(capStanding(new Decimal('5'), new Decimal('7'), 'USD')).toEqual({ cap: '5.00', spent: '7.00', remaining: '0.00', currency: 'USD' });
    expect(capStanding(new Decimal('500'), new Decimal('120'), 'JPY')).toEqual({ cap: '500', spent: '120', remaining: '380', currency: 'JPY' });
  });

  it('bounds spend by the billing period containing now (Jan 31 anchor clamps to Feb 29)', () => {
    const p = spendPeriod(Date.UTC(2024, 0, 31), 'MONTHLY', Date.UTC(2024, 1, 15));
    expect([new Date(p.start).toISOString(), new Date(p.end).toISOString()]).toEqual(['2024-01-31T00:00:00.000Z', '2024-02-29T00:00:00.000Z']);
  });
});

import { describe, expect, it } from 'vitest';
import type { PlanDefinition, PriceDefinition } from '../src/catalog/types.js';
import { isTesseraError } from '../src/errors.js';
import { Decimal, formatMoney } from '../src/money.js';
import { type PricedLine, pricePeriod } from '../src/rules/pricing.js';
import {
  changeTiming,
  periodSeconds,
  prorateAmount,
  prorateBetween,
  prorateChange,
  prorationFactor,
  prorationPoint,
  prorationSummary,
} from '../src/rules/proration.js';
import { billingPeriodAt, nthBillingPeriod } from '../src/rules/windows.js';

const utc = (iso: string) => Date.parse(iso);
const usd = (x: Decimal) => formatMoney(x, 'USD');

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return isTesseraError(e) ? e.code : `not a TesseraError: ${String(e)}`;
  }
  return undefined;
}

const seatPrice: PriceDefinition = { billingPeriod: 'MONTHLY', billingModel: 'PER_UNIT', featureId: 'seats', currency: 'USD', amount: '12.00' };
const team: PlanDefinition = { id: 'team', productId: 'app', pricingType: 'PAID', prices: [seatPrice] };
const seats = (n: number): PricedLine[] =>
  pricePeriod({ plan: team, billingPeriod: 'MONTHLY', billableFeatures: [{ featureId: 'seats', quantity: n }] });

describe('period lengths', () => {
  it('counts the real length of each month and year in seconds', () => {
    expect(periodSeconds({ start: utc('2024-02-01T00:00:00Z'), end: utc('2024-03-01T00:00:00Z') })).toBe(29 * 86_400);
    expect(periodSeconds({ start: utc('2023-02-01T00:00:00Z'), end: utc('2023-03-01T00:00:00Z') })).toBe(28 * 86_400);
    expect(periodSeconds({ start: utc('2024-03-01T00:00:00Z'), end: utc('2024-04-01T00:00:00Z') })).toBe(31 * 86_400);
    expect(periodSeconds(nthBillingPeriod(utc('2024-01-01T00:00:00Z'), 'ANNUALLY', 0))).toBe(366 * 86_400);
    expect(periodSeconds(nthBillingPeriod(utc('2024-01-01T00:00:00Z'), 'ANNUALLY', 1))).toBe(365 * 86_400);
  });

  it('gives a factor of exactly one half in the middle of February 2024', () => {
    // 1,252,800 of 2,505,600 seconds left at Feb 15 12:00
    const feb = { start: utc('2024-02-01T00:00:00Z'), end: utc('2024-03-01T00:00:00Z') };
    expect(prorationFactor(feb, utc('2024-02-15T12:00:00Z')).toString()).toBe('0.5');
    expect(prorationFactor(feb, feb.start).toString()).toBe('1');
    expect(prorationFactor(feb, feb.end).toString()).toBe('0');
  });

  it('refuses an instant outside the period and an empty period', () => {
    const feb = { start: utc('2024-02-01T00:00:00Z'), end: utc('2024-03-01T00:00:00Z') };
    expect(codeOf(() => prorationFactor(feb, utc('2024-03-01T00:00:01Z')))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => prorationFactor(feb, utc('2024-01-31T23:59:59Z')))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => periodSeconds({ start: 1000, end: 1999 }))).toBe('INVALID_ARGUMENT');
  });
});

describe('a mid-month seat increase from 5 to 8 seats at 12.00', () => {
  it('prorates to the second over the 29 days of February 2024', () => {
    const period = { start: utc('2024-02-01T00:00:00Z'), end: utc('2024-03-01T00:00:00Z') };
    const at = utc('2024-02-10T08:30:15Z');
    // Period: 29 x 86,400 = 2,505,600 s. Left: 19 d 15:29:45 = 1,641,600 + 55,785 = 1,697,385 s.
    // Credit: -(5 x 12.00) x 1,697,385 / 2,505,600 = -40.646192... -> -40.65
    // Debit:   (8 x 12.00) x 1,697,385 / 2,505,600 =  65.033908... ->  65.03
    // Net: -40.65 + 65.03 = 24.38 (the sum of the rounded lines; 36 x factor = 24.3877 would round to 24.39)
    const p = prorateChange({ period, at, oldLines: seats(5), newLines: seats(8) });
    expect(p.credit.map((l) => usd(l.amount))).toEqual(['-40.65']);
    expect(p.debit.map((l) => usd(l.amount))).toEqual(['65.03']);
    expect(usd(p.netAmount)).toBe('24.38');
    expect(p.credit[0]).toMatchObject({ kind: 'PRORATION_CREDIT', quantity: 5, periodStart: at, periodEnd: period.end });
    expect(p.debit[0]).toMatchObject({ kind: 'PRORATION_DEBIT', quantity: 8, periodStart: at, periodEnd: period.end });
    expect(prorationSummary(p)).toEqual({ prorationDate: at, currency: 'USD', credit: '-40.65', debit: '65.03', netAmount: '24.38' });
  });

  it('prorates to the second over the 31 days of March 2024', () => {
    const period = billingPeriodAt(utc('2024-01-01T00:00:00Z'), 'MONTHLY', utc('2024-03-10T08:30:15Z'));
    expect(period).toEqual({ start: utc('2024-03-01T00:00:00Z'), end: utc('2024-04-01T00:00:00Z') });
    // Period: 31 x 86,400 = 2,678,400 s. Left: 21 d 15:29:45 = 1,814,400 + 55,785 = 1,870,185 s.
    // Credit: -60 x 1,870,185 / 2,678,400 = -41.894825... -> -41.89
    // Debit:   96 x 1,870,185 / 2,678,400 =  67.031720... ->  67.03; net 25.14
    const p = prorateChange({ period, at: utc('2024-03-10T08:30:15Z'), oldLines: seats(5), newLines: seats(8) });
    expect(usd(p.creditAmount)).toBe('-41.89');
    expect(usd(p.debitAmount)).toBe('67.03');
    expect(usd(p.netAmount)).toBe('25.14');
  });

  it('floors a sub-second change instant to its second', () => {
    const period = { start: utc('2024-02-01T00:00:00Z'), end: utc('2024-03-01T00:00:00Z') };
    const whole = prorateChange({ period, at: utc('2024-02-10T08:30:15.000Z'), oldLines: seats(5), newLines: seats(8) });
    const late = prorateChange({ period, at: utc('2024-02-10T08:30:15.999Z'), oldLines: seats(5), newLines: seats(8) });
    expect(late.prorationDate).toBe(utc('2024-02-10T08:30:15Z'));
    expect(late.factor.equals(whole.factor)).toBe(true);
    // One second later is one second less: 1,697,384 / 2,505,600.
    const next = prorationFactor(period, utc('2024-02-10T08:30:16Z'));
    expect(next.equals(new Decimal(1_697_384).div(2_505_600))).toBe(true);
  });

  it('leaves out lines that did not change', () => {
    const flat: PriceDefinition = { billingPeriod: 'MONTHLY', billingModel: 'FLAT_FEE', currency: 'USD', amount: '20.00' };
    const both: PlanDefinition = { ...team, prices: [flat, seatPrice] };
    const lines = (n: number) => pricePeriod({ plan: both, billingPeriod: 'MONTHLY', billableFeatures: [{ featureId: 'seats', quantity: n }] });
    const period = { start: utc('2024-02-01T00:00:00Z'), end: utc('2024-03-01T00:00:00Z') };
    const p = prorateChange({ period, at: utc('2024-02-15T12:00:00Z'), oldLines: lines(5), newLines: lines(8) });
    // Only the seats move: -30.00 and +48.00 (half a month each); the 20.00 fee is in neither.
    expect(p.credit.map((l) => usd(l.amount))).toEqual(['-30.00']);
    expect(p.debit.map((l) => usd(l.amount))).toEqual(['48.00']);
  });
});

describe('an annual to monthly change', () => {
  it('credits the unused year and debits the rest of the current month', () => {
    const anchor = utc('2024-01-01T00:00:00Z');
    const at = utc('2024-03-16T00:00:00Z');
    const annualPlan: PlanDefinition = {
      id: 'pro',
      productId: 'app',
      pricingType: 'PAID',
      prices: [
        { billingPeriod: 'ANNUALLY', billingModel: 'FLAT_FEE', currency: 'USD', amount: '1200.00' },
        { billingPeriod: 'MONTHLY', billingModel: 'FLAT_FEE', currency: 'USD', amount: '120.00' },
      ],
    };
    const year = billingPeriodAt(anchor, 'ANNUALLY', at);
    const month = billingPeriodAt(anchor, 'MONTHLY', at);
    // Year 2024: 366 days; 291 days left from Mar 16. Credit: -1200 x 291 / 366 = -954.098... -> -954.10
    // March: 31 days; 16 left. Debit: 120 x 16 / 31 = 61.935... -> 61.94. Net: -892.16
    const p = prorateChange({
      period: year,
      newPeriod: month,
      at,
      oldLines: pricePeriod({ plan: annualPlan, billingPeriod: 'ANNUALLY' }),
      newLines: pricePeriod({ plan: annualPlan, billingPeriod: 'MONTHLY' }),
    });
    expect(p.credit.map((l) => usd(l.amount))).toEqual(['-954.10']);
    expect(p.debit.map((l) => usd(l.amount))).toEqual(['61.94']);
    expect(p.debit[0]?.periodEnd).toBe(utc('2024-04-01T00:00:00Z'));
    expect(usd(p.netAmount)).toBe('-892.16');
  });
});

describe('proration in other currencies', () => {
  it('rounds JPY lines to whole yen', () => {
    const april = { start: utc('2024-04-01T00:00:00Z'), end: utc('2024-05-01T00:00:00Z') };
    const yen = (amount: string): PricedLine[] => [
      { key: 'plan:x:0', kind: 'PLAN', description: 'X', currency: 'JPY', amount: new Decimal(amount), billingPeriod: 'MONTHLY', source: { type: 'PLAN', id: 'x' }, model: 'FLAT_FEE' },
    ];
    // 10 of 30 days left: credit -1000 x 1/3 = -333.33 -> -333; debit 2000 x 1/3 = 666.67 -> 667; net 334
    const p = prorateChange({ period: april, at: utc('2024-04-21T00:00:00Z'), oldLines: yen('1000'), newLines: yen('2000') });
    expect(formatMoney(p.creditAmount, 'JPY')).toBe('-333');
    expect(formatMoney(p.debitAmount, 'JPY')).toBe('667');
    expect(formatMoney(p.netAmount, 'JPY')).toBe('334');
  });

  it('refuses to prorate between currencies', () => {
    const period = { start: utc('2024-04-01T00:00:00Z'), end: utc('2024-05-01T00:00:00Z') };
    const eur = seats(1).map((l) => ({ ...l, currency: 'EUR' }));
    expect(codeOf(() => prorateChange({ period, at: period.start, oldLines: seats(1), newLines: eur }))).toBe('INVALID_ARGUMENT');
  });
});

describe('partial periods', () => {
  it('prices the used part of a period between two instants', () => {
    const feb = { start: utc('2024-02-01T00:00:00Z'), end: utc('2024-03-01T00:00:00Z') };
    // 29.00 for February: one day = 1.00; Feb 10 to Feb 13 = 3.00
    expect(usd(prorateBetween(new Decimal('29.00'), feb, utc('2024-02-10T00:00:00Z'), utc('2024-02-13T00:00:00Z')))).toBe('3.00');
    expect(usd(prorateAmount(new Decimal('29.00'), feb, utc('2024-02-28T00:00:00Z')))).toBe('2.00');
    expect(codeOf(() => prorateBetween(new Decimal(1), feb, utc('2024-02-13T00:00:00Z'), utc('2024-02-10T00:00:00Z')))).toBe('INVALID_ARGUMENT');
  });
});

describe('proration options (docs/pricing.md#proration-options)', () => {
  const april = { start: utc('2024-04-01T00:00:00Z'), end: utc('2024-05-01T00:00:00Z') };
  const now = utc('2024-04-16T00:00:00Z');

  it('prorationPoint is now unless asked, and must lie in [start, end)', () => {
    expect(prorationPoint(april, now)).toBe(now);
    expect(prorationPoint(april, now, april.start)).toBe(april.start);
    expect(prorationPoint(april, now, april.end - 1)).toBe(april.end - 1);
    expect(codeOf(() => prorationPoint(april, now, april.end))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => prorationPoint(april, now, april.start - 1))).toBe('INVALID_ARGUMENT');
    // Apr 10 leaves 21 of 30 days: 40.00 x 0.7 = 28.00.
    expect(usd(prorateAmount(new Decimal('40.00'), april, prorationPoint(april, now, utc('2024-04-10T00:00:00Z'))))).toBe('28.00');
  });

  it('changeTiming: upgrades now; downgrades of a billed period at its end unless IMMEDIATE or INVOICE_NOW', () => {
    const down = { downgrade: true, billedPeriod: true } as const;
    expect(changeTiming({ downgrade: false, billedPeriod: true, behavior: 'PRORATE' })).toBe('NOW');
    expect(changeTiming({ ...down, behavior: 'PRORATE' })).toBe('END_OF_BILLING_PERIOD');
    expect(changeTiming({ ...down, behavior: 'NONE' })).toBe('END_OF_BILLING_PERIOD');
    expect(changeTiming({ ...down, behavior: 'NONE', timing: 'IMMEDIATE' })).toBe('NOW');
    expect(changeTiming({ ...down, behavior: 'INVOICE_NOW' })).toBe('NOW');
    // A trial or an unbilled subscription has no period to wait for.
    expect(changeTiming({ downgrade: true, billedPeriod: false, behavior: 'PRORATE' })).toBe('NOW');
    expect(codeOf(() => changeTiming({ ...down, behavior: 'INVOICE_NOW', timing: 'END_OF_BILLING_PERIOD' }))).toBe('INVALID_ARGUMENT');
  });
});

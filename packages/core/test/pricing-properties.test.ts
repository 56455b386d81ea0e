/**
 * Properties of the pricing arithmetic (docs/pricing.md). numRuns is moderate for CI; run more with
 * FC_NUM_RUNS=5000 npx vitest run packages/core/test/pricing-properties
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { CouponDefinition, PriceTier } from '../src/catalog/types.js';
import { Decimal, currencyDigits, formatMoney, roundMoney, toDecimal } from '../src/money.js';
import { assembleInvoice, type DraftLine, sumOfLines } from '../src/rules/invoice.js';
import { type PricedLine, priceLine } from '../src/rules/pricing.js';
import { prorateAmount, prorateBetween, prorateChange } from '../src/rules/proration.js';
import { graduatedAmount, volumeAmount } from '../src/rules/tiers.js';
import type { Window } from '../src/rules/windows.js';
import { nthBillingPeriod } from '../src/rules/windows.js';
import { documentAddsUp, totalsNeverNegative } from '@tessera/testing';

const numRuns = Number(process.env.FC_NUM_RUNS ?? 200);

// ---------- BigInt reference arithmetic: exact rationals, no Decimal, no float ----------

/** Every generated amount has at most this many fraction digits, so one scale holds them all. */
const SCALE = 12;
const ONE = 10n ** BigInt(SCALE);

/** A decimal string as an integer count of 10^-SCALE. */
function scaled(s: string): bigint {
  const negative = s.startsWith('-');
  const [int = '0', frac = ''] = (negative ? s.slice(1) : s).split('.');
  const v = BigInt(int) * ONE + BigInt((frac + '0'.repeat(SCALE)).slice(0, SCALE));
  return negative ? -v : v;
}

/** num / den rounded half away from zero to `digits` fraction digits, as an integer of minor units. */
function roundRational(num: bigint, den: bigint, digits: number): bigint {
  const n = num * 10n ** BigInt(digits);
  const abs = n < 0n ? -n : n;
  let q = abs / den;
  if (2n * (abs % den) >= den) q += 1n;
  return n < 0n ? -q : q;
}

/** Minor units as the string formatMoney must produce. */
function minorToString(minor: bigint, digits: number): string {
  const negative = minor < 0n;
  const abs = (negative ? -minor : minor).toString().padStart(digits + 1, '0');
  const text = digits === 0 ? abs : `${abs.slice(0, -digits)}.${abs.slice(-digits)}`;
  return negative ? `-${text}` : text;
}

const reference = (num: bigint, den: bigint, currency: string): string => {
  const digits = currencyDigits(currency);
  return minorToString(roundRational(num, den, digits), digits);
};

// ---------- Arbitraries ----------

/** A currency with 0, 2 or 3 minor digits. */
const arbCurrency = fc.constantFrom('USD', 'EUR', 'JPY', 'KWD', 'BHD');

/** A non-negative decimal string with up to 16 integer and 10 fraction digits. */
const arbAmount = fc
  .tuple(fc.bigInt({ min: 0n, max: 10n ** 16n }), fc.integer({ min: 0, max: 10 }))
  .map(([mantissa, scale]) => {
    const s = mantissa.toString().padStart(scale + 1, '0');
    return scale === 0 ? s : `${s.slice(0, -scale)}.${s.slice(-scale)}`;
  });

/** A decimal string that is exactly a tie for rounding to 0, 2 or 3 digits (x.5, x.xx5, x.xxx5), signed. */
const arbTie = fc
  .tuple(fc.bigInt({ min: 0n, max: 10n ** 12n }), fc.constantFrom(0, 2, 3), fc.boolean())
  .map(([mantissa, digits, negative]) => {
    const s = mantissa.toString().padStart(digits + 1, '0');
    const body = digits === 0 ? `${s}.5` : `${s.slice(0, -digits)}.${s.slice(-digits)}5`;
    return negative ? `-${body}` : body;
  });

const arbQuantity = fc.integer({ min: 0, max: 10_000 });

/** 1 to 5 tiers of ascending widths, the last open, amounts with many digits. */
const arbTiers: fc.Arbitrary<PriceTier[]> = fc
  .array(
    fc.record({
      width: fc.integer({ min: 1, max: 2_000 }),
      unitAmount: arbAmount,
      flatAmount: fc.option(arbAmount, { nil: undefined }),
    }),
    { minLength: 1, maxLength: 5 },
  )
  .map((specs) => {
    let upTo = 0;
    return specs.map((spec, i) => {
      upTo += spec.width;
      const tier: PriceTier = { upTo: i === specs.length - 1 ? null : upTo, unitAmount: spec.unitAmount };
      if (spec.flatAmount !== undefined) tier.flatAmount = spec.flatAmount;
      return tier;
    });
  });

/** A real billing period: month or year n of a subscription anchored anywhere in 2000-2100 (ms included). */
const arbPeriod: fc.Arbitrary<Window> = fc
  .record({
    anchor: fc.integer({ min: Date.UTC(2000, 0, 1), max: Date.UTC(2100, 0, 1) }),
    billingPeriod: fc.constantFrom('MONTHLY' as const, 'ANNUALLY' as const),
    n: fc.integer({ min: 0, max: 30 }),
  })
  .map(({ anchor, billingPeriod, n }) => nthBillingPeriod(anchor, billingPeriod, n));

/** A period and an instant inside it (any millisecond). */
const arbPeriodAndInstant = arbPeriod.chain((period) => fc.tuple(fc.constant(period), fc.integer({ min: period.start, max: period.end })));

const line = (amount: string, currency: string, key = 'plan:p:0'): PricedLine => ({
  key,
  kind: 'PLAN',
  description: 'p',
  currency,
  amount: toDecimal(amount),
  billingPeriod: 'MONTHLY',
  source: { type: 'PLAN', id: 'p' },
  model: 'FLAT_FEE',
});

/** A charge line, possibly negative (a proration credit). */
const arbDraftLine = (currency: string): fc.Arbitrary<DraftLine> =>
  fc.tuple(arbAmount, fc.boolean()).map(([amount, credit]) => ({
    kind: credit ? 'PRORATION_CREDIT' : 'PLAN',
    description: 'l',
    currency,
    amount: credit ? toDecimal(amount).negated() : toDecimal(amount),
  }));

const arbCoupon = (currency: string): fc.Arbitrary<CouponDefinition | null> =>
  fc.oneof(
    fc.constant(null),
    fc.integer({ min: 0, max: 10_000 }).map((bp): CouponDefinition => ({ id: 'pct', type: 'PERCENTAGE', value: new Decimal(bp).div(100).toString() })),
    arbAmount.map((value): CouponDefinition => ({ id: 'fix', type: 'FIXED', value, currency })),
  );

const arbTaxRate = fc.integer({ min: 0, max: 10_000 }).map((bp) => new Decimal(bp).div(10_000).toString());

// ---------- Properties ----------

describe('pricing properties', () => {
  it('rounds any decimal string exactly like an integer reference, ties away from zero', () => {
    fc.assert(
      fc.property(fc.oneof(arbAmount, arbTie, arbAmount.map((a) => `-${a}`)), arbCurrency, (amount, currency) => {
        expect(formatMoney(toDecimal(amount), currency)).toBe(reference(scaled(amount), ONE, currency));
      }),
      { numRuns },
    );
  });

  it('prices per unit, packages and graduated tiers exactly like an integer reference', () => {
    fc.assert(
      fc.property(arbTiers, arbAmount, fc.integer({ min: 1, max: 100 }), arbQuantity, arbCurrency, (tiers, unit, blockSize, q, currency) => {
        const base = { billingPeriod: 'MONTHLY' as const, billingModel: 'PER_UNIT' as const, featureId: 'f', currency };
        // Per unit: q x unit.
        const perUnit = priceLine({ ...base, amount: unit }, { quantity: q });
        expect(formatMoney(perUnit.amount, currency)).toBe(reference(BigInt(q) * scaled(unit), ONE, currency));
        // Package: ceil(q / blockSize) x unit.
        const blocks = BigInt(Math.ceil(q / blockSize));
        const pkg = priceLine({ ...base, amount: unit, blockSize }, { quantity: q });
        expect(formatMoney(pkg.amount, currency)).toBe(reference(blocks * scaled(unit), ONE, currency));
        // Graduated: each unit at its tier, flat amounts of reached tiers.
        let expected = 0n;
        let from = 0;
        tiers.forEach((tier, i) => {
          if (i > 0 && q <= from) return;
          const top = tier.upTo === null ? q : Math.min(q, tier.upTo);
          expected += BigInt(Math.max(top - from, 0)) * scaled(tier.unitAmount ?? '0') + scaled(tier.flatAmount ?? '0');
          from = tier.upTo ?? from;
        });
        const graduated = priceLine({ ...base, tiersMode: 'GRADUATED', tiers }, { quantity: q });
        expect(formatMoney(graduated.amount, currency)).toBe(reference(expected, ONE, currency));
      }),
      { numRuns },
    );
  });

  it('prorates exactly like an integer reference: amount x remaining seconds / period seconds', () => {
    fc.assert(
      fc.property(arbPeriodAndInstant, arbAmount, arbCurrency, ([period, at], amount, currency) => {
        const total = BigInt(Math.floor(period.end / 1000) - Math.floor(period.start / 1000));
        const remaining = BigInt(Math.floor(period.end / 1000) - Math.floor(at / 1000));
        const p = prorateChange({ period, at, oldLines: [line(amount, currency)], newLines: [line(amount, currency, 'plan:q:0')] });
        expect(formatMoney(p.debitAmount, currency)).toBe(reference(scaled(amount) * remaining, ONE * total, currency));
        expect(formatMoney(p.creditAmount, currency)).toBe(formatMoney(p.debitAmount.negated(), currency));
      }),
      { numRuns },
    );
  });

  it('prorating over a whole period returns the full price', () => {
    fc.assert(
      fc.property(arbPeriod, arbAmount, arbCurrency, (period, amount, currency) => {
        expect(prorateAmount(toDecimal(amount), period, period.start).equals(toDecimal(amount))).toBe(true);
        const p = prorateChange({ period, at: period.start, oldLines: [], newLines: [line(amount, currency)] });
        expect(p.debitAmount.equals(roundMoney(toDecimal(amount), currency))).toBe(true);
        expect(prorateChange({ period, at: period.end, oldLines: [line(amount, currency)], newLines: [] }).creditAmount.isZero()).toBe(true);
      }),
      { numRuns },
    );
  });

  it('splitting a period at any second into two prorated parts sums to the whole within one minor unit', () => {
    fc.assert(
      fc.property(arbPeriodAndInstant, arbAmount, arbCurrency, ([period, at], amount, currency) => {
        const whole = roundMoney(toDecimal(amount), currency);
        const before = roundMoney(prorateBetween(toDecimal(amount), period, period.start, at), currency);
        const after = roundMoney(prorateAmount(toDecimal(amount), period, at), currency);
        const minor = new Decimal(10).pow(-currencyDigits(currency));
        expect(before.plus(after).minus(whole).abs().lessThanOrEqualTo(minor)).toBe(true);
        // Unrounded, the parts add up exactly (up to 40 significant digits).
        const exact = prorateBetween(toDecimal(amount), period, period.start, at).plus(prorateAmount(toDecimal(amount), period, at));
        expect(exact.minus(amount).abs().lessThan(new Decimal(10).pow(-20))).toBe(true);
      }),
      { numRuns },
    );
  });

  it('volume and graduated agree on a single-tier price', () => {
    fc.assert(
      fc.property(arbAmount, fc.option(arbAmount, { nil: undefined }), arbQuantity, (unitAmount, flatAmount, q) => {
        const tiers: PriceTier[] = [{ upTo: null, unitAmount, ...(flatAmount === undefined ? {} : { flatAmount }) }];
        const quantity = new Decimal(q);
        expect(graduatedAmount(tiers, quantity).amount.equals(volumeAmount(tiers, quantity).amount)).toBe(true);
      }),
      { numRuns },
    );
  });

  it('more units never cost less under GRADUATED', () => {
    fc.assert(
      fc.property(arbTiers, arbQuantity, arbQuantity, (tiers, a, b) => {
        const [low, high] = a <= b ? [a, b] : [b, a];
        const cost = (q: number) => graduatedAmount(tiers, new Decimal(q)).amount;
        expect(cost(low).lessThanOrEqualTo(cost(high))).toBe(true);
      }),
      { numRuns },
    );
  });

  it('totals are never negative and the lines always sum to subTotal - discount + tax', () => {
    const arbDocument = arbCurrency.chain((currency) =>
      fc.record({
        currency: fc.constant(currency),
        lines: fc.array(arbDraftLine(currency), { maxLength: 6 }),
        coupon: arbCoupon(currency),
        rate: arbTaxRate,
      }),
    );
    fc.assert(
      fc.property(arbDocument, ({ currency, lines, coupon, rate }) => {
        const doc = assembleInvoice({ currency, lines, coupon, tax: { party: { billingCountryCode: 'FR' }, rates: new Map([['FR', rate]]) } });
        // The kit's invariants (recomputed independently of the rules), then what they leave out.
        totalsNeverNegative(doc);
        documentAddsUp(doc, { coupon, taxRate: rate });
        const total = new Decimal(doc.total);
        expect(total.isNegative() && !total.isZero()).toBe(false);
        const discount = new Decimal(doc.discount?.amount ?? '0');
        const net = new Decimal(doc.subTotal).minus(discount).plus(doc.tax);
        expect(sumOfLines(doc).equals(net)).toBe(true);
        expect(total.equals(Decimal.max(net, 0))).toBe(true);
        expect(new Decimal(doc.excessCredit).equals(Decimal.max(net.negated(), 0))).toBe(true);
        expect(discount.lessThanOrEqualTo(Decimal.max(doc.subTotal, 0))).toBe(true);
        // subTotal is the sum of the rounded charge lines, not a rounded sum.
        const rounded = lines.map((l) => roundMoney(l.amount, currency));
        expect(formatMoney(rounded.reduce((a, b) => a.plus(b), new Decimal(0)), currency)).toBe(doc.subTotal);
      }),
      { numRuns },
    );
  });
});

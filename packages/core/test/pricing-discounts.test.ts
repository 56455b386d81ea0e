import { describe, expect, it } from 'vitest';
import type { CouponDefinition, PlanDefinition, PriceDefinition, PromotionCodeDefinition } from '../src/catalog/types.js';
import { isTesseraError } from '../src/errors.js';
import { Decimal, formatMoney } from '../src/money.js';
import {
  applyCoupon,
  checkPromotionCode,
  couponAppliesAfterMonths,
  couponAppliesToPeriod,
  couponEndsAt,
  effectiveCoupon,
  requirePromotionCode,
} from '../src/rules/discounts.js';
import { assembleInvoice, forPeriod, sumOfLines } from '../src/rules/invoice.js';
import { pricePeriod } from '../src/rules/pricing.js';
import { prorateChange } from '../src/rules/proration.js';
import { applyTax, computeTax, parseTaxRate, taxRateFor } from '../src/rules/tax.js';

const utc = (iso: string) => Date.parse(iso);
const usd = (x: Decimal) => formatMoney(x, 'USD');
const d = (s: string) => new Decimal(s);

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return isTesseraError(e) ? e.code : `not a TesseraError: ${String(e)}`;
  }
  return undefined;
}

const percent = (value: string, durationInMonths?: number): CouponDefinition => ({ id: `p${value}`, type: 'PERCENTAGE', value, durationInMonths });
const fixed = (value: string, currency = 'USD'): CouponDefinition => ({ id: `f${value}`, type: 'FIXED', value, currency });

const monthly = (p: Partial<PriceDefinition>): PriceDefinition => ({ billingPeriod: 'MONTHLY', billingModel: 'FLAT_FEE', currency: 'USD', ...p });
const pro: PlanDefinition = {
  id: 'pro',
  productId: 'app',
  displayName: 'Pro',
  pricingType: 'PAID',
  prices: [monthly({ amount: '49.00' }), monthly({ billingModel: 'PER_UNIT', featureId: 'seats', amount: '10.00' })],
};
// 49.00 + 12 seats x 10.00 + 2 x storage 5.00 = 179.00
const proLines = () =>
  pricePeriod({
    plan: pro,
    billingPeriod: 'MONTHLY',
    billableFeatures: [{ featureId: 'seats', quantity: 12 }],
    addons: [{ addon: { id: 'storage', productId: 'app', prices: [monthly({ amount: '5.00' })] }, quantity: 2 }],
  });
const frTax = { party: { billingCountryCode: 'FR' }, rates: new Map([['FR', '0.20']]) };

describe('coupons', () => {
  it('takes a percentage of the subtotal, rounded once half-up', () => {
    // 12.5% of 179.00 = 22.375 -> 22.38
    expect(usd(applyCoupon(percent('12.5'), d('179.00'), 'USD').amount)).toBe('22.38');
  });

  it('takes all of the subtotal with a 100% coupon', () => {
    expect(usd(applyCoupon(percent('100'), d('179.00'), 'USD').amount)).toBe('179.00');
  });

  it('caps a fixed coupon at the amount due and carries nothing over', () => {
    expect(usd(applyCoupon(fixed('100.00'), d('49.00'), 'USD').amount)).toBe('49.00');
    expect(usd(applyCoupon(fixed('15.00'), d('49.00'), 'USD').amount)).toBe('15.00');
  });

  it('gives nothing on a zero or negative subtotal', () => {
    expect(usd(applyCoupon(percent('20'), d('-30.00'), 'USD').amount)).toBe('0.00');
    expect(usd(applyCoupon(fixed('10.00'), d('0'), 'USD').amount)).toBe('0.00');
  });

  it('refuses a fixed coupon in another currency and malformed coupons', () => {
    expect(codeOf(() => applyCoupon(fixed('10.00', 'EUR'), d('49.00'), 'USD'))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => applyCoupon({ id: 'x', type: 'FIXED', value: '10' }, d('49.00'), 'USD'))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => applyCoupon(percent('120'), d('49.00'), 'USD'))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => applyCoupon(percent('1e1'), d('49.00'), 'USD'))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => applyCoupon(percent('10', 0), d('49.00'), 'USD'))).toBe('INVALID_ARGUMENT');
  });
});

describe('coupon durations', () => {
  it('applies once, for N months, or forever, counted in months after it was applied', () => {
    expect([0, 1].map((n) => couponAppliesAfterMonths({ durationInMonths: 1 }, n))).toEqual([true, false]);
    expect([0, 2, 3].map((n) => couponAppliesAfterMonths({ durationInMonths: 3 }, n))).toEqual([true, true, false]);
    expect(couponAppliesAfterMonths({}, 120)).toBe(true);
  });

  it('discounts the periods that start before the coupon ends, month ends clamped', () => {
    const appliedAt = utc('2024-01-31T00:00:00Z');
    // 1 month after Jan 31 2024 is Feb 29 2024.
    expect(couponEndsAt({ durationInMonths: 1 }, appliedAt)).toBe(utc('2024-02-29T00:00:00Z'));
    expect(couponEndsAt({}, appliedAt)).toBeNull();
    const twoMonths = { durationInMonths: 2 };
    expect(couponAppliesToPeriod(twoMonths, appliedAt, utc('2024-01-31T00:00:00Z'))).toBe(true);
    expect(couponAppliesToPeriod(twoMonths, appliedAt, utc('2024-02-29T00:00:00Z'))).toBe(true);
    expect(couponAppliesToPeriod(twoMonths, appliedAt, utc('2024-03-31T00:00:00Z'))).toBe(false);
  });

  it('discounts exactly one invoice for a once coupon applied mid-period, and none invoiced before it', () => {
    const appliedAt = utc('2024-01-15T00:00:00Z');
    const once = { durationInMonths: 1 };
    expect(couponAppliesToPeriod(once, appliedAt, utc('2024-01-01T00:00:00Z'))).toBe(false);
    expect(couponAppliesToPeriod(once, appliedAt, utc('2024-02-01T00:00:00Z'))).toBe(true);
    expect(couponAppliesToPeriod(once, appliedAt, utc('2024-03-01T00:00:00Z'))).toBe(false);
  });
});

describe('coupon precedence', () => {
  it('lets the subscription promotion code win over the customer coupon, never stacking them', () => {
    const customerCoupon = percent('10');
    const promotionCodeCoupon = percent('25');
    expect(effectiveCoupon({ customerCoupon, promotionCodeCoupon })).toEqual({ coupon: promotionCodeCoupon, source: 'PROMOTION_CODE' });
    expect(effectiveCoupon({ customerCoupon, promotionCodeCoupon: null })).toEqual({ coupon: customerCoupon, source: 'CUSTOMER' });
    expect(effectiveCoupon({})).toBeNull();
  });
});

describe('promotion codes', () => {
  const codes: PromotionCodeDefinition[] = [
    { code: 'WELCOME', couponId: 'p20' },
    { code: 'OFF', couponId: 'p20', active: false },
    { code: 'SPRING', couponId: 'p20', expiresAt: '2024-06-01T00:00:00Z' },
    { code: 'FIRST10', couponId: 'p20', maxRedemptions: 10 },
    { code: 'ORPHAN', couponId: 'missing' },
  ];
  // The shape of Catalog.promotionCodes / Catalog.coupons.
  const catalog = { promotionCodes: new Map(codes.map((c) => [c.code, c])), coupons: new Map([['p20', percent('20')]]) };
  const now = utc('2024-05-31T23:59:59Z');

  it('accepts a valid code with its coupon', () => {
    const check = checkPromotionCode('WELCOME', catalog, 0, now);
    expect(check.ok && check.coupon.id).toBe('p20');
    expect(requirePromotionCode('FIRST10', catalog, 9, now).coupon.id).toBe('p20');
  });

  it('says why a code is refused', () => {
    const reason = (code: string, redemptions: number, at: number) => {
      const check = checkPromotionCode(code, catalog, redemptions, at);
      return check.ok ? 'OK' : check.reason;
    };
    expect(reason('NOPE', 0, now)).toBe('UNKNOWN');
    expect(reason('welcome', 0, now)).toBe('UNKNOWN');
    expect(reason('ORPHAN', 0, now)).toBe('UNKNOWN');
    expect(reason('OFF', 0, now)).toBe('INACTIVE');
    expect(reason('SPRING', 0, now)).toBe('OK');
    expect(reason('SPRING', 0, utc('2024-06-01T00:00:00Z'))).toBe('EXPIRED');
    expect(reason('FIRST10', 10, now)).toBe('EXHAUSTED');
  });

  it('throws PROMOTION_CODE_INVALID with the reason in details', () => {
    try {
      requirePromotionCode('OFF', catalog, 0, now);
      expect.unreachable();
    } catch (e) {
      expect(isTesseraError(e, 'PROMOTION_CODE_INVALID') && e.details).toEqual({ field: 'promotionCode', value: 'OFF', reason: 'INACTIVE' });
    }
  });
});

describe('tax', () => {
  it('taxes the amount after discounts at the billing country rate, rounded once', () => {
    // 20% of 39.99 = 7.998 -> 8.00
    expect(usd(computeTax(d('39.99'), d('0.20'), 'USD'))).toBe('8.00');
    const t = applyTax(d('156.62'), 'USD', { billingCountryCode: 'fr' }, [{ countryCode: 'FR', rate: '0.20' }]);
    // 156.62 x 0.20 = 31.324 -> 31.32
    expect([usd(t.amount), t.countryCode, t.description]).toEqual(['31.32', 'FR', 'Tax (FR 20%)']);
  });

  it('charges no tax to exempt customers, to countries without a rate, or on a credit', () => {
    const rates = new Map([['FR', '0.20']]);
    expect(usd(applyTax(d('100'), 'USD', { billingCountryCode: 'FR', taxExempt: true }, rates).amount)).toBe('0.00');
    expect(usd(applyTax(d('100'), 'USD', { billingCountryCode: 'US' }, rates).amount)).toBe('0.00');
    expect(usd(applyTax(d('100'), 'USD', {}, rates).amount)).toBe('0.00');
    expect(usd(computeTax(d('-50'), d('0.2'), 'USD'))).toBe('0.00');
    expect(taxRateFor({ billingCountryCode: 'FR', taxExempt: true }, rates).exempt).toBe(true);
  });

  it('refuses a rate that is not a fraction', () => {
    expect(codeOf(() => parseTaxRate('20'))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => parseTaxRate('-0.1'))).toBe('INVALID_ARGUMENT');
    expect(parseTaxRate('0.075').toString()).toBe('0.075');
  });
});

describe('documents', () => {
  it('rounds each line, discounts, taxes and totals (the worked example of docs/pricing.md)', () => {
    // Lines 49.00 + 120.00 + 10.00 = 179.00; 12.5% off = 22.375 -> 22.38;
    // tax 20% of (179.00 - 22.38 = 156.62) = 31.324 -> 31.32; total 179.00 - 22.38 + 31.32 = 187.94
    const doc = assembleInvoice({ lines: proLines(), coupon: { ...percent('12.5'), name: 'LAUNCH' }, tax: frTax });
    expect(doc.lines.map((l) => [l.kind, l.amount])).toEqual([
      ['PLAN', '49.00'],
      ['PER_UNIT', '120.00'],
      ['ADDON', '10.00'],
      ['DISCOUNT', '-22.38'],
      ['TAX', '31.32'],
    ]);
    expect(doc).toMatchObject({ subTotal: '179.00', tax: '31.32', total: '187.94', currency: 'USD', excessCredit: '0.00' });
    expect(doc.discount).toEqual({ couponId: 'p12.5', type: 'PERCENTAGE', value: '12.5', durationInMonths: null, amount: '22.38' });
    expect(doc.lines[1]).toMatchObject({ quantity: 12, unitAmount: '10.00' });
    expect(usd(sumOfLines(doc))).toBe(doc.total);
  });

  it('rounds each line once and sums rounded lines without rounding again', () => {
    const third = (n: number) => ({ kind: 'USAGE' as const, description: `u${n}`, currency: 'USD', amount: d('0.005') });
    // Each 0.005 rounds to 0.01: subTotal 0.03, not round(0.015) = 0.02
    const doc = assembleInvoice({ lines: [third(1), third(2), third(3)] });
    expect(doc.subTotal).toBe('0.03');
    expect(doc.total).toBe('0.03');
  });

  it('totals zero with a 100% coupon', () => {
    const doc = assembleInvoice({ lines: proLines(), coupon: percent('100'), tax: frTax });
    expect(doc).toMatchObject({ subTotal: '179.00', tax: '0.00', total: '0.00' });
    expect(doc.discount?.amount).toBe('179.00');
  });

  it('totals zero, never below, with a fixed coupon larger than the subtotal', () => {
    const doc = assembleInvoice({ lines: proLines().slice(0, 1), coupon: fixed('100.00'), tax: frTax });
    expect(doc).toMatchObject({ subTotal: '49.00', tax: '0.00', total: '0.00', excessCredit: '0.00' });
    expect(doc.discount?.amount).toBe('49.00');
  });

  it('keeps a net proration credit as excess credit with a zero total, untaxed and undiscounted', () => {
    const feb = { start: utc('2024-02-01T00:00:00Z'), end: utc('2024-03-01T00:00:00Z') };
    const lines = (n: number) => pricePeriod({ plan: pro, billingPeriod: 'MONTHLY', billableFeatures: [{ featureId: 'seats', quantity: n }] });
    // 12 -> 2 seats at Feb 15 12:00 (half the month left): credit -60.00, debit 10.00
    const p = prorateChange({ period: feb, at: utc('2024-02-15T12:00:00Z'), oldLines: lines(12), newLines: lines(2) });
    const doc = assembleInvoice({ lines: [...p.credit, ...p.debit], coupon: percent('20'), tax: frTax });
    expect(doc).toMatchObject({ subTotal: '-50.00', tax: '0.00', total: '0.00', excessCredit: '50.00' });
    expect(doc.lines.map((l) => l.kind)).toEqual(['PRORATION_CREDIT', 'PRORATION_DEBIT']);
  });

  it('discounts a seat increase proration linearly', () => {
    const feb = { start: utc('2024-02-01T00:00:00Z'), end: utc('2024-03-01T00:00:00Z') };
    const lines = (n: number) => pricePeriod({ plan: pro, billingPeriod: 'MONTHLY', billableFeatures: [{ featureId: 'seats', quantity: n }] });
    // 5 -> 8 seats at half February: -25.00 + 40.00 = 15.00; 20% off = 3.00; total 12.00
    const p = prorateChange({ period: feb, at: utc('2024-02-15T12:00:00Z'), oldLines: lines(5), newLines: lines(8) });
    const doc = assembleInvoice({ lines: [...p.credit, ...p.debit], coupon: percent('20') });
    expect(doc).toMatchObject({ subTotal: '15.00', total: '12.00' });
  });

  it('rounds JPY and KWD documents to their minor units', () => {
    const line = (currency: string, amount: string) => ({ kind: 'PLAN' as const, description: 'x', currency, amount: d(amount) });
    // JPY: 1000 x 12.5% = 125; 10% tax on 875 = 87.5 -> 88; total 963
    const jpy = assembleInvoice({ lines: [line('JPY', '1000')], coupon: percent('12.5'), tax: { party: { billingCountryCode: 'JP' }, rates: new Map([['JP', '0.10']]) } });
    expect(jpy).toMatchObject({ subTotal: '1000', tax: '88', total: '963' });
    // KWD: 12.3456 -> 12.346; 5% off = 0.6173 -> 0.617; total 11.729
    const kwd = assembleInvoice({ lines: [line('KWD', '12.3456')], coupon: percent('5') });
    expect(kwd).toMatchObject({ subTotal: '12.346', total: '11.729' });
  });

  it('stamps periods on lines and refuses mixed currencies or no currency', () => {
    const period = { start: utc('2024-02-01T00:00:00Z'), end: utc('2024-03-01T00:00:00Z') };
    const doc = assembleInvoice({ lines: forPeriod(proLines(), period) });
    expect(doc.lines[0]).toMatchObject({ periodStart: period.start, periodEnd: period.end });
    const eur = { kind: 'PLAN' as const, description: 'x', currency: 'EUR', amount: d('1') };
    expect(codeOf(() => assembleInvoice({ lines: [...proLines(), eur] }))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => assembleInvoice({ lines: [] }))).toBe('INVALID_ARGUMENT');
    expect(assembleInvoice({ lines: [], currency: 'EUR' })).toMatchObject({ subTotal: '0.00', total: '0.00', lines: [] });
  });
});

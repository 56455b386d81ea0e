import { describe, expect, it } from 'vitest';
import type { AddonDefinition, PlanDefinition, PriceDefinition, PriceTier } from '../src/catalog/types.js';
import { isTesseraError } from '../src/errors.js';
import {
  Decimal,
  addMoney,
  assertSameCurrency,
  formatMoney,
  isDecimalString,
  roundMoney,
  toDecimal,
  toMoney,
} from '../src/money.js';
import { priceAddon, priceLine, pricePeriod, pricePlan, resolvePriceAmounts, selectPrices } from '../src/rules/pricing.js';
import { graduatedAmount, validateTiers, volumeAmount } from '../src/rules/tiers.js';

const d = (s: string) => new Decimal(s);
const usd = (x: Decimal) => formatMoney(x, 'USD');

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return isTesseraError(e) ? e.code : `not a TesseraError: ${String(e)}`;
  }
  return undefined;
}

describe('money', () => {
  it('parses plain decimal strings and rejects anything else with INVALID_ARGUMENT', () => {
    expect(toDecimal('12.50').toString()).toBe('12.5');
    expect(toDecimal('-0.005').toString()).toBe('-0.005');
    expect(toDecimal('123456789012345678901234567890.123456789').toFixed(9)).toBe('123456789012345678901234567890.123456789');
    for (const bad of ['1e3', 'NaN', 'Infinity', '', ' 1', '1.', '.5', '+1', '1,5', '0x10', '1.2.3']) {
      expect(codeOf(() => toDecimal(bad)), bad).toBe('INVALID_ARGUMENT');
      expect(isDecimalString(bad), bad).toBe(false);
    }
    expect(codeOf(() => toDecimal(12.5 as unknown as string))).toBe('INVALID_ARGUMENT');
  });

  it('names the field of a bad amount in details', () => {
    try {
      toDecimal('1e3', 'prices[0].amount');
      expect.unreachable();
    } catch (e) {
      expect(isTesseraError(e, 'INVALID_ARGUMENT') && e.details.field).toBe('prices[0].amount');
    }
  });

  it('rounds half-up at exactly .005 where float arithmetic would round down', () => {
    // 1.005 and 2.675 are 1.00499999... and 2.67499999... as doubles: (1.005).toFixed(2) === '1.00'.
    expect(usd(roundMoney(d('1.005'), 'USD'))).toBe('1.01');
    expect(usd(roundMoney(d('2.675'), 'USD'))).toBe('2.68');
    expect(usd(roundMoney(d('1.0049999999'), 'USD'))).toBe('1.00');
    // Ties go away from zero, so a credit mirrors its debit.
    expect(usd(roundMoney(d('-1.005'), 'USD'))).toBe('-1.01');
  });

  it('rounds JPY to whole yen and KWD to three digits', () => {
    expect(formatMoney(d('333.5'), 'JPY')).toBe('334');
    expect(formatMoney(d('333.4999'), 'JPY')).toBe('333');
    expect(formatMoney(d('1.2345'), 'KWD')).toBe('1.235');
    expect(formatMoney(d('1.2344'), 'KWD')).toBe('1.234');
    expect(formatMoney(d('1.5'), 'KWD')).toBe('1.500');
    expect(formatMoney(d('12.5'), 'USD')).toBe('12.50');
  });

  it('never prints negative zero', () => {
    expect(formatMoney(d('-0.001'), 'USD')).toBe('0.00');
  });

  it('refuses an unknown currency instead of guessing its digits', () => {
    expect(codeOf(() => roundMoney(d('1'), 'XXX'))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => roundMoney(d('1'), 'usd'))).toBe('INVALID_ARGUMENT');
  });

  it('adds money of one currency and refuses to mix currencies', () => {
    expect(addMoney({ amount: '1.10', currency: 'USD' }, { amount: '2.20', currency: 'USD' })).toEqual({ amount: '3.30', currency: 'USD' });
    expect(codeOf(() => addMoney({ amount: '1', currency: 'USD' }, { amount: '1', currency: 'EUR' }))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => assertSameCurrency('USD', 'EUR'))).toBe('INVALID_ARGUMENT');
    expect(toMoney(d('7'), 'EUR')).toEqual({ amount: '7.00', currency: 'EUR' });
  });
});

const price = (p: Partial<PriceDefinition>): PriceDefinition => ({ billingPeriod: 'MONTHLY', billingModel: 'PER_UNIT', currency: 'USD', ...p });

// Tiers used by the graduated and volume examples: 1-10 at 5.00 (+10.00 flat), 11-20 at 4.00 (+20.00 flat), 21+ at 3.00.
const TIERS: PriceTier[] = [
  { upTo: 10, unitAmount: '5.00', flatAmount: '10.00' },
  { upTo: 20, unitAmount: '4.00', flatAmount: '20.00' },
  { upTo: null, unitAmount: '3.00' },
];

describe('billing models', () => {
  it('charges a flat fee whatever the quantity', () => {
    const calc = priceLine(price({ billingModel: 'FLAT_FEE', amount: '49.00' }), { quantity: 7 });
    expect(usd(calc.amount)).toBe('49.00');
    expect(calc.model).toBe('FLAT_FEE');
  });

  it('charges per unit: 12 seats x 10.00 = 120.00', () => {
    const calc = priceLine(price({ featureId: 'seats', amount: '10.00' }), { quantity: 12 });
    expect(usd(calc.amount)).toBe('120.00');
    expect(calc.description).toBe('12 x 10.00');
  });

  it('requires a per-unit quantity (minUnitQuantity is a bound, not a default) and refuses one outside the bounds', () => {
    const p = price({ featureId: 'seats', amount: '10.00', minUnitQuantity: 3, maxUnitQuantity: 50 });
    expect(codeOf(() => priceLine(p))).toBe('INVALID_ARGUMENT');
    expect(() => priceLine(p)).toThrow(/billableFeatures\.seats.*needs a quantity.*"seats".*\(3 to 50\)/);
    expect(usd(priceLine(p, { quantity: 3 }).amount)).toBe('30.00');
    expect(codeOf(() => priceLine(p, { quantity: 2 }))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => priceLine(p, { quantity: 51 }))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => priceLine(p, { quantity: 4.5 }))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => priceLine(price({ featureId: 'seats', amount: '10.00' })))).toBe('INVALID_ARGUMENT');
  });

  it('charges a package price per started block: 20 units = 2 x 25.00, 21 units = 3 x 25.00', () => {
    const p = price({ featureId: 'api-calls', amount: '25.00', blockSize: 10 });
    expect(usd(priceLine(p, { quantity: 20 }).amount)).toBe('50.00');
    const past = priceLine(p, { quantity: 21 });
    expect(usd(past.amount)).toBe('75.00');
    expect(past.blocks).toBe(3);
    expect(usd(priceLine(p, { quantity: 0 }).amount)).toBe('0.00');
  });

  it('prices usage in packages, rounding a fractional block up', () => {
    const p = price({ billingModel: 'USAGE_BASED', featureId: 'gb', amount: '2.00', blockSize: 5 });
    // 10.5 GB = ceil(10.5 / 5) = 3 blocks x 2.00
    expect(usd(priceLine(p, { quantity: 10.5 }).amount)).toBe('6.00');
    expect(usd(priceLine(p).amount)).toBe('0.00');
  });

  it('prices the same quantities graduated and volume', () => {
    const graduated = price({ featureId: 'seats', tiersMode: 'GRADUATED', tiers: TIERS });
    const volume = price({ featureId: 'seats', tiersMode: 'VOLUME', tiers: TIERS });
    const cases: [number, string, string][] = [
      // quantity, graduated, volume
      // 0: first tier's flat amount only in both = 10.00
      [0, '10.00', '10.00'],
      // 10: G 10 x 5 + 10 = 60; V 10 x 5 + 10 = 60
      [10, '60.00', '60.00'],
      // 11: G 60 + (1 x 4 + 20) = 84; V 11 x 4 + 20 = 64
      [11, '84.00', '64.00'],
      // 25: G 60 + (10 x 4 + 20) + 5 x 3 = 135; V 25 x 3 = 75
      [25, '135.00', '75.00'],
    ];
    for (const [q, g, v] of cases) {
      expect(usd(priceLine(graduated, { quantity: q }).amount), `graduated ${q}`).toBe(g);
      expect(usd(priceLine(volume, { quantity: q }).amount), `volume ${q}`).toBe(v);
    }
    expect(priceLine(graduated, { quantity: 25 }).description).toBe('10 x 5.00 + 10.00 flat + 10 x 4.00 + 20.00 flat + 5 x 3.00');
  });

  it('bills graduated usage across a tier boundary by the fraction in each tier', () => {
    // 10.5 units: 10 x 5 + 10 + (0.5 x 4 + 20) = 82.00
    expect(usd(graduatedAmount(TIERS, d('10.5')).amount)).toBe('82.00');
    expect(usd(volumeAmount(TIERS, d('10.5')).amount)).toBe('62.00');
  });

  it('refuses a quantity past a closed last tier and malformed tiers', () => {
    const closed: PriceTier[] = [{ upTo: 10, unitAmount: '1' }];
    expect(codeOf(() => graduatedAmount(closed, d('11')))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => volumeAmount(closed, d('11')))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => validateTiers([]))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => validateTiers([{ upTo: null }, { upTo: 5 }]))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => validateTiers([{ upTo: 5 }, { upTo: 5 }]))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => validateTiers([{ upTo: null, unitAmount: '-1' }]))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => priceLine(price({ featureId: 's', tiers: TIERS }), { quantity: 1 }))).toBe('INVALID_ARGUMENT');
  });

  it('refuses a price without an amount or with a negative one', () => {
    expect(codeOf(() => priceLine(price({ billingModel: 'FLAT_FEE' })))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => priceLine(price({ billingModel: 'FLAT_FEE', amount: '-1.00' })))).toBe('INVALID_ARGUMENT');
  });
});

describe('country overrides', () => {
  const p = price({
    billingModel: 'FLAT_FEE',
    amount: '10.00',
    countryOverrides: { FR: { currency: 'EUR', amount: '9.00' }, JP: { currency: 'JPY', amount: '1200' } },
  });

  it('uses the override of the billing country, in its currency', () => {
    const fr = priceLine(p, { billingCountryCode: 'FR' });
    expect(fr.currency).toBe('EUR');
    expect(formatMoney(fr.amount, 'EUR')).toBe('9.00');
    expect(formatMoney(priceLine(p, { billingCountryCode: 'JP' }).amount, 'JPY')).toBe('1200');
    expect(resolvePriceAmounts(p, 'fr')).toEqual({ currency: 'EUR', amount: '9.00' });
  });

  it('falls back to the base price for a country without an override or no country', () => {
    expect(priceLine(p, { billingCountryCode: 'DE' }).currency).toBe('USD');
    expect(usd(priceLine(p).amount)).toBe('10.00');
  });

  it('replaces tiers as a whole from an override', () => {
    const tiered = price({
      featureId: 'seats',
      tiersMode: 'VOLUME',
      tiers: TIERS,
      countryOverrides: { GB: { currency: 'GBP', tiers: [{ upTo: null, unitAmount: '2.50' }] } },
    });
    // GB: 4 x 2.50 = 10.00 GBP
    expect(formatMoney(priceLine(tiered, { quantity: 4, billingCountryCode: 'GB' }).amount, 'GBP')).toBe('10.00');
  });

  it('selects the prices of the billing period, resolved for the country', () => {
    const annual = price({ billingPeriod: 'ANNUALLY', billingModel: 'FLAT_FEE', amount: '100.00' });
    const selected = selectPrices([p, annual], 'MONTHLY', 'FR');
    expect(selected).toHaveLength(1);
    expect(selected[0]).toMatchObject({ currency: 'EUR', amount: '9.00', billingCountryCode: 'FR' });
    expect(selectPrices([p, annual], 'ANNUALLY', 'FR')[0]).toMatchObject({ currency: 'USD', billingCountryCode: null });
  });
});

describe('plans and add-ons for a period', () => {
  const plan: PlanDefinition = {
    id: 'pro',
    productId: 'app',
    displayName: 'Pro',
    pricingType: 'PAID',
    prices: [
      price({ billingModel: 'FLAT_FEE', amount: '49.00' }),
      price({ featureId: 'seats', amount: '10.00' }),
      price({ billingModel: 'USAGE_BASED', featureId: 'api-calls', amount: '0.0125' }),
      price({ billingPeriod: 'ANNUALLY', billingModel: 'FLAT_FEE', amount: '490.00' }),
    ],
  };
  const storage: AddonDefinition = { id: 'storage', productId: 'app', maxQuantity: 5, prices: [price({ billingModel: 'FLAT_FEE', amount: '5.00' })] };

  it('lists plan, seats and add-on lines in advance and leaves usage out', () => {
    const lines = pricePeriod({
      plan,
      billingPeriod: 'MONTHLY',
      billableFeatures: [{ featureId: 'seats', quantity: 3 }],
      addons: [{ addon: storage, quantity: 2 }],
    });
    expect(lines.map((l) => [l.kind, usd(l.amount), l.quantity])).toEqual([
      ['PLAN', '49.00', undefined],
      ['PER_UNIT', '30.00', 3],
      ['ADDON', '10.00', 2],
    ]);
    expect(lines[0]?.description).toBe('Pro (monthly)');
    expect(lines[2]?.description).toBe('storage: 2 x 5.00 (monthly)');
  });

  it('prices usage in arrears when the usage is given', () => {
    const lines = pricePlan(plan, { billingPeriod: 'MONTHLY', billableFeatures: [{ featureId: 'seats', quantity: 1 }], usage: [{ featureId: 'api-calls', quantity: 1234 }] });
    const usage = lines.find((l) => l.kind === 'USAGE');
    // 1234 x 0.0125 = 15.425 (rounded later, once, to 15.43)
    expect(usage?.amount.toString()).toBe('15.425');
  });

  it('refuses to price a per-unit line without its quantity, naming the feature', () => {
    const missing = () => pricePlan(plan, { billingPeriod: 'MONTHLY' });
    expect(codeOf(missing)).toBe('INVALID_ARGUMENT');
    expect(missing).toThrow(/billableFeatures\.seats/);
  });

  it('prices the annual period with the annual prices only', () => {
    expect(pricePlan(plan, { billingPeriod: 'ANNUALLY' }).map((l) => usd(l.amount))).toEqual(['490.00']);
  });

  it('prices free and custom plans to nothing and refuses a paid plan without a price for the period', () => {
    expect(pricePlan({ id: 'free', productId: 'app', pricingType: 'FREE' }, { billingPeriod: 'MONTHLY' })).toEqual([]);
    const monthlyOnly: PlanDefinition = { ...plan, prices: [price({ billingModel: 'FLAT_FEE', amount: '1' })] };
    expect(codeOf(() => pricePlan(monthlyOnly, { billingPeriod: 'ANNUALLY' }))).toBe('PRICE_NOT_FOUND');
  });

  it('enforces add-on quantities', () => {
    expect(codeOf(() => priceAddon(storage, 6, { billingPeriod: 'MONTHLY' }))).toBe('ADDON_QUANTITY_EXCEEDED');
    expect(codeOf(() => priceAddon(storage, 0, { billingPeriod: 'MONTHLY' }))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => priceAddon(storage, 1, { billingPeriod: 'ANNUALLY' }))).toBe('PRICE_NOT_FOUND');
    expect(priceAddon({ id: 'free-addon', productId: 'app' }, 1, { billingPeriod: 'MONTHLY' })).toEqual([]);
  });

  it('prices a tiered add-on on its quantity', () => {
    const packs: AddonDefinition = { id: 'packs', productId: 'app', prices: [price({ tiersMode: 'GRADUATED', tiers: TIERS })] };
    // 11 packs graduated: 60 + 4 + 20 = 84
    expect(usd(priceAddon(packs, 11, { billingPeriod: 'MONTHLY' })[0]!.amount)).toBe('84.00');
  });

  it('refuses a period whose lines are in several currencies', () => {
    const addonFr: AddonDefinition = {
      ...storage,
      prices: [price({ billingModel: 'FLAT_FEE', amount: '5.00', countryOverrides: { FR: { currency: 'EUR', amount: '4.00' } } })],
    };
    expect(codeOf(() => pricePeriod({ plan, billingPeriod: 'MONTHLY', billingCountryCode: 'FR', addons: [{ addon: addonFr, quantity: 1 }] }))).toBe(
      'INVALID_ARGUMENT',
    );
  });
});

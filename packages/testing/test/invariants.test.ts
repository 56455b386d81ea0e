/**
 * The pricing invariants hold for the core's rules, and say clearly what went wrong when they
 * do not. Run more with FC_NUM_RUNS=5000 npx vitest run packages/testing/test/invariants
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  assembleInvoice,
  burnCredits,
  createGrant,
  createEngine,
  expireCredits,
  memoryStore,
  testClock,
  toDecimal,
  voidGrant,
  type CreditGrant,
  type LedgerEntry,
  type PriceDefinition,
} from '@tessera/core';
import {
  InvariantError,
  arbCoupon,
  arbInstant,
  arbMoney,
  arbPrice,
  documentAddsUp,
  graduatedIsMonotonic,
  ledgerBalances,
  priceMatchesReference,
  prorationOfWholePeriodEqualsPrice,
  readLedger,
  splitProrationSumsToWhole,
  totalsNeverNegative,
  volumeCliffs,
} from '@tessera/testing';

const numRuns = Number(process.env.FC_NUM_RUNS ?? 200);
const arbTaxRate = fc.constantFrom('0.20', '0.19', '0.10', '0.075', '0');

describe('proration invariants on the core rules', () => {
  it('prorating any price over its whole billing period gives the price (28 to 31 days, 365 or 366)', () => {
    fc.assert(
      fc.property(arbPrice(), arbInstant(), (price, start) => prorationOfWholePeriodEqualsPrice({ price, start })),
      { numRuns },
    );
  });

  it('the two parts of a period split anywhere add up to its price within one minor unit', () => {
    fc.assert(
      fc.property(arbPrice(), arbInstant(), arbInstant({ from: '2024-01-01', years: 4 }), (price, start, at) =>
        splitProrationSumsToWhole({ price, start, at: Math.max(start.getTime(), at.getTime()) }),
      ),
      { numRuns },
    );
  });
});

describe('price invariants on the core rules', () => {
  it('every price computes what the reference of docs/pricing.md computes, at every boundary quantity', () => {
    fc.assert(
      fc.property(arbPrice(), (price) => priceMatchesReference(price)),
      { numRuns },
    );
  });

  it('GRADUATED prices never charge less for more units', () => {
    fc.assert(
      fc.property(arbPrice({ models: ['GRADUATED'] }), (price) => graduatedIsMonotonic(price)),
      { numRuns: Math.min(numRuns, 100) },
    );
  });

  it('GRADUATED prices have no volume cliffs', () => {
    fc.assert(
      fc.property(arbPrice({ models: ['GRADUATED'] }), (price) => {
        expect(volumeCliffs(price)).toEqual([]);
      }),
      { numRuns: Math.min(numRuns, 100) },
    );
  });

  it('volumeCliffs finds where 1,001 seats cost less than 1,000, and none once a flat amount bridges it', () => {
    const seats = (secondTier: { unitAmount: string; flatAmount?: string }): PriceDefinition => ({
      billingPeriod: 'MONTHLY',
      billingModel: 'PER_UNIT',
      featureId: 'seats',
      currency: 'USD',
      tiersMode: 'VOLUME',
      tiers: [{ upTo: 1000, unitAmount: '10.00' }, { upTo: null, ...secondTier }],
    });
    // 1,000 x 10.00 = 10,000.00; 1,001 x 9.00 = 9,009.00.
    expect(volumeCliffs(seats({ unitAmount: '9.00' }))).toEqual([{ quantity: 1000, amount: '10000', nextAmount: '9009', currency: 'USD', billingCountryCode: null }]);
    // 1,001 x 9.00 + 991.00 = 10,000.00: never cheaper.
    expect(volumeCliffs(seats({ unitAmount: '9.00', flatAmount: '991.00' }))).toEqual([]);
  });

  it('graduatedIsMonotonic refuses a price that is not GRADUATED', () => {
    expect(() => graduatedIsMonotonic({ billingPeriod: 'MONTHLY', billingModel: 'FLAT_FEE', currency: 'USD', amount: '1.00' })).toThrow(RangeError);
  });
});

describe('document invariants on the core assembler', () => {
  it('discounts come off the subtotal before tax, totals are never negative, lines add up', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(arbMoney('USD'), fc.boolean()), { minLength: 1, maxLength: 4 }),
        fc.option(arbCoupon({ currency: 'USD' }), { nil: null }),
        arbTaxRate,
        (amounts, coupon, rate) => {
          const lines = amounts.map(([m, credit]) => ({ kind: credit ? ('PRORATION_CREDIT' as const) : ('PLAN' as const), description: 'x', currency: 'USD', amount: credit ? toDecimal(m.amount).negated() : toDecimal(m.amount) }));
          const doc = assembleInvoice({ lines, coupon, tax: { party: { billingCountryCode: 'DE' }, rates: [{ countryCode: 'DE', rate }] } });
          documentAddsUp(doc, { coupon, taxRate: rate });
          totalsNeverNegative(doc);
        },
      ),
      { numRuns },
    );
  });

  it('says what it expected, what it saw and from what', () => {
    const doc = { currency: 'USD', subTotal: '10.00', discount: { amount: '1.00' }, tax: '2.00', total: '11.00', lines: [{ kind: 'PLAN', amount: '10.00' }, { kind: 'DISCOUNT', amount: '-1.00' }, { kind: 'TAX', amount: '2.00' }] };
    let error: unknown;
    try {
      documentAddsUp(doc, { coupon: { id: 'launch', type: 'PERCENTAGE', value: '10' }, taxRate: '0.20' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvariantError);
    const e = error as InvariantError;
    expect(e.invariant).toBe('documentAddsUp');
    // 20% of (10.00 - 1.00) = 1.80, not 2.00.
    expect(e.expected).toBe('1.80');
    expect(e.seen).toBe('2.00');
    expect(e.message).toMatch(/tax must be the rate applied to \(subTotal - discount\)[\s\S]*expected: "1.80"[\s\S]*seen: {5}"2.00"[\s\S]*inputs: /);
  });

  it('totalsNeverNegative refuses a negative total', () => {
    expect(() => totalsNeverNegative({ subTotal: '-5.00', tax: '0.00', total: '-5.00' })).toThrow(/a total must never be negative/);
  });
});

describe('ledgerBalances', () => {
  /** A sequence of credit operations on the pure rules. */
  const arbOps = fc.array(
    fc.oneof(
      fc.record({ op: fc.constant('grant' as const), amount: fc.integer({ min: 1, max: 100 }), expiresIn: fc.option(fc.integer({ min: 1, max: 40 }), { nil: null }) }),
      fc.record({ op: fc.constant('burn' as const), amount: fc.integer({ min: 1, max: 150 }) }),
      fc.record({ op: fc.constant('advance' as const), days: fc.integer({ min: 1, max: 20 }) }),
      fc.record({ op: fc.constant('void' as const), index: fc.nat() }),
    ),
    { maxLength: 25 },
  );

  it('holds after any sequence of grants, burns, expiries and voids', () => {
    fc.assert(
      fc.property(arbOps, (ops) => {
        let grants: CreditGrant[] = [];
        const entries: LedgerEntry[] = [];
        let at = Date.parse('2024-01-01T00:00:00Z');
        ops.forEach((o, i) => {
          if (o.op === 'grant') {
            const { grant, entry } = createGrant({ id: `g${i}`, customerId: 'c', currencyId: 'cr', amount: String(o.amount), createdAt: at, ...(o.expiresIn === null ? {} : { expiresAt: at + o.expiresIn * 86_400_000 }) });
            grants.push(grant);
            entries.push(entry);
          } else if (o.op === 'burn') {
            const r = burnCredits(grants, String(o.amount), at);
            grants = r.grants;
            entries.push(...r.entries);
          } else if (o.op === 'advance') {
            at += o.days * 86_400_000;
            const r = expireCredits(grants, at);
            grants = r.grants;
            entries.push(...r.entries);
          } else if (grants.length > 0) {
            const r = voidGrant(grants, grants[o.index % grants.length]!.id, at);
            grants = r.grants;
            entries.push(...r.entries);
          }
          ledgerBalances({ grants, entries });
        });
      }),
      { numRuns },
    );
  });

  it('holds for the ledger an engine keeps', async () => {
    const catalog = {
      features: [{ id: 'sso', type: 'BOOLEAN' as const }],
      products: [{ id: 'app' }],
      plans: [{ id: 'free', productId: 'app', pricingType: 'FREE' as const }],
      creditCurrencies: [{ id: 'ai-credits' }],
    };
    const clock = testClock('2024-01-31');
    const engine = await createEngine({ store: memoryStore(), catalog, clock });
    await engine.provisionCustomer({ customerId: 'c1' });
    await engine.grantCredits({ customerId: 'c1', currencyId: 'ai-credits', amount: '30', expiresAt: '2024-02-10T00:00:00Z' });
    await engine.grantCredits({ customerId: 'c1', currencyId: 'ai-credits', amount: '50' });
    await engine.consumeCredits({ customerId: 'c1', currencyId: 'ai-credits', amount: '40' });
    clock.advance({ days: 15 });
    await engine.consumeCredits({ customerId: 'c1', currencyId: 'ai-credits', amount: '5' });
    const ledger = await readLedger(engine, { customerId: 'c1', currencyId: 'ai-credits' });
    ledgerBalances(ledger);
    expect(ledger.grants.map((g) => g.remaining).sort()).toEqual(['0', '35']);
    await engine.close();
  });

  it('names the grant whose entries do not add up', () => {
    expect(() => ledgerBalances({ grants: [{ id: 'g1', remaining: '10' }], entries: [{ grantId: 'g1', amount: '30' }, { grantId: 'g1', amount: '-25' }] })).toThrow(
      /grant g1[\s\S]*expected: "10"[\s\S]*seen: {5}"5"/,
    );
  });
});

import { describe, expect, it } from 'vitest';
import { isTesseraError } from '../src/errors.js';
import { Decimal } from '../src/money.js';
import { type CreditGrant, balanceAt, burnCredits, createGrant } from '../src/rules/credits.js';
import {
  type RechargeConfig,
  affordableCredits,
  decideRecharge,
  isRechargeTriggered,
  monthWindow,
  monthlySpend,
  rechargeCost,
  rechargeExpiry,
  validateRechargeConfig,
} from '../src/rules/recharge.js';

const at = (iso: string) => Date.parse(iso);
const NOW = at('2024-02-10T12:00:00Z');
const USD_20C = { amount: '0.20', currency: 'USD' };

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return isTesseraError(e) ? e.code : `not a TesseraError: ${String(e)}`;
  }
  return undefined;
}

function fieldOf(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return isTesseraError(e) ? e.details.field : `not a TesseraError: ${String(e)}`;
  }
  return undefined;
}

const config = (over: Partial<RechargeConfig> = {}): RechargeConfig => ({
  customerId: 'c1',
  currencyId: 'ai-credits',
  isEnabled: true,
  thresholdType: 'CREDIT_AMOUNT',
  thresholdValue: '10',
  targetBalance: '100',
  ...over,
});

describe('the threshold', () => {
  it('does not recharge exactly at the threshold (10 of 10), and recharges one credit below it (9)', () => {
    expect(decideRecharge({ config: config(), balance: '10', unitPrice: USD_20C, spentThisMonth: '0', now: NOW })).toBeNull();
    // 9 < 10: top up to 100, 91 credits x 0.20 = 18.20.
    expect(decideRecharge({ config: config(), balance: '9', unitPrice: USD_20C, spentThisMonth: '0', now: NOW })).toEqual({
      credits: '91',
      cost: { amount: '18.20', currency: 'USD' },
      expiresAt: null,
      limitedBySpend: false,
      wanted: '91',
    });
    expect(decideRecharge({ config: config(), balance: '11', unitPrice: USD_20C, spentThisMonth: '0', now: NOW })).toBeNull();
  });

  it('recharges just below the threshold (9.9999), buying whole credits up to the target', () => {
    // ceil(100 - 9.9999) = ceil(90.0001) = 91 credits: the balance ends at 100.9999.
    const d = decideRecharge({ config: config(), balance: '9.9999', unitPrice: USD_20C, spentThisMonth: '0', now: NOW });
    expect(d?.credits).toBe('91');
    expect(d?.cost.amount).toBe('18.20');
  });

  it('compares a DOLLAR_AMOUNT threshold with the balance worth at the unit price, exactly', () => {
    const c = config({ thresholdType: 'DOLLAR_AMOUNT', thresholdValue: '5.00' });
    const price = { amount: '0.25', currency: 'USD' };
    // 20 credits x 0.25 = 5.00: at the threshold, no recharge.
    expect(isRechargeTriggered(c, '20', price)).toBe(false);
    expect(decideRecharge({ config: c, balance: '20', unitPrice: price, spentThisMonth: '0', now: NOW })).toBeNull();
    // 19.96 x 0.25 = 4.99 < 5.00: recharge ceil(100 - 19.96) = 81 credits x 0.25 = 20.25.
    const d = decideRecharge({ config: c, balance: '19.96', unitPrice: price, spentThisMonth: '0', now: NOW });
    expect(d).toMatchObject({ credits: '81', cost: { amount: '20.25', currency: 'USD' }, limitedBySpend: false });
    // 19.99 x 0.25 = 4.9975, which would round to 5.00; the comparison is not rounded, so it triggers.
    expect(isRechargeTriggered(c, '19.99', price)).toBe(true);
  });

  it('does nothing when disabled', () => {
    expect(decideRecharge({ config: config({ isEnabled: false }), balance: '0', unitPrice: USD_20C, spentThisMonth: '0', now: NOW })).toBeNull();
  });
});

describe('the cost', () => {
  it('rounds credits x unit price once, half-up', () => {
    // 3 x 0.015 = 0.045 -> 0.05.
    expect(rechargeCost('3', { amount: '0.015', currency: 'USD' })).toEqual({ amount: '0.05', currency: 'USD' });
    // 7 x 0.333 = 2.331 -> 2 in JPY (no minor unit).
    expect(rechargeCost('7', { amount: '0.333', currency: 'JPY' })).toEqual({ amount: '2', currency: 'JPY' });
    const d = decideRecharge({
      config: config({ thresholdValue: '8', targetBalance: '10' }),
      balance: '7',
      unitPrice: { amount: '0.015', currency: 'USD' },
      spentThisMonth: '0',
      now: NOW,
    });
    expect(d?.cost).toEqual({ amount: '0.05', currency: 'USD' });
  });

  it('dates the expiry of recharged credits from now, month ends clamped', () => {
    const jan31 = at('2024-01-31T08:00:00Z');
    expect(rechargeExpiry('ONE_MONTH', jan31)).toBe(at('2024-02-29T08:00:00Z'));
    expect(rechargeExpiry('ONE_YEAR', at('2024-02-29T00:00:00Z'))).toBe(at('2025-02-28T00:00:00Z'));
    expect(rechargeExpiry(undefined, jan31)).toBeNull();
    const d = decideRecharge({ config: config({ grantExpirationPeriod: 'ONE_MONTH' }), balance: '0', unitPrice: USD_20C, spentThisMonth: '0', now: jan31 });
    expect(d?.expiresAt).toBe(at('2024-02-29T08:00:00Z'));
  });
});

describe('the monthly spend limit', () => {
  it('lets two $20 recharges through, cuts the third to the $10 left, and stops the fourth (limit $50)', () => {
    // Each recharge tops 0 up to 100 credits at $0.20: $20.00.
    const c = config({ maxSpendLimit: '50' });
    const charges: { at: number; amount: string }[] = [];
    let grants: CreditGrant[] = [];
    const decisions = [];
    for (let i = 0; i < 4; i++) {
      const now = at(`2024-02-${String(10 + i).padStart(2, '0')}T00:00:00Z`);
      const d = decideRecharge({ config: c, balance: balanceAt(grants, now), unitPrice: USD_20C, spentThisMonth: monthlySpend(charges, now), now });
      decisions.push(d && { credits: d.credits, cost: d.cost.amount, limitedBySpend: d.limitedBySpend });
      if (d && d.credits !== '0') {
        grants.push(createGrant({ id: `r${i}`, customerId: 'c1', currencyId: 'ai-credits', amount: d.credits, createdAt: now, kind: 'RECHARGE' }).grant);
        charges.push({ at: now, amount: d.cost.amount });
      }
      // Use everything before the next day.
      grants = burnCredits(grants, balanceAt(grants, now), now).grants;
    }
    expect(decisions).toEqual([
      { credits: '100', cost: '20.00', limitedBySpend: false },
      { credits: '100', cost: '20.00', limitedBySpend: false },
      // $50 - $40 = $10 left: 10 / 0.20 = 50 credits.
      { credits: '50', cost: '10.00', limitedBySpend: true },
      // Nothing left: the caller records no recharge.
      { credits: '0', cost: '0.00', limitedBySpend: true },
    ]);
    expect(monthlySpend(charges, at('2024-02-29T23:59:59Z'))).toBe('50');
    // March starts a new month: the full recharge again.
    const march = at('2024-03-01T00:00:00Z');
    expect(monthlySpend(charges, march)).toBe('0');
    expect(decideRecharge({ config: c, balance: '0', unitPrice: USD_20C, spentThisMonth: monthlySpend(charges, march), now: march })?.credits).toBe('100');
  });

  it('buys the most whole credits whose rounded cost fits', () => {
    // 0.004 a credit, $0.01 left: 3 credits cost 0.012 -> 0.01, 4 cost 0.016 -> 0.02.
    expect(affordableCredits(new Decimal('0.01'), { amount: '0.004', currency: 'USD' }, new Decimal(100)).toString()).toBe('3');
    // 0.005 a credit: 2 cost 0.01; 3 cost 0.015 -> 0.02 (half-up).
    expect(affordableCredits(new Decimal('0.01'), { amount: '0.005', currency: 'USD' }, new Decimal(100)).toString()).toBe('2');
    // $9.99 at $0.30: 33 credits = 9.90, 34 = 10.20.
    expect(affordableCredits(new Decimal('9.99'), { amount: '0.30', currency: 'USD' }, new Decimal(100)).toString()).toBe('33');
    // Never more than wanted, never below 0.
    expect(affordableCredits(new Decimal('1000'), USD_20C, new Decimal(7)).toString()).toBe('7');
    expect(affordableCredits(new Decimal('-5'), USD_20C, new Decimal(7)).toString()).toBe('0');
  });

  it('stops a recharge when the month is already over the limit', () => {
    const d = decideRecharge({ config: config({ maxSpendLimit: '50' }), balance: '0', unitPrice: USD_20C, spentThisMonth: '60.00', now: NOW });
    expect(d).toMatchObject({ credits: '0', cost: { amount: '0.00' }, limitedBySpend: true, expiresAt: null });
  });

  it('counts the UTC calendar month', () => {
    expect(monthWindow(NOW)).toEqual({ start: at('2024-02-01T00:00:00Z'), end: at('2024-03-01T00:00:00Z') });
    expect(monthWindow(at('2023-12-31T23:59:59.999Z'))).toEqual({ start: at('2023-12-01T00:00:00Z'), end: at('2024-01-01T00:00:00Z') });
    const charges = [
      { at: at('2024-01-31T23:59:59.999Z'), amount: '5.00' },
      { at: at('2024-02-01T00:00:00Z'), amount: '7.50' },
      { at: at('2024-02-29T23:59:59.999Z'), amount: '1.25' },
      { at: at('2024-03-01T00:00:00Z'), amount: '100.00' },
    ];
    expect(monthlySpend(charges, NOW)).toBe('8.75');
  });
});

describe('validation', () => {
  it('refuses a target at or below a credit threshold', () => {
    expect(fieldOf(() => validateRechargeConfig(config({ targetBalance: '10' })))).toBe('targetBalance');
  });

  it('refuses a target worth no more than a DOLLAR_AMOUNT threshold', () => {
    // 20 credits x 0.25 = 5.00, not above 5.00.
    const c = config({ thresholdType: 'DOLLAR_AMOUNT', thresholdValue: '5', targetBalance: '20' });
    expect(fieldOf(() => validateRechargeConfig(c, { amount: '0.25', currency: 'USD' }))).toBe('targetBalance');
    expect(() => validateRechargeConfig(c)).not.toThrow();
  });

  it('refuses malformed values, naming the field', () => {
    expect(fieldOf(() => validateRechargeConfig(config({ thresholdValue: '-1' })))).toBe('thresholdValue');
    expect(fieldOf(() => validateRechargeConfig(config({ targetBalance: '1e3' })))).toBe('targetBalance');
    expect(fieldOf(() => validateRechargeConfig(config({ maxSpendLimit: '0' })))).toBe('maxSpendLimit');
    expect(fieldOf(() => validateRechargeConfig(config({ maxSpendLimit: 'lots' })))).toBe('maxSpendLimit');
    expect(fieldOf(() => validateRechargeConfig(config({ thresholdType: 'PERCENT' as 'CREDIT_AMOUNT' })))).toBe('thresholdType');
    expect(fieldOf(() => validateRechargeConfig(config({ grantExpirationPeriod: 'ONE_WEEK' as 'ONE_MONTH' })))).toBe('grantExpirationPeriod');
    expect(fieldOf(() => validateRechargeConfig(config({ customerId: '' })))).toBe('customerId');
  });

  it('needs a unit price to recharge', () => {
    const input = { config: config(), balance: '0', spentThisMonth: '0', now: NOW };
    expect(codeOf(() => decideRecharge({ ...input, unitPrice: undefined as unknown as { amount: string; currency: string } }))).toBe('INVALID_ARGUMENT');
    expect(fieldOf(() => decideRecharge({ ...input, unitPrice: { amount: '0', currency: 'USD' } }))).toBe('unitPrice.amount');
    expect(fieldOf(() => decideRecharge({ ...input, unitPrice: { amount: '1', currency: 'XXQ' } }))).toBe('currency');
    expect(fieldOf(() => decideRecharge({ ...input, balance: '-1', unitPrice: USD_20C }))).toBe('balance');
  });
});

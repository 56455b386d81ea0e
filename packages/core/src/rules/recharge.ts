/**
 * Automatic recharge of a credit balance (docs/credits.md#automatic-recharge). Pure: the
 * configuration, the balance, the price of a credit, what was spent this month and `now` in;
 * whether to buy credits, how many, at what cost, out. The engine records the grant (kind
 * RECHARGE), its invoice and the month's spend.
 *
 * The rules, decided once:
 * - a recharge triggers when the balance is strictly BELOW the threshold; exactly at the
 *   threshold nothing happens;
 * - it buys whole credits: ceil(targetBalance - balance), so the balance reaches the target
 *   (or passes it by less than one credit when the balance is fractional);
 * - the cost is credits x unit price, rounded once by `roundMoney` (half-up, minor unit);
 * - the spend already made this UTC calendar month plus the cost never exceeds `maxSpendLimit`:
 *   when the full recharge would pass it, the largest whole number of credits whose rounded cost
 *   still fits is bought (`limitedBySpend`), and when not even one fits, nothing is
 *   (`credits: '0'`; the caller records no recharge).
 */
import { invalidArgument } from '../errors.js';
import { Decimal, type Money, currencyDigits, isDecimalString, roundMoney, toMoney } from '../money.js';
import { addMonthsUtc, startOfMonthUtc } from './calendar.js';
import { type CreditAmount, creditString, toCreditAmount } from './credits.js';
import type { Window } from './windows.js';

/** CREDIT_AMOUNT: the threshold is in credits. DOLLAR_AMOUNT: in money, in the unit price's currency. */
export type RechargeThresholdType = 'CREDIT_AMOUNT' | 'DOLLAR_AMOUNT';
export const RECHARGE_THRESHOLD_TYPES: readonly RechargeThresholdType[] = ['CREDIT_AMOUNT', 'DOLLAR_AMOUNT'];
/** How long recharged credits last; absent: they never expire. */
export type RechargeExpirationPeriod = 'ONE_MONTH' | 'ONE_YEAR';
export const RECHARGE_EXPIRATION_PERIODS: readonly RechargeExpirationPeriod[] = ['ONE_MONTH', 'ONE_YEAR'];

/** A customer's automatic recharge settings for one credit currency (`saveAutomaticRechargeConfiguration`). */
export interface RechargeConfig {
  customerId: string;
  currencyId: string;
  isEnabled: boolean;
  thresholdType: RechargeThresholdType;
  /** Credits (CREDIT_AMOUNT) or money in the unit price's currency (DOLLAR_AMOUNT), decimal string >= 0. */
  thresholdValue: string;
  /** Credits the balance is topped up to, decimal string > 0. */
  targetBalance: string;
  /** Most money recharges may cost per UTC calendar month, in the unit price's currency; absent: no limit. */
  maxSpendLimit?: string;
  grantExpirationPeriod?: RechargeExpirationPeriod;
}

/** What `decideRecharge` looks at. */
export interface RechargeInput {
  config: RechargeConfig;
  /** The usable credit balance now (`balanceAt`). */
  balance: CreditAmount;
  /** What one credit costs (the credit currency's `unitPrice`). */
  unitPrice: Money;
  /** Money recharges already cost in the month of `now` (`monthlySpend`), in the unit price's currency. */
  spentThisMonth: string | Decimal;
  now: number;
}

/** A recharge to make (or, with `credits: '0'`, one the spend limit stopped). */
export interface RechargeDecision {
  /** Whole credits to grant; '0' when the spend limit leaves room for none. */
  credits: string;
  /** credits x unit price, rounded once; '0.00' when credits is '0'. */
  cost: Money;
  /** When the recharged credits expire (grantExpirationPeriod from `now`), or null. */
  expiresAt: number | null;
  /** True when the monthly spend limit cut the recharge short (or stopped it). */
  limitedBySpend: boolean;
  /** Credits the recharge wanted before the spend limit: ceil(targetBalance - balance). */
  wanted: string;
}

/**
 * The UTC calendar month containing `now`, [start, end): the period `maxSpendLimit` counts over.
 * Example: monthWindow(2024-02-10T12:00Z) = [2024-02-01T00:00Z, 2024-03-01T00:00Z).
 */
export function monthWindow(now: number): Window {
  const start = startOfMonthUtc(now);
  return { start, end: addMonthsUtc(start, 1) };
}

/**
 * What recharges cost in the month of `now`: the sum of the `amount`s of `charges` dated in
 * `monthWindow(now)` (amounts are rounded money, so the sum is exact). Returns a decimal string.
 */
export function monthlySpend(charges: readonly { at: number; amount: string }[], now: number): string {
  const { start, end } = monthWindow(now);
  let total = new Decimal(0);
  for (const c of charges) if (c.at >= start && c.at < end) total = total.plus(c.amount);
  return total.isZero() ? '0' : total.toFixed();
}

/** When credits recharged at `now` expire: one calendar month or year later (UTC, clamped), or null. */
export function rechargeExpiry(period: RechargeExpirationPeriod | undefined, now: number): number | null {
  if (period === undefined) return null;
  if (period === 'ONE_MONTH') return addMonthsUtc(now, 1);
  if (period === 'ONE_YEAR') return addMonthsUtc(now, 12);
  throw invalidArgument('grantExpirationPeriod', 'must be ONE_MONTH or ONE_YEAR', { value: period, allowed: RECHARGE_EXPIRATION_PERIODS });
}

/** The cost of `credits` at `unitPrice`, rounded once by `roundMoney`. */
export function rechargeCost(credits: CreditAmount, unitPrice: Money): Money {
  const price = unitPriceOf(unitPrice);
  return toMoney(roundMoney(new Decimal(credits).times(price), unitPrice.currency), unitPrice.currency);
}

/**
 * Checks a recharge configuration; with `unitPrice`, also that a recharge can lift the balance
 * above the threshold (for DOLLAR_AMOUNT: targetBalance x unit price > thresholdValue; for
 * CREDIT_AMOUNT targetBalance > thresholdValue always), so recharges cannot repeat endlessly.
 * Throws `INVALID_ARGUMENT` naming the field.
 */
export function validateRechargeConfig(config: RechargeConfig, unitPrice?: Money): void {
  if (!config || typeof config !== 'object') throw invalidArgument('config', 'must be an object', { value: config });
  for (const key of ['customerId', 'currencyId'] as const) {
    if (typeof config[key] !== 'string' || config[key] === '') throw invalidArgument(key, 'must be a non-empty string', { value: config[key] });
  }
  if (typeof config.isEnabled !== 'boolean') throw invalidArgument('isEnabled', 'must be true or false', { value: config.isEnabled });
  if (!RECHARGE_THRESHOLD_TYPES.includes(config.thresholdType)) {
    throw invalidArgument('thresholdType', 'must be CREDIT_AMOUNT or DOLLAR_AMOUNT', {
      value: config.thresholdType,
      allowed: RECHARGE_THRESHOLD_TYPES,
    });
  }
  const threshold =
    config.thresholdType === 'CREDIT_AMOUNT'
      ? toCreditAmount(config.thresholdValue, 'thresholdValue', { allowZero: true })
      : nonNegativeMoney(config.thresholdValue, 'thresholdValue');
  const target = toCreditAmount(config.targetBalance, 'targetBalance');
  if (config.maxSpendLimit !== undefined) {
    const limit = nonNegativeMoney(config.maxSpendLimit, 'maxSpendLimit');
    if (limit.isZero()) throw invalidArgument('maxSpendLimit', 'must be more than 0 (leave it out for no limit, or disable recharge)', { value: config.maxSpendLimit });
  }
  if (config.grantExpirationPeriod !== undefined) rechargeExpiry(config.grantExpirationPeriod, 0);
  if (config.thresholdType === 'CREDIT_AMOUNT' && !target.gt(threshold)) {
    throw invalidArgument('targetBalance', `must be above thresholdValue (${config.thresholdValue} credits)`, { value: config.targetBalance });
  }
  if (config.thresholdType === 'DOLLAR_AMOUNT' && unitPrice !== undefined && !target.times(unitPriceOf(unitPrice)).gt(threshold)) {
    throw invalidArgument('targetBalance', `is worth ${target.times(unitPrice.amount).toFixed()} ${unitPrice.currency}; it must be worth more than thresholdValue (${config.thresholdValue})`, {
      value: config.targetBalance,
    });
  }
}

/**
 * Whether the balance is below the threshold: for CREDIT_AMOUNT balance < thresholdValue; for
 * DOLLAR_AMOUNT balance x unit price < thresholdValue, compared exactly (not rounded). Exactly at
 * the threshold is not below it.
 */
export function isRechargeTriggered(config: RechargeConfig, balance: CreditAmount, unitPrice: Money): boolean {
  const b = toCreditAmount(balance, 'balance', { allowZero: true });
  const value = config.thresholdType === 'DOLLAR_AMOUNT' ? b.times(unitPriceOf(unitPrice)) : b;
  return value.lt(config.thresholdValue);
}

/**
 * The most whole credits, up to `wanted`, whose rounded cost fits in `room` (money):
 * the largest n <= wanted with roundMoney(n x unit price) <= room. 0 when none fits.
 */
export function affordableCredits(room: Decimal, unitPrice: Money, wanted: Decimal): Decimal {
  const price = unitPriceOf(unitPrice);
  const digits = currencyDigits(unitPrice.currency);
  // Money actually charged is a whole number of minor units; what fits is room rounded down to one.
  const fits = room.toDecimalPlaces(digits, Decimal.ROUND_DOWN);
  if (fits.isNegative()) return new Decimal(0);
  const costOf = (n: Decimal) => roundMoney(n.times(price), unitPrice.currency);
  // Half-up: roundMoney(x) <= fits iff x < fits + half a minor unit.
  const half = new Decimal(5).times(new Decimal(10).pow(-(digits + 1)));
  let n = Decimal.min(wanted, fits.plus(half).div(price).ceil().minus(1));
  if (n.isNegative()) n = new Decimal(0);
  // The division is exact to 40 digits; these steps absorb its last-digit rounding.
  while (n.gt(0) && costOf(n).gt(fits)) n = n.minus(1);
  while (n.lt(wanted) && costOf(n.plus(1)).lte(fits)) n = n.plus(1);
  return n;
}

/**
 * Decides the recharge at `now` (see the rules at the top of this file). Returns null when
 * recharge is disabled or the balance is not below the threshold; otherwise the credits to
 * grant and their cost, `credits: '0'` when the monthly spend limit leaves room for none.
 * Example: threshold 10 credits, target 100, $0.20 a credit, balance 9.5 -> 91 credits for
 * $18.20. Throws `INVALID_ARGUMENT` for a malformed configuration, balance or price.
 */
export function decideRecharge(input: RechargeInput): RechargeDecision | null {
  const { config, unitPrice, now } = input;
  validateRechargeConfig(config, unitPrice);
  if (!Number.isFinite(now)) throw invalidArgument('now', 'must be an instant (epoch ms)', { value: now });
  if (!config.isEnabled) return null;
  const balance = toCreditAmount(input.balance, 'balance', { allowZero: true });
  if (!isRechargeTriggered(config, balance, unitPrice)) return null;
  const wanted = new Decimal(config.targetBalance).minus(balance).ceil();
  if (!wanted.gt(0)) return null; // a balance at or above the target (DOLLAR_AMOUNT thresholds above its worth are refused above)
  let credits = wanted;
  let limitedBySpend = false;
  if (config.maxSpendLimit !== undefined) {
    const spent = Decimal.isDecimal(input.spentThisMonth) ? input.spentThisMonth : nonNegativeMoney(input.spentThisMonth, 'spentThisMonth');
    const room = new Decimal(config.maxSpendLimit).minus(spent);
    credits = affordableCredits(room, unitPrice, wanted);
    limitedBySpend = credits.lt(wanted);
  }
  return {
    credits: creditString(credits),
    cost: rechargeCost(credits, unitPrice),
    expiresAt: credits.isZero() ? null : rechargeExpiry(config.grantExpirationPeriod, now),
    limitedBySpend,
    wanted: creditString(wanted),
  };
}

function unitPriceOf(unitPrice: Money): Decimal {
  if (!unitPrice || typeof unitPrice !== 'object') {
    throw invalidArgument('unitPrice', 'the credit currency needs a unitPrice { amount, currency } to be recharged', { value: unitPrice });
  }
  currencyDigits(unitPrice.currency);
  if (!isDecimalString(unitPrice.amount) || !new Decimal(unitPrice.amount).gt(0)) {
    throw invalidArgument('unitPrice.amount', 'must be a decimal string above 0', { value: unitPrice.amount });
  }
  return new Decimal(unitPrice.amount);
}

function nonNegativeMoney(value: unknown, field: string): Decimal {
  if (!isDecimalString(value)) throw invalidArgument(field, `must be a decimal string such as '50.00'`, { value });
  const d = new Decimal(value);
  if (d.isNegative() && !d.isZero()) throw invalidArgument(field, 'must not be negative', { value });
  return d;
}

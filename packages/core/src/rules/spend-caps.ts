/**
 * Spend caps (docs/spend-caps.md): how much metered usage may cost in a billing period. Pure: the
 * prices, the usage so far and `now` are arguments. What usage costs is decided by the plan's
 * USAGE_BASED prices through `priceLine`, the function invoices price usage lines with, each line
 * rounded by `roundMoney` as an invoice line is: the spend is what the usage invoice would bill.
 */
import type { BillingPeriod } from '../catalog/types.js';
import { Decimal, currencyDigits, roundMoney } from '../money.js';
import { priceLine, type ResolvedPrice } from './pricing.js';
import { billingPeriodAt, type Window } from './windows.js';

/**
 * The billing period whose usage a cap bounds: the subscription's period containing `now`
 * (epoch ms, UTC; month ends clamp as in rules/windows.ts).
 */
export function spendPeriod(billingAnchor: number, billingPeriod: BillingPeriod, now: number): Window {
  return billingPeriodAt(billingAnchor, billingPeriod, now);
}

/**
 * What `quantity` units of usage cost under the USAGE_BASED `prices` of one feature, in `currency`:
 * the sum of each price's line, rounded to the currency's minor unit as invoice lines are. Prices
 * in another currency are not counted (a cap is in one currency). Units a free first tier covers
 * (included usage) cost nothing.
 * Example: tiers [{ upTo: 1000, unitAmount: '0' }, { upTo: null, unitAmount: '0.01' }], quantity
 * 1,400 = 400 x 0.01 = 4.00.
 * Throws `INVALID_ARGUMENT` for a malformed price (as `priceLine` does).
 */
export function usageSpend(prices: readonly ResolvedPrice[], quantity: number, currency: string): Decimal {
  let spent = new Decimal(0);
  for (const price of prices) {
    if (price.billingModel !== 'USAGE_BASED' || price.currency !== currency) continue;
    spent = spent.plus(roundMoney(priceLine(price, { quantity }).amount, currency));
  }
  return spent;
}

/** Input of `unitsWithinCap`. */
export interface CapRequest {
  /** The USAGE_BASED prices of the feature asked for (other models are ignored). */
  prices: readonly ResolvedPrice[];
  /** Usage of the feature in the billing period so far (recorded plus held), in its units. */
  usage: number;
  /** Spend under the same cap from other features, already rounded; 0 for a feature's own cap. */
  spentElsewhere: Decimal;
  /** The cap, in `currency`. */
  cap: Decimal;
  currency: string;
  /** Units asked for (>= 0; may be fractional, as usage may be). */
  requested: number;
}

/**
 * How many of `requested` units fit under the cap: all of them when the spend after them is at most
 * the cap, else the most whole units that do (0 when the spend already passed the cap, which usage
 * reported after the fact can do). Never a number whose spend passes the cap, whatever the tiers.
 * Example: cap 5.00, 0.01 per unit above 1,000 included, usage 1,400 (4.00 spent): 150 requested
 * -> 100 fit (5.00), 100 requested -> 100, 101 -> 100.
 */
export function unitsWithinCap(req: CapRequest): number {
  const fits = (units: number): boolean => withinCap({ ...req, requested: units });
  if (fits(req.requested)) return req.requested;
  if (!fits(0)) return 0;
  // Binary search keeping `lo` a fit: right for any tiers (VOLUME ones can price more units lower),
  // and about 50 pricings for the largest usage a cell holds.
  let lo = 0;
  let hi = Math.ceil(req.requested) - 1;
  while (lo < hi) {
    const mid = lo + Math.ceil((hi - lo) / 2);
    if (fits(mid)) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/**
 * Whether the spend after all of `requested` is at most the cap. A check asks this: with nothing
 * requested it denies only once the spend passed the cap (as a usage limit denies once passed).
 */
export function withinCap(req: CapRequest): boolean {
  return usageSpend(req.prices, req.usage + req.requested, req.currency).plus(req.spentElsewhere).lte(req.cap);
}

/** A cap with what was spent under it, as the API shows it (decimal strings in `currency`). */
export interface SpendCapStanding {
  cap: string;
  spent: string;
  /** cap - spent, never below 0. */
  remaining: string;
  currency: string;
}

/** The standing of a cap: `cap`, `spent` and what remains, with at least the currency's minor digits ('5.00'). */
export function capStanding(cap: Decimal, spent: Decimal, currency: string): SpendCapStanding {
  const show = (d: Decimal) => d.toFixed(Math.max(currencyDigits(currency), d.decimalPlaces()));
  return { cap: show(cap), spent: show(spent), remaining: show(Decimal.max(cap.minus(spent), 0)), currency };
}

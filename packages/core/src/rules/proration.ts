/**
 * Proration (docs/pricing.md#proration): elapsed time to the second over the real length of the
 * current period (28 to 31 days for a month, 365 or 366 for a year). A change credits the unused
 * time of the old price and debits the remaining time of the new one, as separate lines, each
 * rounded once.
 *
 * Sub-second instants: every instant (period start, period end, change time) is floored to its
 * whole UTC second before anything is counted, so a change at 12:00:00.999 prorates exactly like
 * one at 12:00:00.000, and a period's parts always add up to its length in seconds.
 */
import { invalidArgument } from '../errors.js';
import { Decimal, assertSameCurrency, formatMoney, roundMoney, sumDecimals } from '../money.js';
import { MS_PER_SECOND } from './calendar.js';
import type { PricedLine } from './pricing.js';
import type { Window } from './windows.js';

/** An epoch-millisecond instant floored to its whole second (in seconds since the epoch). */
export function toWholeSeconds(at: number): number {
  if (!Number.isFinite(at)) throw invalidArgument('at', 'must be a finite epoch-millisecond instant', { value: at });
  return Math.floor(at / MS_PER_SECOND);
}

/** Length of `period` in whole seconds (Feb 2024: 2,505,600). Throws `INVALID_ARGUMENT` when it is not at least one second. */
export function periodSeconds(period: Window): number {
  const seconds = toWholeSeconds(period.end) - toWholeSeconds(period.start);
  if (!(seconds > 0)) {
    throw invalidArgument('period', 'must end at least one second after it starts', { value: { start: period.start, end: period.end } });
  }
  return seconds;
}

/** Seconds of `period` left from `at` to its end, with `at` inside [start, end]. Throws `INVALID_ARGUMENT` otherwise. */
export function remainingSeconds(period: Window, at: number): number {
  const total = periodSeconds(period);
  const remaining = toWholeSeconds(period.end) - toWholeSeconds(at);
  if (remaining < 0 || remaining > total) {
    throw invalidArgument('at', 'must lie within the billing period being prorated', {
      value: at,
      period: { start: period.start, end: period.end },
    });
  }
  return remaining;
}

/**
 * The share of `period` still to run at `at`: remaining seconds / period seconds, exact as a
 * Decimal (1 at the start, 0 at the end). Example: Feb 2024, at Feb 15 12:00 UTC = 1,252,800 /
 * 2,505,600 = 0.5. Throws `INVALID_ARGUMENT` when `at` is outside the period.
 */
export function prorationFactor(period: Window, at: number): Decimal {
  return new Decimal(remainingSeconds(period, at)).div(periodSeconds(period));
}

/**
 * `amount` (the price of the whole `period`) for the time from `at` to the period end, unrounded.
 * Multiplies before it divides, so the only inexact step is one division at 40 significant digits.
 */
export function prorateAmount(amount: Decimal, period: Window, at: number): Decimal {
  return amount.times(remainingSeconds(period, at)).div(periodSeconds(period));
}

/**
 * `amount` (the price of the whole `period`) for the part [from, to) of it, unrounded: amount x
 * seconds(from, to) / seconds(period). For a subscription that starts or ends inside a period, or
 * the used part before a change. Throws `INVALID_ARGUMENT` unless start <= from <= to <= end.
 */
export function prorateBetween(amount: Decimal, period: Window, from: number, to: number): Decimal {
  const remainingFrom = remainingSeconds(period, from);
  const remainingTo = remainingSeconds(period, to);
  if (remainingTo > remainingFrom) throw invalidArgument('to', 'must not be before from', { value: to, from });
  return amount.times(remainingFrom - remainingTo).div(periodSeconds(period));
}

/** A credit or debit line of a change, rounded once (docs/pricing.md#rounding). */
export interface ProrationLine {
  kind: 'PRORATION_CREDIT' | 'PRORATION_DEBIT';
  /** The `key` of the full-period line it prorates. */
  key: string;
  description: string;
  currency: string;
  /** Rounded to the minor unit: negative for a credit, positive (or zero) for a debit. */
  amount: Decimal;
  quantity?: number;
  /** The time it covers: [change instant floored to the second, period end). Epoch ms. */
  periodStart: number;
  periodEnd: number;
}

/** What a change in the middle of a period costs. All amounts are rounded lines or sums of them. */
export interface Proration {
  /** The change instant, floored to the second (epoch ms). */
  prorationDate: number;
  currency: string;
  /** Remaining share of the current period at the change (credits use it). */
  factor: Decimal;
  credit: ProrationLine[];
  debit: ProrationLine[];
  /** Sum of the credit lines (zero or negative). */
  creditAmount: Decimal;
  /** Sum of the debit lines (zero or positive). */
  debitAmount: Decimal;
  /** creditAmount + debitAmount: what the change costs (negative: the customer is owed). */
  netAmount: Decimal;
}

/** Input of `prorateChange`. */
export interface ProrationInput {
  /** The current billing period [start, end) containing `at` (rules/windows.ts billingPeriodAt). */
  period: Window;
  /** The change instant, epoch ms. */
  at: number;
  /** The subscription's full-period lines before the change (rules/pricing.ts pricePeriod). */
  oldLines: readonly PricedLine[];
  /** Its full-period lines after the change. */
  newLines: readonly PricedLine[];
  /**
   * The period the new lines are priced for, when the change moves to another billing period
   * (annual to monthly: the month containing `at`). Defaults to `period`.
   */
  newPeriod?: Window;
}

/**
 * Prorates a change at `at` (docs/pricing.md#proration): for each old line a PRORATION_CREDIT of
 * -(amount x remaining / period seconds), for each new line a PRORATION_DEBIT of amount x
 * remaining / seconds of `newPeriod` (default `period`), each rounded once, half-up. A line whose
 * key, currency and amount are the same before and after is left out (its credit and debit
 * would cancel exactly). USAGE lines are skipped: usage is billed in arrears, not prorated.
 * Throws `INVALID_ARGUMENT` when `at` is outside a period or the lines mix currencies.
 * Example: 5 seats at 12.00 -> 8 seats, February 2024 (2,505,600 s), at Feb 15 12:00 (1,252,800 s
 * left): credit -(60 x 0.5) = -30.00, debit 96 x 0.5 = 48.00, net 18.00.
 */
export function prorateChange(input: ProrationInput): Proration {
  const { period, at } = input;
  const newPeriod = input.newPeriod ?? period;
  const factor = prorationFactor(period, at);
  remainingSeconds(newPeriod, at);
  const oldLines = input.oldLines.filter((l) => l.kind !== 'USAGE');
  const newLines = input.newLines.filter((l) => l.kind !== 'USAGE');
  const currency = oldLines[0]?.currency ?? newLines[0]?.currency ?? '';
  for (const line of [...oldLines, ...newLines]) assertSameCurrency(currency, line.currency, `lines.${line.key}`);
  const samePeriod = toWholeSeconds(newPeriod.start) === toWholeSeconds(period.start) && toWholeSeconds(newPeriod.end) === toWholeSeconds(period.end);
  const unchanged = (line: PricedLine, others: readonly PricedLine[]): boolean =>
    samePeriod && others.some((o) => o.key === line.key && o.currency === line.currency && o.amount.equals(line.amount));
  const from = toWholeSeconds(at) * MS_PER_SECOND;
  const when = new Date(from).toISOString().replace('.000Z', 'Z');

  const credit: ProrationLine[] = [];
  for (const line of oldLines) {
    if (unchanged(line, newLines)) continue;
    const amount = roundMoney(prorateAmount(line.amount, period, at).negated(), line.currency);
    credit.push(prorationLine('PRORATION_CREDIT', line, amount, `Unused time on ${line.description} after ${when}`, from, period.end));
  }
  const debit: ProrationLine[] = [];
  for (const line of newLines) {
    if (unchanged(line, oldLines)) continue;
    const amount = roundMoney(prorateAmount(line.amount, newPeriod, at), line.currency);
    debit.push(prorationLine('PRORATION_DEBIT', line, amount, `Remaining time on ${line.description} from ${when}`, from, newPeriod.end));
  }
  const creditAmount = sumDecimals(credit.map((l) => l.amount));
  const debitAmount = sumDecimals(debit.map((l) => l.amount));
  return { prorationDate: from, currency, factor, credit, debit, creditAmount, debitAmount, netAmount: creditAmount.plus(debitAmount) };
}

function prorationLine(
  kind: ProrationLine['kind'],
  line: PricedLine,
  amount: Decimal,
  description: string,
  periodStart: number,
  periodEnd: number,
): ProrationLine {
  // A zero credit prints as 0, not -0.
  const result: ProrationLine = { kind, key: line.key, description, currency: line.currency, amount: amount.isZero() ? new Decimal(0) : amount, periodStart, periodEnd };
  if (line.quantity !== undefined) result.quantity = line.quantity;
  return result;
}

/**
 * The `proration` part of an estimate: `{ prorationDate, credit, debit, netAmount, currency }`
 * with amounts as strings of the currency's minor digits. `credit` is the (zero or negative) sum
 * of the credit lines, so netAmount = credit + debit. Requires a currency (at least one line).
 */
export function prorationSummary(p: Proration): { prorationDate: number; currency: string; credit: string; debit: string; netAmount: string } {
  return {
    prorationDate: p.prorationDate,
    currency: p.currency,
    credit: formatMoney(p.creditAmount, p.currency),
    debit: formatMoney(p.debitAmount, p.currency),
    netAmount: formatMoney(p.netAmount, p.currency),
  };
}

/**
 * How a change made now is billed (docs/pricing.md#proration-options):
 * - `PRORATE` (Stripe's create_prorations; the default): what applies now is prorated and invoiced
 *   now (credit for the unused time, debit for the remaining time); a downgrade follows
 *   `downgradeTiming`.
 * - `NONE` (Stripe's none): the change applies without any proration; the next renewal bills the
 *   new price.
 * - `INVOICE_NOW` (Stripe's always_invoice): every part of the change applies now and is settled on
 *   one invoice now, a charge or a credit; a downgrade is immediate.
 */
export type ProrationBehavior = 'PRORATE' | 'NONE' | 'INVOICE_NOW';
export const PRORATION_BEHAVIORS: readonly ProrationBehavior[] = ['PRORATE', 'NONE', 'INVOICE_NOW'];

/** When a downgrade applies: at the end of the current billing period (default) or now, with a prorated credit. */
export type DowngradeTiming = 'END_OF_BILLING_PERIOD' | 'IMMEDIATE';
export const DOWNGRADE_TIMINGS: readonly DowngradeTiming[] = ['END_OF_BILLING_PERIOD', 'IMMEDIATE'];

/**
 * When a plan change applies, from the caller's options: `NOW`, or at the end of the billing
 * period for a downgrade of a billed period unless `IMMEDIATE` (or `INVOICE_NOW`, which settles
 * now) is asked for. Throws `INVALID_ARGUMENT` for `INVOICE_NOW` with `END_OF_BILLING_PERIOD`
 * (nothing would be invoiced now).
 */
export function changeTiming(input: {
  downgrade: boolean;
  billedPeriod: boolean;
  behavior: ProrationBehavior;
  timing?: DowngradeTiming;
  /** The field named in errors (default `downgradeTiming`). */
  field?: string;
}): 'NOW' | 'END_OF_BILLING_PERIOD' {
  if (input.behavior === 'INVOICE_NOW' && input.timing === 'END_OF_BILLING_PERIOD') {
    throw invalidArgument(input.field ?? 'downgradeTiming', "END_OF_BILLING_PERIOD bills nothing now; leave it out (or IMMEDIATE) with prorationBehavior 'INVOICE_NOW', or use 'PRORATE'");
  }
  if (!input.downgrade || !input.billedPeriod) return 'NOW';
  const timing = input.timing ?? (input.behavior === 'INVOICE_NOW' ? 'IMMEDIATE' : 'END_OF_BILLING_PERIOD');
  return timing === 'IMMEDIATE' ? 'NOW' : 'END_OF_BILLING_PERIOD';
}

/**
 * The instant a change is prorated at: `requested` when given (it must lie in the current billing
 * period [start, end)), else `now`. Throws `INVALID_ARGUMENT` naming `prorationDate` outside it.
 * Example: period 2024-04-01..2024-05-01, requested 2024-04-16 -> prorated as of April 16.
 */
export function prorationPoint(period: Window, now: number, requested?: number, field = 'prorationDate'): number {
  if (requested === undefined) return now;
  if (!(requested >= period.start && requested < period.end)) {
    throw invalidArgument(
      field,
      `must lie in the current billing period ${new Date(period.start).toISOString()} to ${new Date(period.end).toISOString()} (epoch milliseconds, an ISO-8601 string or a Date)`,
      { value: requested, period: { start: period.start, end: period.end } },
    );
  }
  return requested;
}

/**
 * fast-check arbitraries of credits (docs/credits.md): amounts, grants and automatic recharge
 * settings, as decimal strings (never floats).
 */
import fc from 'fast-check';
import { Decimal, type CreditCategory, type RechargeExpirationPeriod, type RechargeThresholdType } from '@tessera/core';

/** Options of `arbCreditAmount`. */
export interface CreditAmountOptions {
  /** Largest amount, in whole credits; default 1000. */
  max?: number;
  /** Fraction digits (credits carry up to 4); default 4. */
  fractionDigits?: number;
}

/**
 * A positive credit amount from one smallest step (0.0001 with 4 digits) to `max`, as a decimal
 * string such as '12.5' or '0.0003'. Shrinks to the smallest step.
 */
export function arbCreditAmount(options: CreditAmountOptions = {}): fc.Arbitrary<string> {
  const scale = 10 ** (options.fractionDigits ?? 4);
  return fc.integer({ min: 1, max: (options.max ?? 1000) * scale }).map((n) => new Decimal(n).div(scale).toFixed());
}

/** A grant to give (`grantCredits`, or the rules' `createGrant`); ids and instants come when it is given. */
export interface CreditGrantSpec {
  amount: string;
  category: CreditCategory;
  /** 1 burns first; undefined: the default priority (100). */
  priority: number | undefined;
  /** Hours from when it is given until it expires; undefined: never. */
  expiresInHours: number | undefined;
}

/** Options of `arbCreditGrant`. */
export interface CreditGrantOptions {
  /** Largest amount, in whole credits; default 1000. */
  maxAmount?: number;
  /** Priorities are 1 to this, so grants often tie; default 4. */
  maxPriority?: number;
  /** Sometimes leave the priority to its default (100); default true. */
  defaultPriority?: boolean;
  /** Expiries are 1 to this many hours away, or never; default 144 (six days). */
  maxExpiryHours?: number;
}

/**
 * Grants of either category, with priorities from a small range (ties frequent) or the default,
 * expiring some hours after they are given or never: what the burn order sorts by.
 * Shrinks to the smallest PAID grant at priority 1 that never expires.
 */
export function arbCreditGrant(options: CreditGrantOptions = {}): fc.Arbitrary<CreditGrantSpec> {
  const priority = fc.integer({ min: 1, max: options.maxPriority ?? 4 });
  return fc.record({
    amount: arbCreditAmount({ max: options.maxAmount ?? 1000 }),
    category: fc.constantFrom<CreditCategory>('PAID', 'PROMOTIONAL'),
    priority: options.defaultPriority === false ? priority : fc.option(priority, { nil: undefined }),
    expiresInHours: fc.option(fc.integer({ min: 1, max: options.maxExpiryHours ?? 144 }), { nil: undefined }),
  });
}

/** Automatic recharge settings (`saveAutomaticRechargeConfiguration` without customer and currency). */
export interface RechargeSettings {
  thresholdType: RechargeThresholdType;
  /** Credits for CREDIT_AMOUNT; money (2 decimals) for DOLLAR_AMOUNT. */
  thresholdValue: string;
  /** Credits; always above the threshold's worth in credits at 0.01 a credit. */
  targetBalance: string;
  /** Money (2 decimals) a UTC calendar month may spend on recharges; absent: no limit. */
  maxSpendLimit?: string;
  grantExpirationPeriod?: RechargeExpirationPeriod;
}

/** Options of `arbRechargeSettings`. */
export interface RechargeSettingsOptions {
  /** Default both, CREDIT_AMOUNT first. */
  thresholdTypes?: readonly RechargeThresholdType[];
  /** Largest threshold, in credits (a DOLLAR_AMOUNT threshold is its worth at 0.01 a credit); default 400. */
  maxThreshold?: number;
  /** Largest gap between the threshold and the target, in credits; default 1600. */
  maxAbove?: number;
  /** Largest monthly spend limit, in cents; default 2500. */
  maxSpendCents?: number;
  /** Whether a spend limit is set: 'SOMETIMES' (default) or 'ALWAYS'. */
  spendLimit?: 'SOMETIMES' | 'ALWAYS';
}

const cents = (n: number): string => new Decimal(n).div(100).toFixed(2);

/**
 * Automatic recharge settings: a threshold (CREDIT_AMOUNT, or DOLLAR_AMOUNT in money), a target
 * above it, sometimes a monthly spend limit small enough to bind, sometimes an expiry for the
 * credits bought. Shrinks to a CREDIT_AMOUNT threshold of 0, a target of 1, no limit, no expiry
 * (with `spendLimit: 'ALWAYS'`, a limit of 0.01).
 */
export function arbRechargeSettings(options: RechargeSettingsOptions = {}): fc.Arbitrary<RechargeSettings> {
  const limit = fc.integer({ min: 1, max: options.maxSpendCents ?? 2500 });
  return fc
    .record({
      thresholdType: fc.constantFrom<RechargeThresholdType>(...(options.thresholdTypes ?? ['CREDIT_AMOUNT', 'DOLLAR_AMOUNT'])),
      threshold: fc.integer({ min: 0, max: options.maxThreshold ?? 400 }),
      above: fc.integer({ min: 1, max: options.maxAbove ?? 1600 }),
      maxSpendCents: options.spendLimit === 'ALWAYS' ? limit : fc.option(limit, { nil: undefined }),
      grantExpirationPeriod: fc.option(fc.constantFrom<RechargeExpirationPeriod>('ONE_MONTH', 'ONE_YEAR'), { nil: undefined }),
    })
    .map(({ thresholdType, threshold, above, maxSpendCents, grantExpirationPeriod }) => {
      const settings: RechargeSettings = {
        thresholdType,
        thresholdValue: thresholdType === 'CREDIT_AMOUNT' ? String(threshold) : cents(threshold),
        targetBalance: String(threshold + above),
      };
      if (maxSpendCents !== undefined) settings.maxSpendLimit = cents(maxSpendCents);
      if (grantExpirationPeriod !== undefined) settings.grantExpirationPeriod = grantExpirationPeriod;
      return settings;
    });
}

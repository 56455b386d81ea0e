/**
 * Invariants of automatic recharge (docs/credits.md#automatic-recharge). Each throws an
 * `InvariantError` when it does not hold. The ledger invariant, `ledgerBalances`, is in
 * `invariants.ts`.
 */
import { Decimal } from '@tessera/core';
import { toMs } from './choice.js';
import { InvariantError } from './invariant-error.js';

/** One recharge's cost: when it was charged and how much (a decimal string). `Invoice`s of kind RECHARGE fit with `at: createdAt, amount: total`. */
export interface RechargeCharge {
  at: Date | string | number;
  amount: string;
}

/**
 * Recharges never pass the monthly spend limit: the charges of each UTC calendar month add up to
 * at most `maxSpendLimit` (money). With no limit (undefined or null), holds for any charges.
 * Returns the spend per month ('2024-02': '12.50').
 */
export function rechargeSpendWithinLimit(charges: readonly RechargeCharge[], maxSpendLimit: string | null | undefined): Record<string, string> {
  const byMonth = new Map<string, Decimal>();
  for (const c of charges) {
    // A UTC calendar month, written here rather than taken from the rules (monthWindow) so a bug there is not copied.
    const month = new Date(toMs(c.at)).toISOString().slice(0, 7);
    byMonth.set(month, (byMonth.get(month) ?? new Decimal(0)).plus(c.amount));
  }
  const spent = Object.fromEntries([...byMonth].map(([m, d]) => [m, d.toFixed()]));
  if (maxSpendLimit === undefined || maxSpendLimit === null) return spent;
  for (const [month, total] of byMonth) {
    if (total.gt(maxSpendLimit)) {
      throw new InvariantError('rechargeSpendWithinLimit', `recharges in ${month} must cost at most the monthly spend limit`, {
        expected: `<= ${maxSpendLimit}`,
        seen: total.toFixed(),
        inputs: { maxSpendLimit, charges: charges.filter((c) => new Date(toMs(c.at)).toISOString().startsWith(month)) },
      });
    }
  }
  return spent;
}

/**
 * Usage and credit alerts (docs/alerts.md): which thresholds a change crossed. Pure: the engine
 * decides through the store whether a crossing was already announced in the window.
 */
import { Decimal } from '../money.js';

/**
 * The thresholds (percents of `usageLimit`) that usage reached going from `before` to `after`:
 * those with before < limit * p / 100 <= after, ascending. A percent is reached by the usage
 * equal to it (80% of 10 is reached at 8). None for a limit of 0 or a decrease.
 * Example: crossedPercents([80, 100], 10, 7, 9) -> [80].
 */
export function crossedPercents(percents: readonly number[], usageLimit: number, before: number, after: number): number[] {
  if (!(usageLimit > 0) || after <= before) return [];
  const out: number[] = [];
  for (const p of percents) {
    const at = (usageLimit * p) / 100;
    if (before < at && at <= after) out.push(p);
  }
  return out.sort((a, b) => a - b);
}

/** The distinct thresholds of several lists, ascending (a customer's own and the catalog's add up). */
export function unitePercents(...lists: readonly (readonly number[] | undefined)[]): number[] {
  const all = new Set<number>();
  for (const l of lists) for (const p of l ?? []) all.add(p);
  return [...all].sort((a, b) => a - b);
}

/**
 * The credit thresholds (decimal strings) a balance fell below going from `before` to `after`:
 * those with before >= t > after, descending (the highest first, as a falling balance meets them).
 * Example: crossedBalances(['100', '10'], '150', '50') -> ['100'].
 */
export function crossedBalances(thresholds: readonly string[], before: string, after: string): string[] {
  const b = new Decimal(before);
  const a = new Decimal(after);
  if (!a.lessThan(b)) return [];
  return thresholds.filter((t) => b.greaterThanOrEqualTo(t) && a.lessThan(t)).sort((x, y) => new Decimal(y).comparedTo(x));
}

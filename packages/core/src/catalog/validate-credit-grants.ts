/**
 * Validation of the credits plans and add-ons grant on a cycle (docs/credits.md#credits-on-a-cycle):
 * a known credit currency, a positive amount, a cadence, and a rollover only where credits expire.
 * Internal to the catalog.
 */
import { CREDIT_GRANT_CADENCES, CREDIT_GRANT_EXPIRIES } from './types.js';
import type { Ctx } from './validate-context.js';
import { checkAmount, checkOneOf, checkRef, isDecimal, isPositiveInteger, isRecord, report, show } from './validate-context.js';

/** Credit amounts keep at most 12 fraction digits (rules/credits-grants.ts CREDIT_MAX_FRACTION_DIGITS). */
const MAX_FRACTION_DIGITS = 12;

/** Checks `creditGrants` of one plan or add-on; at most one grant per currency and cadence. */
export function checkCreditGrants(ctx: Ctx, grants: readonly unknown[], path: string): void {
  const seen = new Map<string, string>();
  grants.forEach((raw, i) => {
    const at = `${path}[${i}]`;
    if (!isRecord(raw)) {
      report(ctx, at, 'must be an object { currencyId, amount, cadence, expires?, rollover?, category?, priority? }');
      return;
    }
    const currency = checkRef(ctx, raw, 'currencyId', at, ctx.creditCurrencies, 'credit currency', true);
    checkCredits(ctx, raw.amount, `${at}.amount`, true);
    const cadence = checkOneOf(ctx, raw, 'cadence', at, CREDIT_GRANT_CADENCES, true);
    const expires = checkOneOf(ctx, raw, 'expires', at, CREDIT_GRANT_EXPIRIES, false) ?? 'END_OF_CYCLE';
    checkOneOf(ctx, raw, 'category', at, ['PAID', 'PROMOTIONAL'] as const, false);
    if (raw.priority !== undefined && !isPositiveInteger(raw.priority))
      report(ctx, `${at}.priority`, `must be a whole number >= 1; 1 burns first (got ${show(raw.priority)})`);
    if (raw.rollover !== undefined) {
      if (!isRecord(raw.rollover)) report(ctx, `${at}.rollover`, 'must be an object { max }');
      else {
        if (expires === 'NEVER') report(ctx, `${at}.rollover`, 'credits that never expire stay anyway: remove rollover or make expires END_OF_CYCLE');
        checkCredits(ctx, raw.rollover.max, `${at}.rollover.max`, false);
      }
    }
    // Two grants of one currency on one cadence would share their cycles' grant ids.
    if (currency && cadence) {
      const key = `${String(raw.currencyId)}:${cadence}`;
      const first = seen.get(key);
      if (first !== undefined) report(ctx, at, `another grant of "${String(raw.currencyId)}" every ${cadence} is at ${first}: merge them into one`);
      else seen.set(key, at);
    }
  });
}

/** A credit amount: a decimal string, above 0 unless `positive` is false, at most 12 fraction digits, below 1e18. */
function checkCredits(ctx: Ctx, v: unknown, path: string, positive: boolean): void {
  const ok = checkAmount(ctx, v, path, { required: true, positive });
  if (ok === undefined || !isDecimal(ok)) return;
  const [whole = '', fraction = ''] = ok.split('.');
  if (fraction.length > MAX_FRACTION_DIGITS) report(ctx, path, `may have at most ${MAX_FRACTION_DIGITS} fraction digits (got ${show(v)})`);
  else if (whole.replace(/^0+/, '').length > 18) report(ctx, path, `must be below 1000000000000000000 credits (got ${show(v)})`);
}

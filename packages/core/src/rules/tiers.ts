/**
 * Tiered prices (docs/pricing.md#tiers). Pure; amounts are unrounded Decimals: the line they end
 * up in is rounded once, later, by `roundMoney`.
 *
 * Tier i covers the quantities (upTo of tier i-1, upTo of tier i], the first from 0, the last
 * possibly open (`upTo: null`). A tier's flat amount is billed once the quantity reaches the tier,
 * the first tier's even at quantity 0.
 */
import type { PriceTier } from '../catalog/types.js';
import { TesseraError, invalidArgument } from '../errors.js';
import { Decimal, toDecimal } from '../money.js';

/** What one tier contributes: `units` at `unitAmount` each plus `flatAmount` once, totalling `amount`. */
export interface TierCharge {
  /** Position of the tier in the price's `tiers` (0 = first). */
  tierIndex: number;
  /** The tier's range: quantities above `from` up to `upTo` inclusive (null = no end). */
  from: number;
  upTo: number | null;
  units: Decimal;
  unitAmount: Decimal;
  flatAmount: Decimal;
  amount: Decimal;
}

/** A tiered price for one quantity: the unrounded total and each tier's part, in tier order. */
export interface TieredAmount {
  amount: Decimal;
  charges: TierCharge[];
}

interface ParsedTier {
  from: number;
  upTo: number | null;
  unitAmount: Decimal;
  flatAmount: Decimal;
}

/**
 * Checks a tier list: at least one tier; `upTo` positive, strictly increasing, null only on the
 * last; amounts non-negative decimal strings. Throws `INVALID_ARGUMENT` naming `field[i]`.
 */
export function validateTiers(tiers: readonly PriceTier[] | undefined, field = 'price.tiers'): void {
  parseTiers(tiers, field);
}

function parseTiers(tiers: readonly PriceTier[] | undefined, field: string): ParsedTier[] {
  if (!Array.isArray(tiers) || tiers.length === 0) throw invalidArgument(field, 'must list at least one tier');
  const parsed: ParsedTier[] = [];
  let from = 0;
  tiers.forEach((tier, i) => {
    const at = `${field}[${i}]`;
    const last = i === tiers.length - 1;
    const upTo = tier.upTo ?? null;
    if (upTo === null && !last) throw invalidArgument(`${at}.upTo`, 'only the last tier may be open (upTo: null)');
    if (upTo !== null && (!Number.isFinite(upTo) || upTo <= from)) {
      throw invalidArgument(`${at}.upTo`, `must be a number above ${from} (tiers ascend)`, { value: upTo });
    }
    parsed.push({
      from,
      upTo,
      unitAmount: nonNegative(tier.unitAmount ?? '0', `${at}.unitAmount`),
      flatAmount: nonNegative(tier.flatAmount ?? '0', `${at}.flatAmount`),
    });
    if (upTo !== null) from = upTo;
  });
  return parsed;
}

function nonNegative(value: string, field: string): Decimal {
  const d = toDecimal(value, field);
  if (d.isNegative() && !d.isZero()) throw invalidArgument(field, 'must not be negative', { value });
  return d;
}

function checkQuantity(tiers: readonly ParsedTier[], quantity: Decimal): void {
  if (!quantity.isFinite() || (quantity.isNegative() && !quantity.isZero())) {
    throw invalidArgument('quantity', 'must be a non-negative number', { value: quantity.toString() });
  }
  const last = tiers[tiers.length - 1];
  if (last && last.upTo !== null && quantity.greaterThan(last.upTo)) {
    throw new TesseraError('INVALID_ARGUMENT', `quantity: ${quantity.toString()} is beyond the last tier (up to ${last.upTo})`, {
      field: 'quantity',
      value: quantity.toString(),
      max: last.upTo,
    });
  }
}

/**
 * GRADUATED: each unit is priced at the tier it falls in, plus the flat amount of every tier the
 * quantity reaches (the first tier's always).
 * Example: tiers [{upTo: 10, unitAmount: '5'}, {upTo: null, unitAmount: '4', flatAmount: '20'}],
 * quantity 15 = 10 x 5 + (5 x 4 + 20) = 90.
 * Throws `INVALID_ARGUMENT` for bad tiers or a quantity past a closed last tier.
 */
export function graduatedAmount(tiers: readonly PriceTier[], quantity: Decimal, field = 'price.tiers'): TieredAmount {
  const parsed = parseTiers(tiers, field);
  checkQuantity(parsed, quantity);
  const charges: TierCharge[] = [];
  let amount = new Decimal(0);
  parsed.forEach((tier, tierIndex) => {
    // A tier is reached once at least one unit falls in it; the first tier is always reached.
    if (tierIndex > 0 && !quantity.greaterThan(tier.from)) return;
    const top = tier.upTo === null ? quantity : Decimal.min(quantity, tier.upTo);
    const units = Decimal.max(top.minus(tier.from), 0);
    const charge = units.times(tier.unitAmount).plus(tier.flatAmount);
    charges.push({ tierIndex, from: tier.from, upTo: tier.upTo, units, unitAmount: tier.unitAmount, flatAmount: tier.flatAmount, amount: charge });
    amount = amount.plus(charge);
  });
  return { amount, charges };
}

/**
 * VOLUME: every unit is priced at the tier the whole quantity falls in, plus that tier's flat
 * amount only. Quantity 0 falls in the first tier.
 * Example: same tiers as above, quantity 15 = 15 x 4 + 20 = 80; quantity 10 = 10 x 5 = 50.
 * Throws `INVALID_ARGUMENT` for bad tiers or a quantity past a closed last tier.
 */
export function volumeAmount(tiers: readonly PriceTier[], quantity: Decimal, field = 'price.tiers'): TieredAmount {
  const parsed = parseTiers(tiers, field);
  checkQuantity(parsed, quantity);
  const tierIndex = parsed.findIndex((t) => t.upTo === null || quantity.lessThanOrEqualTo(t.upTo));
  const tier = parsed[tierIndex];
  // checkQuantity guarantees a tier holds the quantity.
  if (!tier) throw invalidArgument('quantity', 'is beyond the last tier', { value: quantity.toString() });
  const amount = quantity.times(tier.unitAmount).plus(tier.flatAmount);
  return {
    amount,
    charges: [{ tierIndex, from: tier.from, upTo: tier.upTo, units: quantity, unitAmount: tier.unitAmount, flatAmount: tier.flatAmount, amount }],
  };
}

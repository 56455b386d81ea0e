/**
 * A reference implementation of one price for one full period, written from docs/pricing.md
 * independently of the core's rules, for `priceMatchesReference`. Deliberately plain: a loop over
 * tiers, no shared code with `rules/tiers.ts`, so that a bug there is not copied here.
 */
import { Decimal, type PriceDefinition, type PriceTier } from '@tessera/core';

/** The currency, amount and tiers that apply in a country: its override whole, else the base. */
export function referenceAmounts(price: PriceDefinition, billingCountryCode?: string | null): { currency: string; amount?: string; tiers?: PriceTier[] } {
  const overrides = price.countryOverrides ?? {};
  const code = billingCountryCode ?? undefined;
  const override = code === undefined ? undefined : (overrides[code] ?? overrides[code.toUpperCase()]);
  if (override) return override;
  return { currency: price.currency, ...(price.amount !== undefined ? { amount: price.amount } : {}), ...(price.tiers !== undefined ? { tiers: price.tiers } : {}) };
}

/**
 * What `price` charges for `quantity` units over one full period, unrounded:
 * FLAT_FEE amount; PER_UNIT quantity x amount; PACKAGE ceil(quantity / blockSize) x amount;
 * GRADUATED each unit at its own tier plus the flat amount of every tier reached (the first always);
 * VOLUME every unit at the tier the quantity falls in (upTo inclusive) plus that tier's flat amount.
 */
export function referencePrice(price: PriceDefinition, quantity: number, billingCountryCode?: string | null): Decimal {
  const { amount, tiers } = referenceAmounts(price, billingCountryCode);
  if (price.billingModel === 'FLAT_FEE') return new Decimal(amount ?? '0');
  const q = new Decimal(quantity);
  if (tiers !== undefined) {
    if (price.tiersMode === 'VOLUME') {
      let lower = 0;
      for (const tier of tiers) {
        // Tier i holds (previous upTo, upTo]; quantity 0 falls in the first tier.
        if (tier.upTo === null || q.lte(tier.upTo)) return q.times(tier.unitAmount ?? '0').plus(tier.flatAmount ?? '0');
        lower = tier.upTo;
      }
      throw new RangeError(`quantity ${quantity} is beyond the last tier (up to ${lower})`);
    }
    let total = new Decimal(0);
    let lower = 0;
    tiers.forEach((tier, i) => {
      const reached = i === 0 || q.gt(lower);
      if (reached) {
        const top = tier.upTo === null ? q : Decimal.min(q, tier.upTo);
        const units = Decimal.max(top.minus(lower), 0);
        total = total.plus(units.times(tier.unitAmount ?? '0')).plus(tier.flatAmount ?? '0');
      }
      if (tier.upTo !== null) lower = tier.upTo;
    });
    return total;
  }
  if (price.blockSize !== undefined) return q.div(price.blockSize).ceil().times(amount ?? '0');
  return q.times(amount ?? '0');
}

/**
 * Quantities where pricing bugs hide: 0, 1, 2, each tier's upTo and its neighbours, one and two
 * blocks and their neighbours, the unit bounds; only those the price accepts (PER_UNIT within
 * [minUnitQuantity, maxUnitQuantity]), ascending.
 */
export function boundaryQuantities(price: PriceDefinition): number[] {
  const qs = new Set<number>([0, 1, 2, 10, 100]);
  const tierLists = [price.tiers, ...Object.values(price.countryOverrides ?? {}).map((o) => o.tiers)];
  for (const tiers of tierLists) for (const t of tiers ?? []) if (t.upTo !== null) for (const d of [-1, 0, 1, 2]) qs.add(t.upTo + d);
  if (price.blockSize !== undefined) for (const k of [1, 2]) for (const d of [-1, 0, 1]) qs.add(k * price.blockSize + d);
  const min = price.billingModel === 'PER_UNIT' ? (price.minUnitQuantity ?? 0) : 0;
  const max = price.billingModel === 'PER_UNIT' ? (price.maxUnitQuantity ?? Infinity) : Infinity;
  for (const q of [min, min + 1, max - 1, max]) if (Number.isFinite(q)) qs.add(q);
  return [...qs].filter((q) => q >= 0 && q >= min && q <= max).sort((a, b) => a - b);
}

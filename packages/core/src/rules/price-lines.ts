/**
 * The price lines a billing page shows for a subscription (docs/pricing.md#subscription-detail).
 * Pure. Localisation and the period's charge come from the functions invoices use
 * (`selectPrices`, `pricePeriod`), so a page never shows a price an invoice would not bill.
 */
import type { BillingPeriod, PriceDefinition, PriceTier } from '../catalog/types.js';
import { Decimal, formatMoney } from '../money.js';
import { formatAmount, priceKey, pricePeriod, selectPrices, type PeriodPriceInput, type PricedLine, type ResolvedPrice } from './pricing.js';

/** One price of a subscription's plan or add-on for its billing period, in its billing country. */
export interface SubscriptionPriceLine {
  /** Whose price it is: the plan's or an add-on's (`sourceId`). */
  source: 'PLAN' | 'ADDON';
  sourceId: string;
  billingModel: PriceDefinition['billingModel'];
  billingPeriod: BillingPeriod;
  /** The currency billed: the country override's when one applies, else the price's own. */
  currency: string;
  /** The `countryOverrides` entry used (ISO-3166-1 alpha-2), or null when the base price applies. */
  billingCountryCode: string | null;
  /** The feature a PER_UNIT or USAGE_BASED price charges for; null for FLAT_FEE. */
  featureId: string | null;
  /**
   * FLAT_FEE: the fee; PER_UNIT / USAGE_BASED: the price of one unit (of one block with
   * `blockSize`). A decimal string with at least the currency's minor digits; null for tiers.
   */
  unitAmount: string | null;
  /** GRADUATED or VOLUME for a tiered price, else null. */
  tiersMode: 'GRADUATED' | 'VOLUME' | null;
  /** The tiers (after the country override), amounts as declared; null when not tiered. */
  tiers: PriceTier[] | null;
  /** PER_UNIT / USAGE_BASED sold in blocks: units per block; else null. */
  blockSize: number | null;
  /**
   * Units billed each period: a plan's PER_UNIT price, the subscription's quantity of `featureId`;
   * an add-on's price, the add-on's quantity. Null for a plan's FLAT_FEE (one fee) and for
   * USAGE_BASED (usage is billed in arrears).
   */
  quantity: number | null;
  /**
   * The charge for one full period before discounts and tax, rounded as an invoice line is
   * (money.ts roundMoney); null for USAGE_BASED, which is known only when the period has ended.
   */
  amount: string | null;
}

/**
 * The price lines of a subscription for its billing period: the plan's prices (none for FREE and
 * CUSTOM plans), then each add-on's, in declared order. Currency, amounts and tiers are those of
 * `billingCountryCode` (`selectPrices`); quantities and amounts are what `pricePeriod` bills for a
 * full period. Throws what `pricePeriod` throws (a PAID plan without a price for the period is
 * PRICE_NOT_FOUND, a quantity outside its bounds INVALID_ARGUMENT).
 * Example: Pro 49.00 flat + seats PER_UNIT 10.00 x 3 in USD, for a customer in DE with a EUR
 * override of 45.00 and 9.00: lines (FLAT_FEE, EUR, 45.00, amount 45.00) and
 * (PER_UNIT, EUR, unitAmount 9.00, quantity 3, amount 27.00).
 */
export function subscriptionPriceLines(input: Omit<PeriodPriceInput, 'usage'>): SubscriptionPriceLine[] {
  // Without usage, pricePeriod leaves USAGE_BASED prices out: they show with no amount.
  const { usage: _ignored, ...withoutUsage } = input as PeriodPriceInput;
  const billed = new Map(pricePeriod(withoutUsage).map((l) => [l.key, l]));
  const out: SubscriptionPriceLine[] = [];
  const add = (source: 'PLAN' | 'ADDON', id: string, prices: readonly PriceDefinition[] | undefined) => {
    selectPrices(prices, input.billingPeriod, input.billingCountryCode).forEach((price, index) => {
      out.push(toView(source, id, price, billed.get(priceKey(source, id, index))));
    });
  };
  if (input.plan.pricingType === 'PAID') add('PLAN', input.plan.id, input.plan.prices);
  for (const { addon } of input.addons ?? []) add('ADDON', addon.id, addon.prices);
  return out;
}

function toView(source: 'PLAN' | 'ADDON', sourceId: string, price: ResolvedPrice, line: PricedLine | undefined): SubscriptionPriceLine {
  const tiered = price.tiers !== undefined;
  return {
    source,
    sourceId,
    billingModel: price.billingModel,
    billingPeriod: price.billingPeriod,
    currency: price.currency,
    billingCountryCode: price.billingCountryCode,
    featureId: price.featureId ?? null,
    unitAmount: !tiered && price.amount !== undefined ? formatAmount(new Decimal(price.amount), price.currency) : null,
    tiersMode: tiered ? (price.tiersMode ?? null) : null,
    tiers: tiered ? structuredClone(price.tiers!) : null,
    blockSize: price.blockSize ?? null,
    quantity: line?.quantity ?? null,
    amount: line ? formatMoney(line.amount, line.currency) : null,
  };
}

/**
 * Coupons and promotion codes (docs/pricing.md#discounts). Pure: the catalog, redemption counts
 * and `now` are parameters.
 *
 * - A discount applies to the subtotal, before tax. PERCENTAGE takes value% of it; FIXED takes
 *   its amount, capped at the subtotal (the rest is not carried over). A discount never makes
 *   anything negative and never applies to a subtotal of zero or less (a net credit).
 * - Precedence: a promotion code on the subscription wins over the customer's coupon; the two
 *   never stack.
 * - Duration: `durationInMonths` counts calendar months from when the coupon was applied; absent
 *   means forever; 1 means once.
 */
import type { CouponDefinition, PromotionCodeDefinition } from '../catalog/types.js';
import { TesseraError, invalidArgument } from '../errors.js';
import { Decimal, assertSameCurrency, roundMoney, toDecimal } from '../money.js';
import { addMonthsUtc } from './calendar.js';

/** A discount taken off a subtotal. `amount` is positive, rounded once to the minor unit. */
export interface DiscountResult {
  type: CouponDefinition['type'];
  /** The coupon's value as declared: '20' (percent) or '15.00' (an amount). */
  value: string;
  /** Months it lasts from when it was applied; null = forever. */
  durationInMonths: number | null;
  couponId: string;
  amount: Decimal;
  currency: string;
  description: string;
}

/** Checks a coupon's value: PERCENTAGE within 0-100, FIXED a non-negative amount with a currency. Throws `INVALID_ARGUMENT`. */
export function validateCoupon(coupon: CouponDefinition): void {
  const field = `coupons.${coupon.id}.value`;
  const value = toDecimal(coupon.value, field);
  if (coupon.type === 'PERCENTAGE') {
    if (value.lessThan(0) || value.greaterThan(100)) throw invalidArgument(field, 'a percentage must be between 0 and 100', { value: coupon.value });
  } else if (coupon.type === 'FIXED') {
    if (value.lessThan(0)) throw invalidArgument(field, 'a fixed discount must not be negative', { value: coupon.value });
    if (!coupon.currency) throw invalidArgument(`coupons.${coupon.id}.currency`, 'a FIXED coupon needs a currency');
  } else {
    throw invalidArgument(`coupons.${coupon.id}.type`, 'must be PERCENTAGE or FIXED', { value: coupon.type, allowed: ['PERCENTAGE', 'FIXED'] });
  }
  const months = coupon.durationInMonths;
  if (months !== undefined && (!Number.isInteger(months) || months < 1)) {
    throw invalidArgument(`coupons.${coupon.id}.durationInMonths`, 'must be a whole number of months, at least 1 (omit it for forever)', { value: months });
  }
}

/**
 * The discount `coupon` gives on `subTotal` (a sum of rounded lines in `currency`):
 * PERCENTAGE: subTotal x value / 100, rounded once half-up; FIXED: min(value, subTotal), rounded.
 * Zero when the subtotal is zero or negative. Never more than the subtotal.
 * Throws `INVALID_ARGUMENT` for a malformed coupon or a FIXED coupon in another currency.
 * Example: 20% of 49.99 = 9.998 -> 10.00; FIXED 100.00 on 30.00 -> 30.00.
 */
export function applyCoupon(coupon: CouponDefinition, subTotal: Decimal, currency: string): DiscountResult {
  validateCoupon(coupon);
  const value = toDecimal(coupon.value, `coupons.${coupon.id}.value`);
  const base = Decimal.max(subTotal, 0);
  let amount: Decimal;
  let description: string;
  if (coupon.type === 'PERCENTAGE') {
    amount = roundMoney(base.times(value).div(100), currency);
    description = `${coupon.name ?? coupon.id} (${value.toString()}% off)`;
  } else {
    assertSameCurrency(currency, coupon.currency ?? '', `coupons.${coupon.id}.currency`);
    amount = roundMoney(Decimal.min(value, base), currency);
    description = `${coupon.name ?? coupon.id} (${coupon.value} ${currency} off)`;
  }
  // Rounding half-up could only push a percentage past the base if the base were not rounded; keep the cap exact anyway.
  amount = Decimal.min(amount, base);
  return {
    type: coupon.type,
    value: coupon.value,
    durationInMonths: coupon.durationInMonths ?? null,
    couponId: coupon.id,
    amount,
    currency,
    description,
  };
}

/**
 * When a coupon applied at `appliedAt` stops applying: `appliedAt` + durationInMonths calendar
 * months (UTC, month ends clamped), or null for forever.
 */
export function couponEndsAt(coupon: Pick<CouponDefinition, 'durationInMonths'>, appliedAt: number): number | null {
  return coupon.durationInMonths === undefined ? null : addMonthsUtc(appliedAt, coupon.durationInMonths);
}

/**
 * Whether a coupon applied at `appliedAt` (epoch ms) discounts the invoice for the billing period
 * starting at `periodStart` (or, for a proration, the change instant): appliedAt <= periodStart <
 * appliedAt + durationInMonths months. Periods invoiced before the coupon was applied never
 * get it. A 1-month coupon ("once") discounts exactly one monthly invoice wherever in the month it
 * was applied; a 3-month coupon applied with a monthly subscription discounts periods 0, 1 and 2;
 * applied with an annual subscription, it discounts the first annual invoice in full.
 */
export function couponAppliesToPeriod(
  coupon: Pick<CouponDefinition, 'durationInMonths'>,
  appliedAt: number,
  periodStart: number,
): boolean {
  if (periodStart < appliedAt) return false;
  const end = couponEndsAt(coupon, appliedAt);
  return end === null || periodStart < end;
}

/**
 * Whether a coupon applies to the billing period that starts `monthsAfterApplied` whole months after
 * it was applied (0 = the first): true forever without a duration, else while
 * monthsAfterApplied < durationInMonths.
 */
export function couponAppliesAfterMonths(coupon: Pick<CouponDefinition, 'durationInMonths'>, monthsAfterApplied: number): boolean {
  if (!Number.isInteger(monthsAfterApplied) || monthsAfterApplied < 0) {
    throw invalidArgument('monthsAfterApplied', 'must be a non-negative whole number', { value: monthsAfterApplied });
  }
  return coupon.durationInMonths === undefined || monthsAfterApplied < coupon.durationInMonths;
}

/** Where the coupon in force came from. */
export type CouponSource = 'PROMOTION_CODE' | 'CUSTOMER';

/**
 * The one coupon that applies to a subscription: the coupon of its promotion code when it has
 * one, else the customer's coupon, else none. They never stack: a promotion code is a deliberate
 * choice for this subscription, so it replaces the standing customer discount rather than adding
 * to it (docs/pricing.md#precedence).
 */
export function effectiveCoupon(input: {
  promotionCodeCoupon?: CouponDefinition | null;
  customerCoupon?: CouponDefinition | null;
}): { coupon: CouponDefinition; source: CouponSource } | null {
  if (input.promotionCodeCoupon) return { coupon: input.promotionCodeCoupon, source: 'PROMOTION_CODE' };
  if (input.customerCoupon) return { coupon: input.customerCoupon, source: 'CUSTOMER' };
  return null;
}

/** Why a promotion code cannot be redeemed. */
export type PromotionCodeRejection = 'UNKNOWN' | 'INACTIVE' | 'EXPIRED' | 'EXHAUSTED';

/** The outcome of `checkPromotionCode`: the code and its coupon, or the reason it is refused. */
export type PromotionCodeCheck =
  | { ok: true; promotionCode: PromotionCodeDefinition; coupon: CouponDefinition }
  | { ok: false; reason: PromotionCodeRejection; code: string };

/** What `checkPromotionCode` looks codes and coupons up in (a `Catalog` fits). */
export interface PromotionCatalog {
  promotionCodes: ReadonlyMap<string, PromotionCodeDefinition>;
  coupons: ReadonlyMap<string, CouponDefinition>;
}

/**
 * Whether `code` can be redeemed at `now` (epoch ms), checked in this order:
 * UNKNOWN (no such code, matched exactly, or its coupon is missing), INACTIVE (`active: false`),
 * EXPIRED (now >= expiresAt), EXHAUSTED (redemptions >= maxRedemptions). `redemptions` counts the
 * subscriptions that already redeemed it, not the one being checked. Never throws for a normal "no".
 */
export function checkPromotionCode(code: string, catalog: PromotionCatalog, redemptions: number, now: number): PromotionCodeCheck {
  const promotionCode = typeof code === 'string' ? catalog.promotionCodes.get(code) : undefined;
  const coupon = promotionCode ? catalog.coupons.get(promotionCode.couponId) : undefined;
  if (!promotionCode || !coupon) return { ok: false, reason: 'UNKNOWN', code };
  if (promotionCode.active === false) return { ok: false, reason: 'INACTIVE', code };
  if (promotionCode.expiresAt !== undefined) {
    const expiresAt = Date.parse(promotionCode.expiresAt);
    // An unreadable expiry cannot be honoured safely: treat the code as expired.
    if (Number.isNaN(expiresAt) || now >= expiresAt) return { ok: false, reason: 'EXPIRED', code };
  }
  if (promotionCode.maxRedemptions !== undefined && redemptions >= promotionCode.maxRedemptions) {
    return { ok: false, reason: 'EXHAUSTED', code };
  }
  return { ok: true, promotionCode, coupon };
}

/**
 * Like `checkPromotionCode`, but returns the coupon or throws `PROMOTION_CODE_INVALID` with
 * `details: { field: 'promotionCode', value, reason }`.
 */
export function requirePromotionCode(
  code: string,
  catalog: PromotionCatalog,
  redemptions: number,
  now: number,
): { promotionCode: PromotionCodeDefinition; coupon: CouponDefinition } {
  const check = checkPromotionCode(code, catalog, redemptions, now);
  if (check.ok) return { promotionCode: check.promotionCode, coupon: check.coupon };
  const why: Record<PromotionCodeRejection, string> = {
    UNKNOWN: 'does not exist',
    INACTIVE: 'is not active',
    EXPIRED: 'has expired',
    EXHAUSTED: 'has been redeemed the maximum number of times',
  };
  throw new TesseraError('PROMOTION_CODE_INVALID', `promotion code '${code}' ${why[check.reason]}`, {
    field: 'promotionCode',
    value: code,
    reason: check.reason,
  });
}

// The check results' public shapes, apart from how checks are answered (entitlements.ts).
import type { CatalogIds } from '../../catalog/ids.js';
import type { FeatureType, ResetPeriod } from '../../catalog/types.js';
import type { FeatureInfo } from './feature-info.js';

export type { FeatureInfo };

/** Why a check denied access. A check never throws for these; only malformed input throws. */
export type AccessDeniedReason =
  | 'CustomerNotFound'
  | 'CustomerIsArchived'
  | 'CustomerResourceNotFound'
  | 'FeatureNotFound'
  | 'FeatureTypeMismatch'
  | 'NoActiveSubscription'
  | 'NoFeatureEntitlementInSubscription'
  | 'RequestedUsageExceedingLimit'
  | 'RequestedValuesMismatch'
  | 'InsufficientCredits'
  | 'BudgetExceeded'
  /** The requested usage would cost more than a spend cap leaves (docs/spend-caps.md). */
  | 'SpendCapReached'
  /** A check with an `entityId` the customer does not have (or deleted): docs/entities.md#checks. */
  | 'EntityNotFound'
  | 'Revoked'
  | 'Unknown';

interface EntitlementCommon {
  customerId: string;
  resourceId: string | null;
  featureId: string;
  hasAccess: boolean;
  /** Why access is denied; undefined when allowed. */
  accessDeniedReason?: AccessDeniedReason | undefined;
  /** Undefined when the feature is unknown. */
  feature?: FeatureInfo | undefined;
  /** True when answered from fallback values (offline, never-synced replica). */
  isFallback: boolean;
  /**
   * The id of the entitlement override in force that replaced the subscription's entitlement
   * (source OVERRIDE, docs/overrides.md); absent when none applies.
   */
  overrideId?: string | undefined;
}

export interface BooleanEntitlement extends EntitlementCommon {
  type: 'BOOLEAN';
}

export interface NumericEntitlement extends EntitlementCommon {
  type: 'NUMERIC';
  /** The granted value; null when unlimited or denied. */
  value: number | null;
  isUnlimited: boolean;
}

export interface MeteredEntitlement extends EntitlementCommon {
  type: 'METERED';
  /** null when unlimited or denied. */
  usageLimit: number | null;
  /** Usage recorded in the current window plus quota held by live reservations. */
  currentUsage: number;
  requestedUsage: number;
  hasSoftLimit: boolean;
  isUnlimited: boolean;
  resetPeriod: ResetPeriod | null;
  /** The current window [start, end); absent for cumulative features and denials without entitlement. */
  usagePeriodStart?: Date | undefined;
  usagePeriodEnd?: Date | undefined;
  /**
   * With `entityId` only (docs/entities.md#checks): the entity's figures; `usageLimit` is its
   * per-entity limit, null when none applies to it (then the top-level figures are the pooled ones).
   */
  entity?: { entityId: string; usageLimit: number | null; currentUsage: number } | undefined;
  /** With `entityId` only: the customer's pooled figures, which also bound the entity. */
  pooled?: { usageLimit: number | null; currentUsage: number; isUnlimited: boolean } | undefined;
  /** Set on an EntityNotFound denial. */
  entityId?: string | undefined;
  /**
   * When a spend cap bounds this feature's usage (docs/spend-caps.md): the cap with the least
   * remaining, its spend in the current billing period and what remains (decimal strings);
   * `featureId` null for the customer-wide cap.
   */
  spendCap?: { featureId: string | null; cap: string; spent: string; remaining: string; currency: string } | undefined;
  /**
   * With further limits only (docs/limits.md): every limit, the primary first, then shortest
   * period first. The top-level `usageLimit`, `currentUsage`, `resetPeriod` and period are then
   * the binding limit's, the one with the least left.
   */
  limits?: LimitStanding[] | undefined;
  /** With further limits, on a RequestedUsageExceedingLimit denial: the limit that denied (the binding one). */
  deniedBy?: { resetPeriod: ResetPeriod | null; usageLimit: number | null } | undefined;
  /**
   * When the entitlement rolls over unused allowance (docs/rollovers.md): the carried balance of
   * the window as its own part of the limit. `usageLimit` is then the base limit plus
   * `rollover.balance`, and `currentUsage` burns the rollover first.
   */
  rollover?: RolloverShown | undefined;
}

/** The rollover part of a METERED limit (docs/rollovers.md#check-results); units, instants as Dates. */
export interface RolloverShown {
  /** Units carried into the current window from earlier ones. */
  balance: number;
  /** Of those, units used in the window (recorded usage and live holds burn the rollover first). */
  used: number;
  /** balance - used. */
  remaining: number;
  /** What remains, by expiry, soonest first: each amount can be used until `expiresAt` (the end of its last window). */
  expiries: { amount: number; expiresAt: Date }[];
}

/** Where one limit of a feature with several stands at a check (docs/limits.md). */
export interface LimitStanding {
  usageLimit: number | null;
  /** Usage recorded in this limit's window plus quota held by live reservations made in it. */
  currentUsage: number;
  /** Left under this limit (never below 0); null when unlimited. */
  remaining: number | null;
  resetPeriod: ResetPeriod | null;
  usagePeriodStart: Date;
  usagePeriodEnd: Date;
}

export interface EnumEntitlement extends EntitlementCommon {
  type: 'ENUM';
  enumValues: string[];
  requestedValues: string[];
}

/**
 * The answer of a check: shaped by the feature's type (`type` undefined when the feature is
 * unknown). The typed getters (`getMeteredEntitlement`...) answer their own shape whatever happens:
 * a denial for an unknown feature or a feature of another type has `type` set to the type asked
 * for, `hasAccess: false` and the denial values (docs/conventions.md#typed-checks).
 */
export type Entitlement =
  | BooleanEntitlement
  | NumericEntitlement
  | MeteredEntitlement
  | EnumEntitlement
  | (EntitlementCommon & { type: undefined });

/** The result type of a check that expects feature type `T` (`Entitlement` when it expects none). */
export type EntitlementOfType<T extends FeatureType | undefined> = T extends 'BOOLEAN'
  ? BooleanEntitlement
  : T extends 'NUMERIC'
    ? NumericEntitlement
    : T extends 'METERED'
      ? MeteredEntitlement
      : T extends 'ENUM'
        ? EnumEntitlement
        : Entitlement;

/** Parameters of a check. */
export interface GetEntitlementParams<Ids extends CatalogIds = CatalogIds> {
  customerId: string;
  featureId: Ids['feature'];
  resourceId?: string;
  /** Answer as this entity of the customer sees it (docs/entities.md#checks). */
  entityId?: string;
  options?: { requestedUsage?: number; requestedValues?: string[] };
  /**
   * Answer as at this past instant (epoch ms, ISO-8601 string or Date; not after now): the
   * subscriptions, grants, overrides and window usage then, read from the store (docs/as-of.md).
   */
  at?: Date | string | number;
}

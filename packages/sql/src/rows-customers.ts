/** Row mappings of customers, their subscriptions, promotional grants and entities; see rows.ts for how records map to rows. */
import type {
  CustomerRecord,
  EntityRecord,
  PromotionalGrantRecord,
  EntitlementOverrideRecord,
  SubscriptionRecord,
} from '@tessera/core';
import { type Columns, json, jsonOrNull, parse, parseOrNull } from './rows-encoding.js';

export const CUSTOMER_COLUMNS = [
  'customer_id',
  'name',
  'email',
  'coupon_id',
  'billing_info',
  'metadata',
  'archived_at',
  'created_at',
  'updated_at',
  'coupon_applied_at',
] as const satisfies Columns<'customers'>;
type CustomerRow = [string, string | null, string | null, string | null, string | null, string, number | null, number, number, number | null];

export function customerToRow(r: CustomerRecord): CustomerRow {
  return [
    r.customerId,
    r.name,
    r.email,
    r.couponId,
    jsonOrNull(r.billingInfo),
    json(r.metadata),
    r.archivedAt,
    r.createdAt,
    r.updatedAt,
    r.couponAppliedAt ?? null,
  ];
}

export function customerFromRow(row: unknown): CustomerRecord {
  const [customerId, name, email, couponId, billingInfo, metadata, archivedAt, createdAt, updatedAt, couponAppliedAt] = row as CustomerRow;
  return {
    customerId,
    name,
    email,
    couponId,
    billingInfo: parseOrNull(billingInfo, 'customers', customerId, 'billing_info'),
    metadata: parse(metadata, 'customers', customerId, 'metadata'),
    archivedAt,
    couponAppliedAt,
    createdAt,
    updatedAt,
  };
}

export const SUBSCRIPTION_COLUMNS = [
  'id',
  'customer_id',
  'product_id',
  'plan_id',
  'plan_version',
  'catalog_version',
  'resource_id',
  'billing_period',
  'status',
  'start_date',
  'billing_anchor',
  'usage_anchor',
  'trial_end_date',
  'end_date',
  'cancellation_date',
  'addons',
  'billable_features',
  'promotion_code',
  'billing_country_code',
  'scheduled_updates',
  'metadata',
  'created_at',
  'updated_at',
  'promotion_applied_at',
] as const satisfies Columns<'subscriptions'>;
type SubscriptionRow = [
  string, string, string, string, number, number, string, string | null, string,
  number, number, number, number | null, number | null, number | null,
  string, string, string | null, string | null, string, string, number, number,
  number | null,
];

export function subscriptionToRow(r: SubscriptionRecord): SubscriptionRow {
  return [
    r.id,
    r.customerId,
    r.productId,
    r.planId,
    r.planVersion,
    r.catalogVersion,
    r.resourceId,
    r.billingPeriod,
    r.status,
    r.startDate,
    r.billingAnchor,
    r.usageAnchor,
    r.trialEndDate,
    r.endDate,
    r.cancellationDate,
    json(r.addons),
    json(r.billableFeatures),
    r.promotionCode,
    r.billingCountryCode,
    json(r.scheduledUpdates),
    json(r.metadata),
    r.createdAt,
    r.updatedAt,
    r.promotionCodeAppliedAt ?? null,
  ];
}

export function subscriptionFromRow(row: unknown): SubscriptionRecord {
  const r = row as SubscriptionRow;
  return {
    id: r[0],
    customerId: r[1],
    productId: r[2],
    planId: r[3],
    planVersion: r[4],
    catalogVersion: r[5],
    resourceId: r[6],
    billingPeriod: r[7] as SubscriptionRecord['billingPeriod'],
    status: r[8] as SubscriptionRecord['status'],
    startDate: r[9],
    billingAnchor: r[10],
    usageAnchor: r[11],
    trialEndDate: r[12],
    endDate: r[13],
    cancellationDate: r[14],
    addons: parse(r[15], 'subscriptions', r[0], 'addons'),
    billableFeatures: parse(r[16], 'subscriptions', r[0], 'billable_features'),
    promotionCode: r[17],
    promotionCodeAppliedAt: r[23],
    billingCountryCode: r[18],
    scheduledUpdates: parse(r[19], 'subscriptions', r[0], 'scheduled_updates'),
    metadata: parse(r[20], 'subscriptions', r[0], 'metadata'),
    createdAt: r[21],
    updatedAt: r[22],
  };
}

export const PROMOTIONAL_GRANT_COLUMNS = [
  'id',
  'customer_id',
  'resource_id',
  'feature_id',
  'entitlement',
  'start_date',
  'end_date',
  'revoked_at',
  'created_at',
] as const satisfies Columns<'promotional_grants'>;
type PromotionalGrantRow = [string, string, string, string, string, number, number | null, number | null, number];

export function promotionalGrantToRow(r: PromotionalGrantRecord): PromotionalGrantRow {
  return [r.id, r.customerId, r.resourceId, r.featureId, json(r.entitlement), r.startDate, r.endDate, r.revokedAt, r.createdAt];
}

export function promotionalGrantFromRow(row: unknown): PromotionalGrantRecord {
  const [id, customerId, resourceId, featureId, entitlement, startDate, endDate, revokedAt, createdAt] = row as PromotionalGrantRow;
  return { id, customerId, resourceId, featureId, entitlement: parse(entitlement, 'promotional_grants', id, 'entitlement'), startDate, endDate, revokedAt, createdAt };
}

export const ENTITY_COLUMNS = [
  'customer_id',
  'entity_id',
  'feature_id',
  'name',
  'metadata',
  'created_at',
  'updated_at',
  'deleted_at',
] as const satisfies Columns<'entities'>;
type EntityRow = [string, string, string | null, string | null, string, number, number, number | null];

export function entityToRow(r: EntityRecord): EntityRow {
  return [r.customerId, r.entityId, r.featureId, r.name, json(r.metadata), r.createdAt, r.updatedAt, r.deletedAt];
}

export function entityFromRow(row: unknown): EntityRecord {
  const [customerId, entityId, featureId, name, metadata, createdAt, updatedAt, deletedAt] = row as EntityRow;
  return {
    customerId,
    entityId,
    featureId,
    name,
    metadata: parse(metadata, 'entities', `${customerId}/${entityId}`, 'metadata'),
    createdAt,
    updatedAt,
    deletedAt,
  };
}

export const ENTITLEMENT_OVERRIDE_COLUMNS = [
  'id',
  'customer_id',
  'resource_id',
  'feature_id',
  'entitlement',
  'start_date',
  'end_date',
  'reason',
  'removed_at',
  'created_at',
] as const satisfies Columns<'entitlement_overrides'>;
type EntitlementOverrideRow = [string, string, string, string, string, number, number | null, string | null, number | null, number];

export function entitlementOverrideToRow(r: EntitlementOverrideRecord): EntitlementOverrideRow {
  return [r.id, r.customerId, r.resourceId, r.featureId, json(r.entitlement), r.startDate, r.endDate, r.reason, r.removedAt, r.createdAt];
}

export function entitlementOverrideFromRow(row: unknown): EntitlementOverrideRecord {
  const [id, customerId, resourceId, featureId, entitlement, startDate, endDate, reason, removedAt, createdAt] = row as EntitlementOverrideRow;
  return { id, customerId, resourceId, featureId, entitlement: parse(entitlement, 'entitlement_overrides', id, 'entitlement'), startDate, endDate, reason, removedAt, createdAt };
}

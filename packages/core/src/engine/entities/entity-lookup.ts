// Entities as the usage and check paths need them (docs/entities.md).
import { TesseraError } from '../../errors.js';
import type { EntityRecord } from '../../records.js';
import type { ResolvedEntitlement } from '../../rules/entitlements.js';
import type { StoreTx } from '../../store/store.js';

/** ENTITY_NOT_FOUND for an entity the customer does not have or has deleted; `field` goes in the details. */
export function entityNotFound(customerId: string, entityId: string, where: string, field = 'entityId'): TesseraError {
  return new TesseraError('ENTITY_NOT_FOUND', `${where}: customer "${customerId}" has no entity "${entityId}" (or it was deleted); create it with createEntity`, {
    field,
    value: entityId,
  });
}

/** The live entity, read in `tx`; throws ENTITY_NOT_FOUND for an unknown or deleted one. */
export async function requireLiveEntity(tx: StoreTx, customerId: string, entityId: string, where: string, field = 'entityId'): Promise<EntityRecord> {
  const e = await tx.getEntity(customerId, entityId);
  if (!e || e.deletedAt !== null) throw entityNotFound(customerId, entityId, where, field);
  return e;
}

/**
 * The limit an entity has of a feature: the entitlement's per-entity limit when the entity is of
 * the entity feature `perEntity` names; null when none applies (the pooled limit alone bounds it).
 */
export function perEntityLimit(e: Pick<ResolvedEntitlement, 'perEntity'> | undefined, entity: Pick<EntityRecord, 'featureId'>): number | null {
  const per = e?.perEntity;
  return per && entity.featureId === per.featureId ? per.usageLimit : null;
}

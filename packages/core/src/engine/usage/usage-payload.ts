import type { UsageKey } from '../../records.js';
import { isLimitCellEntity } from './limit-cells.js';

/**
 * The change log payload of a usage.updated change; `entityId` only for an entity's cell, so that
 * a customer's own cells read as they always did (docs/entities.md#events-and-the-change-feed).
 */
export function usagePayload(key: UsageKey, value: number): Record<string, unknown> {
  const p: Record<string, unknown> = { resourceId: key.resourceId, windowStart: key.windowStart, windowEnd: key.windowEnd, value };
  // A further limit's cell is the customer's: other processes drop the feature's cached cells for it.
  if (key.entityId !== '' && !isLimitCellEntity(key.entityId)) p.entityId = key.entityId;
  return p;
}

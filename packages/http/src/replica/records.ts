/**
 * What crosses the wire between a sidecar and its replicas: store records as the sidecar's store
 * holds them (instants as epoch ms, amounts as decimal strings), so that a replica writes them
 * into its own store unchanged.
 */
import type {
  CatalogVersionRecord,
  CreditGrantRecord,
  CustomerRecord,
  EntityRecord,
  EntitlementOverrideRecord,
  PromotionalGrantRecord,
  ReservationRecord,
  Store,
  StoreTx,
  SubscriptionRecord,
  UsageRecord,
} from '@tessera/core';

/** Everything about one customer that a replica needs to answer checks. */
export interface CustomerExport {
  customerId: string;
  /** Null when the sidecar has no such customer (any more). */
  customer: CustomerRecord | null;
  subscriptions: SubscriptionRecord[];
  /** Every usage cell of the customer (all windows). */
  usage: UsageRecord[];
  promotionalGrants: PromotionalGrantRecord[];
  /** Entitlement overrides, removed ones included; absent from a sidecar that predates them. */
  entitlementOverrides?: EntitlementOverrideRecord[];
  creditGrants: CreditGrantRecord[];
  /** Held reservations (they count in `currentUsage`), expired ones included: the engine judges expiry. */
  reservations: ReservationRecord[];
  /**
   * The customer's entities, deleted ones included (they keep their usage). Absent from a sidecar
   * older than entities, whose usage cells and reservations also lack `entityId`: see {@link fromPeer}.
   */
  entities?: EntityRecord[];
}

/** What `POST /v1/replicaSnapshot` answers. */
export interface ReplicaSnapshot {
  /** The sidecar's newest change seq, read before anything else: follow the feed from here. */
  lastChangeSeq: number;
  catalogVersions: CatalogVersionRecord[];
  /** Every customer id the change log names (absent when asked with `customerIds: false`). */
  customerIds?: string[];
}

/** What `POST /v1/replicaCustomers` answers. */
export interface ReplicaCustomers {
  customers: CustomerExport[];
}

/** Most customers one `replicaCustomers` call may ask for. */
export const MAX_REPLICA_CUSTOMERS = 500;

/**
 * Every customer id named in the change log, oldest first. The Store has no "list customers"
 * read, and every write of a customer appends a change naming it, so the log from seq 0 names
 * them all (as long as the log is kept whole, which it is today).
 */
export async function customerIdsFromLog(store: Store, upTo: number): Promise<string[]> {
  const seen = new Set<string>();
  let after = 0;
  while (after < upTo) {
    const batch = await store.getChanges(after, 10_000);
    if (batch.length === 0) break;
    for (const c of batch) {
      if (c.seq > upTo) break;
      if (c.customerId !== null) seen.add(c.customerId);
    }
    after = batch.at(-1)!.seq;
  }
  return [...seen];
}

/** Entities read per `listEntities` call while exporting a customer. */
const ENTITY_PAGE = 1000;

/**
 * Reads one customer's records in `tx`; `meteredFeatures` are where held reservations are looked
 * for, in every resource and entity (the customer's own cell, '', included) the records name.
 */
export async function exportCustomer(tx: StoreTx, customerId: string, meteredFeatures: readonly string[]): Promise<CustomerExport> {
  const customer = (await tx.getCustomer(customerId)) ?? null;
  const subscriptions = await tx.listSubscriptionsByCustomer(customerId);
  const usage = await tx.listUsage({ customerId });
  const promotionalGrants = await tx.listPromotionalGrants(customerId);
  const creditGrants = await tx.listCreditGrants(customerId);
  const entities: EntityRecord[] = [];
  for (let page: EntityRecord[] = []; ; ) {
    const after = page.at(-1)?.entityId;
    page = await tx.listEntities({ customerId, includeDeleted: true, limit: ENTITY_PAGE, ...(after === undefined ? {} : { after }) });
    entities.push(...page);
    if (page.length < ENTITY_PAGE) break;
  }
  const entitlementOverrides = await tx.listEntitlementOverrides(customerId);
  const resources = new Set<string>(['']);
  for (const s of subscriptions) resources.add(s.resourceId);
  for (const u of usage) resources.add(u.resourceId);
  for (const g of promotionalGrants) resources.add(g.resourceId);
  for (const o of entitlementOverrides) resources.add(o.resourceId);
  // Without an entity id the store lists every entity's holds of the feature, the customer's own included.
  const reservations: ReservationRecord[] = [];
  for (const resourceId of resources) {
    for (const featureId of meteredFeatures) reservations.push(...(await tx.listHeldReservations({ customerId, resourceId, featureId })));
  }
  return { customerId, customer, subscriptions, usage, promotionalGrants, entitlementOverrides, creditGrants, reservations, entities };
}

/**
 * A customer's records as a sidecar sent them, made whole for this version's store: a sidecar
 * older than entities sends usage cells and reservations without `entityId` (they are the
 * customer's own: '') and no entities.
 */
export function fromPeer(ex: CustomerExport): Required<CustomerExport> {
  const withEntity = <T extends { entityId?: string }>(r: T): T & { entityId: string } => ({ ...r, entityId: typeof r.entityId === 'string' ? r.entityId : '' });
  return {
    ...ex,
    usage: ex.usage.map(withEntity),
    reservations: ex.reservations.map(withEntity),
    entities: ex.entities ?? [],
    entitlementOverrides: ex.entitlementOverrides ?? [],
  };
}

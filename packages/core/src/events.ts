import mitt, { type Emitter } from 'mitt';
import type { ChangeKind } from './records.js';

/** Sent when a customer's entitlements may have changed (subscription, customer, catalog writes). */
export interface EntitlementsUpdatedEvent {
  customerId: string;
  resourceId: string | null;
  reason: ChangeKind;
  at: Date;
}

/** Sent after usage of a feature changed; `currentUsage` is the value in the window that changed. */
export interface UsageUpdatedEvent {
  customerId: string;
  resourceId: string | null;
  featureId: string;
  /** The entity whose cell changed (docs/entities.md); absent for the customer's own (pooled) cell. */
  entityId?: string;
  currentUsage: number;
  usagePeriodStart: Date | null;
  usagePeriodEnd: Date | null;
  at: Date;
}

/** Sent after an entity of a customer was created (or revived) or deleted (docs/entities.md). */
export interface EntityEvent {
  customerId: string;
  entityId: string;
  /** The seat feature the entity occupies; null when none. */
  featureId: string | null;
  at: Date;
}

export interface SubscriptionUpdatedEvent {
  customerId: string;
  subscriptionId: string;
  status: string;
  at: Date;
}

/** Sent after a customer's credit balance in a currency changed (grant, burn, void, expiry, recharge). */
export interface CreditBalanceUpdatedEvent {
  customerId: string;
  currencyId: string;
  balance: string;
  at: Date;
}

/**
 * Sent once per threshold and usage window (docs/alerts.md), decided in the store: with several
 * processes writing, only the write that crossed the threshold first announces it; a new window
 * (after a reset) announces again. `threshold` is a percent of `usageLimit`.
 */
export interface UsageThresholdReachedEvent {
  /** Stable across retries and processes: the webhook id of its deliveries. */
  id: string;
  customerId: string;
  featureId: string;
  resourceId: string | null;
  /** Percent of `usageLimit` (80 = 80%). */
  threshold: number;
  usageLimit: number;
  /** The usage after the write that reached the threshold. */
  currentUsage: number;
  /** Null for a feature that never resets. */
  windowStart: Date | null;
  windowEnd: Date | null;
  /** Whether the threshold came from the catalog's entitlement or the customer's own (setUsageAlerts). */
  source: 'catalog' | 'customer';
  at: Date;
}

/**
 * Sent once when a credit balance falls below a threshold of its currency (docs/alerts.md), and
 * again only after the balance rose to the threshold or above and fell below it again.
 */
export interface CreditBalanceLowEvent {
  id: string;
  customerId: string;
  currencyId: string;
  /** Decimal string: the threshold the balance fell below. */
  threshold: string;
  /** Decimal string: the balance after the write. */
  balance: string;
  at: Date;
}

/**
 * Sent after a customer's entitlement override of a feature was set or removed (docs/overrides.md);
 * `override` is the one set, null after a removal. Its start and end pass without an event: reads
 * decide at their own instant whether it is in force.
 */
export interface EntitlementOverrideUpdatedEvent {
  customerId: string;
  resourceId: string | null;
  featureId: string;
  override: import('./engine/subscriptions/overrides.js').EntitlementOverride | null;
  at: Date;
}

/**
 * Where an unseen failure came from: a listener that threw, the change follower's poll, a
 * provider called after a commit, a replica's delivery, a store's background connection.
 */
export type EngineErrorSource = 'listener' | 'follower' | 'paymentProvider' | 'billingProvider' | 'webhook' | 'replica' | 'store' | 'engine';

/**
 * Sent for every failure no caller sees (docs/operating.md#errors): the engine goes on, and the
 * same failure is written to the `logger`. `code` is the TesseraError code when there is one.
 */
export interface EngineErrorEvent {
  error: unknown;
  source: EngineErrorSource;
  /** The engine method or hook involved (`reportUsage`, `onInvoiceCreated`, `usageUpdated` listener...). */
  method?: string;
  customerId?: string;
  code?: string;
  at: Date;
}

export interface CatalogPublishedEvent {
  version: number;
  at: Date;
}

/** The events an engine emits, by name. Handlers run after the write committed. */
export type EngineEvents = {
  entitlementsUpdated: EntitlementsUpdatedEvent;
  usageUpdated: UsageUpdatedEvent;
  subscriptionUpdated: SubscriptionUpdatedEvent;
  catalogPublished: CatalogPublishedEvent;
  creditBalanceUpdated: CreditBalanceUpdatedEvent;
  entityCreated: EntityEvent;
  entityDeleted: EntityEvent;
  usageThresholdReached: UsageThresholdReachedEvent;
  creditBalanceLow: CreditBalanceLowEvent;
  entitlementOverrideUpdated: EntitlementOverrideUpdatedEvent;
  error: EngineErrorEvent;
};

export type EngineEventName = keyof EngineEvents;

/** Every event name `on` accepts (`'*'` hears them all). */
export const ENGINE_EVENT_NAMES: readonly EngineEventName[] = [
  'entitlementsUpdated',
  'usageUpdated',
  'subscriptionUpdated',
  'catalogPublished',
  'creditBalanceUpdated',
  'usageThresholdReached',
  'creditBalanceLow',
  'entityCreated',
  'entityDeleted',
  'entitlementOverrideUpdated',
  'error',
];

/**
 * A typed mitt emitter whose `emit` isolates listeners: one that throws does not stop the ones
 * after it, and its error goes to `onListenerError` (the engine's error event and logger).
 */
export function createEmitter(onListenerError: (error: unknown, event: EngineEventName) => void = () => undefined): Emitter<EngineEvents> {
  const emitter = mitt<EngineEvents>();
  emitter.emit = ((type: EngineEventName, event: unknown) => {
    // Copies, as mitt does: a listener may remove itself (or add others) while it runs.
    const handlers = emitter.all.get(type)?.slice() ?? [];
    for (const h of handlers) {
      try {
        (h as (e: unknown) => void)(event);
      } catch (e) {
        onListenerError(e, type);
      }
    }
    const wildcard = emitter.all.get('*')?.slice() ?? [];
    for (const h of wildcard) {
      try {
        (h as (t: string, e: unknown) => void)(type, event);
      } catch (e) {
        onListenerError(e, type);
      }
    }
  }) as Emitter<EngineEvents>['emit'];
  return emitter;
}

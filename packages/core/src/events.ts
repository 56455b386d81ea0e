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
  currentUsage: number;
  usagePeriodStart: Date | null;
  usagePeriodEnd: Date | null;
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
};

export type EngineEventName = keyof EngineEvents;

/** A typed mitt emitter. */
export function createEmitter(): Emitter<EngineEvents> {
  return mitt<EngineEvents>();
}

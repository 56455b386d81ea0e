import type { Engine } from '@tessera/core';
import { METHOD_WIRE, type MethodName, type MethodWire } from '@tessera/client';

/** Who may call a method: read-only keys may call `read` methods, full-access keys both. */
export type MethodAccess = 'read' | 'write';

/**
 * How one engine method crosses HTTP: `POST /v1/<name>` with `body` as JSON. The client's half
 * (`toBody`, `returnsVoid`) is `@tessera/client`'s METHOD_WIRE; `call` turns the parsed body into
 * the engine call on the server.
 */
export interface MethodSpec extends MethodWire {
  access: MethodAccess;
  call(engine: Engine, body: unknown): Promise<unknown>;
  /** Names of the only keys the body may hold, checked by the server (methods whose engine argument is not an object). */
  bodyKeys?: readonly string[];
}

export { NOT_EXPOSED, type MethodName } from '@tessera/client';

type AnyMethod = (...args: unknown[]) => Promise<unknown>;
const method = (engine: Engine, name: string): AnyMethod => {
  const fn = (engine as unknown as Record<string, AnyMethod>)[name]!;
  return fn.bind(engine);
};

/** The body is the params object, passed as is (an absent body is `{}`). */
function params(access: MethodAccess, name: MethodName): MethodSpec {
  return { ...METHOD_WIRE[name], access, call: (engine, body) => method(engine, name)(body) };
}

/** The engine takes one id (`getCustomer(customerId)`): the body is `{ [key]: id }`. */
function byId(access: MethodAccess, name: MethodName, key: string): MethodSpec {
  return { ...METHOD_WIRE[name], access, bodyKeys: [key], call: (engine, body) => method(engine, name)((body as Record<string, unknown>)[key]) };
}

/** The engine method takes no argument: the body is `{}` or absent. */
function noArgs(access: MethodAccess, name: MethodName): MethodSpec {
  return { ...METHOD_WIRE[name], access, bodyKeys: [], call: (engine) => method(engine, name)() };
}

/**
 * Every exposed engine method: who may call it and how its body becomes the engine call. Read
 * methods (get*, estimate*, the entitlement checks, the change feed) are open to read-only keys.
 * test/http checks that every public method of `Engine` is either here or in NOT_EXPOSED.
 */
export const METHODS: Record<MethodName, MethodSpec> = {
  // Other processes' writes, applied now rather than at the engine's next poll (writes nothing).
  syncNow: noArgs('read', 'syncNow'),
  lastChangeSeq: noArgs('read', 'lastChangeSeq'),

  // Catalog
  publishCatalog: {
    ...METHOD_WIRE.publishCatalog,
    access: 'write',
    bodyKeys: ['catalog'],
    call: (engine, body) => engine.publishCatalog((body as { catalog: never }).catalog),
  },
  getProducts: noArgs('read', 'getProducts'),
  getCoupons: noArgs('read', 'getCoupons'),

  // Customers
  provisionCustomer: params('write', 'provisionCustomer'),
  updateCustomer: params('write', 'updateCustomer'),
  getCustomer: byId('read', 'getCustomer', 'customerId'),
  getCustomers: params('read', 'getCustomers'),
  archiveCustomer: byId('write', 'archiveCustomer', 'customerId'),
  unarchiveCustomer: byId('write', 'unarchiveCustomer', 'customerId'),

  // Subscriptions
  provisionSubscription: params('write', 'provisionSubscription'),
  getSubscription: byId('read', 'getSubscription', 'subscriptionId'),
  getActiveSubscriptions: params('read', 'getActiveSubscriptions'),
  cancelSubscription: params('write', 'cancelSubscription'),
  updateSubscription: params('write', 'updateSubscription'),
  cancelSubscriptionScheduledUpdates: params('write', 'cancelSubscriptionScheduledUpdates'),
  migrateSubscriptionToLatest: params('write', 'migrateSubscriptionToLatest'),
  confirmPayment: params('write', 'confirmPayment'),
  retryCheckout: params('write', 'retryCheckout'),
  getSubscriptions: params('read', 'getSubscriptions'),
  getInvoices: params('read', 'getInvoices'),
  estimateSubscription: params('read', 'estimateSubscription'),
  estimateSubscriptionUpdate: params('read', 'estimateSubscriptionUpdate'),
  tick: noArgs('write', 'tick'),
  // Heavy (it reads every customer's history): full-access keys only, though it writes nothing.
  simulateCatalog: params('write', 'simulateCatalog'),

  // Entitlement checks
  getEntitlement: params('read', 'getEntitlement'),
  getBooleanEntitlement: params('read', 'getBooleanEntitlement'),
  getNumericEntitlement: params('read', 'getNumericEntitlement'),
  getMeteredEntitlement: params('read', 'getMeteredEntitlement'),
  getEnumEntitlement: params('read', 'getEnumEntitlement'),
  getEntitlements: params('read', 'getEntitlements'),

  // Usage and events
  reportUsage: params('write', 'reportUsage'),
  reportUsageBulk: params('write', 'reportUsageBulk'),
  reportEvent: params('write', 'reportEvent'),
  consumeUsage: params('write', 'consumeUsage'),
  reserveUsage: params('write', 'reserveUsage'),
  commitReservation: params('write', 'commitReservation'),
  releaseReservation: params('write', 'releaseReservation'),
  createEntity: params('write', 'createEntity'),
  deleteEntity: params('write', 'deleteEntity'),
  getEntities: params('read', 'getEntities'),
  getUsageHistory: params('read', 'getUsageHistory'),
  getUnmatchedEvents: params('read', 'getUnmatchedEvents'),

  // Promotions, credits, paywall
  grantPromotionalEntitlements: params('write', 'grantPromotionalEntitlements'),
  revokePromotionalEntitlements: params('write', 'revokePromotionalEntitlements'),
  setEntitlementOverride: params('write', 'setEntitlementOverride'),
  removeEntitlementOverride: params('write', 'removeEntitlementOverride'),
  getEntitlementOverrides: params('read', 'getEntitlementOverrides'),
  grantCredits: params('write', 'grantCredits'),
  voidCreditGrant: params('write', 'voidCreditGrant'),
  getCreditGrants: params('read', 'getCreditGrants'),
  getCreditBalance: params('read', 'getCreditBalance'),
  getCreditLedger: params('read', 'getCreditLedger'),
  consumeCredits: params('write', 'consumeCredits'),
  getCreditEntitlement: params('read', 'getCreditEntitlement'),
  saveAutomaticRechargeConfiguration: params('write', 'saveAutomaticRechargeConfiguration'),
  getAutomaticRechargeConfiguration: params('read', 'getAutomaticRechargeConfiguration'),
  getPaywall: params('read', 'getPaywall'),

  // Alerts and webhooks
  setUsageAlerts: params('write', 'setUsageAlerts'),
  setSpendCap: params('write', 'setSpendCap'),
  removeSpendCap: params('write', 'removeSpendCap'),
  getSpendCaps: params('read', 'getSpendCaps'),
  getWebhookDeliveries: params('read', 'getWebhookDeliveries'),

  // Change feed
  getChanges: params('read', 'getChanges'),
};

/** The spec of `name`, or undefined for anything that is not an exposed method (also `toString`, `__proto__`...). */
export function methodSpec(name: string): MethodSpec | undefined {
  return Object.hasOwn(METHODS, name) ? METHODS[name as MethodName] : undefined;
}

import type { Engine } from '@tessera/core';

/**
 * The engine methods that are not requests: listeners, lifecycle, metrics (served at /metrics),
 * `transaction` (a callback on the process's own database connection). Never exposed over HTTP as methods.
 */
export const NOT_EXPOSED = ['addListener', 'removeListener', 'on', 'off', 'close', 'getMetrics', 'transaction'] as const;

type EngineMethodName = {
  [K in keyof Engine]: Engine[K] extends (...args: never[]) => unknown ? K : never;
}[keyof Engine];

/** The engine methods the sidecar exposes (every public method but listeners and `close`). */
export type MethodName = Exclude<EngineMethodName, (typeof NOT_EXPOSED)[number]>;

/**
 * How the arguments of one engine method cross HTTP: `POST /v1/<name>` with `toBody(args)` as
 * JSON. The sidecar's method table (`@tessera/http`) adds who may call it and how the body
 * becomes the engine call.
 */
export interface MethodWire {
  /** Turns the client's arguments (the engine's own signature) into the JSON body. */
  toBody(args: unknown[]): unknown;
  /** The engine method returns nothing (`Promise<void>`): the server answers `null`, the client `undefined`. */
  returnsVoid?: boolean;
}

/** The body is the params object, passed as is (an absent body is `{}`). */
const params: MethodWire = { toBody: (args) => args[0] ?? {} };

/** The engine takes one id (`getCustomer(customerId)`): the body is `{ [key]: id }`. */
const byId = (key: string, returnsVoid = false): MethodWire => ({ returnsVoid, toBody: (args) => ({ [key]: args[0] }) });

/** The engine method takes no argument: the body is `{}`. */
const noArgs: MethodWire = { toBody: () => ({}) };

/** Every exposed engine method and how its arguments become the JSON body. */
export const METHOD_WIRE: Record<MethodName, MethodWire> = {
  syncNow: { ...noArgs, returnsVoid: true },
  lastChangeSeq: noArgs,

  // Catalog
  publishCatalog: {
    // A defineCatalog() result holds Maps; its definition is what crosses the wire.
    toBody: (args) => {
      const c = args[0] as { definition?: unknown; plansOfProduct?: unknown } | undefined;
      return { catalog: c && typeof c.plansOfProduct === 'function' ? c.definition : c };
    },
  },
  getProducts: noArgs,
  getCoupons: noArgs,

  // Customers
  provisionCustomer: params,
  updateCustomer: params,
  getCustomer: byId('customerId'),
  getCustomers: params,
  archiveCustomer: byId('customerId', true),
  unarchiveCustomer: byId('customerId'),

  // Subscriptions
  provisionSubscription: params,
  getSubscription: byId('subscriptionId'),
  getActiveSubscriptions: params,
  cancelSubscription: params,
  updateSubscription: params,
  cancelSubscriptionScheduledUpdates: params,
  migrateSubscriptionToLatest: params,
  confirmPayment: params,
  retryCheckout: params,
  getSubscriptions: params,
  getInvoices: params,
  estimateSubscription: params,
  estimateSubscriptionUpdate: params,
  tick: noArgs,
  simulateCatalog: {
    // As publishCatalog: a defineCatalog() result crosses the wire as its definition.
    toBody: (args) => {
      const p = (args[0] ?? {}) as { catalog?: { definition?: unknown; plansOfProduct?: unknown } };
      const c = p.catalog;
      return { ...p, catalog: c && typeof c.plansOfProduct === 'function' ? c.definition : c };
    },
  },

  // Entitlement checks
  getEntitlement: params,
  getBooleanEntitlement: params,
  getNumericEntitlement: params,
  getMeteredEntitlement: params,
  getEnumEntitlement: params,
  getEntitlements: {
    // The engine also takes `getEntitlements(customerId, resourceId?)`, as the SDKs do.
    toBody: (args) =>
      typeof args[0] === 'string' ? (args[1] === undefined ? { customerId: args[0] } : { customerId: args[0], resourceId: args[1] }) : (args[0] ?? {}),
  },

  // Usage and events
  reportUsage: params,
  reportUsageBulk: params,
  // The body is one event or an array of events, as the engine takes them.
  reportEvent: params,
  consumeUsage: params,
  reserveUsage: params,
  commitReservation: params,
  releaseReservation: params,
  createEntity: params,
  deleteEntity: params,
  getEntities: params,
  getUsageHistory: params,
  getUnmatchedEvents: params,

  // Promotions, credits, paywall
  grantPromotionalEntitlements: params,
  revokePromotionalEntitlements: params,
  setEntitlementOverride: params,
  removeEntitlementOverride: params,
  getEntitlementOverrides: params,
  grantCredits: params,
  voidCreditGrant: params,
  getCreditGrants: params,
  getCreditBalance: params,
  getCreditLedger: params,
  consumeCredits: params,
  getCreditEntitlement: params,
  saveAutomaticRechargeConfiguration: params,
  getAutomaticRechargeConfiguration: params,
  getPaywall: params,

  // Alerts and webhooks
  setUsageAlerts: params,
  setSpendCap: params,
  removeSpendCap: params,
  getSpendCaps: params,
  getWebhookDeliveries: params,

  // Change feed
  getChanges: params,
};

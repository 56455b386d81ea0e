import type { Engine } from '@tessera/core';

/** Who may call a method: read-only keys may call `read` methods, full-access keys both. */
export type MethodAccess = 'read' | 'write';

/**
 * How one engine method crosses HTTP: `POST /v1/<name>` with `body` as JSON.
 * `call` turns the parsed body into the engine call on the server; `toBody` turns the
 * client's arguments (the engine's own signature) into that body.
 */
export interface MethodSpec {
  access: MethodAccess;
  call(engine: Engine, body: unknown): Promise<unknown>;
  toBody(args: unknown[]): unknown;
  /** The engine method returns nothing (`Promise<void>`): the server answers `null`, the client `undefined`. */
  returnsVoid?: boolean;
  /** Names of the only keys the body may hold, checked by the server (methods whose engine argument is not an object). */
  bodyKeys?: readonly string[];
}

/** The engine methods that are not requests: listeners, lifecycle, metrics (served at /metrics). Never exposed over HTTP as methods. */
export const NOT_EXPOSED = ['addListener', 'removeListener', 'on', 'off', 'close', 'getMetrics'] as const;

type EngineMethodName = {
  [K in keyof Engine]: Engine[K] extends (...args: never[]) => unknown ? K : never;
}[keyof Engine];

/** The engine methods the sidecar exposes (every public method but listeners and `close`). */
export type MethodName = Exclude<EngineMethodName, (typeof NOT_EXPOSED)[number]>;

type AnyMethod = (...args: unknown[]) => Promise<unknown>;
const method = (engine: Engine, name: string): AnyMethod => {
  const fn = (engine as unknown as Record<string, AnyMethod>)[name]!;
  return fn.bind(engine);
};

/** The body is the params object, passed as is (an absent body is `{}`). */
function params(access: MethodAccess, name: MethodName): MethodSpec {
  return {
    access,
    call: (engine, body) => method(engine, name)(body),
    toBody: (args) => args[0] ?? {},
  };
}

/** The engine takes one id (`getCustomer(customerId)`): the body is `{ [key]: id }`. */
function byId(access: MethodAccess, name: MethodName, key: string, returnsVoid = false): MethodSpec {
  return {
    access,
    returnsVoid,
    bodyKeys: [key],
    call: (engine, body) => method(engine, name)((body as Record<string, unknown>)[key]),
    toBody: (args) => ({ [key]: args[0] }),
  };
}

/** The engine method takes no argument: the body is `{}` or absent. */
function noArgs(access: MethodAccess, name: MethodName): MethodSpec {
  return {
    access,
    bodyKeys: [],
    call: (engine) => method(engine, name)(),
    toBody: () => ({}),
  };
}

/**
 * Every exposed engine method and how its arguments map to the JSON body. Read methods
 * (get*, estimate*, the entitlement checks, the change feed) are open to read-only keys.
 * test/http checks that every public method of `Engine` is either here or in NOT_EXPOSED.
 */
export const METHODS: Record<MethodName, MethodSpec> = {
  // Other processes' writes, applied now rather than at the engine's next poll (writes nothing).
  syncNow: { ...noArgs('read', 'syncNow'), returnsVoid: true },
  lastChangeSeq: noArgs('read', 'lastChangeSeq'),

  // Catalog
  publishCatalog: {
    access: 'write',
    bodyKeys: ['catalog'],
    call: (engine, body) => engine.publishCatalog((body as { catalog: never }).catalog),
    // A defineCatalog() result holds Maps; its definition is what crosses the wire.
    toBody: (args) => {
      const c = args[0] as { definition?: unknown; plansOfProduct?: unknown } | undefined;
      return { catalog: c && typeof c.plansOfProduct === 'function' ? c.definition : c };
    },
  },
  getProducts: noArgs('read', 'getProducts'),
  getCoupons: noArgs('read', 'getCoupons'),

  // Customers
  provisionCustomer: params('write', 'provisionCustomer'),
  updateCustomer: params('write', 'updateCustomer'),
  getCustomer: byId('read', 'getCustomer', 'customerId'),
  archiveCustomer: byId('write', 'archiveCustomer', 'customerId', true),
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

  // Entitlement checks
  getEntitlement: params('read', 'getEntitlement'),
  getBooleanEntitlement: params('read', 'getBooleanEntitlement'),
  getNumericEntitlement: params('read', 'getNumericEntitlement'),
  getMeteredEntitlement: params('read', 'getMeteredEntitlement'),
  getEnumEntitlement: params('read', 'getEnumEntitlement'),
  getEntitlements: {
    ...params('read', 'getEntitlements'),
    // The engine also takes `getEntitlements(customerId, resourceId?)`, as the SDKs do.
    toBody: (args) =>
      typeof args[0] === 'string' ? (args[1] === undefined ? { customerId: args[0] } : { customerId: args[0], resourceId: args[1] }) : (args[0] ?? {}),
  },

  // Usage and events
  reportUsage: params('write', 'reportUsage'),
  reportUsageBulk: params('write', 'reportUsageBulk'),
  // The body is one event or an array of events, as the engine takes them.
  reportEvent: params('write', 'reportEvent'),
  consumeUsage: params('write', 'consumeUsage'),
  reserveUsage: params('write', 'reserveUsage'),
  commitReservation: params('write', 'commitReservation'),
  releaseReservation: params('write', 'releaseReservation'),
  getUsageHistory: params('read', 'getUsageHistory'),
  getUnmatchedEvents: params('read', 'getUnmatchedEvents'),

  // Promotions, credits, paywall
  grantPromotionalEntitlements: params('write', 'grantPromotionalEntitlements'),
  revokePromotionalEntitlements: params('write', 'revokePromotionalEntitlements'),
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

  // Change feed
  getChanges: params('read', 'getChanges'),
};

/** The spec of `name`, or undefined for anything that is not an exposed method (also `toString`, `__proto__`...). */
export function methodSpec(name: string): MethodSpec | undefined {
  return Object.hasOwn(METHODS, name) ? METHODS[name as MethodName] : undefined;
}

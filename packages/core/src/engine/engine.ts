// The engine's facade. Its rooms, by capability (one folder each, as rules/ reads):
//   checks/         entitlement checks, the resolved view, paywalls, offline answers
//   usage/          usage reports, raw events and meters, consumption and reservations, history
//   subscriptions/  customers, subscriptions and their changes, lifecycle, promotions
//   billing/        invoices, estimates, credits, payments and provider calls
//   entities/       members of a customer (seats, workspaces) and their lookups
//   alerts/         usage and credit thresholds, webhook deliveries
//   alerts/         usage and credit thresholds, their webhooks
//   runtime/        creation, context, catalog publishing, the change follower, tick, telemetry
import type { Catalog } from '../catalog/catalog.js';
import type { CatalogIds } from '../catalog/ids.js';
import type { CatalogDefinition, CouponDefinition } from '../catalog/types.js';
import { ENGINE_EVENT_NAMES, type EngineEventName } from '../events.js';
import { invalidArgument } from '../errors.js';
import type { ChangeRecord } from '../records.js';
import { getProducts, getCoupons, publishCatalog, type Product } from './runtime/catalog.js';
import type { EngineContext } from './runtime/context.js';
import * as customers from './subscriptions/customers.js';
import type { Customer, ProvisionCustomerParams, UpdateCustomerParams } from './subscriptions/customers.js';
import { evaluateAll, type BooleanEntitlement, type EnumEntitlement, type Entitlement, type GetEntitlementParams, type MeteredEntitlement, type NumericEntitlement } from './checks/entitlements.js';
import { Params } from './runtime/params.js';
import type { Subscription } from './subscriptions/subscription-shape.js';
import type { SubscriptionDetail } from './subscriptions/subscription-detail.js';
import type { ProvisionSubscriptionParams } from './subscriptions/subscription-params.js';
import * as subscriptions from './subscriptions/subscriptions.js';
import type { CancelSubscriptionParams, ProvisionSubscriptionResult } from './subscriptions/subscriptions.js';
import * as usage from './usage/usage.js';
import type { ReportedUsage, ReportUsageParams } from './usage/usage.js';
import type { ChangeFollower } from './runtime/follow.js';
import { DEFAULT_EVENT_LIMITS, reportEvent, type EventLimits, type RawEvent, type ReportEventResult } from './usage/raw-events.js';
import * as consumption from './usage/consumption.js';
import type { Consumption, Reservation } from './usage/consumption.js';
import { getUnmatchedEvents, getUsageHistory, type UnmatchedEvent, type UsageHistory } from './usage/history.js';
import type { Invoice } from './billing/billing.js';
import * as changes from './subscriptions/subscription-changes.js';
import type { UpdateSubscriptionParams } from './subscriptions/subscription-changes.js';
import { estimateSubscription, estimateSubscriptionUpdate, type Estimate } from './billing/estimates.js';
import { tick, type TickResult } from './runtime/tick.js';
import { runTransaction, transactionApi, type EngineTransaction } from './runtime/transaction.js';
import { simulateCatalog, type CatalogSimulation, type SimulateCatalogParams } from './billing/simulate.js';
import { getSubscriptions, type GetSubscriptionsParams } from './subscriptions/subscription-list.js';
import * as credits from './billing/credits.js';
import type { CreditGrantView } from './billing/credits.js';
import { grantPromotionalEntitlements, revokePromotionalEntitlements, type PromotionalEntitlement } from './subscriptions/promotions.js';
import { getEntitlementOverrides, removeEntitlementOverride, setEntitlementOverride, type EntitlementOverride } from './subscriptions/overrides.js';
import { getPaywall } from './checks/paywall.js';
import type { Paywall } from '../rules/paywall.js';
import { check } from './checks/check.js';
import { entitlementsAsOf } from './checks/as-of.js';
import { retryCheckout, type CheckoutResult } from './billing/payments.js';
import { drainProviderCalls } from './billing/provider-calls.js';
import { setUsageAlerts, type UsageAlerts } from './alerts/thresholds.js';
import { getSpendCaps, removeSpendCap, setSpendCap, type SpendCap, type SpendCapSetting } from './billing/spend-caps.js';
import { getWebhookDeliveries, stopWebhookPoller, type GetWebhookDeliveriesParams, type WebhookDeliveryPage } from './alerts/webhooks.js';
import type { ConsumeUsageParams, Handler } from './runtime/engine-types.js';
import * as entities from './entities/entities.js';
import type { CreateEntityParams, Entity, GetEntitiesParams } from './entities/entities.js';
import type { EngineMetricsSnapshot } from './runtime/metrics.js';

export type { ConsumeUsageParams, EngineOptions } from './runtime/engine-types.js';

/**
 * An entitlement and pricing engine bound to one store. Every method validates its params,
 * runs in one store transaction and either returns or throws a `TesseraError` having written
 * nothing. Checks are answered from a bounded in-memory view that the engine's writes refresh.
 *
 * `Ids`: the feature, plan, add-on, product, coupon and credit currency ids the params accept,
 * from a catalog declared with `defineCatalog` (docs/catalog.md#typed-ids); `string` by default.
 * Types only: at run time every id is checked against the latest published catalog.
 */
export class Engine<Ids extends CatalogIds = CatalogIds> {
  private closed = false;

  /** @internal use `createEngine`. */
  constructor(
    private readonly ctx: EngineContext,
    private readonly eventLimits: EventLimits = DEFAULT_EVENT_LIMITS,
    private readonly follower?: ChangeFollower,
  ) {}

  /**
   * Applies writes other processes committed since the last poll now (checks, listeners),
   * instead of waiting for the next poll.
   */
  async syncNow(): Promise<void> {
    await this.follower?.poll();
  }

  // Catalog

  /** Validates and publishes a catalog; a no-op returning `changed: false` when nothing changed. */
  publishCatalog(catalog: Catalog | CatalogDefinition): Promise<{ version: number; changed: boolean }> {
    return publishCatalog(this.ctx, catalog);
  }

  /** The latest catalog's products with their plans in order. */
  async getProducts(): Promise<Product[]> {
    return getProducts(this.ctx);
  }

  /** The latest catalog's coupons. */
  async getCoupons(): Promise<CouponDefinition[]> {
    return getCoupons(this.ctx);
  }

  /** The latest published catalog version number. */
  get catalogVersion(): number {
    return this.ctx.latest().record.version;
  }

  // Customers

  /** Creates or updates a customer, optionally with a subscription. Throws CUSTOMER_ID_ARCHIVED, PLAN_NOT_FOUND... */
  provisionCustomer(params: ProvisionCustomerParams<Ids>): Promise<{ customer: Customer; subscription?: Subscription }> {
    return customers.provisionCustomer(this.ctx, params);
  }

  /** Updates the given fields of a customer. Throws CUSTOMER_NOT_FOUND. */
  updateCustomer(params: UpdateCustomerParams<Ids>): Promise<Customer> {
    return customers.updateCustomer(this.ctx, params);
  }

  /** A customer with active subscriptions. Throws CUSTOMER_NOT_FOUND (also for archived ones). */
  getCustomer(customerId: string): Promise<Customer> {
    return customers.getCustomer(this.ctx, customerId);
  }

  /** Archives a customer: PII nulled, subscriptions ended, id reserved. Throws CUSTOMER_NOT_FOUND. */
  archiveCustomer(customerId: string): Promise<void> {
    return customers.archiveCustomer(this.ctx, customerId);
  }

  /** Restores an archived customer. Throws CUSTOMER_NOT_FOUND when not archived. */
  unarchiveCustomer(customerId: string): Promise<Customer> {
    return customers.unarchiveCustomer(this.ctx, customerId);
  }

  // Subscriptions

  /** Provisions a subscription (see API.md for the replacement and trial rules). */
  provisionSubscription(params: ProvisionSubscriptionParams<Ids>): Promise<ProvisionSubscriptionResult> {
    return subscriptions.provisionSubscription(this.ctx, params);
  }

  /**
   * One subscription with what a billing page shows: plan and add-on names, price lines in the
   * billing country, payment collection, scheduled updates named, the latest invoice
   * (docs/pricing.md#subscription-detail). Lists return the lean `Subscription`. Throws SUBSCRIPTION_NOT_FOUND.
   */
  getSubscription(subscriptionId: string): Promise<SubscriptionDetail> {
    return subscriptions.getSubscription(this.ctx, subscriptionId);
  }

  /** Subscriptions granting entitlements now, optionally for one or several resources; lean (`getSubscription` has the detail). */
  getActiveSubscriptions(params: { customerId: string; resourceId?: string | string[] }): Promise<Subscription[]> {
    return subscriptions.getActiveSubscriptions(this.ctx, params);
  }

  /** Cancels now or at period end; the journey's downgrade plan follows. */
  cancelSubscription(params: CancelSubscriptionParams): Promise<Subscription> {
    return subscriptions.cancelSubscription(this.ctx, params);
  }

  /** Changes quantities, add-ons, promotion code, billing period or metadata; price changes are prorated and invoiced. */
  updateSubscription(params: UpdateSubscriptionParams<Ids>): Promise<Subscription> {
    return changes.updateSubscription(this.ctx, params);
  }

  /** Drops scheduled updates (a pending downgrade, a migration), optionally only those in `status`. */
  cancelSubscriptionScheduledUpdates(params: { subscriptionId: string; status?: 'SCHEDULED' | 'PENDING_PAYMENT' }): Promise<Subscription> {
    return changes.cancelSubscriptionScheduledUpdates(this.ctx, params);
  }

  /** Moves a subscription to the latest plan and add-on versions, now (prorated) or at period end. */
  migrateSubscriptionToLatest(params: { subscriptionId: string; subscriptionMigrationTime?: 'IMMEDIATE' | 'END_OF_BILLING_PERIOD' }): Promise<Subscription> {
    return changes.migrateSubscriptionToLatest(this.ctx, params);
  }

  /** Marks a PAYMENT_PENDING subscription paid (from the payment provider's confirmation); it starts granting. */
  confirmPayment(params: { subscriptionId: string }): Promise<Subscription> {
    return changes.confirmPayment(this.ctx, params);
  }

  /**
   * The checkout URL of a PAYMENT_PENDING subscription whose checkout failed (PAYMENT_PROVIDER_FAILED)
   * or was left pending: calls the payment provider again with the same idempotency key, or answers
   * the URL already obtained. docs/providers.md
   */
  retryCheckout(params: { subscriptionId: string }): Promise<CheckoutResult> {
    return retryCheckout(this.ctx, params);
  }

  /** Subscriptions filtered, sorted and cursor-paged in the store; lean (`getSubscription` has the detail). */
  getSubscriptions(params: GetSubscriptionsParams = {}): Promise<{ data: Subscription[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } }> {
    return getSubscriptions(this.ctx, params);
  }

  /** A customer's invoices, oldest first. */
  getInvoices(params: { customerId: string; subscriptionId?: string }): Promise<Invoice[]> {
    return subscriptions.getInvoices(this.ctx, params);
  }

  /** What provisioning would bill now; writes nothing. Equals the invoice the same call produces. */
  estimateSubscription(params: ProvisionSubscriptionParams<Ids>): Promise<Estimate> {
    return estimateSubscription(this.ctx, params);
  }

  /** What `updateSubscription` would bill now (with proration); writes nothing. */
  estimateSubscriptionUpdate(params: UpdateSubscriptionParams<Ids>): Promise<Estimate> {
    return estimateSubscriptionUpdate(this.ctx, params);
  }

  /**
   * What every customer would have been billed in [from, to) under a candidate catalog, next to
   * the stored invoices, with the difference per line and totals (docs/simulation.md). Reads only.
   */
  simulateCatalog(params: SimulateCatalogParams): Promise<CatalogSimulation> {
    return simulateCatalog(this.ctx, params);
  }

  /**
   * Materialises what is due (stored statuses, scheduled updates, renewal and usage invoices).
   * Reads are right without it; idempotent.
   */
  tick(): Promise<TickResult> {
    return tick(this.ctx);
  }

  // Entitlement checks

  /** The entitlement of any feature type. Denies (never throws) for unknown customers or features. */
  getEntitlement(params: GetEntitlementParams<Ids>): Promise<Entitlement> {
    return check(this.ctx, params, 'getEntitlement', undefined);
  }

  /**
   * A BOOLEAN feature's entitlement. Always shaped as one: an unknown feature (FeatureNotFound) or
   * a feature of another type (FeatureTypeMismatch) denies with `type: 'BOOLEAN'`.
   */
  getBooleanEntitlement(params: GetEntitlementParams<Ids>): Promise<BooleanEntitlement> {
    return check(this.ctx, params, 'getBooleanEntitlement', 'BOOLEAN');
  }

  /** A NUMERIC feature's entitlement; a denial (FeatureTypeMismatch...) has `value: null`. */
  getNumericEntitlement(params: GetEntitlementParams<Ids>): Promise<NumericEntitlement> {
    return check(this.ctx, params, 'getNumericEntitlement', 'NUMERIC');
  }

  /**
   * A METERED feature's entitlement with usage; `options.requestedUsage` asks for more. A denial
   * without an entitlement (FeatureNotFound, FeatureTypeMismatch...) has `usageLimit: null`,
   * `currentUsage: 0` and `resetPeriod: null`.
   */
  getMeteredEntitlement(params: GetEntitlementParams<Ids>): Promise<MeteredEntitlement> {
    return check(this.ctx, params, 'getMeteredEntitlement', 'METERED');
  }

  /** An ENUM feature's entitlement; `options.requestedValues` must all be enabled. A denial has `enumValues: []`. */
  getEnumEntitlement(params: GetEntitlementParams<Ids>): Promise<EnumEntitlement> {
    return check(this.ctx, params, 'getEnumEntitlement', 'ENUM');
  }

  /**
   * Every entitlement the customer has (for a resource; as an entity sees them with `entityId`,
   * docs/entities.md#checks). Empty for unknown or archived customers. With `at`, as at that past
   * instant (docs/as-of.md).
   */
  async getEntitlements(params: { customerId: string; resourceId?: string; entityId?: string; at?: Date | string | number } | string, resourceId?: string): Promise<Entitlement[]> {
    const raw = typeof params === 'string' ? { customerId: params, resourceId } : params;
    const p = new Params(raw, 'getEntitlements', ['customerId', 'resourceId', 'entityId', 'at']);
    if (p.has('at')) return entitlementsAsOf(this.ctx, p);
    return evaluateAll(this.ctx, p.id('customerId'), p.optId('resourceId') ?? '', p.optId('entityId') ?? '');
  }

  // Entities (docs/entities.md)

  /**
   * Creates an entity of a customer (a user, a workspace, an API key), or revives a deleted one.
   * With `featureId` it occupies a seat (one unit of that feature's usage): USAGE_LIMIT_EXCEEDED
   * with the seat's denial reason when none is left. CONFLICT when it exists with other fields.
   */
  createEntity(params: CreateEntityParams & { featureId?: Ids['feature'] }): Promise<Entity> {
    return entities.createEntity(this.ctx, params);
  }

  /** Deletes an entity: its seat is freed, its past usage stays. Throws ENTITY_NOT_FOUND. */
  deleteEntity(params: { customerId: string; entityId: string }): Promise<Entity> {
    return entities.deleteEntity(this.ctx, params);
  }

  /** A customer's entities by entityId, cursor-paged (`limit`, `cursor`). Throws CUSTOMER_NOT_FOUND. */
  getEntities(params: GetEntitiesParams & { featureId?: Ids['feature'] }): Promise<{ data: Entity[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } }> {
    return entities.getEntities(this.ctx, params);
  }

  // Usage

  /** Reports calculated usage (DELTA or SET); a repeated idempotency key returns the first result. */
  reportUsage(params: ReportUsageParams<Ids>): Promise<ReportedUsage> {
    return usage.reportUsage(this.ctx, params);
  }

  /** Reports many usages in one transaction: all or none. */
  reportUsageBulk(params: { usages: ReportUsageParams<Ids>[] }): Promise<ReportedUsage[]> {
    return usage.reportUsageBulk(this.ctx, params);
  }

  /**
   * Stores raw events once per idempotency key and meters them into usage. A malformed event
   * rejects the whole batch (every problem in `details.problems`) and stores nothing.
   */
  reportEvent(events: RawEvent | RawEvent[]): Promise<ReportEventResult> {
    return reportEvent(this.ctx, events, this.eventLimits);
  }

  /** Checks and records usage in one step; never exceeds a hard limit. Throws USAGE_LIMIT_EXCEEDED (REJECT). */
  consumeUsage(params: ConsumeUsageParams<Ids>): Promise<Consumption> {
    return consumption.consumeUsage(this.ctx, params);
  }

  /** Holds quota for `expiresIn` milliseconds; commit or release it, or let it lapse. */
  reserveUsage(params: ConsumeUsageParams<Ids> & { expiresIn: number }): Promise<Reservation> {
    return consumption.reserveUsage(this.ctx, params);
  }

  /** Records a held reservation as usage (`amount` at most what was held). Throws CONFLICT when expired or released. */
  commitReservation(params: { reservationId: string; amount?: number }): Promise<Reservation> {
    return consumption.commitReservation(this.ctx, params);
  }

  /** Gives a held reservation back. Idempotent. */
  releaseReservation(params: { reservationId: string }): Promise<Reservation> {
    return consumption.releaseReservation(this.ctx, params);
  }

  /**
   * Runs `fn` in one store transaction with the usage writes it makes through `tx` and, on SQLite
   * with the application's own `database`, the application's statements on that connection: all
   * of it commits, or (a throw from `fn`, or from any `tx` call) none of it does. Listeners, checks
   * and the change feed see the writes only after the commit; provider calls and webhooks they
   * queue are made after it too. Resolves to `fn`'s result once committed.
   *
   * Inside `fn`, use `tx` rather than this engine's own write methods (those wait for the
   * transaction `fn` is in: a deadlock), and touch nothing but the database (on stores that retry
   * a transaction, `fn` may run again). Throws OFFLINE on an offline engine. docs/transactions.md.
   */
  transaction<T>(fn: (tx: EngineTransaction<Ids>) => Promise<T>): Promise<T> {
    return runTransaction(this.ctx, (inner, joined, db) => fn(transactionApi<Ids>(inner, joined, db, this.eventLimits)));
  }

  /**
   * Usage per window over [start, end), optionally grouped by a dimension; the customer's pooled
   * usage, or an entity's with `entityId`, or split per entity with `groupByEntity` (docs/entities.md#history).
   */
  getUsageHistory(params: {
    customerId: string;
    featureId: Ids['feature'];
    resourceId?: string;
    entityId?: string;
    start: Date | string;
    end: Date | string;
    groupBy?: string;
    groupByEntity?: boolean;
  }): Promise<UsageHistory> {
    return getUsageHistory(this.ctx, params);
  }

  /** Events accepted but counted by no meter, with the reason (cursor-paged). */
  getUnmatchedEvents(params: { first?: number; after?: string } = {}): Promise<{ data: UnmatchedEvent[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } }> {
    return getUnmatchedEvents(this.ctx, params);
  }

  // Promotions, credits, paywall

  /** Grants features for a period (ONE_WEEK ... LIFETIME, CUSTOM with customEndDate); no subscription needed. */
  grantPromotionalEntitlements(params: {
    customerId: string;
    resourceId?: string;
    promotionalEntitlements: { featureId: Ids['feature']; period: string; customEndDate?: Date | string; value?: number; usageLimit?: number; isUnlimited?: boolean; hasSoftLimit?: boolean; resetPeriod?: string | null; enumValues?: string[] }[];
  }): Promise<PromotionalEntitlement[]> {
    return grantPromotionalEntitlements(this.ctx, params);
  }

  /** Revokes a feature's promotional grants now. */
  revokePromotionalEntitlements(params: { customerId: string; featureId: Ids['feature']; resourceId?: string }): Promise<{ revoked: number }> {
    return revokePromotionalEntitlements(this.ctx, params);
  }

  /**
   * Sets a per-customer override of a feature's entitlement from `startDate` (default now) to
   * `endDate` (exclusive; default until removed): it replaces what the subscriptions grant,
   * promotional grants still add (docs/overrides.md). Replaces the live override of the same
   * feature and resource.
   */
  setEntitlementOverride(params: {
    customerId: string;
    featureId: Ids['feature'];
    resourceId?: string;
    entitlement: { value?: number; usageLimit?: number; isUnlimited?: boolean; hasSoftLimit?: boolean; resetPeriod?: string | null; resetPeriodConfiguration?: Record<string, unknown>; enumValues?: string[] };
    startDate?: Date | string;
    endDate?: Date | string;
    reason?: string | null;
  }): Promise<EntitlementOverride> {
    return setEntitlementOverride(this.ctx, params);
  }

  /** Removes now the customer's override of a feature (for the resource, else the customer level). */
  removeEntitlementOverride(params: { customerId: string; featureId: Ids['feature']; resourceId?: string }): Promise<{ removed: number }> {
    return removeEntitlementOverride(this.ctx, params);
  }

  /** Every entitlement override of a customer with its status now, oldest first. */
  getEntitlementOverrides(params: { customerId: string }): Promise<EntitlementOverride[]> {
    return getEntitlementOverrides(this.ctx, params);
  }

  /** Grants credits of a credit currency (amount as a decimal string). */
  grantCredits(params: { customerId: string; currencyId: Ids['creditCurrency']; amount: string; category?: 'PAID' | 'PROMOTIONAL'; expiresAt?: Date | string; priority?: number; idempotencyKey?: string }): Promise<CreditGrantView> {
    return credits.grantCredits(this.ctx, params);
  }

  /** Voids what is left of a grant. */
  voidCreditGrant(params: { customerId: string; grantId: string }): Promise<CreditGrantView> {
    return credits.voidCreditGrant(this.ctx, params);
  }

  /** A customer's credit grants. */
  getCreditGrants(params: { customerId: string; currencyId?: Ids['creditCurrency'] }): Promise<CreditGrantView[]> {
    return credits.getCreditGrants(this.ctx, params);
  }

  /** Usable credits now. */
  getCreditBalance(params: { customerId: string; currencyId: Ids['creditCurrency'] }): Promise<{ customerId: string; currencyId: string; balance: string }> {
    return credits.getCreditBalance(this.ctx, params);
  }

  /** The credit ledger, cursor-paged. */
  getCreditLedger(params: { customerId: string; currencyId: Ids['creditCurrency']; first?: number; after?: string }) {
    return credits.getCreditLedger(this.ctx, params);
  }

  /** Burns credits all or nothing (USAGE_LIMIT_EXCEEDED, reason InsufficientCredits, when short). */
  consumeCredits(params: { customerId: string; currencyId: Ids['creditCurrency']; amount: string; idempotencyKey?: string }): Promise<{ burnt: string; balance: string }> {
    return credits.consumeCredits(this.ctx, params);
  }

  /** Whether the balance covers `options.requestedAmount`. Never throws for a "no". */
  getCreditEntitlement(params: { customerId: string; currencyId: Ids['creditCurrency']; options?: { requestedAmount?: number } }) {
    return credits.getCreditEntitlement(this.ctx, params);
  }

  /** Stores automatic recharge settings for a customer and credit currency. */
  saveAutomaticRechargeConfiguration(params: {
    customerId: string;
    currencyId: Ids['creditCurrency'];
    isEnabled: boolean;
    thresholdType: 'CREDIT_AMOUNT' | 'DOLLAR_AMOUNT';
    thresholdValue: string | number;
    targetBalance: string | number;
    maxSpendLimit?: string | number;
    grantExpirationPeriod?: 'ONE_MONTH' | 'ONE_YEAR';
  }): Promise<credits.RechargeConfiguration> {
    return credits.saveAutomaticRechargeConfiguration(this.ctx, params);
  }

  /** The stored automatic recharge settings, or null. */
  getAutomaticRechargeConfiguration(params: { customerId: string; currencyId: Ids['creditCurrency'] }): Promise<credits.RechargeConfiguration | null> {
    return credits.getAutomaticRechargeConfiguration(this.ctx, params);
  }

  /**
   * Sets a customer's own usage alert thresholds for a METERED feature, in percents of its limit;
   * they add to the catalog's `alerts` ([] removes them). docs/alerts.md.
   */
  setUsageAlerts(params: { customerId: string; featureId: Ids['feature']; percents: number[] }): Promise<UsageAlerts> {
    return setUsageAlerts(this.ctx, params);
  }

  /**
   * Sets a customer's spend cap on what metered usage may cost per billing period: all its usage,
   * or one feature's with `featureId` (amount a decimal string; currency defaults to the one its
   * subscriptions bill usage in). Replaces the cap of the same target. docs/spend-caps.md.
   */
  setSpendCap(params: { customerId: string; amount: string; currency?: string; featureId?: Ids['feature'] }): Promise<SpendCapSetting> {
    return setSpendCap(this.ctx, params);
  }

  /** Removes a customer's spend cap (the customer-wide one without `featureId`); `removed` false when there was none. */
  removeSpendCap(params: { customerId: string; featureId?: Ids['feature'] }): Promise<{ customerId: string; featureId: string | null; removed: boolean }> {
    return removeSpendCap(this.ctx, params);
  }

  /** A customer's spend caps with the spend in the current billing period and what remains (docs/spend-caps.md). */
  getSpendCaps(params: { customerId: string }): Promise<SpendCap[]> {
    return getSpendCaps(this.ctx, params);
  }

  /** Webhook deliveries with status, attempts and last error, oldest first, cursor-paged (docs/alerts.md#webhooks). */
  getWebhookDeliveries(params: GetWebhookDeliveriesParams = {}): Promise<WebhookDeliveryPage> {
    return getWebhookDeliveries(this.ctx, params);
  }

  /** Plans in order with entitlements, localized prices, trials, add-ons and the customer's current plan. */
  getPaywall(params: { productId?: Ids['product']; customerId?: string; resourceId?: string; billingCountryCode?: string; includeHiddenPlans?: boolean } = {}): Promise<Paywall> {
    return getPaywall(this.ctx, params);
  }

  // Change feed and events

  /** Committed changes after sequence `after`, in order (at most `limit`, default 1,000). */
  async getChanges(params: { after?: number; limit?: number } = {}): Promise<ChangeRecord[]> {
    const p = new Params(params, 'getChanges', ['after', 'limit']);
    const after = p.optNumber('after', { min: 0, integer: true }) ?? 0;
    const limit = p.optNumber('limit', { min: 1, integer: true }) ?? 1000;
    return this.ctx.store.getChanges(after, Math.min(limit, 10_000));
  }

  /** The highest committed change sequence number of the store (0 when none). */
  lastChangeSeq(): Promise<number> {
    return this.ctx.store.lastChangeSeq();
  }

  /** Subscribes to an event (runs after the write committed). */
  addListener<K extends EngineEventName>(event: K, handler: Handler<K>): this {
    if (!ENGINE_EVENT_NAMES.includes(event)) throw invalidArgument('event', `unknown event ${JSON.stringify(String(event))}; one of ${ENGINE_EVENT_NAMES.join(', ')}`, { value: String(event), allowed: ENGINE_EVENT_NAMES });
    if (typeof handler !== 'function') throw invalidArgument('handler', `must be a function, got ${handler === null ? 'null' : typeof handler}`);
    this.ctx.emitter.on(event, handler);
    return this;
  }

  removeListener<K extends EngineEventName>(event: K, handler: Handler<K>): this {
    this.ctx.emitter.off(event, handler);
    return this;
  }

  /** Alias of addListener (mitt style). */
  on<K extends EngineEventName>(event: K, handler: Handler<K>): this {
    return this.addListener(event, handler);
  }

  /** Alias of removeListener. */
  off<K extends EngineEventName>(event: K, handler: Handler<K>): this {
    return this.removeListener(event, handler);
  }

  /** Number of customers in the in-memory view (bounded by `cache.maxCustomers`). */
  get cachedCustomers(): number {
    return this.ctx.views.size;
  }

  /**
   * The engine's counters since it was created: checks, write latency and retries, the view
   * cache, the follower's lag (docs/operating.md#metrics). The sidecar serves them at /metrics.
   */
  getMetrics(): EngineMetricsSnapshot {
    return this.ctx.metrics.snapshot();
  }

  /**
   * Closes the store, after provider calls in flight settled (at most 10 s; one cut short stays
   * pending for a later tick). Further calls fail with STORE_UNAVAILABLE.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.follower?.stop();
    await stopWebhookPoller(this.ctx);
    await drainProviderCalls(this.ctx);
    this.ctx.telemetry?.close();
    this.ctx.emitter.all.clear();
    await this.ctx.store.close();
  }
}

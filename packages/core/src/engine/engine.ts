// The engine's facade, in three files by concern: engine-accounts.ts (state, catalog, customers,
// subscriptions, billing), engine-metering.ts (checks, entities, usage) and this one (promotions,
// credits, alerts, spend caps, paywall, the change feed and events, close). Its rooms, by
// capability (one folder each, as rules/ reads):
//   checks/         entitlement checks, the resolved view, paywalls, offline answers
//   usage/          usage reports, raw events and meters, consumption and reservations, history
//   subscriptions/  customers, subscriptions and their changes, lifecycle, promotions
//   billing/        invoices, estimates, credits, payments and provider calls
//   entities/       members of a customer (seats, workspaces) and their lookups
//   alerts/         usage and credit thresholds, webhook deliveries
//   runtime/        creation, context, catalog publishing, the change follower, tick, telemetry
import type { CatalogIds } from '../catalog/ids.js';
import { ENGINE_EVENT_NAMES, type EngineEventName } from '../events.js';
import { invalidArgument } from '../errors.js';
import type { ChangeRecord } from '../records.js';
import { Params } from './runtime/params.js';
import * as credits from './billing/credits.js';
import type { CreditGrantView } from './billing/credits.js';
import { grantPromotionalEntitlements, revokePromotionalEntitlements, type PromotionalEntitlement } from './subscriptions/promotions.js';
import { getEntitlementOverrides, removeEntitlementOverride, setEntitlementOverride, type EntitlementOverride } from './subscriptions/overrides.js';
import { getPaywall } from './checks/paywall.js';
import type { Paywall } from '../rules/paywall.js';
import { drainProviderCalls } from './billing/provider-calls.js';
import { setUsageAlerts, type UsageAlerts } from './alerts/thresholds.js';
import { getSpendCaps, removeSpendCap, setSpendCap, type SpendCap, type SpendCapSetting } from './billing/spend-caps.js';
import { getWebhookDeliveries, stopWebhookPoller, type GetWebhookDeliveriesParams, type WebhookDeliveryPage } from './alerts/webhooks.js';
import type { Handler } from './runtime/engine-types.js';
import type { EngineMetricsSnapshot } from './runtime/metrics.js';
import { EngineMetering } from './engine-metering.js';

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
export class Engine<Ids extends CatalogIds = CatalogIds> extends EngineMetering<Ids> {
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

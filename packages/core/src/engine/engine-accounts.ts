import type { Catalog } from '../catalog/catalog.js';
import type { CatalogIds } from '../catalog/ids.js';
import type { CatalogDefinition, CouponDefinition } from '../catalog/types.js';
import { getProducts, getCoupons, publishCatalog, type Product } from './runtime/catalog.js';
import type { EngineContext } from './runtime/context.js';
import * as customers from './subscriptions/customers.js';
import type { Customer, ProvisionCustomerParams, UpdateCustomerParams } from './subscriptions/customers.js';
import type { Subscription } from './subscriptions/subscription-shape.js';
import type { SubscriptionDetail } from './subscriptions/subscription-detail.js';
import type { ProvisionSubscriptionParams } from './subscriptions/subscription-params.js';
import * as subscriptions from './subscriptions/subscriptions.js';
import type { CancelSubscriptionParams, ProvisionSubscriptionResult } from './subscriptions/subscriptions.js';
import type { ChangeFollower } from './runtime/follow.js';
import { DEFAULT_EVENT_LIMITS, type EventLimits } from './usage/raw-events.js';
import type { Invoice } from './billing/billing.js';
import * as changes from './subscriptions/subscription-changes.js';
import type { UpdateSubscriptionParams } from './subscriptions/subscription-changes.js';
import { estimateSubscription, estimateSubscriptionUpdate, type Estimate } from './billing/estimates.js';
import { tick, type TickResult } from './runtime/tick.js';
import { simulateCatalog, type CatalogSimulation, type SimulateCatalogParams } from './billing/simulate.js';
import { getSubscriptions, type GetSubscriptionsParams } from './subscriptions/subscription-list.js';
import { getCustomers, type CustomerSummary, type GetCustomersParams } from './subscriptions/customer-list.js';
import { retryCheckout, type CheckoutResult } from './billing/payments.js';

/**
 * The engine's first part (engine.ts is the whole): its state, the catalog, customers,
 * subscriptions and their billing. Split by concern only; use `Engine`.
 */
export class EngineAccounts<Ids extends CatalogIds = CatalogIds> {
  protected closed = false;

  /** @internal use `createEngine`. */
  constructor(
    protected readonly ctx: EngineContext,
    protected readonly eventLimits: EventLimits = DEFAULT_EVENT_LIMITS,
    protected readonly follower?: ChangeFollower,
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

  /**
   * Customers by creation (then id), live or `archived`, whose id, name or email contains `search`
   * (A-Z in either case), cursor-paged in the store (`first`, `after`); lean (`getCustomer` has the
   * subscriptions). Throws INVALID_ARGUMENT. README.md#listing-customers
   */
  getCustomers(params: GetCustomersParams = {}): Promise<{ data: CustomerSummary[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } }> {
    return getCustomers(this.ctx, params);
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

}

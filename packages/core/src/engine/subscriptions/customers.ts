import type { CatalogIds } from '../../catalog/ids.js';
import { TesseraError } from '../../errors.js';
import { requireLiveCustomer } from '../runtime/lookups.js';
import { isLiveAt, statusAt } from '../../rules/lifecycle.js';
import type { BillingInfo, CustomerRecord, ProviderCallRecord } from '../../records.js';
import { write, type EngineContext, type WriteEffects } from '../runtime/context.js';
import { Params, readIdArgument } from '../runtime/params.js';
import { endSubscription, provisionInTx } from './provisioning.js';
import { attempt } from '../billing/provider-calls.js';
import { readSubscriptionInput, type ProvisionSubscriptionParams } from './subscription-params.js';
import { toSubscription, type Subscription } from './subscription-shape.js';
import { toPromotion, type PromotionalEntitlement } from './promotions.js';

/** A customer's own fields, as every read returns them (getCustomer, getCustomers). */
export interface CustomerFields {
  customerId: string;
  name: string | null;
  email: string | null;
  couponId: string | null;
  billingInfo: BillingInfo | null;
  metadata: Record<string, string>;
  hasPaymentMethod: boolean;
  createdAt: Date;
  updatedAt: Date;
}

/** The public fields of a stored customer (metadata copied). */
export function customerFields(rec: CustomerRecord): CustomerFields {
  return {
    customerId: rec.customerId,
    name: rec.name,
    email: rec.email,
    couponId: rec.couponId,
    billingInfo: rec.billingInfo,
    metadata: { ...rec.metadata },
    hasPaymentMethod: rec.billingInfo?.hasPaymentMethod === true,
    createdAt: new Date(rec.createdAt),
    updatedAt: new Date(rec.updatedAt),
  };
}

/** A customer as reads return it. */
export interface Customer extends CustomerFields {
  /** Subscriptions granting entitlements now. */
  subscriptions: Subscription[];
  /** Promotional entitlements in force now. */
  promotionalEntitlements: PromotionalEntitlement[];
}

/** Parameters of `provisionCustomer`. */
export interface ProvisionCustomerParams<Ids extends CatalogIds = CatalogIds> {
  customerId: string;
  name?: string | null;
  email?: string | null;
  couponId?: Ids['coupon'] | null;
  billingInfo?: BillingInfo | null;
  metadata?: Record<string, string>;
  /**
   * An object: provision it (the params of `provisionSubscription`; `customerId` is this
   * customer's). null: no subscription. Omitted: each product's journey decides (new customers only).
   */
  subscriptionParams?: (Omit<ProvisionSubscriptionParams<Ids>, 'customerId'> & { customerId?: string }) | null;
}

export type UpdateCustomerParams<Ids extends CatalogIds = CatalogIds> = Omit<ProvisionCustomerParams<Ids>, 'subscriptionParams'>;

const CUSTOMER_FIELDS = ['customerId', 'name', 'email', 'couponId', 'billingInfo', 'metadata'];

interface CustomerInput {
  name?: string | null;
  email?: string | null;
  couponId?: string | null;
  billingInfo?: BillingInfo | null;
  metadata?: Record<string, string>;
}

function readCustomerFields(ctx: EngineContext, p: Params): CustomerInput {
  const out: CustomerInput = {};
  const name = p.optString('name', 500);
  if (name !== undefined) out.name = name;
  const email = p.optString('email', 320);
  if (email !== undefined) {
    if (email !== null && !/^[^\s@]+@[^\s@]+$/.test(email)) p.fail('email', 'must look like name@example.com');
    out.email = email;
  }
  if (p.has('couponId')) {
    const couponId = p.raw.couponId === null ? null : p.id('couponId');
    if (couponId !== null && !ctx.latest().catalog.coupons.has(couponId)) p.fail('couponId', `no coupon "${couponId}" in the catalog`);
    out.couponId = couponId;
  }
  const billing = p.optObject('billingInfo');
  if (billing !== undefined) {
    if (billing !== null) {
      billing.optBoolean('taxExempt');
      billing.optBoolean('hasPaymentMethod');
      const cc = billing.optString('billingCountryCode', 2);
      if (cc !== undefined && cc !== null && !/^[A-Z]{2}$/.test(cc)) billing.fail('billingCountryCode', 'must be an ISO-3166-1 alpha-2 code such as US');
      const currency = billing.optString('currency', 3);
      if (currency !== undefined && currency !== null && !/^[A-Z]{3}$/.test(currency)) billing.fail('currency', 'must be an ISO-4217 code such as USD');
    }
    out.billingInfo = billing === null ? null : (p.optJson('billingInfo') as BillingInfo);
  }
  const metadata = p.optMetadata('metadata');
  if (metadata !== undefined) out.metadata = metadata;
  return out;
}

function applyFields(rec: CustomerRecord, f: CustomerInput, now: number): CustomerRecord {
  return {
    ...rec,
    name: f.name !== undefined ? f.name : rec.name,
    email: f.email !== undefined ? f.email : rec.email,
    couponId: f.couponId !== undefined ? f.couponId : rec.couponId,
    couponAppliedAt: f.couponId === undefined ? (rec.couponAppliedAt ?? null) : f.couponId === rec.couponId ? (rec.couponAppliedAt ?? null) : f.couponId === null ? null : now,
    billingInfo: f.billingInfo !== undefined ? f.billingInfo : rec.billingInfo,
    metadata: f.metadata ?? rec.metadata,
    updatedAt: now,
  };
}

async function toCustomer(fx: { tx: WriteEffects['tx'] }, rec: CustomerRecord, now: number): Promise<Customer> {
  const subs = await fx.tx.listSubscriptionsByCustomer(rec.customerId);
  return {
    ...customerFields(rec),
    subscriptions: subs.filter((s) => ['ACTIVE', 'IN_TRIAL'].includes(statusAt(s, now))).map((s) => toSubscription(s, now)),
    promotionalEntitlements: (await fx.tx.listPromotionalGrants(rec.customerId)).map((g) => toPromotion(g, now)).filter((g) => g.status === 'ACTIVE'),
  };
}

async function noteCustomer(fx: WriteEffects, customerId: string, kind: 'customer.updated' | 'customer.archived'): Promise<void> {
  await fx.change(kind, customerId, customerId);
  fx.invalidate(customerId);
  fx.emit('entitlementsUpdated', { customerId, resourceId: null, reason: kind, at: new Date(fx.now) });
}

/**
 * `provisionCustomer`: creates the customer or updates the given fields (idempotent), and
 * provisions a subscription per `subscriptionParams` (see the type). Throws
 * CUSTOMER_ID_ARCHIVED for an archived id, and the subscription's errors.
 */
export async function provisionCustomer(ctx: EngineContext, params: unknown): Promise<{ customer: Customer; subscription?: Subscription }> {
  const p = new Params(params, 'provisionCustomer', [...CUSTOMER_FIELDS, 'subscriptionParams']);
  const customerId = p.id('customerId');
  const fields = readCustomerFields(ctx, p);
  const catalog = ctx.latest().catalog;
  const subParams = p.raw.subscriptionParams;
  const explicit =
    subParams === undefined || subParams === null
      ? undefined
      : readSubscriptionInput(subParams, 'provisionCustomer.subscriptionParams', catalog, customerId);
  const checkouts: ProviderCallRecord[] = [];
  const out = await write(ctx, async (fx) => {
    checkouts.length = 0; // a serialization retry runs this again
    const existing = await fx.tx.getCustomer(customerId);
    if (existing?.archivedAt != null) {
      throw new TesseraError('CUSTOMER_ID_ARCHIVED', `provisionCustomer.customerId: "${customerId}" belongs to an archived customer and cannot be reused; unarchive it or pick another id`, {
        field: 'provisionCustomer.customerId',
        value: customerId,
      });
    }
    const base: CustomerRecord = existing ?? {
      customerId,
      name: null,
      email: null,
      couponId: null,
      billingInfo: null,
      metadata: {},
      archivedAt: null,
      createdAt: fx.now,
      updatedAt: fx.now,
    };
    const rec = applyFields(base, fields, fx.now);
    await fx.tx.putCustomer(rec);
    await noteCustomer(fx, customerId, 'customer.updated');
    let subscription: Subscription | undefined;
    if (explicit) {
      const done = await provisionInTx(ctx, fx, explicit, rec);
      if (done.checkout) checkouts.push(done.checkout);
      subscription = toSubscription(done.record, fx.now);
    } else if (subParams === undefined && !existing) {
      // The journey: each product's default plan (or trial) on sign-up.
      for (const product of catalog.products.values()) {
        if (product.multipleSubscriptions || product.startWith === 'NONE') continue;
        const planId = product.startWith === 'TRIAL' ? (product.trialPlanId ?? product.defaultPlanId) : product.defaultPlanId;
        if (!planId) continue;
        const plan = catalog.plans.get(planId)!;
        const input = readSubscriptionInput(
          { planId, billingPeriod: plan.pricingType === 'PAID' ? plan.prices?.[0]?.billingPeriod : undefined, skipTrial: product.startWith !== 'TRIAL' },
          `journey(${product.id})`,
          catalog,
          customerId,
        );
        const done = await provisionInTx(ctx, fx, input, rec);
        if (done.checkout) checkouts.push(done.checkout);
        subscription ??= toSubscription(done.record, fx.now);
      }
    }
    const customer = await toCustomer(fx, rec, fx.now);
    return subscription ? { customer, subscription } : { customer };
  });
  // Checkouts are made after the commit; a failure is reported and left to retryCheckout / tick()
  // (this result has no place for a URL; docs/providers.md).
  // Inside engine.transaction they follow its commit instead.
  // In the application's own transaction (no commit Tessera hears of), tick() makes them.
  if (ctx.joined) ctx.joined.afterCommit.push(() => void Promise.all(checkouts.map((call) => attempt(ctx, call))));
  else for (const call of checkouts) await attempt(ctx, call);
  return out;
}

/** `updateCustomer`: only the given fields change; `billingInfo` is replaced whole. */
export async function updateCustomer(ctx: EngineContext, params: unknown): Promise<Customer> {
  const p = new Params(params, 'updateCustomer', CUSTOMER_FIELDS);
  const customerId = p.id('customerId');
  const fields = readCustomerFields(ctx, p);
  return write(ctx, async (fx) => {
    const existing = await requireLiveCustomer(fx.tx, customerId, 'updateCustomer.customerId');
    const rec = applyFields(existing, fields, fx.now);
    await fx.tx.putCustomer(rec);
    await noteCustomer(fx, customerId, 'customer.updated');
    return toCustomer(fx, rec, fx.now);
  });
}

/** `getCustomer`: throws CUSTOMER_NOT_FOUND for unknown and archived customers. */
export async function getCustomer(ctx: EngineContext, customerId: unknown): Promise<Customer> {
  const id = readIdArgument(customerId, 'customerId');
  const now = ctx.clock.nowMs();
  return ctx.store.transaction('read', async (tx) => {
    const rec = await requireLiveCustomer(tx, id, 'getCustomer.customerId');
    return toCustomer({ tx }, rec, now);
  });
}

/**
 * `archiveCustomer`: nulls name and email, ends every subscription now (and drops scheduled
 * ones), and reserves the id for good. Reads answer CUSTOMER_NOT_FOUND, checks CustomerIsArchived.
 */
export async function archiveCustomer(ctx: EngineContext, customerId: unknown): Promise<void> {
  const id = readIdArgument(customerId, 'customerId');
  await write(ctx, async (fx) => {
    const rec = await requireLiveCustomer(fx.tx, id, 'archiveCustomer.customerId');
    await fx.tx.putCustomer({ ...rec, name: null, email: null, archivedAt: fx.now, updatedAt: fx.now });
    for (const s of await fx.tx.listSubscriptionsByCustomer(id)) {
      if (!isLiveAt(s, fx.now)) continue;
      await fx.tx.putSubscription(endSubscription(s, Math.max(s.startDate, Math.min(fx.now, s.endDate ?? Infinity)), fx.now));
      await fx.change('subscription.updated', id, s.id, { status: 'CANCELED' });
    }
    await noteCustomer(fx, id, 'customer.archived');
  });
}

/** `unarchiveCustomer`: makes an archived customer readable again (subscriptions stay ended). */
export async function unarchiveCustomer(ctx: EngineContext, customerId: unknown): Promise<Customer> {
  const id = readIdArgument(customerId, 'customerId');
  return write(ctx, async (fx) => {
    const rec = await fx.tx.getCustomer(id);
    if (!rec || rec.archivedAt === null) {
      throw new TesseraError('CUSTOMER_NOT_FOUND', `customerId: no archived customer "${id}"`, { field: 'customerId', value: id });
    }
    const next = { ...rec, archivedAt: null, updatedAt: fx.now };
    await fx.tx.putCustomer(next);
    await noteCustomer(fx, id, 'customer.updated');
    return toCustomer(fx, next, fx.now);
  });
}

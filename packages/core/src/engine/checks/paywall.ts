import { TesseraError } from '../../errors.js';
import { buildPaywall, type Paywall } from '../../rules/paywall.js';
import { grantingSubscriptions } from './view.js';
import type { EngineContext } from '../runtime/context.js';
import { customerView } from './entitlements.js';
import { Params } from '../runtime/params.js';

/**
 * `getPaywall`: the products' plans in order with resolved entitlements, prices in the billing
 * country (the customer's when not given), trials, compatible add-ons and, for a customer, which
 * plan is current.
 */
export async function getPaywall(ctx: EngineContext, params: unknown = {}): Promise<Paywall> {
  const p = new Params(params ?? {}, 'getPaywall', ['productId', 'customerId', 'resourceId', 'billingCountryCode', 'includeHiddenPlans']);
  const productId = p.optId('productId');
  const customerId = p.optId('customerId');
  const resourceId = p.optId('resourceId') ?? '';
  let country = p.optString('billingCountryCode', 2) ?? null;
  const includeHiddenPlans = p.optBoolean('includeHiddenPlans') ?? false;
  const catalog = ctx.latest().catalog;
  if (productId !== undefined && !catalog.products.has(productId)) p.fail('productId', `no product "${productId}" in the catalog`);
  let currentPlanIds: string[] = [];
  if (customerId !== undefined) {
    const view = await customerView(ctx, customerId);
    if (!view.customer || view.customer.archivedAt !== null) {
      throw new TesseraError('CUSTOMER_NOT_FOUND', `getPaywall.customerId: no customer "${customerId}"`, { field: 'customerId', value: customerId });
    }
    currentPlanIds = grantingSubscriptions(view.subscriptions, resourceId, ctx.clock.nowMs()).map((s) => s.planId);
    const fromCustomer = view.customer.billingInfo?.billingCountryCode;
    if (country === null && typeof fromCustomer === 'string') country = fromCustomer;
  }
  return buildPaywall({ catalog, ...(productId ? { productId } : {}), billingCountryCode: country, includeHiddenPlans, currentPlanIds });
}

import type { CatalogDefinition } from '@tessera/core';
import { describe, expect, it } from 'vitest';
import { engineOn, storeFactories } from './stores.js';

// A plan billed in EUR only through a usage-based price, and a FIXED coupon in EUR: documents
// without lines (an update that changes no price, a renewal with nothing in advance) must still be
// in EUR, or the coupon cannot apply.
const catalog: CatalogDefinition = {
  features: [{ id: 'calls', type: 'METERED' }],
  products: [{ id: 'api' }],
  plans: [
    {
      id: 'metered',
      productId: 'api',
      pricingType: 'PAID',
      prices: [{ billingPeriod: 'MONTHLY', billingModel: 'USAGE_BASED', featureId: 'calls', currency: 'EUR', amount: '0.10' }],
      entitlements: [{ featureId: 'calls', isUnlimited: true, resetPeriod: 'MONTH' }],
    },
  ],
  coupons: [{ id: 'five-off', type: 'FIXED', value: '5.00', currency: 'EUR' }],
  promotionCodes: [{ code: 'FIVE', couponId: 'five-off' }],
};

for (const factory of storeFactories()) {
  describe(factory.name, () => {
    it('a FIXED EUR coupon on a plan billed in EUR only by usage: updates, renewals and usage invoices work', async () => {
      const { engine, clock, cleanup } = await engineOn(factory, { catalog, start: '2024-01-01T00:00:00Z' });
      try {
        await engine.provisionCustomer({ customerId: 'c1', couponId: 'five-off', subscriptionParams: null });
        const { subscription } = await engine.provisionSubscription({ customerId: 'c1', planId: 'metered', billingPeriod: 'MONTHLY', promotionCode: 'FIVE' });
        await engine.updateSubscription({ subscriptionId: subscription.id, metadata: { team: 'a' } });
        await engine.reportUsage({ customerId: 'c1', featureId: 'calls', value: 120 });
        clock.set('2024-02-01T00:00:00Z');
        await engine.tick();
        const usage = (await engine.getInvoices({ customerId: 'c1' })).filter((i) => i.kind === 'USAGE');
        // 120 calls x 0.10 = 12.00 EUR, minus the 5.00 EUR coupon = 7.00 EUR.
        expect(usage).toHaveLength(1);
        expect(usage[0]).toMatchObject({ currency: 'EUR', subTotal: '12.00', total: '7.00' });
      } finally {
        await cleanup();
      }
    });
  });
}

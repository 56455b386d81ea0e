/**
 * Customers' own usage thresholds are kept with the cached customer view (docs/alerts.md#thresholds).
 * On PostgreSQL a usage write runs beside other transactions: one whose snapshot predates a
 * setUsageAlerts (of this engine, committed meanwhile), and that reads the thresholds after its view was dropped
 * and loaded again, must not keep what it read (the old thresholds) in the new view.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { createEngine, type CatalogDefinition, type Engine, type Store, type StoreTx, type UsageThresholdReachedEvent } from '@tessera/core';
import { freshPgStore, onPglite } from '../support/pg-stores.js';

const catalog: CatalogDefinition = {
  features: [{ id: 'api-calls', type: 'METERED' }],
  products: [{ id: 'app', defaultPlanId: 'basic', downgradePlanId: 'basic', startWith: 'FREE_PLAN' }],
  plans: [{ id: 'basic', productId: 'app', pricingType: 'FREE', entitlements: [{ featureId: 'api-calls', usageLimit: 100, resetPeriod: 'MONTH' }] }],
};

/** `store` whose next write transaction runs `pause` once its first statement has run (its snapshot is then taken). */
function pausing(store: Store): { store: Store; pauseOnce(fn: () => Promise<void>): void } {
  let pause: (() => Promise<void>) | undefined;
  const transaction = store.transaction.bind(store);
  store.transaction = (mode, fn, options) =>
    transaction(mode, (tx) => {
      let first = mode === 'write';
      const hooked = new Proxy(tx, {
        get(target, key) {
          const v = Reflect.get(target, key) as unknown;
          if (typeof v !== 'function') return v;
          return async (...args: unknown[]) => {
            const result = await (v as (...a: unknown[]) => Promise<unknown>).apply(target, args);
            const p = pause;
            if (first && p !== undefined) {
              first = false;
              pause = undefined;
              await p();
            }
            return result;
          };
        },
      }) as StoreTx;
      return fn(hooked);
    }, options);
  return { store, pauseOnce: (fn) => (pause = fn) };
}

if (!onPglite()) describe('postgres: own thresholds cached with the view, beside a concurrent setUsageAlerts', () => {
  const engines: Engine[] = [];
  afterAll(async () => {
    for (const e of engines.reverse()) await e.close();
  });

  it('a write whose snapshot predates new thresholds does not keep the old ones in the reloaded view', async () => {
    const made = freshPgStore();
    const hooked = pausing(made.store);
    const a = await createEngine({ store: hooked.store, catalog, followIntervalMs: 600_000 });
    engines.push(a);
    const b = await createEngine({ store: made.reopen(), catalog, followIntervalMs: 600_000 });
    engines.push(b);
    await a.provisionCustomer({ customerId: 'c1' });
    const heard: UsageThresholdReachedEvent[] = [];
    a.on('usageThresholdReached', (e) => heard.push(e));
    await a.getMeteredEntitlement({ customerId: 'c1', featureId: 'api-calls' });
    hooked.pauseOnce(async () => {
      // Meanwhile 50% is set (the view is dropped at its commit) and a check loads the view again.
      await a.setUsageAlerts({ customerId: 'c1', featureId: 'api-calls', percents: [50] });
      await a.getMeteredEntitlement({ customerId: 'c1', featureId: 'api-calls' });
    });
    await a.consumeUsage({ customerId: 'c1', featureId: 'api-calls', amount: 40 }); // read the thresholds at its older snapshot
    expect(heard).toEqual([]);
    await a.consumeUsage({ customerId: 'c1', featureId: 'api-calls', amount: 20 }); // 40 -> 60 crosses 50%
    expect(heard.map((e) => [e.threshold, e.source])).toEqual([[50, 'customer']]);
  });
});

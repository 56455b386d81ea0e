/**
 * The engine agrees with the reference model on the memory and SQLite stores: 100 runs each in
 * CI (200 in all). Run more with TESSERA_MODEL_RUNS=2000 npx vitest run packages/testing/test/model
 */
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { memoryStore } from '@tessera/core';
import { arbCatalog, checkEngineAgainstModel } from '@tessera/testing';
import { demoCatalog } from '../../core/examples/demo-catalog.js';
import { memoryKind, sqliteKind, type StoreKind } from './stores.js';

const runs = Number(process.env.TESSERA_MODEL_RUNS) || 100;

for (const kind of [memoryKind(), sqliteKind()] as StoreKind[]) {
  describe(`the engine on ${kind.name} agrees with the model`, () => {
    afterAll(() => kind.cleanup());

    it(`over ${runs} random command sequences on the demo catalog`, async () => {
      const report = await checkEngineAgainstModel({ catalog: demoCatalog, store: kind.make, numRuns: runs });
      expect(report).toEqual({
        numRuns: runs,
        productId: 'app',
        features: ['sso', 'projects', 'api-calls', 'seats'],
        skipped: [{ featureId: 'export', reason: 'ENUM features are not modelled' }],
      });
    }, 120_000);
  });
}

describe('the model on generated catalogs', () => {
  it('agrees with the engine on catalogs it did not see before (memory)', async () => {
    // A few catalogs with a few runs each: the catalogs vary, the model reads each one.
    for (const catalog of fc.sample(arbCatalog({ meters: false }), 10)) {
      await checkEngineAgainstModel({ catalog, store: () => memoryStore(), numRuns: 10 });
    }
  }, 60_000);

  it('says which features it leaves out and why', async () => {
    const catalog = {
      features: [
        { id: 'calls', type: 'METERED' as const },
        { id: 'daily', type: 'METERED' as const },
        { id: 'events', type: 'METERED' as const, meter: { eventName: 'e', aggregation: { type: 'COUNT' as const } } },
      ],
      products: [{ id: 'app' }],
      plans: [{ id: 'free', productId: 'app', pricingType: 'FREE' as const, entitlements: [{ featureId: 'calls', usageLimit: 5, resetPeriod: 'MONTH' as const }, { featureId: 'daily', usageLimit: 5, resetPeriod: 'DAY' as const }] }],
    };
    const report = await checkEngineAgainstModel({ catalog, store: () => memoryStore(), numRuns: 5 });
    expect(report.features).toEqual(['calls']);
    expect(report.skipped).toEqual([
      { featureId: 'daily', reason: 'plan "free" resets it every DAY' },
      { featureId: 'events', reason: 'fed by a meter over raw events' },
    ]);
  });
});

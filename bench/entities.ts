/**
 * A check with `entityId` against the same check without (docs/entities.md#checks).
 *
 * 1,000 customers on a plan where each seat gets 100 AI messages a month and the customer 10,000
 * pooled; each customer has 5 seats (entities) with some usage in their cells and the pool. A batch
 * is 1,000 awaited `getMeteredEntitlement` calls cycling through (customer, entity): with
 * `entityId` (the entity and its two cells read from the store in one read transaction: entity
 * cells are not cached), and, as the baseline taking turns with it, the same check of the same
 * customer without `entityId` (answered from the warm in-memory view). The ratio is the price of
 * asking as an entity. SQLite, the store a monolith embeds; `entities.ts memory` runs it on the
 * memory store.
 */
import { join } from 'node:path';
import { createEngine, memoryStore, type CatalogDefinition, type Engine, type GetEntitlementParams } from '@tessera/core';
import { sqliteStore } from '@tessera/sqlite';
import { compare, fmt, log, report, tempDir, timed, type Figure } from './harness.js';

const CUSTOMERS = 1_000;
const ENTITIES = 5;
const BATCH = 1_000;
const kind = process.argv[2] === 'memory' ? 'memory' : 'sqlite';

const catalog: CatalogDefinition = {
  features: [
    { id: 'seats', displayName: 'Seats', type: 'METERED' },
    { id: 'ai-messages', displayName: 'AI messages', type: 'METERED' },
  ],
  products: [{ id: 'app', displayName: 'App', defaultPlanId: 'team', downgradePlanId: 'team', cancellationTime: 'IMMEDIATE', startWith: 'FREE_PLAN' }],
  plans: [
    {
      id: 'team',
      productId: 'app',
      displayName: 'Team',
      pricingType: 'FREE',
      entitlements: [
        { featureId: 'seats', usageLimit: ENTITIES },
        { featureId: 'ai-messages', usageLimit: 10_000, resetPeriod: 'MONTH', perEntity: { featureId: 'seats', usageLimit: 100 } },
      ],
    },
  ],
};

const customer = (i: number) => `cus-${String(i).padStart(5, '0')}`;
let sink = 0;

function batchOf(engine: Engine, params: GetEntitlementParams[]): () => Promise<void> {
  let at = 0;
  return async () => {
    for (let j = 0; j < BATCH; j++) {
      if ((await engine.getMeteredEntitlement(params[at]!)).hasAccess) sink++;
      if (++at === params.length) at = 0;
    }
  };
}

const dir = tempDir();
const engine = await createEngine({ store: kind === 'memory' ? memoryStore() : sqliteStore({ filename: join(dir, 'entities.db') }), catalog });
const setup = await timed(async () => {
  for (let i = 0; i < CUSTOMERS; i++) {
    await engine.provisionCustomer({ customerId: customer(i) });
    for (let e = 0; e < ENTITIES; e++) {
      await engine.createEntity({ customerId: customer(i), entityId: `seat-${e}`, featureId: 'seats' });
      await engine.reportUsage({ customerId: customer(i), featureId: 'ai-messages', entityId: `seat-${e}`, value: 1 + ((i + e) % 7) });
    }
  }
});
const withEntity: GetEntitlementParams[] = [];
const without: GetEntitlementParams[] = [];
for (let i = 0; i < CUSTOMERS; i++) {
  for (let e = 0; e < ENTITIES; e++) {
    withEntity.push({ customerId: customer(i), featureId: 'ai-messages', entityId: `seat-${e}` });
    without.push({ customerId: customer(i), featureId: 'ai-messages' });
  }
}
// One pass of each before timing: the views are loaded and the statements prepared.
for (const p of [...withEntity, ...without]) await engine.getMeteredEntitlement(p);
log(`  ${kind}: ${fmt(CUSTOMERS)} customers x ${ENTITIES} entities set up in ${(setup.ms / 1000).toFixed(1)} s`);

const r = await compare([
  { name: 'entity', batch: batchOf(engine, withEntity), ops: BATCH },
  { name: 'pooled', batch: batchOf(engine, without), ops: BATCH },
]);
await engine.close();
const figures: Figure[] = [
  {
    measure: `getMeteredEntitlement with entityId (entity and pooled cells read from the store), ${kind} store`,
    result: r.entity!,
    unit: 'checks/s',
    baseline: { name: 'the same check without entityId (warm view)', result: r.pooled! },
    ratio: 'slowdown',
    target: 'information',
  },
];
if (sink === -1) console.log(sink);
report(figures);

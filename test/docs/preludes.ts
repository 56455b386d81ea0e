/**
 * What a doc block assumes its reader already has (`<!-- snippet: setup=NAME -->`): a catalog, an
 * engine, a subscription at a known date. Each prelude is TypeScript put before the block's code
 * in the same module. Imports here are namespaced (`__core`...) so that a block importing the
 * same names does not clash; repository paths are fine here (this is test code, not docs), and
 * are relative to test/docs/.tmp/, where the programs are written.
 */

const catalog = `
import * as __core from '@tessera/core';
/** The README tour's catalog: sso (boolean), api-calls (metered), plans free and pro. */
const catalog = __core.defineCatalog({
  features: [
    { id: 'sso', type: 'BOOLEAN' },
    { id: 'api-calls', type: 'METERED', units: 'call', unitsPlural: 'calls' },
  ],
  products: [{ id: 'app', defaultPlanId: 'free', downgradePlanId: 'free' }],
  plans: [
    { id: 'free', productId: 'app', pricingType: 'FREE',
      entitlements: [{ featureId: 'api-calls', usageLimit: 100, resetPeriod: 'MONTH' }] },
    { id: 'pro', productId: 'app', parentPlanId: 'free', pricingType: 'PAID',
      prices: [{ billingPeriod: 'MONTHLY', billingModel: 'FLAT_FEE', currency: 'USD', amount: '50.00' }],
      entitlements: [{ featureId: 'sso' }, { featureId: 'api-calls', usageLimit: 10_000, resetPeriod: 'MONTH' }] },
  ],
});
`;

/** The preludes by name. */
export const PRELUDES: Record<string, string> = {
  catalog,

  /** operating.md's logging example: a catalog and the sidecar's keys. */
  logging: `${catalog}
const key = 'a'.repeat(32);
const scrapeKey = 'c'.repeat(32);
`,

  /** A catalog and a store, for blocks showing createEngine's options. */
  'store-catalog': `${catalog}
const store = __core.memoryStore();
`,

  /** An engine (memory store) with customer acme, and what a request handler has at hand. */
  engine: `${catalog}
const engine = await __core.createEngine({ store: __core.memoryStore(), catalog });
await engine.provisionCustomer({ customerId: 'acme' });
const customerId = 'acme';
const requestId = 'req-1';
const retryQueue: unknown[] = [];
`,

  /** A catalog read from a JSON file (JSON.parse: any). */
  'catalog-json': `
const json = JSON.parse(\`{
  "features": [{ "id": "sso", "type": "BOOLEAN" }],
  "products": [{ "id": "app", "defaultPlanId": "free" }],
  "plans": [{ "id": "free", "productId": "app", "pricingType": "FREE", "entitlements": [{ "featureId": "sso" }] }]
}\`);
`,

  /** README "Raw events and meters": a tokens feature metered from llm_call events, early 2024. */
  'readme-meters': `
import * as __core from '@tessera/core';
const engine = await __core.createEngine({
  store: __core.memoryStore(),
  clock: __core.testClock('2024-02-10T00:00:00Z'),
  catalog: __core.defineCatalog({
    features: [{ id: 'tokens', type: 'METERED',
      meter: { eventName: 'llm_call', aggregation: { type: 'SUM', field: 'tokens' } } }],
    products: [{ id: 'app', defaultPlanId: 'free' }],
    plans: [{ id: 'free', productId: 'app', pricingType: 'FREE',
      entitlements: [{ featureId: 'tokens', usageLimit: 100_000, resetPeriod: 'MONTH' }] }],
  }),
});
await engine.provisionCustomer({ customerId: 'acme' });
`,

  /** metering.md: a tokens feature metered from api_request events under /v1/. */
  metering: `
import * as __core from '@tessera/core';
const engine = await __core.createEngine({
  store: __core.memoryStore(),
  clock: __core.testClock('2024-02-29T12:00:00Z'),
  catalog: __core.defineCatalog({
    features: [{ id: 'tokens', type: 'METERED', meter: {
      eventName: 'api_request',
      filters: [{ conditions: [{ field: 'route', operator: 'STARTS_WITH', value: '/v1/' }] }],
      aggregation: { type: 'SUM', field: 'tokens' } } }],
    products: [{ id: 'app', defaultPlanId: 'free' }],
    plans: [{ id: 'free', productId: 'app', pricingType: 'FREE',
      entitlements: [{ featureId: 'tokens', usageLimit: 100_000, resetPeriod: 'MONTH' }] }],
  }),
});
await engine.provisionCustomer({ customerId: 'acme' });
`,

  /** README "Pricing": acme on 5 seats at 12.00 a seat from 2024-02-01, now half of February later. */
  'readme-seats': `
import * as __core from '@tessera/core';
const clock = __core.testClock('2024-02-01T00:00:00Z');
const engine = await __core.createEngine({
  store: __core.memoryStore(),
  clock,
  catalog: __core.defineCatalog({
    features: [{ id: 'seats', type: 'NUMERIC', units: 'seat', unitsPlural: 'seats' }],
    products: [{ id: 'app', defaultPlanId: 'free', downgradePlanId: 'free' }],
    plans: [
      { id: 'free', productId: 'app', pricingType: 'FREE' },
      { id: 'team', productId: 'app', pricingType: 'PAID',
        prices: [{ billingPeriod: 'MONTHLY', billingModel: 'PER_UNIT', featureId: 'seats', currency: 'USD', amount: '12.00' }] },
    ],
  }),
});
await engine.provisionCustomer({ customerId: 'acme', subscriptionParams: null });
const { subscription: __sub } = await engine.provisionSubscription({ customerId: 'acme', planId: 'team', billingPeriod: 'MONTHLY',
  billableFeatures: [{ featureId: 'seats', quantity: 5 }] });
const subscriptionId = __sub!.id;
clock.advance({ days: 14, hours: 12 }); // 14.5 of February 2024's 29 days left
`,

  /** pricing.md "Per-unit quantities": templates at 4.00 each (1 to 20), projects at 1.00 (3 or more); acme signed up. */
  'per-unit': `
import * as __core from '@tessera/core';
const engine = await __core.createEngine({
  store: __core.memoryStore(),
  clock: __core.testClock('2024-02-01T00:00:00Z'),
  catalog: __core.defineCatalog({
    features: [{ id: 'templates', type: 'METERED' }, { id: 'projects', type: 'NUMERIC' }],
    products: [{ id: 'app' }],
    plans: [
      { id: 'starter', productId: 'app', pricingType: 'PAID',
        prices: [
          { billingPeriod: 'MONTHLY', billingModel: 'FLAT_FEE', currency: 'USD', amount: '10.00' },
          { billingPeriod: 'MONTHLY', billingModel: 'PER_UNIT', featureId: 'templates', currency: 'USD', amount: '4.00', minUnitQuantity: 1, maxUnitQuantity: 20 },
          { billingPeriod: 'MONTHLY', billingModel: 'PER_UNIT', featureId: 'projects', currency: 'USD', amount: '1.00', minUnitQuantity: 3 },
        ],
        entitlements: [{ featureId: 'templates', usageLimit: 50 }] },
    ],
  }),
});
await engine.provisionCustomer({ customerId: 'acme', subscriptionParams: null });
`,

  /** README "Promotions, credits and the paywall": the credits catalog (ai-credits, DE prices). */
  'readme-credits': `
import * as __core from '@tessera/core';
import { creditsCatalog as __creditsCatalog } from '../../engine/credits-catalog.js';
const engine = await __core.createEngine({ store: __core.memoryStore(), catalog: __creditsCatalog });
await engine.provisionCustomer({ customerId: 'acme' });
`,

  /** The embedding example of packages/http: keys, a hono app of the user's, any free port. */
  'http-embed': `${catalog}
import { Hono as __Hono } from 'hono';
const fullKey = 'a'.repeat(32);
const readKey = 'b'.repeat(32);
const yourHono = new __Hono();
process.env.PORT = '0'; // any free port: the machine is shared
`,

  /**
   * A running sidecar serving replicas (memory store, the tour's catalog, customer acme) on a free port, its URL
   * and full-access key in TESSERA_URL and TESSERA_KEY as a deployment would set them, and what
   * the replica examples take from their surroundings (a key, a logger, an error tracker). The
   * sidecar is closed after the program by the test (globalThis.__snippetCleanup).
   */
  sidecar: `${catalog}
import { serveSidecar as __serveSidecar } from '@tessera/http';
const __store = __core.memoryStore();
const __engine = await __core.createEngine({ store: __store, catalog });
await __engine.provisionCustomer({ customerId: 'acme' });
const __key = 'k'.repeat(48);
// The store too: the sidecar serves replicas from it.
const __sidecar = await __serveSidecar({ engine: __engine, store: __store, fullAccessKeys: [__key], port: 0 });
(globalThis as unknown as { __snippetCleanup: (() => Promise<void>)[] }).__snippetCleanup.push(async () => {
  await __sidecar.close();
  await __engine.close();
});
process.env.TESSERA_URL = __sidecar.url;
process.env.TESSERA_KEY = __key;
const apiKey = __key;
const log = console;
const tracker = { capture(error: unknown, context: object): void { console.error(error, context); } };
`,

  /** An engine's options whose collaborators the user brings (Stripe, a web framework, a ledger). */
  providers: `${catalog}
const store = __core.memoryStore();
declare const stripe: {
  checkout: { sessions: { create(params: object, options: { idempotencyKey: string }): Promise<{ url: string | null }> } };
};
declare function redirect(url: string): void;
declare const subscriptionId: string;
declare const ledger: { upsert(row: { externalId: string; total: string; currency: string }): Promise<void> };
`,

  /** What a SQL dialect's transaction(mode, fn) has in scope. */
  'sql-dialect': `
import type { Kysely } from 'kysely';
import type { StoreTx } from '@tessera/core';
declare const compilerOnlyKysely: Kysely<any>;
declare function prepareOnMyDriver(sql: string, returnsRows: boolean): any;
declare const myExecutor: any;
declare const mode: 'read' | 'write';
declare function translateMyErrors(error: unknown): unknown;
declare const fn: (tx: StoreTx) => Promise<unknown>;
`,

  /** A billing.db with Tessera's schema in the working directory. */
  'billing-db': `${catalog}
import { sqliteStore as __sqliteStore } from '@tessera/sqlite';
await (await __core.createEngine({ store: __sqliteStore({ filename: 'billing.db' }), catalog })).close();
`,

  /** The testing README's reference sections: vitest's expect, the demo catalog, a seat price. */
  testing: `
import { expect } from 'vitest';
import type { PriceDefinition as __Price } from '@tessera/core';
import { formatTimeline, runPricingTimeline, volumeCliffs, checkEngineAgainstModel, type TimelineStep } from '@tessera/testing';
import { demoCatalog } from '../../../packages/core/examples/demo-catalog.js';
const catalog = demoCatalog;
const seatPrice: __Price = { billingPeriod: 'MONTHLY', billingModel: 'PER_UNIT', featureId: 'seats', currency: 'USD',
  tiersMode: 'VOLUME', tiers: [{ upTo: 10, unitAmount: '12.00' }, { upTo: null, unitAmount: '10.00', flatAmount: '20.00' }] };
`,
};
/** entities.md's docs catalog: 2 seats; each seat 100 AI messages a month, 10,000 pooled. */
const entitiesCatalog = `
import * as __core from '@tessera/core';
const catalog = __core.defineCatalog({
  features: [{ id: 'seats', type: 'METERED' }, { id: 'ai-messages', type: 'METERED' }],
  products: [{ id: 'app', defaultPlanId: 'team' }],
  plans: [{ id: 'team', productId: 'app', pricingType: 'FREE', entitlements: [
    { featureId: 'seats', usageLimit: 2 },
    { featureId: 'ai-messages', usageLimit: 10_000, resetPeriod: 'MONTH', perEntity: { featureId: 'seats', usageLimit: 100 } },
  ] }],
});
`;

/** README "Seats and entities": an engine on entities.md's catalog with customer acme. */
PRELUDES['readme-entities'] = `${entitiesCatalog}
const engine = await __core.createEngine({ store: __core.memoryStore(), catalog });
await engine.provisionCustomer({ customerId: 'acme' });
`;

/** entities.md "Through the sidecar": a running sidecar on entities.md's catalog, customer acme, TESSERA_URL and TESSERA_KEY set. */
PRELUDES['sidecar-entities'] = PRELUDES.sidecar!.replace(catalog, entitiesCatalog);

/** The http README's generated-client call: a live sidecar and the types openapi-typescript generated. */
PRELUDES.openapi = `${PRELUDES.sidecar}
import type { paths } from '../../../packages/http/examples/openapi-client/sidecar-api.js';
`;
PRELUDES['testing-snapshot'] = `${PRELUDES.testing}
const timeline: TimelineStep[] = [{ at: '2024-01-31', provisionCustomer: { customerId: 'acme', subscriptionParams: null } }];
`;

/**
 * What the packaging test writes into the temporary project: scripts a package user would write
 * (ESM, CommonJS, strict TypeScript), with nothing from the repository but the packed tarballs.
 */

/** ESM: every package imports; an engine on a SQLite file serves a sidecar that the client calls. */
export const ESM_SCRIPT = `
import { createEngine, defineCatalog, Decimal, isTesseraError as isCoreError, TesseraError } from '@tessera/core';
import { createClient as createFetchClient, isTesseraError } from '@tessera/client';
import { createClient, serveSidecar } from '@tessera/http';
import { sqliteStore } from '@tessera/sqlite';
import { postgresStore } from '@tessera/postgres';
import { Statements } from '@tessera/sql';
import { testClock, arbCatalog } from '@tessera/testing';
import { TesseraProvider } from '@tessera/openfeature';
import { OpenFeature } from '@openfeature/server-sdk';
import fc from 'fast-check';
import pkg from '@tessera/core/package.json' with { type: 'json' };

const catalog = defineCatalog({
  features: [{ id: 'api-calls', type: 'METERED', units: 'call', unitsPlural: 'calls' }],
  products: [{ id: 'app', defaultPlanId: 'free', downgradePlanId: 'free' }],
  plans: [{ id: 'free', productId: 'app', pricingType: 'FREE', entitlements: [{ featureId: 'api-calls', usageLimit: 100, resetPeriod: 'MONTH' }] }],
});
const store = sqliteStore({ filename: 'esm.db' });
const engine = await createEngine({ store, catalog });
await engine.provisionCustomer({ customerId: 'acme' });
const key = 'esm-full-access-key-0123456789';
const sidecar = await serveSidecar({ engine, store, fullAccessKeys: [key], port: 0, hostname: '127.0.0.1' });
const client = createClient({ url: sidecar.url, apiKey: key });
await client.reportUsage({ customerId: 'acme', featureId: 'api-calls', value: 3 });
const bare = createFetchClient({ url: sidecar.url, apiKey: key });
const e = await bare.getMeteredEntitlement({ customerId: 'acme', featureId: 'api-calls' });
let clientError, httpError;
try { await bare.getCustomer('nobody'); } catch (err) { clientError = err; }
try { await client.getCustomer('nobody'); } catch (err) { httpError = err; }
await OpenFeature.setProviderAndWait(new TesseraProvider(bare));
const flag = await OpenFeature.getClient().getNumberDetails('api-calls', -1, { targetingKey: 'acme' });
await OpenFeature.close();
await sidecar.close();
await engine.close();
console.log(JSON.stringify({
  usage: e.currentUsage,
  usageDate: e.usagePeriodStart instanceof Date,
  money: new Decimal('0.1').plus('0.2').toString(),
  clientError: [isTesseraError(clientError, 'CUSTOMER_NOT_FOUND'), clientError?.name],
  httpError: [httpError instanceof TesseraError, isCoreError(httpError, 'CUSTOMER_NOT_FOUND')],
  others: [typeof postgresStore, typeof Statements, typeof testClock, fc.sample(arbCatalog(), 2).length],
  flag: [flag.value, flag.reason],
  version: pkg.version,
}));
`;

/** CommonJS: require() of every package, an engine on the memory store. */
export const CJS_SCRIPT = `
const { createEngine, defineCatalog, memoryStore, Decimal } = require('@tessera/core');
const { createClient, isTesseraError } = require('@tessera/client');
const http = require('@tessera/http');
const { sqliteStore } = require('@tessera/sqlite');
const { postgresStore } = require('@tessera/postgres');
const { Statements } = require('@tessera/sql');
const { testClock } = require('@tessera/testing');
const { TesseraProvider } = require('@tessera/openfeature');
const { OpenFeature } = require('@openfeature/server-sdk');

(async () => {
  const catalog = defineCatalog({
    features: [{ id: 'sso', type: 'BOOLEAN' }],
    products: [{ id: 'app', defaultPlanId: 'free', downgradePlanId: 'free' }],
    plans: [{ id: 'free', productId: 'app', pricingType: 'FREE', entitlements: [{ featureId: 'sso' }] }],
  });
  const engine = await createEngine({ store: memoryStore(), catalog, clock: testClock('2024-01-31T00:00:00Z') });
  await engine.provisionCustomer({ customerId: 'acme' });
  const e = await engine.getBooleanEntitlement({ customerId: 'acme', featureId: 'sso' });
  await OpenFeature.setProviderAndWait(new TesseraProvider(engine));
  const flag = await OpenFeature.getClient().getBooleanValue('sso', false, { targetingKey: 'acme' });
  await OpenFeature.close();
  const file = await createEngine({ store: sqliteStore({ filename: 'cjs.db' }), catalog });
  await file.provisionCustomer({ customerId: 'acme' });
  await file.close();
  await engine.close();
  let offline;
  try {
    await createClient({ url: 'http://127.0.0.1:1', apiKey: 'k', timeoutMs: 2000 }).health();
  } catch (err) {
    offline = isTesseraError(err, 'OFFLINE');
  }
  console.log(JSON.stringify({
    access: e.hasAccess,
    flag,
    money: new Decimal('1.10').times(3).toString(),
    offline,
    others: [typeof http.createSidecar, typeof http.createClient, typeof postgresStore, typeof Statements],
  }));
})().catch((err) => { console.error(err); process.exit(1); });
`;

/** Strict TypeScript as a user writes it (ESM); checked under each moduleResolution. */
export const TS_CHECK = `
import { createEngine, defineCatalog, Decimal, memoryStore, type Engine, type MeteredEntitlement, type TesseraErrorCode } from '@tessera/core';
import { createClient, isTesseraError, type TesseraClient } from '@tessera/client';
import { createSidecar, createReplica, type SidecarOptions } from '@tessera/http';
import { sqliteStore, type SqliteStoreOptions } from '@tessera/sqlite';
import { postgresStore, type PostgresStoreOptions } from '@tessera/postgres';
import { testClock } from '@tessera/testing';
import { TesseraProvider, type EntitlementSource } from '@tessera/openfeature';
import { OpenFeature, type EvaluationDetails } from '@openfeature/server-sdk';

const catalog = defineCatalog({
  features: [{ id: 'api-calls', type: 'METERED', units: 'call', unitsPlural: 'calls' }],
  products: [{ id: 'app', defaultPlanId: 'free', downgradePlanId: 'free' }],
  plans: [{ id: 'free', productId: 'app', pricingType: 'FREE', entitlements: [{ featureId: 'api-calls', usageLimit: 100, resetPeriod: 'MONTH' }] }],
});
export async function run(): Promise<number> {
  const engine: Engine = await createEngine({ store: memoryStore(), catalog, clock: testClock('2024-01-31T00:00:00Z') });
  const m = (await engine.getMeteredEntitlement({ customerId: 'acme', featureId: 'api-calls' })) as MeteredEntitlement;
  const total: Decimal = new Decimal(m.currentUsage).plus('0.5');
  const client: TesseraClient = createClient({ url: 'http://127.0.0.1:8787', apiKey: 'k' });
  const viaClient = await client.getCustomer('acme');
  const sources: EntitlementSource[] = [engine, client];
  await OpenFeature.setProviderAndWait(new TesseraProvider(engine, { unlimited: Number.MAX_SAFE_INTEGER }));
  const left: EvaluationDetails<number> = await OpenFeature.getClient().getNumberDetails('api-calls', 0, { targetingKey: 'acme' });
  const code: TesseraErrorCode = 'OFFLINE';
  const sqlite: SqliteStoreOptions = { filename: 'x.db' };
  const pg: PostgresStoreOptions = { connectionString: 'postgres://localhost/app' };
  const options: Partial<SidecarOptions> = { engine };
  void [createSidecar, createReplica, sqliteStore(sqlite), postgresStore(pg), options, isTesseraError(new Error(), code), viaClient.createdAt.getTime(), sources, new TesseraProvider(client)];
  return total.toNumber() + left.value;
}
`;

/** The same from CommonJS TypeScript (.cts): the require conditions' declarations (.d.cts). */
export const CTS_CHECK = `
import { createEngine, memoryStore, type Engine } from '@tessera/core';
import { createClient, type TesseraClient } from '@tessera/client';
import { createSidecar } from '@tessera/http';
import { TesseraProvider } from '@tessera/openfeature';
export async function run(): Promise<void> {
  const engine: Engine = await createEngine({ store: memoryStore(), offline: true });
  const client: TesseraClient = createClient({ url: 'http://127.0.0.1:8787', apiKey: 'k' });
  void [engine, client, createSidecar, new TesseraProvider(engine)];
}
`;

/** A browser app: the client alone, DOM types only (no @types/node), bundler resolution. */
export const BROWSER_CHECK = `
import { createClient, isTesseraError, type TesseraClient } from '@tessera/client';
const client: TesseraClient = createClient({ url: 'https://billing.example', apiKey: 'k' });
export async function canExport(customerId: string): Promise<boolean> {
  try {
    return (await client.getBooleanEntitlement({ customerId, featureId: 'export' })).hasAccess;
  } catch (e) {
    if (isTesseraError(e, 'OFFLINE')) return false;
    throw e;
  }
}
`;

export type Setup = 'node16' | 'nodenext' | 'bundler' | 'browser';

/** A tsconfig for one setup; strict, the packages' declarations checked too (no skipLibCheck). */
export function tsconfig(setup: Setup): string {
  const resolution = setup === 'browser' ? 'bundler' : setup;
  return JSON.stringify({
    compilerOptions: {
      target: 'ES2022',
      module: resolution === 'bundler' ? 'preserve' : resolution,
      moduleResolution: resolution,
      strict: true,
      noEmit: true,
      skipLibCheck: false,
      types: setup === 'browser' ? [] : ['node'],
      lib: setup === 'browser' ? ['ES2022', 'DOM'] : ['ES2022'],
    },
    files: setup === 'browser' ? ['browser.ts'] : setup === 'bundler' ? ['check.ts'] : ['check.ts', 'check.cts'],
  });
}

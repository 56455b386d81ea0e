/**
 * The dashboard on demo data: `npx tsx packages/http/examples/dashboard.ts`, then open the printed
 * URL and sign in with the printed read-only or full-access key. An in-memory store; Ctrl-C stops it.
 */
import { createEngine, memoryStore, testClock } from '@tessera/core';
import { serveSidecar } from '@tessera/http';
import { dashboardCatalog, DEMO_START, seedDashboard } from './dashboard-data.js';

const clock = testClock(DEMO_START);
const store = memoryStore();
const engine = await createEngine({ store, clock, catalog: dashboardCatalog });
await seedDashboard(engine, clock);
const fullKey = 'demo-full-access-key-0123456789';
const readKey = 'demo-read-only-key-0123456789';
const sidecar = await serveSidecar({ engine, store, fullAccessKeys: [fullKey], readOnlyKeys: [readKey], port: Number(process.env.PORT ?? 8787) });
console.log(`dashboard: ${sidecar.url}/ui  (read-only key ${readKey}, full-access key ${fullKey})`);
process.on('SIGINT', () => void sidecar.close().then(() => engine.close()));

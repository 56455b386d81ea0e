/**
 * Screenshots of the dashboard for the READMEs: `npx tsx packages/http/scripts/dashboard-screenshots.ts`
 * serves the demo data (examples/dashboard-data.ts), signs in with Debian's Chromium (as the tests
 * do) and writes packages/http/docs/dashboard/*.png.
 */
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createEngine, memoryStore, testClock } from '@tessera/core';
import { serveSidecar } from '../src/index.js';
import { dashboardCatalog, DEMO_START, seedDashboard } from '../examples/dashboard-data.js';
import { launchBrowser, noBrowserReason } from '../../../test/ui/browser.js';

const reason = noBrowserReason();
if (reason) throw new Error(reason);
const out = fileURLToPath(new URL('../docs/dashboard/', import.meta.url));
mkdirSync(out, { recursive: true });

const clock = testClock(DEMO_START);
const store = memoryStore();
const engine = await createEngine({ store, clock, catalog: dashboardCatalog });
await seedDashboard(engine, clock);
const key = 'screenshot-full-access-key-0123456789';
const sidecar = await serveSidecar({ engine, store, fullAccessKeys: [key], port: 0 });
const browser = await launchBrowser();
try {
  const page = await browser.context.newPage();
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.goto(`${sidecar.url}/ui#/customers`);
  await page.screenshot({ path: `${out}login.png` });
  await page.fill('#login-key', key);
  await page.click('#login button[type=submit]');
  await page.waitForSelector('#customers caption');
  await page.screenshot({ path: `${out}customers.png` });
  await page.goto(`${sidecar.url}/ui#/customer/acme`);
  await page.waitForSelector('#entitlements');
  await page.screenshot({ path: `${out}customer.png`, fullPage: true });
  await page.goto(`${sidecar.url}/ui#/usage?customer=acme&feature=api-calls&from=2026-07-01&to=2027-01-01&bucket=month&split=none`);
  await page.waitForSelector('#usage-chart canvas');
  await page.screenshot({ path: `${out}usage.png` });
  await page.goto(`${sidecar.url}/ui#/catalog`);
  await page.waitForSelector('.paywall');
  await page.screenshot({ path: `${out}catalog.png`, fullPage: true });
  await page.goto(`${sidecar.url}/ui#/live`);
  await page.locator('#live-state', { hasText: /^live$/ }).waitFor();
  for (const [customerId, value] of [['acme', 12], ['globex', 3], ['acme', 5]] as const) await engine.reportUsage({ customerId, featureId: 'api-calls', value });
  await page.waitForTimeout(500);
  await page.screenshot({ path: `${out}live.png` });
  console.log(`screenshots written to ${out}`);
} finally {
  await browser.close();
  await sidecar.close();
  await engine.close();
}

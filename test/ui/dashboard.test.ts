/**
 * The dashboard (/ui) in a real browser: Debian's Chromium driven by playwright-core against a
 * sidecar on a SQLite file with the demo data of packages/http/examples/dashboard-data.ts. Skips,
 * saying why, only where no Chromium is installed (.ci/run installs it).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { createEngine, testClock, type Engine } from '@tessera/core';
import { serveSidecar, type RunningSidecar } from '@tessera/http';
import { sqliteStore } from '@tessera/sqlite';
import { dashboardCatalog, DEMO_START, seedDashboard } from '../../packages/http/examples/dashboard-data.js';
import { FULL_KEY, READ_KEY, tempDir } from '../http/harness.js';
import { launchBrowser, noBrowserReason } from './browser.js';

const skip = noBrowserReason();
if (skip) console.log(`dashboard browser tests skipped: ${skip}`);

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

describe.skipIf(skip !== null)('the dashboard in Chromium', () => {
  let engine: Engine;
  let sidecar: RunningSidecar;
  let browser: Awaited<ReturnType<typeof launchBrowser>>;
  let page: Page;
  let remove: () => void;

  beforeAll(async () => {
    const dir = tempDir();
    remove = dir.remove;
    const clock = testClock(DEMO_START);
    const store = sqliteStore(join(dir.dir, 'dashboard.db'));
    engine = await createEngine({ store, clock, catalog: dashboardCatalog });
    await seedDashboard(engine, clock);
    sidecar = await serveSidecar({ engine, store, fullAccessKeys: [FULL_KEY], readOnlyKeys: [READ_KEY], port: 0 });
    browser = await launchBrowser();
    page = await browser.context.newPage();
    page.setDefaultTimeout(10_000);
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await sidecar?.close();
    await engine?.close();
    remove?.();
  });

  const signIn = async (key: string) => {
    await page.goto(`${sidecar.url}/ui#/customers`);
    await page.evaluate('sessionStorage.clear()');
    await page.reload();
    await page.fill('#login-key', key);
    await page.click('#login button[type=submit]');
    await page.waitForSelector('#customers caption');
  };

  /** axe-core on the page as shown: violations of serious or critical impact. */
  const seriousViolations = async () => {
    await page.evaluate(axeSource);
    const result = await page.evaluate(() => (globalThis as unknown as { axe: { run(): Promise<{ violations: { id: string; impact: string; nodes: { target: unknown }[] }[] }> } }).axe.run());
    return result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id}: ${JSON.stringify(v.nodes.map((n) => n.target))}`);
  };

  it('serves nothing but the login shell without a key', async () => {
    for (const path of ['/ui/assets/dashboard.js', '/ui/assets/dashboard.css', '/ui/api/session', '/ui/api/customers']) {
      const res = await fetch(`${sidecar.url}${path}`);
      expect(res.status, path).toBe(401);
    }
    const wrong = await fetch(`${sidecar.url}/ui/assets/dashboard.js`, { headers: { authorization: 'Bearer not-a-key-of-this-sidecar' } });
    expect(wrong.status).toBe(401);
    const shell = await (await fetch(`${sidecar.url}/ui`)).text();
    expect(shell).toContain('id="login-form"');
    expect(shell).not.toContain('acme');

    await page.goto(`${sidecar.url}/ui#/customer/acme`);
    await page.waitForSelector('#login-key');
    expect(await page.locator('#app').innerHTML()).toBe('');
    await page.fill('#login-key', 'wrong-key-0123456789abcdef');
    await page.click('#login button[type=submit]');
    await expect.poll(() => page.textContent('#login-error')).toContain('missing or unknown API key');
    expect(await page.locator('#app').innerHTML()).toBe('');
    expect(await page.evaluate("sessionStorage.getItem('tessera.key')")).toBeNull();
    expect(await seriousViolations()).toEqual([]);
  });

  it('loads its first page with less than 200 KB of JavaScript and CSS', async () => {
    const auth = { authorization: `Bearer ${READ_KEY}` };
    let bytes = 0;
    for (const path of ['/ui/login.js', '/ui/assets/dashboard.js', '/ui/assets/dashboard.css']) {
      const res = await fetch(`${sidecar.url}${path}`, { headers: auth });
      expect(res.status, path).toBe(200);
      bytes += (await res.arrayBuffer()).byteLength;
    }
    const shell = await (await fetch(`${sidecar.url}/ui`)).text();
    expect(shell).not.toMatch(/<script[^>]+src="(?!\/ui\/login\.js)/); // nothing from another origin
    bytes += Buffer.byteLength(shell);
    expect(bytes).toBeLessThan(200 * 1024);
  });

  it('signs in with a read-only key, finds customers by name and email, pages, and keeps archived ones apart', async () => {
    await signIn(READ_KEY);
    const active = (await (await fetch(`${sidecar.url}/ui/api/customers?limit=200`, { headers: { authorization: `Bearer ${READ_KEY}` } })).json()) as { data: { customerId: string }[] };
    const total = active.data.length;
    expect(total).toBeGreaterThan(25); // the demo data fills more than one page
    await expect.poll(() => page.textContent('#customers caption')).toContain('Active customers');
    await expect.poll(() => page.locator('#customers tbody tr').count()).toBe(25);
    expect(await page.textContent('.pager span')).toBe('1–25');
    expect(await seriousViolations()).toEqual([]);
    await page.click('.pager button:has-text("Next")');
    await expect.poll(() => page.locator('#customers tbody tr').count()).toBe(Math.min(25, total - 25));
    expect(await page.locator('#customers tbody tr td:first-child').allTextContents()).toEqual(active.data.slice(25, 50).map((c) => c.customerId));
    await page.click('.pager button:has-text("Previous")');
    await expect.poll(() => page.textContent('.pager span')).toBe('1–25');

    await page.fill('#customer-search', 'globex.test');
    await page.click('form[role=search] button');
    await expect.poll(() => page.textContent('#customers tbody')).toContain('Globex');
    expect(await page.locator('#customers tbody tr').count()).toBe(1);

    await page.click('.tabs button:has-text("Archived")');
    await page.fill('#customer-search', '');
    await page.click('form[role=search] button');
    await expect.poll(() => page.textContent('#customers tbody')).toContain('umbrella');
    expect(await page.locator('#customers tbody tr').count()).toBe(1);
    await page.click('.tabs button:has-text("Active")');

    await page.fill('#customer-search', 'acme inc');
    await page.click('form[role=search] button');
    await page.click('#customers a:has-text("acme")');
    await page.waitForSelector('#entitlements');
    expect(await page.textContent('main h1')).toBe('Acme Inc');
  });

  it("shows a customer's subscriptions, each entitlement's usage against its limit, promotions, credits and invoices", async () => {
    const metered = await engine.getMeteredEntitlement({ customerId: 'acme', featureId: 'api-calls' });
    const bar = page.locator('tr[data-feature="api-calls"] [role=progressbar]');
    expect(Number(await bar.getAttribute('aria-valuenow'))).toBe(metered.currentUsage);
    expect(Number(await bar.getAttribute('aria-valuemax'))).toBe(metered.usageLimit);
    const row = await page.textContent('tr[data-feature="api-calls"]');
    expect(row).toContain(`${metered.currentUsage.toLocaleString('en-US')} of ${metered.usageLimit!.toLocaleString('en-US')}`);
    expect(row).toContain(`resets ${metered.usagePeriodEnd!.toISOString().slice(0, 16).replace('T', ' ')}`);
    const seats = await engine.getMeteredEntitlement({ customerId: 'acme', featureId: 'seats' });
    expect(Number(await page.locator('tr[data-feature="seats"] [role=progressbar]').getAttribute('aria-valuenow'))).toBe(seats.currentUsage);

    const subs = await page.textContent('#subscriptions');
    expect(subs).toContain('basic');
    expect(subs).toContain('ACTIVE');
    expect(await page.textContent('#promotions')).toContain('sso');
    const balance = await engine.getCreditBalance({ customerId: 'acme', currencyId: 'credits' });
    expect(await page.textContent('#h-credits + h3')).toContain(`balance ${balance.balance}`);
    const invoices = await engine.getInvoices({ customerId: 'acme' });
    expect(await page.locator('#invoices details').count()).toBe(invoices.length);
    // A read-only key gets no write controls.
    expect(await page.locator('#grant-form').count()).toBe(0);
    expect(await page.locator('button.danger').count()).toBe(0);
    expect(await seriousViolations()).toEqual([]);
  });

  it("draws a feature's usage over time as a chart", async () => {
    const history = await engine.getUsageHistory({ customerId: 'acme', featureId: 'api-calls', start: '2026-07-01', end: '2027-01-01' });
    expect(history.periods.length).toBeGreaterThan(2);
    await page.goto(`${sidecar.url}/ui#/usage?customer=acme&feature=api-calls&from=2026-07-01&to=2027-01-01&bucket=month&split=none`);
    await page.waitForSelector('#usage-chart canvas');
    expect(Number(await page.getAttribute('#usage-chart', 'data-points'))).toBe(history.periods.length);
    // The canvas has something drawn on it: pixels in the series' colour (#2450b8).
    const drawn = await page.evaluate(`(() => {
      const canvas = document.querySelector('#usage-chart canvas');
      const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
      let series = 0;
      for (let i = 0; i < data.length; i += 4) if (data[i] === 0x24 && data[i + 1] === 0x50 && data[i + 2] === 0xb8) series++;
      return series;
    })()`);
    expect(drawn).toBeGreaterThan(50);
    const cells = await page.locator('#usage-table tbody tr td:nth-child(2)').allTextContents();
    expect(cells.map((c) => Number(c.replace(/,/g, '')))).toEqual(history.periods.map((p) => p.value));
    expect(await seriousViolations()).toEqual([]);
  });

  it('shows usage reports live, for the customer asked for only', async () => {
    await page.goto(`${sidecar.url}/ui#/live?customer=acme`);
    await expect.poll(() => page.textContent('#live-state')).toBe('live');
    const before = await page.locator('#live tbody tr').count();
    await engine.reportUsage({ customerId: 'initech', featureId: 'api-calls', value: 3 });
    await engine.reportUsage({ customerId: 'acme', featureId: 'api-calls', value: 7 });
    const seq = await engine.lastChangeSeq();
    await expect.poll(() => page.locator('#live tbody tr').first().textContent()).toContain(String(seq));
    expect(await page.locator('#live tbody tr').first().getAttribute('data-kind')).toBe('usage.updated');
    const customers = await page.locator('#live tbody tr td:nth-child(4)').allTextContents();
    expect(customers.length).toBe(before + 1);
    expect(new Set(customers)).toEqual(new Set(['acme']));
    expect(await seriousViolations()).toEqual([]);
  });

  it('shows the catalog: plans in order with versions, prices by country, the paywall', async () => {
    await page.goto(`${sidecar.url}/ui#/catalog`);
    await page.waitForSelector('table.catalog');
    const plans = await page.locator('table.catalog tbody tr td:nth-child(2)').allTextContents();
    expect(plans.map((p) => p.split(' ')[0])).toEqual(['Free', 'Basic', 'Pro']);
    expect(await page.textContent('table.catalog')).toContain('DE: 19.00 EUR / monthly');
    await page.fill('#paywall-country', 'DE');
    await page.press('#paywall-country', 'Enter');
    await expect.poll(() => page.textContent('#paywall-app')).toContain('19.00 EUR');
    expect(await seriousViolations()).toEqual([]);
  });

  it('grants a promotion and cancels a subscription with a full-access key, each after a confirmation', async () => {
    await signIn(FULL_KEY);
    await page.goto(`${sidecar.url}/ui#/customer/initech`);
    await page.waitForSelector('#grant-form');
    await page.selectOption('#grant-form select >> nth=0', 'api-calls');
    await page.fill('#grant-form input[type=number]', '5000');
    page.once('dialog', (d) => void d.dismiss());
    await page.click('#grant-form button[type=submit]');
    expect((await engine.getCustomer('initech')).promotionalEntitlements).toEqual([]);
    page.once('dialog', (d) => void d.accept());
    await page.click('#grant-form button[type=submit]');
    await expect.poll(() => page.textContent('#promotions')).toContain('api-calls');
    expect((await engine.getCustomer('initech')).promotionalEntitlements.map((p) => [p.featureId, p.usageLimit])).toEqual([['api-calls', 5000]]);

    await page.goto(`${sidecar.url}/ui#/customer/acme`);
    await page.waitForSelector('#subscriptions button.danger');
    let asked = '';
    page.once('dialog', (d) => {
      asked = d.message();
      void d.accept();
    });
    await page.click('#subscriptions button.danger');
    await expect.poll(() => page.textContent('#subscriptions')).toContain('cancels');
    expect(asked).toContain('Cancel the basic subscription');
    const [sub] = (await engine.getSubscriptions({ filter: { customerId: { eq: 'acme' }, planId: { eq: 'basic' } } })).data;
    expect(sub!.cancellationDate).not.toBeNull();

    // Signing out forgets the key: the tab is back at the sign-in page.
    await page.click('header button:has-text("Sign out")');
    await page.waitForSelector('#login-key');
    expect(await page.evaluate("sessionStorage.getItem('tessera.key')")).toBeNull();
    expect(await page.locator('#app').innerHTML()).toBe('');
  });
});

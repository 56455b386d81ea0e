/**
 * The dashboard's routes over HTTP, without a browser: the keys they take, the customer list
 * (search, paging, archived apart), the change stream filtered by customer, `ui: false`, and the
 * data of every page loading on a PostgreSQL sidecar as on SQLite.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine, testClock, type Engine, type Store } from '@tessera/core';
import { serveSidecar, createSidecar, type RunningSidecar } from '@tessera/http';
import { sqliteStore } from '@tessera/sqlite';
import { dashboardCatalog, DEMO_START, seedDashboard } from '../../packages/http/examples/dashboard-data.js';
import { FULL_KEY, READ_KEY, SseReader, startSidecarProcess, tempDir, writeDemoCatalog } from '../http/harness.js';
import { freshPgStore } from '../support/pg-stores.js';

const METRICS_KEY = 'metrics-key-0123456789abcdef';

interface Page {
  data: { customerId: string; name: string | null; archived: boolean; planIds: string[]; createdAt: string }[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
}

for (const kind of ['sqlite', 'postgres'] as const) {
  describe(`the dashboard's data on a ${kind} sidecar`, () => {
    let engine: Engine;
    let sidecar: RunningSidecar;
    let cleanup = () => {};

    beforeAll(async () => {
      let store: Store;
      if (kind === 'sqlite') {
        const dir = tempDir();
        cleanup = dir.remove;
        store = sqliteStore(join(dir.dir, 'ui.db'));
      } else {
        store = freshPgStore().store;
      }
      const clock = testClock(DEMO_START);
      engine = await createEngine({ store, clock, catalog: dashboardCatalog });
      await seedDashboard(engine, clock);
      sidecar = await serveSidecar({ engine, store, fullAccessKeys: [FULL_KEY], readOnlyKeys: [READ_KEY], metricsKeys: [METRICS_KEY], port: 0 });
    }, 60_000);

    afterAll(async () => {
      await sidecar?.close();
      await engine?.close();
      cleanup();
    });

    const get = (path: string, key = READ_KEY) => fetch(`${sidecar.url}${path}`, { headers: { authorization: `Bearer ${key}` } });
    const post = async <T>(method: string, body: unknown): Promise<T> => {
      const res = await fetch(`${sidecar.url}/v1/${method}`, { method: 'POST', headers: { authorization: `Bearer ${READ_KEY}` }, body: JSON.stringify(body) });
      expect(res.status, method).toBe(200);
      return (await res.json()) as T;
    };

    it('tells a key its access, and refuses a metrics key', async () => {
      expect(await (await get('/ui/api/session', FULL_KEY)).json()).toEqual({ access: 'full', catalogVersion: engine.catalogVersion });
      expect(await (await get('/ui/api/session')).json()).toEqual({ access: 'read', catalogVersion: engine.catalogVersion });
      for (const path of ['/ui/api/session', '/ui/api/customers', '/ui/assets/dashboard.js']) expect((await get(path, METRICS_KEY)).status, path).toBe(403);
    });

    it('lists customers oldest first from getCustomers, searches id, name and email, pages by cursor, and keeps archived ones apart', async () => {
      const all = (await (await get('/ui/api/customers?limit=200')).json()) as Page;
      const ids = all.data.map((r) => r.customerId);
      expect(ids).toEqual((await engine.getCustomers({ first: 200 })).data.map((c) => c.customerId));
      const created = all.data.map((r) => Date.parse(r.createdAt));
      expect(created).toEqual([...created].sort((a, b) => a - b));
      expect(ids).toContain('acme');
      expect(ids).not.toContain('umbrella');
      expect(all.pageInfo.hasNextPage).toBe(false);
      const acme = all.data.find((r) => r.customerId === 'acme')!;
      expect(acme.planIds).toEqual([...new Set((await engine.getCustomer('acme')).subscriptions.map((s) => s.planId))]);

      // Pages of 10 from each page's endCursor: every customer once, in the same order.
      const paged: string[] = [];
      let after = '';
      for (;;) {
        const page = (await (await get(`/ui/api/customers?limit=10${after ? `&after=${encodeURIComponent(after)}` : ''}`)).json()) as Page;
        expect(page.data.length).toBeLessThanOrEqual(10);
        paged.push(...page.data.map((r) => r.customerId));
        if (!page.pageInfo.hasNextPage) break;
        after = page.pageInfo.endCursor!;
      }
      expect(paged).toEqual(ids);
      for (const q of ['ACME', 'acme inc', 'ops@acme']) {
        const found = (await (await get(`/ui/api/customers?q=${encodeURIComponent(q)}`)).json()) as Page;
        expect(found.data.map((r) => r.customerId), q).toEqual(['acme']);
      }
      const archived = (await (await get('/ui/api/customers?archived=true')).json()) as Page;
      expect(archived.data.map((r) => [r.customerId, r.archived])).toEqual([['umbrella', true]]);

      // A customer written after the first query is listed by the next one.
      await engine.provisionCustomer({ customerId: 'newco', name: 'New Co' });
      expect(((await (await get('/ui/api/customers?q=new%20co')).json()) as Page).data.map((r) => r.customerId)).toEqual(['newco']);
      await engine.updateCustomer({ customerId: 'newco', name: 'Renamed' });
      expect(((await (await get('/ui/api/customers?q=renamed')).json()) as Page).data).toHaveLength(1);

      for (const bad of ['limit=-1', 'limit=x', 'archived=maybe', `q=${'x'.repeat(201)}`, 'after=not-a-cursor', 'q=%00']) {
        const res = await get(`/ui/api/customers?${bad}`);
        expect(res.status, bad).toBe(400);
        expect(((await res.json()) as { error: { code: string } }).error.code).toBe('INVALID_ARGUMENT');
      }
    });

    it("loads every page's data through the /v1 methods", async () => {
      const customerId = 'acme';
      const subs = await post<{ data: { id: string; planId: string }[] }>('getSubscriptions', { filter: { customerId: { eq: customerId } }, first: 100 });
      expect(subs.data.map((s) => s.planId)).toContain('basic');
      const detail = await post<{ paymentCollection: string }>('getSubscription', { subscriptionId: subs.data[0]!.id });
      expect(typeof detail.paymentCollection).toBe('string');
      const entitlements = await post<{ featureId: string; currentUsage?: number }[]>('getEntitlements', { customerId });
      const direct = await engine.getMeteredEntitlement({ customerId, featureId: 'api-calls' });
      expect(entitlements.find((e) => e.featureId === 'api-calls')!.currentUsage).toBe(direct.currentUsage);
      const history = await post<{ periods: { value: number }[] }>('getUsageHistory', { customerId, featureId: 'api-calls', start: '2026-07-01', end: '2027-01-01' });
      expect(history.periods.length).toBeGreaterThan(2);
      expect((await post<{ balance: string }>('getCreditBalance', { customerId, currencyId: 'credits' })).balance).toBe('380');
      expect((await post<unknown[]>('getInvoices', { customerId })).length).toBeGreaterThan(0);
      expect((await post<{ products: unknown[] }>('getPaywall', { billingCountryCode: 'DE' })).products.length).toBe(1);
      const js = await get('/ui/assets/dashboard.js');
      expect(js.status).toBe(200);
      expect(js.headers.get('content-type')).toContain('javascript');
      expect((await js.text()).length).toBeGreaterThan(1000);
    });

    it('streams the changes of one customer when asked', async () => {
      const after = await engine.lastChangeSeq();
      const res = await fetch(`${sidecar.url}/v1/changes/stream?after=${after}&customerId=acme`, { headers: { authorization: `Bearer ${READ_KEY}` } });
      expect(res.status).toBe(200);
      const reader = new SseReader(res.body!);
      await engine.reportUsage({ customerId: 'initech', featureId: 'api-calls', value: 1 });
      await engine.reportUsage({ customerId: 'acme', featureId: 'api-calls', value: 2 });
      const event = await reader.next();
      const change = JSON.parse(event.data) as { customerId: string; kind: string; seq: number };
      expect([change.customerId, change.kind]).toEqual(['acme', 'usage.updated']);
      expect(change.seq).toBe(await engine.lastChangeSeq());
      await reader.close();
      const bad = await get('/v1/changes/stream?customerId=');
      expect(bad.status).toBe(400);
    });
  });
}

describe('a sidecar without the dashboard', () => {
  it('answers 404 under /ui with `ui: false`', async () => {
    const clock = testClock(DEMO_START);
    const { memoryStore } = await import('@tessera/core');
    const engine = await createEngine({ store: memoryStore(), clock, catalog: dashboardCatalog });
    const app = createSidecar({ engine, readOnlyKeys: [READ_KEY], ui: false });
    expect((await app.request('/ui')).status).toBe(404);
    expect((await app.request('/ui/api/customers', { headers: { authorization: `Bearer ${READ_KEY}` } })).status).toBe(404);
    expect((await createSidecar({ engine, readOnlyKeys: [READ_KEY] }).request('/ui')).status).toBe(200);
    await engine.close();
  });
});

describe('tessera serve', () => {
  it('serves the dashboard by default and not with --no-ui', async () => {
    const dir = tempDir();
    const catalog = writeDemoCatalog(dir.dir);
    try {
      for (const [flags, status] of [[[], 200], [['--no-ui'], 404]] as const) {
        const sidecar = await startSidecarProcess(['--db', join(dir.dir, 'cli.db'), '--catalog', catalog, ...flags]);
        try {
          expect((await fetch(`${sidecar.url}/ui`)).status, flags.join(' ')).toBe(status);
        } finally {
          expect(await sidecar.stop()).toBe(0);
        }
      }
    } finally {
      dir.remove();
    }
  });
});

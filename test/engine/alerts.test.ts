import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createEngine,
  testClock,
  TesseraError,
  validateCatalog,
  type CatalogDefinition,
  type CreditBalanceLowEvent,
  type EngineErrorEvent,
  type Engine,
  type UsageThresholdReachedEvent,
  type WebhookDelivery,
  type WebhookTransport,
} from '@tessera/core';
import { sqliteStore } from '@tessera/sqlite';
import { demoCatalog, engineOn, storeFactories, tempDir } from './stores.js';

// Threshold alerts (docs/alerts.md): usageThresholdReached once per threshold and usage window,
// decided in the store; creditBalanceLow once per fall below a threshold; their webhook outbox.

/** The demo catalog with alerts at 80% and 100% of the free plan's 100 monthly API calls, a metered
 * feature fed by events, and a credit currency that alerts below 10 credits. */
function alertCatalog(): CatalogDefinition {
  const c = structuredClone(demoCatalog);
  c.features.push({ id: 'requests', displayName: 'Requests', type: 'METERED', meter: { eventName: 'request', aggregation: { type: 'COUNT' } } });
  c.creditCurrencies = [{ id: 'ai-credits', displayName: 'AI credits', alerts: { balanceBelow: ['10', '1'] } }];
  const free = c.plans.find((p) => p.id === 'free')!;
  free.entitlements = free.entitlements!.map((e) => (e.featureId === 'api-calls' ? { ...e, alerts: { usagePercent: [100, 80] } } : e));
  free.entitlements.push({ featureId: 'requests', usageLimit: 10, resetPeriod: 'MONTH', alerts: { usagePercent: [50] } });
  return c;
}

/** Collects the alert events an engine emits. */
function listen(engine: Engine) {
  const usage: UsageThresholdReachedEvent[] = [];
  const credit: CreditBalanceLowEvent[] = [];
  const errors: EngineErrorEvent[] = [];
  engine.on('usageThresholdReached', (e) => usage.push(e));
  engine.on('creditBalanceLow', (e) => credit.push(e));
  // Failed deliveries are reported (no failure silent): collected here rather than printed.
  engine.on('error', (e) => errors.push(e));
  return { usage, credit, errors };
}

/** A transport that fails its first `failures` sends (as an endpoint that is down would), then records what it accepts. */
function flakyTransport(failures: number, endpoints = ['https://hooks.example/a']): WebhookTransport & { accepted: WebhookDelivery[]; tries: number } {
  const t = {
    endpoints,
    accepted: [] as WebhookDelivery[],
    tries: 0,
    async send(d: WebhookDelivery) {
      t.tries++;
      if (t.tries <= failures) throw new Error(`HTTP 503 from ${d.endpoint}`);
      t.accepted.push(d);
    },
  };
  return t;
}

describe('alert thresholds in the catalog', () => {
  it('accepts usagePercent on METERED entitlements and balanceBelow on credit currencies', () => {
    expect(validateCatalog(alertCatalog())).toEqual([]);
  });

  it('refuses a bad threshold with the path of the field to fix', () => {
    const c = alertCatalog();
    const free = c.plans.find((p) => p.id === 'free')!;
    free.entitlements!.find((e) => e.featureId === 'api-calls')!.alerts = { usagePercent: [80, 80, -5] };
    c.creditCurrencies![0]!.alerts = { balanceBelow: ['ten'] };
    const paths = validateCatalog(c).map((p) => p.path);
    expect(paths).toContain('plans[0].entitlements[1].alerts.usagePercent[1]');
    expect(paths).toContain('plans[0].entitlements[1].alerts.usagePercent[2]');
    expect(paths).toContain('creditCurrencies[0].alerts.balanceBelow[0]');
  });
});

for (const factory of storeFactories()) {
  describe(`usage and credit alerts (${factory.name})`, () => {
    let env: Awaited<ReturnType<typeof engineOn>>;
    afterEach(async () => env?.cleanup());

    it('fires each threshold once per window, again after the reset, never on the way down', async () => {
      env = await engineOn(factory, { catalog: alertCatalog() });
      const { engine, clock } = env;
      const seen = listen(engine);
      await engine.provisionCustomer({ customerId: 'c1' });
      await engine.reportUsage({ customerId: 'c1', featureId: 'api-calls', value: 79 });
      expect(seen.usage).toEqual([]);
      // 79 -> 80 reaches 80% of 100.
      await engine.reportUsage({ customerId: 'c1', featureId: 'api-calls', value: 1 });
      expect(seen.usage.map((e) => [e.threshold, e.currentUsage, e.usageLimit, e.source])).toEqual([[80, 80, 100, 'catalog']]);
      const first = seen.usage[0]!;
      expect(first).toMatchObject({ customerId: 'c1', featureId: 'api-calls', resourceId: null });
      expect(first.windowStart!.getTime()).toBeLessThanOrEqual(clock.nowMs());
      expect(first.windowEnd!.getTime()).toBeGreaterThan(clock.nowMs());
      // Down and up again in the same window: 80 was announced already.
      await engine.reportUsage({ customerId: 'c1', featureId: 'api-calls', value: 10, updateBehavior: 'SET' });
      await engine.consumeUsage({ customerId: 'c1', featureId: 'api-calls', amount: 85 });
      expect(seen.usage.map((e) => e.threshold)).toEqual([80]);
      // 95 -> 100 reaches the limit.
      await engine.consumeUsage({ customerId: 'c1', featureId: 'api-calls', amount: 5 });
      expect(seen.usage.map((e) => e.threshold)).toEqual([80, 100]);
      expect(seen.usage[1]!.currentUsage).toBe(100);
      // Past the limit (CAP grants what is left) crosses nothing new.
      await engine.consumeUsage({ customerId: 'c1', featureId: 'api-calls', amount: 50, overage: 'CAP' });
      expect(seen.usage).toHaveLength(2);
      // The next monthly window announces again, with its own window.
      clock.advance({ months: 1 });
      await engine.reportUsage({ customerId: 'c1', featureId: 'api-calls', value: 100 });
      expect(seen.usage.map((e) => e.threshold)).toEqual([80, 100, 80, 100]);
      expect(seen.usage[2]!.windowStart!.getTime()).toBe(first.windowEnd!.getTime());
      expect(new Set(seen.usage.map((e) => e.id)).size).toBe(4);
    });

    it('fires for usage counted from raw events, and for a customer’s own thresholds', async () => {
      env = await engineOn(factory, { catalog: alertCatalog() });
      const { engine } = env;
      const seen = listen(engine);
      await engine.provisionCustomer({ customerId: 'c1' });
      expect(await engine.setUsageAlerts({ customerId: 'c1', featureId: 'requests', percents: [90, 20] })).toEqual({ customerId: 'c1', featureId: 'requests', percents: [20, 90] });
      // 10 requests a month: 20% at 2, the catalog's 50% at 5, the customer's 90% at 9.
      const events = Array.from({ length: 9 }, (_, i) => ({ customerId: 'c1', eventName: 'request', idempotencyKey: `r${i}` }));
      await engine.reportEvent(events.slice(0, 3));
      await engine.reportEvent(events.slice(3));
      expect(seen.usage.map((e) => [e.threshold, e.currentUsage, e.source])).toEqual([
        [20, 3, 'customer'],
        [50, 9, 'catalog'],
        [90, 9, 'customer'],
      ]);
      await engine.setUsageAlerts({ customerId: 'c1', featureId: 'api-calls', percents: [] });
      const bad = await engine.setUsageAlerts({ customerId: 'c1', featureId: 'api-calls', percents: [80, 80] }).catch((e: unknown) => e);
      expect(bad).toBeInstanceOf(TesseraError);
      expect((bad as TesseraError).code).toBe('INVALID_ARGUMENT');
      const boolean = await engine.setUsageAlerts({ customerId: 'c1', featureId: 'sso', percents: [80] }).catch((e: unknown) => e);
      expect((boolean as TesseraError).code).toBe('INVALID_ARGUMENT');
      expect(((await engine.setUsageAlerts({ customerId: 'c1', featureId: 'nope', percents: [80] }).catch((e: unknown) => e)) as TesseraError).code).toBe('FEATURE_NOT_FOUND');
      expect(((await engine.setUsageAlerts({ customerId: 'nobody', featureId: 'api-calls', percents: [80] }).catch((e: unknown) => e)) as TesseraError).code).toBe('CUSTOMER_NOT_FOUND');
    });

    it('a customer’s own thresholds set after usage was written count from the next write (the cached "none" is dropped)', async () => {
      env = await engineOn(factory, { catalog: alertCatalog() });
      const { engine } = env;
      const seen = listen(engine);
      await engine.provisionCustomer({ customerId: 'c1' });
      // This write reads and keeps "no own thresholds" for c1 / api-calls in the view.
      await engine.reportUsage({ customerId: 'c1', featureId: 'api-calls', value: 10 });
      await engine.setUsageAlerts({ customerId: 'c1', featureId: 'api-calls', percents: [30] });
      await engine.reportUsageBulk({ usages: [{ customerId: 'c1', featureId: 'api-calls', value: 25 }] });
      expect(seen.usage.map((e) => [e.threshold, e.currentUsage, e.source])).toEqual([[30, 35, 'customer']]);
      await engine.setUsageAlerts({ customerId: 'c1', featureId: 'api-calls', percents: [40, 50] });
      await engine.reportUsage({ customerId: 'c1', featureId: 'api-calls', value: 10 });
      await engine.setUsageAlerts({ customerId: 'c1', featureId: 'api-calls', percents: [] });
      await engine.reportUsage({ customerId: 'c1', featureId: 'api-calls', value: 20 });
      expect(seen.usage.map((e) => [e.threshold, e.currentUsage])).toEqual([
        [30, 35],
        [40, 45],
      ]);
    });

    it('announces a threshold once within one bulk write that lowers and raises a cell, per customer', async () => {
      env = await engineOn(factory, { catalog: alertCatalog() });
      const { engine } = env;
      const seen = listen(engine);
      await engine.provisionCustomer({ customerId: 'c1' });
      await engine.provisionCustomer({ customerId: 'c2' });
      // c1: 85 (reaches 80%), SET 10, +80 = 90 (80% again: already announced in this write); c2: 100.
      await engine.reportUsageBulk({
        usages: [
          { customerId: 'c1', featureId: 'api-calls', value: 85 },
          { customerId: 'c1', featureId: 'api-calls', value: 10, updateBehavior: 'SET' },
          { customerId: 'c1', featureId: 'api-calls', value: 80 },
          { customerId: 'c2', featureId: 'api-calls', value: 100 },
        ],
      });
      expect(seen.usage.map((e) => [e.customerId, e.threshold, e.currentUsage])).toEqual([
        ['c1', 80, 85],
        ['c2', 80, 100],
        ['c2', 100, 100],
      ]);
    });

    it('fires creditBalanceLow once per fall below a threshold, again after a top-up', async () => {
      env = await engineOn(factory, { catalog: alertCatalog() });
      const { engine } = env;
      const seen = listen(engine);
      await engine.provisionCustomer({ customerId: 'c1' });
      await engine.grantCredits({ customerId: 'c1', currencyId: 'ai-credits', amount: '20' });
      await engine.consumeCredits({ customerId: 'c1', currencyId: 'ai-credits', amount: '10' });
      expect(seen.credit).toEqual([]);
      // 10 -> 9.5 falls below 10 (at 10 it was not below yet).
      await engine.consumeCredits({ customerId: 'c1', currencyId: 'ai-credits', amount: '0.5' });
      await engine.consumeCredits({ customerId: 'c1', currencyId: 'ai-credits', amount: '0.5' });
      expect(seen.credit.map((e) => [e.threshold, e.balance])).toEqual([['10', '9.5']]);
      // 9 -> 0.5 falls below 1 only: 10 was crossed already.
      await engine.consumeCredits({ customerId: 'c1', currencyId: 'ai-credits', amount: '8.5' });
      expect(seen.credit.map((e) => [e.threshold, e.balance])).toEqual([
        ['10', '9.5'],
        ['1', '0.5'],
      ]);
      await engine.grantCredits({ customerId: 'c1', currencyId: 'ai-credits', amount: '20' });
      // 20.5 -> 0 falls below both again, highest first.
      await engine.consumeCredits({ customerId: 'c1', currencyId: 'ai-credits', amount: '20.5' });
      expect(seen.credit.slice(2).map((e) => e.threshold)).toEqual(['10', '1']);
    });

    /** An engine whose webhooks go to `transport`, retried after 1 s doubling to 10 s, with no background poll (tick sends). */
    const withWebhooks = async (transport: WebhookTransport) => {
      const made = factory.make();
      const clock = testClock('2024-01-31T10:00:00Z');
      let n = 0;
      const engine = await createEngine({
        store: made.store,
        catalog: alertCatalog(),
        clock,
        newId: (p) => `${p}_${++n}`,
        webhooks: { transport, initialBackoffMs: 1_000, maxBackoffMs: 10_000, pollMs: 0 },
      });
      env = { engine, clock, store: made.store, reopen: made.reopen, cleanup: async () => (await engine.close(), made.cleanup()) };
      return { engine, clock };
    };

    it('commits a webhook delivery with the event, retries it with backoff, and reports its status', async () => {
      const transport = flakyTransport(2);
      const { engine, clock } = await withWebhooks(transport);
      const seen = listen(engine);
      await engine.provisionCustomer({ customerId: 'c1' });
      await engine.reportUsage({ customerId: 'c1', featureId: 'api-calls', value: 80 });
      // The first attempt runs after the commit and fails.
      await vitestWaitFor(async () => (await engine.getWebhookDeliveries()).data[0]?.lastError !== null);
      let [d] = (await engine.getWebhookDeliveries()).data;
      expect(d).toMatchObject({ id: seen.usage[0]!.id, endpoint: 'https://hooks.example/a', type: 'usage.threshold_reached', status: 'PENDING', attempts: 1, lastError: 'HTTP 503 from https://hooks.example/a' });
      // Backoff after the first failure: between half and all of 1,000 ms.
      const wait = d!.nextAttemptAt!.getTime() - clock.nowMs();
      expect(wait).toBeGreaterThanOrEqual(500);
      expect(wait).toBeLessThanOrEqual(1_000);
      expect(d!.payload).toEqual({ type: 'usage.threshold_reached', timestamp: new Date(clock.nowMs()).toISOString(), data: expect.objectContaining({ threshold: 80, currentUsage: 80, customerId: 'c1' }) });
      // Not due yet: tick leaves it.
      await engine.tick();
      expect(transport.tries).toBe(1);
      clock.advance({ seconds: 1 });
      await engine.tick();
      [d] = (await engine.getWebhookDeliveries()).data;
      expect(d).toMatchObject({ status: 'PENDING', attempts: 2 });
      // The second wait doubles: between 1,000 and 2,000 ms.
      expect(d!.nextAttemptAt!.getTime() - clock.nowMs()).toBeGreaterThanOrEqual(1_000);
      clock.advance({ seconds: 2 });
      await engine.tick();
      [d] = (await engine.getWebhookDeliveries()).data;
      expect(d).toMatchObject({ status: 'DELIVERED', attempts: 3, lastError: null, nextAttemptAt: null });
      expect(transport.accepted.map((a) => [a.id, a.attempt])).toEqual([[seen.usage[0]!.id, 3]]);
      expect(seen.errors.map((e) => [e.source, e.customerId, (e.error as Error).message])).toEqual([
        ['webhook', 'c1', 'HTTP 503 from https://hooks.example/a'],
        ['webhook', 'c1', 'HTTP 503 from https://hooks.example/a'],
      ]);
      expect((await engine.getWebhookDeliveries({ status: 'PENDING' })).data).toEqual([]);
      expect((await engine.getWebhookDeliveries({ status: 'DELIVERED' })).data).toHaveLength(1);
    });

    it('a threshold crossed inside engine.transaction is delivered once after the commit and marked DELIVERED', async () => {
      const transport = flakyTransport(0);
      const { engine, clock } = await withWebhooks(transport);
      const seen = listen(engine);
      await engine.provisionCustomer({ customerId: 'c1' });
      await engine.transaction(async (tx) => {
        await tx.reportUsage({ customerId: 'c1', featureId: 'api-calls', value: 80 });
      });
      await vitestWaitFor(async () => (await engine.getWebhookDeliveries()).data[0]?.status === 'DELIVERED');
      expect((await engine.getWebhookDeliveries()).data).toEqual([expect.objectContaining({ status: 'DELIVERED', attempts: 1, lastError: null })]);
      // Settled after the commit on the engine's own store: nothing left to send again.
      clock.advance({ minutes: 10 });
      await engine.tick();
      expect(transport.accepted.map((a) => a.id)).toEqual([seen.usage[0]!.id]);
      expect(seen.errors).toEqual([]);
    });

    it('gives a delivery up as FAILED after maxAttempts, and pages deliveries by cursor', async () => {
      const made = factory.make();
      const clock = testClock('2024-01-31T10:00:00Z');
      const transport = flakyTransport(Infinity, ['https://hooks.example/a', 'https://hooks.example/b']);
      const engine = await createEngine({ store: made.store, catalog: alertCatalog(), clock, webhooks: { transport, initialBackoffMs: 10, maxAttempts: 2, pollMs: 0 } });
      env = { engine, clock, store: made.store, reopen: made.reopen, cleanup: async () => (await engine.close(), made.cleanup()) };
      const seen = listen(engine);
      await engine.provisionCustomer({ customerId: 'c1' });
      await engine.reportUsage({ customerId: 'c1', featureId: 'api-calls', value: 100 });
      // Two thresholds x two endpoints; the same webhook id for both endpoints of one event.
      await vitestWaitFor(async () => (await engine.getWebhookDeliveries()).data.every((x) => x.lastError !== null));
      clock.advance({ seconds: 1 });
      await engine.tick();
      const all = (await engine.getWebhookDeliveries()).data;
      expect(all.map((x) => x.status)).toEqual(['FAILED', 'FAILED', 'FAILED', 'FAILED']);
      expect(new Set(all.map((x) => x.id)).size).toBe(2);
      expect(transport.tries).toBe(8);
      expect(seen.errors).toHaveLength(8);
      const page1 = await engine.getWebhookDeliveries({ first: 3 });
      expect(page1.pageInfo.hasNextPage).toBe(true);
      const page2 = await engine.getWebhookDeliveries({ first: 3, after: page1.pageInfo.endCursor! });
      expect([...page1.data, ...page2.data]).toEqual(all);
      expect(page2.pageInfo).toEqual({ hasNextPage: false, endCursor: expect.any(String) });
      const bad = await engine.getWebhookDeliveries({ after: 'nonsense' }).catch((e: unknown) => e);
      expect((bad as TesseraError).code).toBe('INVALID_ARGUMENT');
    });
  });
}

describe('two engines on one SQLite file', () => {
  it('announce each threshold once, whichever writes first, while both consume concurrently', async () => {
    const { dir, cleanup } = tempDir();
    const filename = join(dir, 'shared.db');
    const clock = testClock('2024-01-31T10:00:00Z');
    const transport = flakyTransport(0);
    const open = () => createEngine({ store: sqliteStore({ filename }), catalog: alertCatalog(), clock, webhooks: { transport, pollMs: 0 } });
    const a = await open();
    const b = await open();
    try {
      const seenA = listen(a);
      const seenB = listen(b);
      await a.provisionCustomer({ customerId: 'c1' });
      // 2 x 60 calls of 1 against a limit of 100: 80 and 100 are crossed once each, by one of them.
      const burst = (e: typeof a) => Promise.all(Array.from({ length: 60 }, () => e.consumeUsage({ customerId: 'c1', featureId: 'api-calls', amount: 1, overage: 'CAP' })));
      await Promise.all([burst(a), burst(b)]);
      const all = [...seenA.usage, ...seenB.usage];
      expect(all.map((e) => e.threshold).sort((x, y) => x - y)).toEqual([80, 100]);
      expect(all.map((e) => e.currentUsage).sort((x, y) => x - y)).toEqual([80, 100]);
      await vitestWaitFor(async () => transport.accepted.length === 2);
      expect(transport.accepted.map((d) => d.id).sort()).toEqual(all.map((e) => e.id).sort());
    } finally {
      await a.close();
      await b.close();
      cleanup();
    }
  });
});

describe('own thresholds cached by another engine on the same SQLite file', () => {
  it('are read again once its change feed brings the customer.updated of setUsageAlerts', async () => {
    const { dir, cleanup } = tempDir();
    const filename = join(dir, 'shared.db');
    const clock = testClock('2024-01-31T10:00:00Z');
    const open = () => createEngine({ store: sqliteStore({ filename }), catalog: alertCatalog(), clock });
    const a = await open();
    const b = await open();
    try {
      const seenB = listen(b);
      await a.provisionCustomer({ customerId: 'c1' });
      await b.getEntitlement({ customerId: 'c1', featureId: 'api-calls' });
      await b.reportUsage({ customerId: 'c1', featureId: 'api-calls', value: 10 });
      let heard = false;
      b.on('entitlementsUpdated', (e) => (heard ||= e.customerId === 'c1' && e.reason === 'customer.updated'));
      await a.setUsageAlerts({ customerId: 'c1', featureId: 'api-calls', percents: [30] });
      await vitestWaitFor(() => heard);
      await b.reportUsage({ customerId: 'c1', featureId: 'api-calls', value: 25 });
      expect(seenB.usage.map((e) => [e.threshold, e.currentUsage, e.source])).toEqual([[30, 35, 'customer']]);
    } finally {
      await a.close();
      await b.close();
      cleanup();
    }
  });
});

/** Polls `cond` (an attempt after a commit runs in the background) for up to 5 s. */
async function vitestWaitFor(cond: () => Promise<boolean> | boolean): Promise<void> {
  const until = Date.now() + 5_000;
  while (!(await cond())) {
    if (Date.now() > until) throw new Error('condition not met within 5 s');
    await new Promise((r) => setTimeout(r, 5));
  }
}

/**
 * OpenTelemetry: spans per engine call and metrics, read back through the SDK's in-memory span
 * exporter and a metric reader collected on demand (docs/operating.md#traces, #metrics).
 */
import * as otel from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { AggregationTemporality, MeterProvider, MetricReader, type DataPoint, type Histogram } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createEngine, Engine, memoryStore, observeReplica, testClock, type Store } from '@tessera/core';
import { demoCatalog } from '../../packages/core/examples/demo-catalog.js';

/** A reader that exports nothing by itself: the test collects when it wants to look. */
class TestReader extends MetricReader {
  constructor() {
    super({ aggregationTemporalitySelector: () => AggregationTemporality.CUMULATIVE });
  }
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

const spans = new InMemorySpanExporter();
const reader = new TestReader();
const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] });
const meterProvider = new MeterProvider({ readers: [reader] });
const contextManager = new AsyncLocalStorageContextManager();

beforeAll(() => {
  otel.context.setGlobalContextManager(contextManager.enable());
  otel.trace.setGlobalTracerProvider(tracerProvider);
  otel.metrics.setGlobalMeterProvider(meterProvider);
});

afterAll(async () => {
  await tracerProvider.shutdown();
  await meterProvider.shutdown();
  otel.trace.disable();
  otel.metrics.disable();
  otel.context.disable();
});

beforeEach(() => spans.reset());

const spansNamed = (name: string): ReadableSpan[] => spans.getFinishedSpans().filter((s) => s.name === name);

/** The data points of a metric, from a fresh collection. */
async function points(name: string): Promise<DataPoint<number | Histogram>[]> {
  const { resourceMetrics } = await reader.collect();
  return resourceMetrics.scopeMetrics.flatMap((s) => s.metrics).filter((m) => m.descriptor.name === name).flatMap((m) => m.dataPoints as DataPoint<number | Histogram>[]);
}

async function value(name: string, attributes: Record<string, string>): Promise<number | undefined> {
  const found = (await points(name)).filter((p) => Object.entries(attributes).every(([k, v]) => p.attributes[k] === v));
  return found.length === 0 ? undefined : found.reduce((sum, p) => sum + (p.value as number), 0);
}

/**
 * A store that, once armed, runs the next write transaction's callback twice: the first run is
 * rolled back, as a store retrying a serialization failure does.
 */
function retryingStore(inner: Store): Store & { retryNext(): void } {
  let armed = false;
  const rollback = new Error('rolled back to retry');
  const transaction: Store['transaction'] = async (kind, fn) => {
    if (kind === 'write' && armed) {
      armed = false;
      await inner.transaction(kind, async (tx) => {
        await fn(tx);
        throw rollback;
      }).catch((e: unknown) => {
        if (e !== rollback) throw e;
      });
    }
    return inner.transaction(kind, fn);
  };
  return new Proxy(inner, {
    get(target, key) {
      if (key === 'transaction') return transaction;
      if (key === 'retryNext') return () => (armed = true);
      const v = Reflect.get(target, key) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  }) as Store & { retryNext(): void };
}

describe('OpenTelemetry spans', () => {
  it('runs each engine call in a span tessera.<method> with its method, store and outcome', async () => {
    const engine = await createEngine({ store: memoryStore(), catalog: demoCatalog, clock: testClock('2024-01-10T00:00:00Z') });
    await engine.provisionCustomer({ customerId: 'c1' });
    await engine.reportUsage({ customerId: 'c1', featureId: 'api-calls', value: 3 });
    const [provision] = spansNamed('tessera.provisionCustomer');
    const [report] = spansNamed('tessera.reportUsage');
    expect(provision!.attributes).toMatchObject({ 'tessera.method': 'provisionCustomer', 'tessera.store': 'memory', 'tessera.outcome': 'ok' });
    expect(report!.attributes).toMatchObject({ 'tessera.method': 'reportUsage', 'tessera.store': 'memory', 'tessera.outcome': 'ok' });
    expect(report!.status.code).toBe(otel.SpanStatusCode.UNSET);
    // Customer ids are personal data: only with customerIds: true.
    expect(report!.attributes['tessera.customer_id']).toBeUndefined();
    expect(engine).toBeInstanceOf(Engine);
    await engine.close();
  });

  it('marks a failed call ERROR with its error code', async () => {
    const engine = await createEngine({ store: memoryStore(), catalog: demoCatalog, clock: testClock('2024-01-10T00:00:00Z') });
    await expect(engine.getCustomer('nobody')).rejects.toMatchObject({ code: 'CUSTOMER_NOT_FOUND' });
    await expect(engine.reportUsage({ customerId: 'c1', featureId: 'api-calls', value: -1, updateBehavior: 'SET' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    const [get] = spansNamed('tessera.getCustomer');
    expect(get!.status).toEqual({ code: otel.SpanStatusCode.ERROR, message: 'CUSTOMER_NOT_FOUND' });
    expect(get!.attributes).toMatchObject({ 'tessera.outcome': 'error', 'error.type': 'CUSTOMER_NOT_FOUND', 'tessera.error.code': 'CUSTOMER_NOT_FOUND' });
    // A TesseraError is not an exception event: its message may quote the caller's ids.
    expect(get!.events).toEqual([]);
    const [report] = spansNamed('tessera.reportUsage');
    expect(report!.attributes['error.type']).toBe('INVALID_ARGUMENT');
    await engine.close();
  });

  it('adds the customer id only when asked to', async () => {
    const engine = await createEngine({ store: memoryStore(), catalog: demoCatalog, clock: testClock('2024-01-10T00:00:00Z'), telemetry: { customerIds: true } });
    await engine.provisionCustomer({ customerId: 'c1' });
    await engine.getCustomer('c1');
    expect(spansNamed('tessera.provisionCustomer')[0]!.attributes['tessera.customer_id']).toBe('c1');
    expect(spansNamed('tessera.getCustomer')[0]!.attributes['tessera.customer_id']).toBe('c1');
    await engine.close();
  });

  it('traces only the checks that read the store: warm checks are counted, not traced', async () => {
    const engine = await createEngine({ store: memoryStore(), catalog: demoCatalog, clock: testClock('2024-01-10T00:00:00Z') });
    await engine.provisionCustomer({ customerId: 'c1' });
    spans.reset();
    await engine.getEntitlement({ customerId: 'c1', featureId: 'projects' }); // loads the view
    for (let i = 0; i < 5; i++) await engine.getEntitlement({ customerId: 'c1', featureId: 'projects' });
    const checks = spansNamed('tessera.check');
    expect(checks).toHaveLength(1);
    expect(checks[0]!.attributes).toMatchObject({ 'tessera.method': 'getEntitlement', 'tessera.store': 'memory', 'tessera.outcome': 'ok' });
    expect(spans.getFinishedSpans()).toHaveLength(1);
    await engine.close();
  });

  it('records a write transaction run again as tessera.retries on the call span and in tessera.write.retries', async () => {
    const store = retryingStore(memoryStore());
    const engine = await createEngine({ store, catalog: demoCatalog, clock: testClock('2024-01-10T00:00:00Z') });
    await engine.provisionCustomer({ customerId: 'c1' });
    const before = engine.getMetrics().writes.retries;
    store.retryNext();
    const r = await engine.reportUsage({ customerId: 'c1', featureId: 'api-calls', value: 4 });
    // The rolled-back run counted nothing.
    expect(r.currentUsage).toBe(4);
    const [report] = spansNamed('tessera.reportUsage');
    expect(report!.attributes['tessera.retries']).toBe(1);
    expect(spansNamed('tessera.provisionCustomer')[0]!.attributes['tessera.retries']).toBeUndefined();
    expect(engine.getMetrics().writes.retries).toBe(before + 1);
    expect(await value('tessera.write.retries', { 'tessera.store': 'memory' })).toBeGreaterThanOrEqual(1);
    await engine.close();
  });

  it('makes no spans with telemetry: false, and still counts', async () => {
    const engine = await createEngine({ store: memoryStore(), catalog: demoCatalog, clock: testClock('2024-01-10T00:00:00Z'), telemetry: false });
    expect(Object.getPrototypeOf(engine)).toBe(Engine.prototype);
    await engine.provisionCustomer({ customerId: 'c1' });
    await engine.getEntitlement({ customerId: 'c1', featureId: 'projects' });
    await engine.getEntitlement({ customerId: 'c1', featureId: 'projects' });
    expect(spans.getFinishedSpans()).toEqual([]);
    const m = engine.getMetrics();
    expect(m.checks.store.allowed + m.checks.view.allowed).toBe(2);
    expect(m.writes.duration.count).toBe(2); // the catalog's publication and the provisioning
    await engine.close();
  });

  it('refuses a telemetry.api that is not the OpenTelemetry API', async () => {
    await expect(createEngine({ store: memoryStore(), catalog: demoCatalog, telemetry: { api: {} as never } })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', details: { field: 'createEngine.telemetry.api' } });
  });
});

describe('OpenTelemetry metrics', () => {
  it('counts checks by source and outcome, and times those that read the store', async () => {
    const store = memoryStore();
    const engine = await createEngine({ store, catalog: demoCatalog, clock: testClock('2024-01-10T00:00:00Z'), telemetry: { api: otel } });
    await engine.provisionCustomer({ customerId: 'm1' });
    const before = engine.getMetrics();
    // m1: 1 store read then 3 from the view; sso is not in the free plan (denied).
    await engine.getEntitlement({ customerId: 'm1', featureId: 'projects' });
    for (let i = 0; i < 3; i++) await engine.getEntitlement({ customerId: 'm1', featureId: 'projects' });
    await engine.getBooleanEntitlement({ customerId: 'm1', featureId: 'sso' });
    await expect(engine.getEntitlement({ customerId: '', featureId: 'projects' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    const after = engine.getMetrics();
    const delta = (a: number, b: number) => a - b;
    expect(delta(after.checks.store.allowed, before.checks.store.allowed)).toBe(1);
    expect(delta(after.checks.view.allowed, before.checks.view.allowed)).toBe(3);
    expect(delta(after.checks.view.denied + after.checks.store.denied, before.checks.view.denied + before.checks.store.denied)).toBe(1);
    expect(delta(after.checks.errors, before.checks.errors)).toBe(1);
    expect(delta(after.checks.duration.count, before.checks.duration.count)).toBe(1);

    // The same figures through OpenTelemetry's instruments.
    expect(await value('tessera.checks', { 'tessera.check.source': 'view', 'tessera.check.outcome': 'allowed' })).toBeGreaterThanOrEqual(3);
    expect(await value('tessera.checks', { 'tessera.check.outcome': 'error' })).toBeGreaterThanOrEqual(1);
    const durations = (await points('tessera.check.duration')).filter((p) => p.attributes['tessera.method'] === 'getEntitlement');
    const h = durations[0]!.value as Histogram;
    expect(h.count).toBeGreaterThanOrEqual(1);
    expect(h.sum).toBeGreaterThan(0);
    expect(h.sum).toBeLessThan(5); // seconds, not milliseconds
    await engine.close();
  });

  it('reports write latency in seconds with its outcome, and the view cache', async () => {
    const engine = await createEngine({ store: memoryStore(), catalog: demoCatalog, clock: testClock('2024-01-10T00:00:00Z'), cache: { maxCustomers: 2 } });
    for (const id of ['v1', 'v2', 'v3']) await engine.provisionCustomer({ customerId: id });
    await expect(engine.updateCustomer({ customerId: 'nobody', name: 'x' })).rejects.toMatchObject({ code: 'CUSTOMER_NOT_FOUND' });
    for (const id of ['v1', 'v2', 'v3', 'v1']) await engine.getEntitlement({ customerId: id, featureId: 'projects' });
    const m = engine.getMetrics();
    expect(m.view.size).toBe(2);
    expect(m.view.maxSize).toBe(2);
    expect(m.view.misses).toBeGreaterThanOrEqual(4); // every check above loaded its view: the cache holds 2 of 3
    expect(m.view.evictions).toBeGreaterThanOrEqual(2);
    expect(m.writes.failed).toBe(1);

    const writes = await points('tessera.write.duration');
    const ok = writes.find((p) => p.attributes['tessera.outcome'] === 'ok')!.value as Histogram;
    const failed = writes.find((p) => p.attributes['error.type'] === 'CUSTOMER_NOT_FOUND')!.value as Histogram;
    expect(ok.count).toBeGreaterThanOrEqual(4); // the catalog and three customers
    expect(failed.count).toBeGreaterThanOrEqual(1);
    expect(ok.sum! / ok.count).toBeLessThan(1); // seconds
    expect(await value('tessera.view.size', { 'tessera.store': 'memory' })).toBeGreaterThanOrEqual(2);
    expect(await value('tessera.view.evictions', { 'tessera.store': 'memory' })).toBeGreaterThanOrEqual(2);
    expect(await value('tessera.view.misses', { 'tessera.store': 'memory' })).toBeGreaterThanOrEqual(4);
    expect(await value('tessera.view.hits', { 'tessera.store': 'memory' })).toBeGreaterThanOrEqual(0);
    await engine.close();
  });

  it("reports the follower's lag: the time since it last read the feed to its end", async () => {
    const clock = testClock('2024-01-10T00:00:00Z');
    const store = memoryStore();
    // A long interval: only syncNow reads the feed in this test.
    const engine = await createEngine({ store, catalog: demoCatalog, clock, followIntervalMs: 3_600_000 });
    const other = await createEngine({ store, clock, followIntervalMs: 0, telemetry: false });
    expect(engine.getMetrics().follower.lagSeconds).toBe(0);
    clock.advance(5_000);
    expect(engine.getMetrics().follower.lagSeconds).toBe(5);
    expect(await value('tessera.follower.lag', { 'tessera.store': 'memory' })).toBe(5);
    await other.provisionCustomer({ customerId: 'f1' });
    await engine.syncNow();
    const m = engine.getMetrics();
    expect(m.follower.lagSeconds).toBe(0);
    expect(m.follower.changesApplied).toBeGreaterThanOrEqual(1);
    // An engine that does not follow the feed reports no lag.
    expect(other.getMetrics().follower.lagSeconds).toBeNull();
    await other.close();
    await engine.close();
  });

  it("reports a replica's outbox depth and delivery lag through the hook the replica calls", async () => {
    let reading = { outboxDepth: 3, deliveryLagSeconds: 12.5 };
    const stop = await observeReplica(() => reading);
    expect(await value('tessera.replica.outbox.depth', {})).toBe(3);
    expect(await value('tessera.replica.delivery.lag', {})).toBe(12.5);
    reading = { outboxDepth: 0, deliveryLagSeconds: 0 };
    expect(await value('tessera.replica.outbox.depth', {})).toBe(0);
    stop();
    reading = { outboxDepth: 9, deliveryLagSeconds: 1 };
    expect(await value('tessera.replica.outbox.depth', {})).not.toBe(9);
  });
});

/**
 * Measure: what the OpenTelemetry instrumentation costs (issue 16, section 5; docs/operating.md#traces).
 *
 * Warm checks, as checks.ts measures them: 10,000 customers on the bench plan, memory store, every
 * view and usage cell loaded, batches of 1,000 awaited `getEntitlement` calls. Two cases take
 * turns (harness.ts `compare`) on the same engine, created with `@opentelemetry/api` installed:
 * - `instrumented`: `engine.getEntitlement`, as an application calls it;
 * - `before` (the baseline): the same check through the dispatch check.ts had before the
 *   instrumentation (`warmCheck`, then `Promise.resolve`), from a facade object of the same
 *   shape. Same build, same engine, same view: the difference is the instrumentation's code path
 *   on a warm check (one counter increment).
 * First with no SDK registered, then again after registering one as an application would (an
 * AsyncLocalStorage context manager, a tracer provider with a batch processor, a meter provider
 * with a periodic reader; exporters that drop what they get).
 *
 * Writes: `reportUsage` awaited one by one on the memory store, by an engine with the API loaded
 * (a span per call) against one with `telemetry: false` (no span), taking turns; again with no SDK
 * and with the SDK. Information only.
 */
import * as otel from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { MeterProvider, PeriodicExportingMetricReader, type PushMetricExporter } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, BatchSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { createEngine, memoryStore, type Engine, type Entitlement, type GetEntitlementParams } from '@tessera/core';
import type { FeatureType } from '../packages/core/src/catalog/types.js';
import type { EngineContext } from '../packages/core/src/engine/runtime/context.js';
import { evaluate, evaluateCached, readCheck, warmCheck } from '../packages/core/src/engine/checks/entitlements.js';
import { benchCatalog, benchEngine, customerId, provisionCustomers } from './catalog.js';
import { compare, fmt, log, report, type Figure } from './harness.js';

const CUSTOMERS = 10_000;
const BATCH = 1_000;
const WRITE_BATCH = 200;
const TARGET_RATIO = 1.05;
let sink = 0;

/** check.ts's dispatch as it was before the instrumentation (check.ts at commit a78bab6). */
function checkBefore(ctx: EngineContext, params: GetEntitlementParams, method: string, expected: FeatureType | undefined): Promise<Entitlement> {
  try {
    const fast = warmCheck(ctx, params, expected);
    if (fast !== undefined) return Promise.resolve(fast);
    const input = readCheck(params, method);
    const warm = evaluateCached(ctx, input, expected);
    return warm !== undefined ? Promise.resolve(warm) : evaluate(ctx, input, expected);
  } catch (e) {
    return Promise.reject(e);
  }
}

interface Checker {
  getEntitlement(params: GetEntitlementParams): Promise<Entitlement>;
}

function checkBatch(checker: Checker, featureId: string): () => Promise<void> {
  const params: GetEntitlementParams[] = [];
  for (let i = 0; i < CUSTOMERS; i++) params.push({ customerId: customerId(i), featureId });
  let at = 0;
  return async () => {
    for (let j = 0; j < BATCH; j++) {
      const e = await checker.getEntitlement(params[at]!);
      if (e.hasAccess) sink++;
      if (++at === CUSTOMERS) at = 0;
    }
  };
}

function writeBatch(engine: Engine): () => Promise<void> {
  let at = 0;
  return async () => {
    for (let j = 0; j < WRITE_BATCH; j++) {
      const r = await engine.reportUsage({ customerId: customerId(at), featureId: 'api-calls', value: 1 });
      sink += r.currentUsage;
      if (++at === 1_000) at = 0;
    }
  };
}

/** Registers an SDK the way an application does; exporters drop what they receive. */
function registerSdk(): () => Promise<void> {
  const spans: SpanExporter = { export: (_s, done) => done({ code: 0 }), shutdown: async () => {} };
  const metrics: PushMetricExporter = { export: (_m, done) => done({ code: 0 }), forceFlush: async () => {}, shutdown: async () => {} };
  const contextManager = new AsyncLocalStorageContextManager().enable();
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new BatchSpanProcessor(spans)] });
  const meterProvider = new MeterProvider({ readers: [new PeriodicExportingMetricReader({ exporter: metrics, exportIntervalMillis: 1_000 })] });
  otel.context.setGlobalContextManager(contextManager);
  otel.trace.setGlobalTracerProvider(tracerProvider);
  otel.metrics.setGlobalMeterProvider(meterProvider);
  return async () => {
    await tracerProvider.shutdown();
    await meterProvider.shutdown();
  };
}

const figures: Figure[] = [];
const engine = await benchEngine(memoryStore(), { maxCustomers: 100_000 });
const ctx = (engine as unknown as { ctx: EngineContext }).ctx;
if (!ctx.telemetry) throw new Error('telemetry.ts: the engine did not load @opentelemetry/api; is it installed?');
const before: Checker & { ctx: EngineContext } = {
  ctx,
  getEntitlement(params) {
    return checkBefore(this.ctx, params, 'getEntitlement', undefined);
  },
};
await provisionCustomers(engine, 0, CUSTOMERS);
for (const f of ['api-calls', 'sso']) for (let i = 0; i < CUSTOMERS; i++) await engine.getEntitlement({ customerId: customerId(i), featureId: f });
log(`  ${fmt(CUSTOMERS)} customers, ${fmt(engine.cachedCustomers)} views cached`);

const writer = await createEngine({ store: memoryStore(), catalog: benchCatalog });
const plainWriter = await createEngine({ store: memoryStore(), catalog: benchCatalog, telemetry: false });
await provisionCustomers(writer, 0, 1_000);
await provisionCustomers(plainWriter, 0, 1_000);

async function measure(phase: 'no SDK registered' | 'SDK registered'): Promise<void> {
  for (const [featureId, type] of [['api-calls', 'METERED (monthly window)'], ['sso', 'BOOLEAN']] as const) {
    const r = await compare([
      { name: 'instrumented', batch: checkBatch(engine, featureId), ops: BATCH },
      { name: 'before', batch: checkBatch(before, featureId), ops: BATCH },
    ]);
    const ratio = r.before! / r.instrumented!;
    figures.push({
      measure: `warm getEntitlement, ${type}, memory store, OpenTelemetry API installed, ${phase}`,
      result: r.instrumented!,
      unit: 'checks/s',
      baseline: { name: 'the same check without the instrumentation code path', result: r.before! },
      ratio: 'slowdown',
      target: phase === 'no SDK registered' ? '<= 1.05x' : 'information',
      ...(phase === 'no SDK registered' ? { met: ratio <= TARGET_RATIO } : {}),
    });
  }
  const w = await compare(
    [
      { name: 'traced', batch: writeBatch(writer), ops: WRITE_BATCH },
      { name: 'plain', batch: writeBatch(plainWriter), ops: WRITE_BATCH },
    ],
    { sampleMs: 150 },
  );
  figures.push({
    measure: `reportUsage, memory store, a span per call, ${phase}`,
    result: w.traced!,
    unit: 'calls/s',
    baseline: { name: 'the same with telemetry: false (no span)', result: w.plain! },
    ratio: 'slowdown',
    target: 'information',
  });
}

await measure('no SDK registered');
const shutdown = registerSdk();
await measure('SDK registered');
await shutdown();
await Promise.all([engine.close(), writer.close(), plainWriter.close()]);

if (sink === -1) console.log(sink);
report(figures);

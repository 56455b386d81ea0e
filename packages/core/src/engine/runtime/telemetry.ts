// OpenTelemetry, optional: spans per engine call and instruments over the engine's own counters
// (docs/operating.md#traces and #metrics). `@opentelemetry/api` is an optional peer dependency,
// loaded once with a dynamic import; without it nothing here runs.
import { methodsOf } from '../method-names.js';
import { isTesseraError } from '../../errors.js';
import { safeLog, type Logger } from '../../logger.js';
import { DURATION_BUCKETS, type EngineMetrics, type TelemetrySink } from './metrics.js';

/**
 * The parts of the `@opentelemetry/api` module Tessera uses; pass the module itself
 * (`import * as otel from '@opentelemetry/api'`). Typed loosely so that Tessera's types do not
 * require the package.
 */
export interface OpenTelemetryApi {
  trace: { getTracer(name: string, version?: string): unknown; getActiveSpan(): unknown };
  metrics: { getMeter(name: string, version?: string): unknown };
}

/** The `telemetry` option of `createEngine` (docs/operating.md#traces). */
export interface TelemetryOptions {
  /**
   * The `@opentelemetry/api` module. By default the engine imports it itself when it is
   * installed; pass it when a bundler cannot see the optional import.
   */
  api?: OpenTelemetryApi;
  /** Adds `tessera.customer_id` to spans. Off by default: customer ids may be personal data. */
  customerIds?: boolean;
}

// Narrow views of the API's Tracer, Span and Meter, as far as they are used here.
type Attributes = Record<string, string | number | boolean>;
interface Span {
  setAttribute(key: string, value: string | number | boolean): unknown;
  setStatus(status: { code: number; message?: string }): unknown;
  recordException(error: Error): void;
  end(): void;
}
interface Tracer {
  startActiveSpan<T>(name: string, options: { attributes?: Attributes }, fn: (span: Span) => T): T;
}
interface ObservableResult {
  observe(value: number, attributes?: Attributes): void;
}
interface Observable {
  addCallback(cb: (result: ObservableResult) => void): void;
  removeCallback(cb: (result: ObservableResult) => void): void;
}
interface Histogram {
  record(value: number, attributes?: Attributes): void;
}
interface InstrumentOptions {
  description?: string;
  unit?: string;
  advice?: { explicitBucketBoundaries?: number[] };
}
interface BatchObservableResult {
  observe(instrument: Observable, value: number, attributes?: Attributes): void;
}
interface Meter {
  addBatchObservableCallback(cb: (result: BatchObservableResult) => void, observables: Observable[]): void;
  removeBatchObservableCallback(cb: (result: BatchObservableResult) => void, observables: Observable[]): void;
  createHistogram(name: string, options?: InstrumentOptions): Histogram;
  createObservableCounter(name: string, options?: InstrumentOptions): Observable;
  createObservableGauge(name: string, options?: InstrumentOptions): Observable;
  createObservableUpDownCounter(name: string, options?: InstrumentOptions): Observable;
}

/** The instrumentation scope of every span and instrument. */
export const INSTRUMENTATION_NAME = '@tessera/core';
const SPAN_STATUS_ERROR = 2;

let imported: Promise<OpenTelemetryApi | undefined> | undefined;

/**
 * The API module, or undefined when it is not installed. One import per process; a package that
 * is there but fails to load is logged, and the engine runs without telemetry.
 */
export function importOpenTelemetry(logger: Logger | undefined): Promise<OpenTelemetryApi | undefined> {
  imported ??= import('@opentelemetry/api').then(
    (m) => ((m as { default?: OpenTelemetryApi }).default?.trace ? (m as { default: OpenTelemetryApi }).default : (m as unknown as OpenTelemetryApi)),
    (e: unknown) => {
      const code = (e as { code?: unknown } | null)?.code;
      if (code !== 'ERR_MODULE_NOT_FOUND' && code !== 'MODULE_NOT_FOUND') {
        safeLog(logger, 'warn', { err: e, source: 'engine' }, 'tessera: @opentelemetry/api is installed but failed to load; running without telemetry');
      }
      return undefined;
    },
  );
  return imported;
}

/** True when `v` looks like the `@opentelemetry/api` module. */
export function isOpenTelemetryApi(v: unknown): v is OpenTelemetryApi {
  const api = v as Partial<OpenTelemetryApi> | null;
  return (
    typeof api === 'object' &&
    api !== null &&
    typeof api.trace?.getTracer === 'function' &&
    typeof api.trace.getActiveSpan === 'function' &&
    typeof api.metrics?.getMeter === 'function'
  );
}

function customerIdOf(params: unknown): string | undefined {
  if (typeof params === 'string') return params;
  const id = typeof params === 'object' && params !== null ? (params as { customerId?: unknown }).customerId : undefined;
  return typeof id === 'string' ? id : undefined;
}

const isThenable = (v: unknown): v is PromiseLike<unknown> => typeof v === 'object' && v !== null && typeof (v as { then?: unknown }).then === 'function';

/**
 * An engine's OpenTelemetry: its tracer and the instruments reading its counters. With no SDK
 * every call below is a no-op of the API. The API's tracer is a proxy that follows an SDK
 * registered later; its meter is not, so the SDK must be registered before createEngine
 * (docs/operating.md#traces).
 */
export class Telemetry implements TelemetrySink {
  private readonly tracer: Tracer;
  private readonly checkHistogram: Histogram;
  private readonly writeHistogram: Histogram;
  private readonly observables: [Observable, (r: ObservableResult) => void][] = [];
  private readonly base: Attributes;

  constructor(
    private readonly api: OpenTelemetryApi,
    private readonly metrics: EngineMetrics,
    private readonly customerIds: boolean,
  ) {
    this.base = { 'tessera.store': metrics.store };
    this.tracer = api.trace.getTracer(INSTRUMENTATION_NAME) as Tracer;
    const meter = api.metrics.getMeter(INSTRUMENTATION_NAME) as Meter;
    const seconds = { unit: 's', advice: { explicitBucketBoundaries: [...DURATION_BUCKETS] } };
    this.checkHistogram = meter.createHistogram('tessera.check.duration', { ...seconds, description: 'Latency of entitlement checks that read the store (checks answered from the view are counted, not timed)' });
    this.writeHistogram = meter.createHistogram('tessera.write.duration', { ...seconds, description: 'Latency of write transactions, retries included' });
    const m = metrics;
    const base = this.base;
    this.observe(meter.createObservableCounter('tessera.checks', { unit: '{check}', description: 'Entitlement checks by where they were answered and their outcome' }), (r) => {
      r.observe(m.viewAllowed, { ...base, 'tessera.check.source': 'view', 'tessera.check.outcome': 'allowed' });
      r.observe(m.viewDenied, { ...base, 'tessera.check.source': 'view', 'tessera.check.outcome': 'denied' });
      r.observe(m.storeAllowed, { ...base, 'tessera.check.source': 'store', 'tessera.check.outcome': 'allowed' });
      r.observe(m.storeDenied, { ...base, 'tessera.check.source': 'store', 'tessera.check.outcome': 'denied' });
      r.observe(m.checkErrors, { ...base, 'tessera.check.outcome': 'error' });
    });
    this.observe(meter.createObservableCounter('tessera.write.retries', { unit: '{retry}', description: 'Extra runs of write transactions (serialization failures, busy retries)' }), (r) =>
      r.observe(m.writeRetries, base),
    );
    this.observe(meter.createObservableUpDownCounter('tessera.view.size', { unit: '{customer}', description: 'Customers whose view is resident in memory' }), (r) =>
      r.observe(m.snapshot().view.size, base),
    );
    this.observe(meter.createObservableCounter('tessera.view.hits', { unit: '{lookup}', description: "Lookups that found a customer's view in memory" }), (r) =>
      r.observe(m.snapshot().view.hits, base),
    );
    this.observe(meter.createObservableCounter('tessera.view.misses', { unit: '{load}', description: 'Customer views loaded from the store' }), (r) => r.observe(m.viewMisses, base));
    this.observe(meter.createObservableCounter('tessera.view.evictions', { unit: '{customer}', description: 'Views dropped to stay within cache.maxCustomers' }), (r) =>
      r.observe(m.snapshot().view.evictions, base),
    );
    this.observe(meter.createObservableGauge('tessera.follower.lag', { unit: 's', description: "Seconds since the change feed of other processes was last read to its end" }), (r) => {
      const lag = m.followerLag();
      if (lag !== null) r.observe(lag, base);
    });
    this.observe(meter.createObservableCounter('tessera.follower.changes', { unit: '{change}', description: 'Changes by other processes applied to this engine' }), (r) =>
      r.observe(m.followerChanges, base),
    );
    metrics.sink = this;
  }

  private observe(instrument: Observable, cb: (r: ObservableResult) => void): void {
    instrument.addCallback(cb);
    this.observables.push([instrument, cb]);
  }

  /**
   * Runs `fn` in an active span `name` (so spans of instrumented drivers nest under it) and ends
   * it when `fn` returns or its promise settles. A failure sets the span's status to ERROR with
   * the error code; only an error that is no TesseraError is recorded as an exception (a
   * TesseraError's message may quote the caller's ids).
   */
  span<T>(name: string, method: string, params: unknown, fn: () => T): T {
    const attributes: Attributes = { 'tessera.method': method, 'tessera.store': this.metrics.store };
    if (this.customerIds) {
      const id = customerIdOf(params);
      if (id !== undefined) attributes['tessera.customer_id'] = id;
    }
    return this.tracer.startActiveSpan(name, { attributes }, (span) => {
      let result: T;
      try {
        result = fn();
      } catch (e) {
        failed(span, e);
        throw e;
      }
      if (!isThenable(result)) {
        succeeded(span);
        return result;
      }
      return result.then(
        (v) => {
          succeeded(span);
          return v;
        },
        (e: unknown) => {
          failed(span, e);
          throw e;
        },
      ) as T;
    });
  }

  checkDuration(seconds: number, method: string): void {
    this.checkHistogram.record(seconds, { ...this.base, 'tessera.method': method });
  }

  writeDuration(seconds: number, code: string | undefined): void {
    this.writeHistogram.record(seconds, code === undefined ? { ...this.base, 'tessera.outcome': 'ok' } : { ...this.base, 'tessera.outcome': 'error', 'error.type': code });
  }

  retried(retries: number): void {
    (this.api.trace.getActiveSpan() as Span | undefined)?.setAttribute('tessera.retries', retries);
  }

  /** Stops the instruments reading this engine's counters (the engine closed). */
  close(): void {
    for (const [instrument, cb] of this.observables) instrument.removeCallback(cb);
    this.observables.length = 0;
    if (this.metrics.sink === this) this.metrics.sink = undefined;
  }
}

function succeeded(span: Span): void {
  span.setAttribute('tessera.outcome', 'ok');
  span.end();
}

function failed(span: Span, e: unknown): void {
  const code = isTesseraError(e) ? e.code : 'INTERNAL';
  span.setAttribute('tessera.outcome', 'error');
  span.setAttribute('error.type', code);
  span.setAttribute('tessera.error.code', code);
  if (!isTesseraError(e) && e instanceof Error) span.recordException(e);
  span.setStatus({ code: SPAN_STATUS_ERROR, message: code });
  span.end();
}

/** Engine methods that get no span: checks (counted instead, docs/operating.md#traces), listener bookkeeping, the metrics read. */
const UNTRACED = new Set([
  'constructor',
  'getEntitlement',
  'getBooleanEntitlement',
  'getNumericEntitlement',
  'getMeteredEntitlement',
  'getEnumEntitlement',
  'addListener',
  'removeListener',
  'on',
  'off',
  'getMetrics',
]);

/**
 * A subclass of the engine class whose methods each run in a span `tessera.<method>`. Used only
 * when the API is loaded, so an engine without telemetry is the plain class and its calls pay
 * nothing; the check methods are left as they are (they count, check.ts). `telemetryOf` finds an
 * instance's Telemetry: one class serves every engine of the process, so call sites that see
 * several engines stay monomorphic.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a mixin's base must be `new (...args: any[])`
export function tracedClass<C extends new (...args: any[]) => object>(base: C, telemetryOf: (instance: object) => Telemetry | undefined): C {
  class Traced extends base {}
  for (const [name, d] of methodsOf(base.prototype)) {
    if (UNTRACED.has(name)) continue;
    const original = d.value as (...args: unknown[]) => unknown;
    const traced = {
      [name](this: object, ...args: unknown[]): unknown {
        const t = telemetryOf(this);
        return t ? t.span(`tessera.${name}`, name, args[0], () => original.apply(this, args)) : original.apply(this, args);
      },
    }[name];
    Object.defineProperty(Traced.prototype, name, { ...d, value: traced });
  }
  return Traced;
}

/** What a replica reports about its outbox (packages/http, createReplica). */
export interface ReplicaReading {
  /** Entries queued locally and not yet acknowledged by the sidecar. */
  outboxDepth: number;
  /** Age of the oldest queued entry, in seconds; 0 when the outbox is empty. */
  deliveryLagSeconds: number;
}

/**
 * Reports a replica's outbox as OpenTelemetry gauges, `tessera.replica.outbox.depth` and
 * `tessera.replica.delivery.lag` (seconds), calling `read` whenever the SDK collects. The replica
 * calls this when it starts and the returned function when it closes. Without the API (not
 * installed, or `api: false`) it does nothing. A `read` that throws skips that collection.
 */
export async function observeReplica(read: () => ReplicaReading, options: { api?: OpenTelemetryApi | false; logger?: Logger } = {}): Promise<() => void> {
  const api = options.api === false ? undefined : (options.api ?? (await importOpenTelemetry(options.logger)));
  if (!api) return () => {};
  const meter = api.metrics.getMeter(INSTRUMENTATION_NAME) as Meter;
  const depth = meter.createObservableGauge('tessera.replica.outbox.depth', { unit: '{entry}', description: 'Usage reports and events queued by a replica, not yet acknowledged by the sidecar' });
  const lag = meter.createObservableGauge('tessera.replica.delivery.lag', { unit: 's', description: "Age of a replica's oldest undelivered outbox entry" });
  // One read per collection for both gauges: `read` may query a database.
  const observe = (result: BatchObservableResult) => {
    let reading: ReplicaReading;
    try {
      reading = read();
    } catch (e) {
      safeLog(options.logger, 'warn', { err: e, source: 'replica' }, 'tessera: reading the replica outbox for metrics failed');
      return;
    }
    result.observe(depth, reading.outboxDepth);
    result.observe(lag, reading.deliveryLagSeconds);
  };
  meter.addBatchObservableCallback(observe, [depth, lag]);
  return () => meter.removeBatchObservableCallback(observe, [depth, lag]);
}

// GET /metrics: the engine's counters and the sidecar's own, in Prometheus' text format
// (version 0.0.4), rendered here so that scraping needs no OpenTelemetry SDK
// (packages/core/docs/operating.md#metrics).
import type { EngineMetricsSnapshot, HistogramSnapshot } from '@tessera/core';

/** Bucket upper bounds of the request latency histogram, in seconds. */
const REQUEST_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** The sidecar's own counters: requests by status and their latency. */
export class SidecarStats {
  private readonly byStatus = new Map<number, number>();
  private readonly buckets = new Array<number>(REQUEST_BUCKETS.length + 1).fill(0);
  private count = 0;
  private sum = 0;

  /** One answered request: its status and how long it took, in seconds. */
  request(status: number, seconds: number): void {
    this.byStatus.set(status, (this.byStatus.get(status) ?? 0) + 1);
    let i = 0;
    while (i < REQUEST_BUCKETS.length && seconds > REQUEST_BUCKETS[i]!) i++;
    this.buckets[i]!++;
    this.count++;
    this.sum += seconds;
  }

  requests(): [number, number][] {
    return [...this.byStatus].sort((a, b) => a[0] - b[0]);
  }

  duration(): HistogramSnapshot {
    return { boundaries: REQUEST_BUCKETS, counts: [...this.buckets], count: this.count, sum: this.sum };
  }
}

type Labels = Record<string, string>;

/** A label value escaped as the text format asks (backslash, double quote, newline). */
const escape = (v: string): string => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
const labels = (l: Labels): string => {
  const parts = Object.entries(l).map(([k, v]) => `${k}="${escape(v)}"`);
  return parts.length === 0 ? '' : `{${parts.join(',')}}`;
};
const num = (n: number): string => (Number.isFinite(n) ? String(n) : n > 0 ? '+Inf' : n < 0 ? '-Inf' : 'NaN');

class Exposition {
  private readonly lines: string[] = [];

  metric(name: string, type: 'counter' | 'gauge', help: string, samples: [Labels, number][]): void {
    this.lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const [l, v] of samples) this.lines.push(`${name}${labels(l)} ${num(v)}`);
  }

  histogram(name: string, help: string, base: Labels, h: HistogramSnapshot): void {
    this.lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} histogram`);
    let cumulative = 0;
    h.boundaries.forEach((le, i) => {
      cumulative += h.counts[i]!;
      this.lines.push(`${name}_bucket${labels({ ...base, le: String(le) })} ${cumulative}`);
    });
    this.lines.push(`${name}_bucket${labels({ ...base, le: '+Inf' })} ${h.count}`, `${name}_sum${labels(base)} ${num(h.sum)}`, `${name}_count${labels(base)} ${h.count}`);
  }

  text(): string {
    return `${this.lines.join('\n')}\n`;
  }
}

/** The Prometheus text of an engine's metrics and the sidecar's. Names and units: operating.md#metrics. */
export function renderPrometheus(m: EngineMetricsSnapshot, sidecar: SidecarStats): string {
  const out = new Exposition();
  const store = { store: m.store };
  out.metric('tessera_checks_total', 'counter', 'Entitlement checks by where they were answered (view: memory, store: after a store read) and outcome', [
    [{ ...store, source: 'view', outcome: 'allowed' }, m.checks.view.allowed],
    [{ ...store, source: 'view', outcome: 'denied' }, m.checks.view.denied],
    [{ ...store, source: 'store', outcome: 'allowed' }, m.checks.store.allowed],
    [{ ...store, source: 'store', outcome: 'denied' }, m.checks.store.denied],
    [{ ...store, source: 'none', outcome: 'error' }, m.checks.errors],
  ]);
  out.histogram('tessera_check_duration_seconds', 'Latency of the checks that read the store (checks answered from the view are counted, not timed)', store, m.checks.duration);
  out.histogram('tessera_write_duration_seconds', 'Latency of write transactions, retries included', store, m.writes.duration);
  out.metric('tessera_write_failures_total', 'counter', 'Write transactions that failed and rolled back', [[store, m.writes.failed]]);
  out.metric('tessera_write_retries_total', 'counter', 'Extra runs of write transactions (serialization failures, busy retries)', [[store, m.writes.retries]]);
  out.metric('tessera_view_size', 'gauge', 'Customers whose view is resident in memory', [[store, m.view.size]]);
  out.metric('tessera_view_max_size', 'gauge', 'The bound of the view cache (cache.maxCustomers)', [[store, m.view.maxSize]]);
  out.metric('tessera_view_hits_total', 'counter', "Lookups that found a customer's view in memory", [[store, m.view.hits]]);
  out.metric('tessera_view_misses_total', 'counter', 'Customer views loaded from the store', [[store, m.view.misses]]);
  out.metric('tessera_view_evictions_total', 'counter', 'Views dropped to stay within cache.maxCustomers', [[store, m.view.evictions]]);
  if (m.follower.lagSeconds !== null) {
    out.metric('tessera_follower_lag_seconds', 'gauge', 'Seconds since the change feed of other processes was last read to its end', [[store, m.follower.lagSeconds]]);
  }
  out.metric('tessera_follower_changes_total', 'counter', 'Changes by other processes applied to this engine', [[store, m.follower.changesApplied]]);
  out.metric(
    'tessera_sidecar_requests_total',
    'counter',
    'HTTP requests answered by the sidecar, by status',
    sidecar.requests().map(([status, n]) => [{ status: String(status) }, n]),
  );
  out.histogram('tessera_sidecar_request_duration_seconds', 'Time from a request reaching the sidecar to its answer (for event streams, to the start of the stream)', {}, sidecar.duration());
  return out.text();
}

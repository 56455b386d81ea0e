// The engine's own counters: kept always (a field increment each), read by OpenTelemetry's
// observable instruments when the API is there and by the sidecar's /metrics
// (docs/operating.md#metrics). Nothing here knows OpenTelemetry.
import type { Clock } from '../../clock.js';
import { isTesseraError } from '../../errors.js';
import type { ViewCache } from '../checks/view.js';

/**
 * Bucket upper bounds of the duration histograms, in seconds: 10 us (a check answered by a local
 * store read) to 10 s (a write that waited out a busy timeout).
 */
export const DURATION_BUCKETS: readonly number[] = [
  0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];

/** A histogram's state: `counts[i]` counts values <= `boundaries[i]` and above the bound before (the last, above every bound). */
export interface HistogramSnapshot {
  boundaries: readonly number[];
  /** Per bucket (not cumulative); one more entry than `boundaries`. */
  counts: number[];
  count: number;
  /** Sum of the recorded values, in seconds. */
  sum: number;
}

/** A fixed-bucket histogram of durations in seconds. */
export class DurationHistogram {
  private readonly counts: number[] = new Array<number>(DURATION_BUCKETS.length + 1).fill(0);
  private count = 0;
  private sum = 0;

  record(seconds: number): void {
    let i = 0;
    while (i < DURATION_BUCKETS.length && seconds > DURATION_BUCKETS[i]!) i++;
    this.counts[i]!++;
    this.count++;
    this.sum += seconds;
  }

  snapshot(): HistogramSnapshot {
    return { boundaries: DURATION_BUCKETS, counts: [...this.counts], count: this.count, sum: this.sum };
  }
}

/** Where the engine's timed events also go when OpenTelemetry is on (telemetry.ts). */
export interface TelemetrySink {
  checkDuration(seconds: number, method: string): void;
  /** `code` is the error code of a failed write, undefined for a commit. */
  writeDuration(seconds: number, code: string | undefined): void;
  /** A write transaction ran its callback again (`retries` times) before committing or failing. */
  retried(retries: number): void;
}

/** What `engine.getMetrics()` returns: counters since the engine was created (docs/operating.md#metrics). */
export interface EngineMetricsSnapshot {
  /** The store's kind: memory, sqlite, postgres... */
  store: string;
  checks: {
    /** Answered from the in-memory view, without a store read. */
    view: { allowed: number; denied: number };
    /** Answered after a store read (a view or a usage cell loaded), or from fallback values. */
    store: { allowed: number; denied: number };
    /** Checks that threw (malformed params, an unavailable store without fallback). */
    errors: number;
    /** Latency of the checks that read the store, in seconds. Checks answered from the view are counted, not timed. */
    duration: HistogramSnapshot;
  };
  writes: {
    /** Latency of write transactions (committed or not), in seconds, retries included. */
    duration: HistogramSnapshot;
    /** Write transactions that failed (rolled back). */
    failed: number;
    /** Extra runs of a write transaction (PostgreSQL serialization failures, SQLite busy retries). */
    retries: number;
  };
  view: {
    /** Customers whose view is resident. */
    size: number;
    /** The bound (`cache.maxCustomers`). */
    maxSize: number;
    /** Lookups that found the customer's view (checks answered from it included). */
    hits: number;
    /** Views loaded from the store. */
    misses: number;
    /** Views dropped to stay within the bound. */
    evictions: number;
  };
  follower: {
    /**
     * Seconds since the change feed of other processes was last read to its end: how stale a
     * check may be about their writes. null when the engine does not follow the feed.
     */
    lagSeconds: number | null;
    /** Changes by other processes applied to this engine's view. */
    changesApplied: number;
  };
}

/** The engine's counters. Increments are plain field updates: the check path pays one. */
export class EngineMetrics {
  viewAllowed = 0;
  viewDenied = 0;
  storeAllowed = 0;
  storeDenied = 0;
  checkErrors = 0;
  /**
   * View lookups that found the view, besides the checks answered from it: those are counted
   * once, as checks, so that a warm check pays one increment (docs/operating.md#metrics).
   */
  viewHits = 0;
  viewMisses = 0;
  writesFailed = 0;
  writeRetries = 0;
  followerChanges = 0;
  /** When the follower last read the feed to its end (clock ms); undefined when it does not follow. */
  followerReadAt: number | undefined;
  /** Set by telemetry.ts when OpenTelemetry is on. */
  sink: TelemetrySink | undefined;
  private readonly checkDuration = new DurationHistogram();
  private readonly writeDuration = new DurationHistogram();

  constructor(
    readonly store: string,
    private readonly views: ViewCache,
    private readonly clock: Clock,
  ) {}

  /** A check answered after a store read. */
  storeCheck(hasAccess: boolean, seconds: number, method: string): void {
    if (hasAccess) this.storeAllowed++;
    else this.storeDenied++;
    this.checkDuration.record(seconds);
    this.sink?.checkDuration(seconds, method);
  }

  /** A write transaction that ran `attempts` times and committed (`error` undefined) or failed. */
  write(seconds: number, attempts: number, error: unknown): void {
    this.writeDuration.record(seconds);
    if (error !== undefined) this.writesFailed++;
    const retries = attempts > 1 ? attempts - 1 : 0;
    this.writeRetries += retries;
    const sink = this.sink;
    if (sink) {
      sink.writeDuration(seconds, error === undefined ? undefined : isTesseraError(error) ? error.code : 'INTERNAL');
      if (retries > 0) sink.retried(retries);
    }
  }

  /** Seconds since the follower last read the feed to its end, or null. */
  followerLag(): number | null {
    return this.followerReadAt === undefined ? null : Math.max(0, this.clock.nowMs() - this.followerReadAt) / 1000;
  }

  snapshot(): EngineMetricsSnapshot {
    const cache = this.views.stats();
    return {
      store: this.store,
      checks: {
        view: { allowed: this.viewAllowed, denied: this.viewDenied },
        store: { allowed: this.storeAllowed, denied: this.storeDenied },
        errors: this.checkErrors,
        duration: this.checkDuration.snapshot(),
      },
      writes: { duration: this.writeDuration.snapshot(), failed: this.writesFailed, retries: this.writeRetries },
      view: { size: cache.size, maxSize: cache.maxSize, hits: this.viewAllowed + this.viewDenied + this.viewHits, misses: this.viewMisses, evictions: cache.evictions },
      follower: { lagSeconds: this.followerLag(), changesApplied: this.followerChanges },
    };
  }
}

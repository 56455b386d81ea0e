import { FailureStreak, type Engine, type EngineEventName } from '@tessera/core';

/** Every engine event: each one follows a committed write, so each one may mean new changes. */
const WRITE_EVENTS: readonly EngineEventName[] = [
  'entitlementsUpdated',
  'usageUpdated',
  'subscriptionUpdated',
  'catalogPublished',
  'creditBalanceUpdated',
  'entitlementOverrideUpdated',
  // An entity without a seat changes no usage: its entity.updated change comes with these alone.
  'entityCreated',
  'entityDeleted',
];

interface Waiter {
  after: number;
  done(found: boolean): void;
}

/**
 * Tells waiting change-feed readers (long polls, event streams) when changes after their
 * sequence number exist. One shared loop looks for the newest sequence number, and only while
 * someone waits: at once after this engine emits an event (its own writes), and every
 * `pollMs` for writes by other processes on the same store, which emit nothing here.
 */
export class ChangeFeed {
  private head = 0;
  private readonly waiters = new Set<Waiter>();
  private timer: ReturnType<typeof setTimeout> | null = null;
  private refreshing = false;
  private refreshAgain = false;
  private closedFlag = false;
  private readonly wake = () => this.refreshSoon();

  private readonly failures = new FailureStreak();

  /** `onError` hears a failing read of the log: the first of a streak, then at most once a minute. */
  constructor(
    private readonly engine: Engine,
    private readonly pollMs = 100,
    private readonly onError: (error: unknown) => void = () => undefined,
  ) {
    for (const name of WRITE_EVENTS) engine.on(name, this.wake);
  }

  get closed(): boolean {
    return this.closedFlag;
  }

  /**
   * The newest committed sequence number (0 when the log is empty). The engine offers no direct
   * read of it, so it is found with `getChanges({ after, limit: 1 })` probes, galloping from
   * the last known value and then bisecting: one probe when nothing changed, O(log n) after n
   * changes, each probe one indexed store read.
   */
  async lastSeq(): Promise<number> {
    const direct = (this.engine as unknown as { lastChangeSeq?: () => Promise<number> }).lastChangeSeq;
    if (typeof direct === 'function') return (this.head = Math.max(this.head, await direct.call(this.engine)));
    const next = async (after: number): Promise<number | null> => (await this.engine.getChanges({ after, limit: 1 }))[0]?.seq ?? null;
    let lo = this.head;
    const first = await next(lo);
    if (first === null) return lo;
    // A change with seq `lo` exists; find `hi` with none after it.
    lo = first;
    let step = 1;
    let hi: number;
    for (;;) {
      const n = await next(lo + step);
      if (n === null) {
        hi = lo + step;
        break;
      }
      lo = n;
      step *= 2;
    }
    // Invariant: a change with seq `lo` exists and none after `hi`.
    while (lo < hi) {
      const mid = Math.floor((lo + hi) / 2);
      const n = await next(mid);
      if (n === null) hi = mid;
      else lo = n;
    }
    this.head = Math.max(this.head, lo);
    return this.head;
  }

  /**
   * Resolves true as soon as a change after `after` is committed, false after `timeoutMs`,
   * when `signal` aborts or when the feed closes.
   */
  waitAfter(after: number, timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
    if (this.closedFlag || signal?.aborted) return Promise.resolve(false);
    if (this.head > after) return Promise.resolve(true);
    return new Promise<boolean>((resolve) => {
      const onAbort = () => waiter.done(false);
      const timer = setTimeout(onAbort, timeoutMs);
      const waiter: Waiter = {
        after,
        done: (found) => {
          if (!this.waiters.delete(waiter)) return;
          clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
          resolve(found);
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.add(waiter);
      this.refreshSoon();
    });
  }

  /** Releases every waiter (with false) and stops listening to the engine. */
  close(): void {
    if (this.closedFlag) return;
    this.closedFlag = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    for (const name of WRITE_EVENTS) this.engine.off(name, this.wake);
    for (const w of [...this.waiters]) w.done(false);
  }

  private refreshSoon(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    void this.refresh();
  }

  private schedule(): void {
    if (this.timer || this.closedFlag || this.waiters.size === 0) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.refresh();
    }, this.pollMs);
    this.timer.unref?.();
  }

  private async refresh(): Promise<void> {
    if (this.closedFlag || this.waiters.size === 0) return;
    if (this.refreshing) {
      this.refreshAgain = true;
      return;
    }
    this.refreshing = true;
    try {
      const head = await this.lastSeq();
      this.failures.succeeded(Date.now());
      for (const w of [...this.waiters]) if (head > w.after) w.done(true);
    } catch (e) {
      // Waiters run into their timeout and the next poll retries; a store that fails while the
      // feed is open is reported (one closing with the sidecar is not news).
      if (!this.closedFlag && this.failures.failed(Date.now())) this.onError(e);
    } finally {
      this.refreshing = false;
      if (this.refreshAgain) {
        this.refreshAgain = false;
        void this.refresh();
      } else {
        this.schedule();
      }
    }
  }
}

/** How often a failing streak repeats its report while it lasts (docs/operating.md#errors). */
export const STREAK_REPORT_EVERY_MS = 60_000;

/**
 * The failures of one background task in a row (the follower's poll, a replica's delivery): a
 * store or sidecar out of reach fails every retry, so a streak is reported when it starts and
 * then at most once a minute, and its end is logged once. Times are epoch ms from the caller's clock.
 */
export class FailureStreak {
  private failingSince: number | undefined;
  private lastReported = 0;
  private count = 0;

  /** Notes a failure at `now`; true when it is to be reported (the first of a streak, or a minute on). */
  failed(now: number): boolean {
    this.count++;
    const first = this.failingSince === undefined;
    if (first) this.failingSince = now;
    if (!first && now - this.lastReported < STREAK_REPORT_EVERY_MS) return false;
    this.lastReported = now;
    return true;
  }

  /** Notes a success at `now`; what the streak it ends lasted, or undefined when none was running. */
  succeeded(now: number): { failedForMs: number; failures: number } | undefined {
    if (this.failingSince === undefined) return undefined;
    const ended = { failedForMs: now - this.failingSince, failures: this.count };
    this.failingSince = undefined;
    this.count = 0;
    return ended;
  }
}

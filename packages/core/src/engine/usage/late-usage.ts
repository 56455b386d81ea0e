/**
 * The grace period for late usage (docs/metering.md#late-usage): a report or event stamped in a
 * usage window that closed more than `lateUsageGraceMs` before now is refused (reportUsage) or
 * stored uncounted as TOO_LATE (reportEvent). Windows that never close (features without a reset
 * period) take usage at any time.
 */
import { TesseraError } from '../../errors.js';
import type { Window } from '../../rules/windows.js';

/**
 * 35 days: the horizon raw events already had (`events.maxLatenessMs`), and the common practice of
 * metering services (a month's usage may still be corrected for a few days after the month closed).
 * Rationale and the invoice question in docs/metering.md#late-usage.
 */
export const DEFAULT_LATE_USAGE_GRACE_MS = 35 * 86_400_000;

/** True when `window` closed more than `graceMs` before `now` (at exactly end + grace it still takes usage). */
export function closedPastGrace(window: Window, now: number, graceMs: number): boolean {
  return window.end + graceMs < now;
}

/** The INVALID_ARGUMENT of a report into a window closed past the grace period; names the field, the window and the deadline. */
export function lateUsageRefused(path: string, window: Window, at: number, graceMs: number): TesseraError {
  const closed = new Date(window.end).toISOString();
  const deadline = new Date(window.end + graceMs).toISOString();
  return new TesseraError(
    'INVALID_ARGUMENT',
    `${path}.timestamp: ${new Date(at).toISOString()} is in the usage window that closed at ${closed}; late usage is taken until ${deadline} (lateUsageGraceMs ${graceMs}); nothing was recorded`,
    { field: `${path}.timestamp`, value: new Date(at).toISOString(), reason: 'LATE_USAGE', windowStart: new Date(window.start).toISOString(), windowEnd: closed, acceptedUntil: deadline },
  );
}

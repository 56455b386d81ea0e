/**
 * The test clock: the core's `testClock` (a clock that moves only when told, calendar steps in
 * UTC with month ends clamped), and `advanceAndTick` to move it and let the engine catch up.
 */
import type { Duration, Engine, TestClock, TickResult } from '@tessera/core';

export { addDuration, testClock, type Duration, type TestClock } from '@tessera/core';

/**
 * Moves `clock` forward by `by` (milliseconds, or a calendar `Duration` applied like the core's
 * `addDuration`: Jan 31 + { months: 1 } = Feb 29 in 2024, Feb 28 in 2023) and runs
 * `engine.tick()`, which issues the renewals, trial conversions and usage invoices now due.
 * Returns the tick's result. Throws a RangeError for a negative step (time never goes back).
 */
export async function advanceAndTick(engine: Pick<Engine, 'tick'>, clock: TestClock, by: number | Duration): Promise<TickResult> {
  clock.advance(by);
  return engine.tick();
}

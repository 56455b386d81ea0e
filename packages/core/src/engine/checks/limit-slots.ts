// The cached usage cells of a feature's further limits (docs/limits.md), kept beside its check slot.
import type { ResetPeriod } from '../../catalog/types.js';
import type { ResolvedLimit } from '../../rules/limits.js';
import { FixedDate } from './fixed-date.js';
import type { UsageCell } from './view.js';

const NO_DATE: Date = new FixedDate(Number.NaN);

/** The cached cell of one further limit; `end` -Infinity when none is cached. */
export class LimitSlot implements UsageCell {
  readonly usageLimit: number;
  readonly resetPeriod: ResetPeriod;
  start = 0;
  end = -Infinity;
  value = 0;
  held = 0;
  heldUntil = Infinity;
  startDate: Date = NO_DATE;
  endDate: Date = NO_DATE;

  constructor(readonly limit: ResolvedLimit) {
    this.usageLimit = limit.usageLimit;
    this.resetPeriod = limit.resetPeriod;
  }

  /** Caches a cell of this limit read from the store. */
  keep(cell: UsageCell): void {
    if (cell.start !== this.startDate.getTime()) this.startDate = new FixedDate(cell.start);
    if (cell.end !== this.endDate.getTime()) this.endDate = new FixedDate(cell.end);
    this.start = cell.start;
    this.end = cell.end;
    this.value = cell.value;
    this.held = cell.held;
    this.heldUntil = cell.heldUntil;
  }
}

/** The slots of `limits`, or undefined when there are none (the common case: no allocation). */
export function limitSlots(limits: readonly ResolvedLimit[] | undefined): LimitSlot[] | undefined {
  return limits === undefined ? undefined : limits.map((l) => new LimitSlot(l));
}

/** Whether every further limit's cached cell still answers at `now`. */
export function limitsFresh(slots: readonly LimitSlot[], now: number): boolean {
  for (const s of slots) if (!(now >= s.start && now < s.end && now < s.heldUntil)) return false;
  return true;
}

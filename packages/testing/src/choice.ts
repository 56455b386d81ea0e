/**
 * Building blocks of the arbitraries: weighted choices that shrink toward their first option,
 * and plain-object helpers. Internal to the package.
 */
import fc from 'fast-check';

/**
 * One of `choices`, picked with the given weights, shrinking toward the first choice (a
 * weighted `fc.constantFrom`). Weights are positive integers.
 */
export function weighted<T>(choices: readonly (readonly [T, number])[]): fc.Arbitrary<T> {
  const first = choices[0];
  if (!first) throw new RangeError('weighted: give at least one choice');
  const total = choices.reduce((sum, [, w]) => sum + w, 0);
  return fc.integer({ min: 0, max: total - 1 }).map((n) => {
    let acc = 0;
    for (const [value, w] of choices) {
      acc += w;
      if (n < acc) return value;
    }
    return first[0];
  });
}

/** An index into a list of `n` items (0 when empty), shrinking toward 0. */
export function index(max = 31): fc.Arbitrary<number> {
  return fc.integer({ min: 0, max });
}

/** `list[i mod length]`, or undefined for an empty list: specs refer to items by position. */
export function pick<T>(list: readonly T[], i: number): T | undefined {
  return list.length === 0 ? undefined : list[i % list.length];
}

/** A copy of `o` without its undefined fields, so that generated values read (and print) cleanly. */
export function compact<T extends object>(o: T): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) out[k] = v;
  return out as T;
}

/** Epoch milliseconds of a Date, ISO string or number; throws a RangeError for anything else. */
export function toMs(at: Date | string | number): number {
  const ms = at instanceof Date ? at.getTime() : typeof at === 'number' ? at : Date.parse(/[zZ]|[+-]\d\d:\d\d$/.test(at) || !at.includes('T') ? at : `${at}Z`);
  if (!Number.isFinite(ms)) throw new RangeError(`not an instant: ${String(at)}`);
  return ms;
}

/** An instant as the tables print it: the date alone at midnight UTC, else the time to the second. */
export function showInstant(ms: number): string {
  const iso = new Date(ms).toISOString();
  if (iso.endsWith('T00:00:00.000Z')) return iso.slice(0, 10);
  return iso.endsWith('.000Z') ? `${iso.slice(0, 19)}Z` : iso;
}

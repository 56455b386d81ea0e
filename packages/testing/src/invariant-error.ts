/**
 * The error every invariant throws: which invariant, what it expected, what it saw, and the
 * inputs, so that a fast-check counterexample reads as a bug report.
 */

/** JSON for messages: Dates as ISO strings, Decimals and bigints as strings, Maps as objects. */
export function describe(value: unknown): string {
  const seen = new WeakSet<object>();
  const text = JSON.stringify(value, function (this: unknown, key, v: unknown) {
    const raw = (this as Record<string, unknown> | undefined)?.[key];
    if (raw instanceof Date) return Number.isNaN(raw.getTime()) ? 'Invalid Date' : raw.toISOString();
    if (typeof v === 'bigint') return v.toString();
    if (v instanceof Map) return Object.fromEntries(v);
    if (v !== null && typeof v === 'object') {
      // decimal.js values print as their decimal string.
      if (typeof (v as { toFixed?: unknown }).toFixed === 'function' && typeof (v as { isZero?: unknown }).isZero === 'function') return String(v);
      if (seen.has(v)) return '[circular]';
      seen.add(v);
    }
    if (v === undefined) return undefined;
    return v;
  });
  return text ?? String(value);
}

/** An invariant did not hold. `expected`, `seen` and `inputs` are also in the message. */
export class InvariantError extends Error {
  override readonly name = 'InvariantError';
  readonly invariant: string;
  readonly expected: unknown;
  readonly seen: unknown;
  readonly inputs: unknown;

  constructor(invariant: string, what: string, details: { expected: unknown; seen: unknown; inputs: unknown }) {
    super(
      `${invariant}: ${what}\n` +
        `  expected: ${describe(details.expected)}\n` +
        `  seen:     ${describe(details.seen)}\n` +
        `  inputs:   ${describe(details.inputs)}`,
    );
    this.invariant = invariant;
    this.expected = details.expected;
    this.seen = details.seen;
    this.inputs = details.inputs;
  }
}

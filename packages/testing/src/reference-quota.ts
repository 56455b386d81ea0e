/**
 * A reference model of consumption and reservations on one hard-limited METERED feature
 * (docs/conventions.md#consumption-and-reservations), written independently of the engine, and
 * the arbitrary of the operations it models.
 */
import fc from 'fast-check';

/** What `consumeUsage` and `reserveUsage` do with an amount that does not fit. */
export type Overage = 'REJECT' | 'CAP';

/**
 * One operation on a quota. `pick` chooses among the holds made so far (modulo their number);
 * a commit's `amount` is reduced modulo (held + 1), so anything from 0 to the held amount.
 */
export type QuotaOperation =
  | { kind: 'reserve'; amount: number; expiresIn: number; overage: Overage }
  | { kind: 'consume'; amount: number; overage: Overage }
  | { kind: 'commit'; pick: number; amount: number | undefined }
  | { kind: 'release'; pick: number }
  | { kind: 'advance'; ms: number };

/** Options of `arbQuotaOperations`. */
export interface QuotaOperationsOptions {
  /** Largest amount consumed or reserved at once; default 9. */
  maxAmount?: number;
  /** Longest reservation, in minutes (each lasts 1 to this many whole minutes); default 10. */
  maxHoldMinutes?: number;
  /** Longest clock advance, in seconds (whole seconds); default 360. */
  maxAdvanceSeconds?: number;
  /** Default 30. */
  maxLength?: number;
}

/**
 * Interleavings of reserve, consume (REJECT or CAP), commit (whole or partial, of any hold made so
 * far, also one already ended), release and clock advances that make holds expire. With the
 * defaults and a limit of 20, sequences fill the quota, hit it, and see holds end every way.
 * Shrinks to `[]`.
 */
export function arbQuotaOperations(options: QuotaOperationsOptions = {}): fc.Arbitrary<QuotaOperation[]> {
  const maxAmount = options.maxAmount ?? 9;
  const overage = fc.constantFrom<Overage>('REJECT', 'CAP');
  return fc.array(
    fc.oneof(
      {
        weight: 4,
        arbitrary: fc.record({
          kind: fc.constant('reserve' as const),
          amount: fc.integer({ min: 0, max: maxAmount }),
          expiresIn: fc.integer({ min: 1, max: options.maxHoldMinutes ?? 10 }).map((m) => m * 60_000),
          overage,
        }),
      },
      { weight: 3, arbitrary: fc.record({ kind: fc.constant('consume' as const), amount: fc.integer({ min: 0, max: maxAmount }), overage }) },
      { weight: 3, arbitrary: fc.record({ kind: fc.constant('commit' as const), pick: fc.nat(), amount: fc.option(fc.nat({ max: maxAmount }), { nil: undefined }) }) },
      { weight: 2, arbitrary: fc.record({ kind: fc.constant('release' as const), pick: fc.nat() }) },
      { weight: 2, arbitrary: fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 1, max: options.maxAdvanceSeconds ?? 360 }).map((s) => s * 1000) }) },
    ),
    { maxLength: options.maxLength ?? 30 },
  );
}

/** A reservation as the model keeps it. `id` is the engine's reservation id. */
export interface QuotaHold {
  id: string;
  amount: number;
  /** Epoch ms. */
  expiresAt: number;
  status: 'HELD' | 'COMMITTED' | 'RELEASED';
  committed: number | null;
}

/**
 * What one call must answer: the fields of its result the model predicts, or `{ code }` of the
 * `TesseraError` it must throw.
 */
export type QuotaOutcome = Record<string, unknown>;

/**
 * The reference of one customer's hard-limited quota: usage recorded (consumed plus committed)
 * and live holds never exceed `limit`; REJECT refuses what does not fit (USAGE_LIMIT_EXCEEDED),
 * CAP grants what is left; a hold lasts until it is committed (all or less: the rest returns),
 * released, or expires; committing twice answers the first commit again; committing an ended hold
 * is a CONFLICT, releasing a committed one too; releasing twice or after expiry is not an error.
 * Each method takes `now` (epoch ms, the engine clock's before the call) and returns the outcome
 * the engine must give.
 */
export class QuotaModel {
  /** Usage recorded: consumed plus committed. */
  recorded = 0;
  readonly holds: QuotaHold[] = [];

  constructor(readonly limit: number) {}

  /** The amount held by live reservations at `now`. */
  held(now: number): number {
    return this.holds.filter((h) => h.status === 'HELD' && h.expiresAt > now).reduce((a, h) => a + h.amount, 0);
  }

  /** Recorded usage plus live holds: what `currentUsage` must read at `now`. */
  usage(now: number): number {
    return this.recorded + this.held(now);
  }

  /** How much of `amount` fits at `now`, or null when REJECT refuses it. */
  fit(amount: number, overage: Overage, now: number): number | null {
    const available = Math.max(0, this.limit - this.recorded - this.held(now));
    if (amount <= available) return amount;
    return overage === 'CAP' ? available : null;
  }

  /** `consumeUsage`: `{ granted }` or `{ code: 'USAGE_LIMIT_EXCEEDED' }`. */
  consume(amount: number, overage: Overage, now: number): QuotaOutcome {
    const fits = this.fit(amount, overage, now);
    if (fits === null) return { code: 'USAGE_LIMIT_EXCEEDED' };
    this.recorded += fits;
    return { granted: fits };
  }

  /** `reserveUsage` (the engine's reservation `id`): `{ granted, status: 'HELD' }` or `{ code }`. */
  reserve(id: string, amount: number, overage: Overage, expiresIn: number, now: number): QuotaOutcome {
    const fits = this.fit(amount, overage, now);
    if (fits === null) return { code: 'USAGE_LIMIT_EXCEEDED' };
    this.holds.push({ id, amount: fits, expiresAt: now + expiresIn, status: 'HELD', committed: null });
    return { granted: fits, status: 'HELD' };
  }

  /** The hold a `pick` names (modulo the number of holds), or undefined when there is none yet. */
  pick(pick: number): QuotaHold | undefined {
    return this.holds.length === 0 ? undefined : this.holds[pick % this.holds.length];
  }

  /** `commitReservation` of `hold` (all of it when `amount` is undefined): `{ status, committedAmount }` or `{ code: 'CONFLICT' }`. */
  commit(hold: QuotaHold, amount: number | undefined, now: number): QuotaOutcome {
    if (hold.status === 'COMMITTED') return { status: 'COMMITTED', committedAmount: hold.committed };
    if (hold.status === 'RELEASED' || hold.expiresAt <= now) return { code: 'CONFLICT' };
    hold.status = 'COMMITTED';
    hold.committed = amount ?? hold.amount;
    this.recorded += hold.committed;
    return { status: 'COMMITTED', committedAmount: hold.committed };
  }

  /** `releaseReservation` of `hold`: `{ status: 'RELEASED' | 'EXPIRED' }` or `{ code: 'CONFLICT' }`. */
  release(hold: QuotaHold, now: number): QuotaOutcome {
    if (hold.status === 'COMMITTED') return { code: 'CONFLICT' };
    if (hold.status === 'RELEASED') return { status: 'RELEASED' };
    if (hold.expiresAt <= now) return { status: 'EXPIRED' };
    hold.status = 'RELEASED';
    return { status: 'RELEASED' };
  }
}

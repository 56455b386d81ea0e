/**
 * The consumption loop of the multi-process workers (SQLite's test/engine/consume-worker.ts and
 * PostgreSQL's test/postgres/pg-worker.ts): what each worker was granted is what the tests sum
 * against the limit.
 */
import { isTesseraError, type Engine, type OverageMode } from '@tessera/core';

/** Refusals with nothing left before stopping: the quota never grows back, a few make sure. */
const STOP_AFTER = 3;

/** A small deterministic generator (LCG), so that each worker has its own sequence. */
export function generator(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s = (s * 1_103_515_245 + 12_345) >>> 0;
    return s;
  };
}

/**
 * Consumes 1 to 3 units at a time (amounts from `seed`) until the quota is gone; a REJECT refusal
 * retries with what is left. Returns what was granted, the calls made and the refusals met.
 */
export async function consumeUntilEmpty(
  engine: Engine,
  job: { customerId: string; featureId: string; overage: OverageMode; seed: number },
): Promise<{ granted: number; calls: number; refusals: number }> {
  const next = generator(job.seed);
  const nextAmount = () => 1 + (next() % 3);
  let granted = 0;
  let calls = 0;
  let refusals = 0;
  let empty = 0;
  let amount = nextAmount();
  while (empty < STOP_AFTER) {
    // A real caller does some work between two consumptions. Without any, the process holding the
    // write lock (SQLite) or winning the retries (PostgreSQL) can take the next call at once and use
    // the whole quota before the others come round: correct, but no race to test.
    if (calls > 0) await new Promise((resolve) => setTimeout(resolve, 1));
    calls++;
    try {
      const r = await engine.consumeUsage({ customerId: job.customerId, featureId: job.featureId, amount, overage: job.overage });
      granted += r.granted;
      if (r.granted === 0) empty++;
      amount = nextAmount();
    } catch (e) {
      if (!isTesseraError(e, 'USAGE_LIMIT_EXCEEDED')) throw e;
      refusals++;
      const available = Number(e.details.available);
      if (available === 0) empty++;
      // What is left may still be taken in smaller steps.
      amount = available > 0 ? Math.min(amount, available) : nextAmount();
    }
  }
  return { granted, calls, refusals };
}

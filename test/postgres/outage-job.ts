/**
 * The outage job of pg-worker.ts (worker-protocol.ts, OutageJob): writes through a server restart
 * and killed connections the way a careful caller does, and counts what it was told.
 */
import { isTesseraError, type Engine } from '@tessera/core';
import { generator } from '../support/consume-loop.js';
import type { OutageJob, OutageReport } from './worker-protocol.js';

/** How long one call is made again after STORE_UNAVAILABLE before the job gives up on it (an engine that never reconnects). */
const GIVE_UP_MS = 30_000;
/** The caller's own pause after STORE_UNAVAILABLE, before the same call again. */
const PAUSE_MS = 25;
/** Refusals with nothing left before the job stops consuming (as consume-loop.ts). */
const STOP_AFTER = 3;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface OutageRun {
  run(): Promise<OutageReport>;
  /** A "tell" line for this job: `beacon <n>` or `stop`. */
  command(word: string, arg: string | undefined): void;
}

/**
 * `say(word, arg)` prints "<word> <job id> <arg>" to the parent; `background` is filled by the
 * worker with the codes the store reported through watchChanges' onError.
 */
export async function outageJob(engine: Engine, j: OutageJob, say: (word: string, arg: string) => void, background: string[]): Promise<OutageRun> {
  // Warm before "go": from here on the check is answered from the view, outage or not.
  await engine.getEntitlement({ customerId: j.customerId, featureId: j.checkFeatureId });
  const next = generator(j.seed);
  const out: OutageReport = { granted: 0, consumeCalls: 0, reported: 0, unavailable: 0, unknownOutcome: 0, checks: 0, checkErrors: [], unexpected: [], backgroundErrors: background };
  let stopping = false;
  /** Beacon writes asked for and not yet made, in order. */
  const beacons: number[] = [];
  let wake: (() => void) | undefined;

  engine.on('usageUpdated', (e) => {
    if (e.featureId === j.beaconFeatureId) say('heard', String(e.currentUsage));
  });

  /**
   * Makes `call` until it settles with anything but STORE_UNAVAILABLE (same arguments, so the
   * same idempotency key): returns its result, or the error it ended with.
   */
  async function persist<T>(call: () => Promise<T>): Promise<{ ok: T } | { error: unknown }> {
    const started = Date.now();
    for (;;) {
      try {
        return { ok: await call() };
      } catch (e) {
        if (!isTesseraError(e, 'STORE_UNAVAILABLE')) return { error: e };
        out.unavailable++;
        if (e.details?.outcome === 'unknown') out.unknownOutcome++;
        if (Date.now() - started > GIVE_UP_MS) return { error: e };
        await sleep(PAUSE_MS);
      }
    }
  }

  const describe = (e: unknown) => (isTesseraError(e) ? `${e.code}: ${e.message}` : String((e as Error)?.stack ?? e));

  async function writeBeacons(): Promise<void> {
    while (beacons.length > 0) {
      const n = beacons.shift()!;
      const r = await persist(() => engine.reportUsage({ customerId: j.customerId, featureId: j.beaconFeatureId, value: 1, idempotencyKey: `beacon-${n}` }));
      if ('error' in r) out.unexpected.push(`beacon ${n}: ${describe(r.error)}`);
      say('wrote', String(n));
    }
  }

  async function run(): Promise<OutageReport> {
    let amount = 1 + (next() % 3);
    let empty = 0;
    for (let i = 0; !stopping; i++) {
      await writeBeacons();
      if (empty < STOP_AFTER) {
        out.consumeCalls++;
        const key = `consume-${j.worker}-${i}`;
        const r = await persist(() => engine.consumeUsage({ customerId: j.customerId, featureId: j.featureId, amount, overage: 'REJECT', idempotencyKey: key }));
        if ('ok' in r) {
          out.granted += r.ok.granted;
          amount = 1 + (next() % 3);
        } else if (isTesseraError(r.error, 'USAGE_LIMIT_EXCEEDED')) {
          const available = Number(r.error.details.available);
          if (available === 0) empty++;
          amount = available > 0 ? Math.min(amount, available) : 1 + (next() % 3);
        } else out.unexpected.push(`consume ${key}: ${describe(r.error)}`);
      }
      const key = `report-${j.worker}-${i}`;
      const r = await persist(() => engine.reportUsage({ customerId: j.customerId, featureId: j.reportFeatureId, value: 1, idempotencyKey: key }));
      if ('ok' in r) out.reported++;
      else out.unexpected.push(`report ${key}: ${describe(r.error)}`);
      try {
        await engine.getEntitlement({ customerId: j.customerId, featureId: j.checkFeatureId });
        out.checks++;
      } catch (e) {
        out.checkErrors.push(describe(e));
      }
      // Some time between calls, as a real caller has; a beacon or stop cuts it short.
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, 5);
      });
      wake = undefined;
    }
    await writeBeacons();
    return out;
  }

  return {
    run,
    command(word, arg) {
      if (word === 'beacon') beacons.push(Number(arg));
      else if (word === 'stop') stopping = true;
      wake?.();
    },
  };
}

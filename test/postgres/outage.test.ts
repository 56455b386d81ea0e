/**
 * The database going away and coming back (packages/postgres/README.md#when-the-database-goes-away),
 * with 4 real processes writing: the PostgreSQL server stopped (fast and immediate shutdown) and
 * started again, and the processes' connections terminated (pg_terminate_backend), all while
 * they consume one hard limit (REJECT) and report usage with idempotency keys.
 *
 * Expected: no process dies; calls during an outage fail with STORE_UNAVAILABLE or succeed after
 * the store's bounded retry; engines reconnect by themselves; checks keep answering from the view;
 * each follower's LISTEN connection comes back and reads what it missed (a beacon written by one
 * process after each disruption reaches the listeners of the three others, with followIntervalMs
 * at a minute, so that polling cannot be what brings it); and afterwards nothing acknowledged is
 * lost, nothing is counted twice and the limit is not overshot.
 *
 * The server is a throwaway cluster of this file's own (never the run's shared one): it is
 * stopped and started. Workers are pg-worker.ts processes running the outage job (outage-job.ts).
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine, type CatalogDefinition, type MeteredEntitlement } from '@tessera/core';
import { postgresStore } from '@tessera/postgres';
import { demoCatalog } from '../engine/stores.js';
import { startRestartablePostgres, type RestartablePostgres } from '../support/postgres-server.js';
import { allDone, startWorker, taggedUrl, type JobHandle, type WorkerProcess } from './workers.js';
import type { OutageReport } from './worker-protocol.js';

const WORKERS = 4;
const CUSTOMER = 'acme';
const SCHEMA = 'outage';
/**
 * The hard limit the workers consume: on a busy 2-core machine it runs out during the disruptions
 * (about 9 units/s there), on an idle one before; the test waits for it to run out either way.
 */
const LIMIT = 240;

function catalog(): CatalogDefinition {
  const c = structuredClone(demoCatalog);
  c.features.push(
    { id: 'render-credits', displayName: 'Render credits', type: 'METERED' },
    { id: 'outage-reports', displayName: 'Reports', type: 'METERED' },
    { id: 'beacon', displayName: 'Beacon', type: 'METERED' },
  );
  c.plans
    .find((p) => p.id === 'free')!
    .entitlements!.push(
      { featureId: 'render-credits', usageLimit: LIMIT, resetPeriod: 'MONTH' },
      { featureId: 'outage-reports', usageLimit: 1_000_000_000, resetPeriod: 'MONTH', hasSoftLimit: true },
      { featureId: 'beacon', usageLimit: 1_000_000, resetPeriod: 'MONTH', hasSoftLimit: true },
    );
  return c;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let server: RestartablePostgres;
let workers: WorkerProcess[] = [];

/** One statement on a connection of its own, tried again while the server is still starting. */
async function sql<R extends pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<R[]> {
  for (let attempt = 0; ; attempt++) {
    const client = new pg.Client({ connectionString: server.url });
    client.on('error', () => undefined);
    try {
      await client.connect();
      return (await client.query<R>(text, values)).rows;
    } catch (e) {
      if (attempt >= 50) throw e;
      await sleep(100);
    } finally {
      await client.end().catch(() => undefined);
    }
  }
}

async function storedUsage(featureId: string): Promise<number> {
  const rows = await sql<{ v: string }>(`SELECT coalesce(sum(value), 0)::text AS v FROM ${SCHEMA}.usage WHERE customer_id = $1 AND feature_id = $2`, [CUSTOMER, featureId]);
  return Number(rows[0]!.v);
}

beforeAll(async () => {
  const started = await startRestartablePostgres();
  if (!started) throw new Error('this test starts and stops a PostgreSQL server of its own: it needs the server binaries (initdb, pg_ctl, postgres)');
  server = started;
  const engine = await createEngine({ store: postgresStore({ connectionString: server.url, schema: SCHEMA, poolSize: 2 }), catalog: catalog() });
  try {
    await engine.provisionCustomer({ customerId: CUSTOMER });
  } finally {
    await engine.close();
  }
  workers = Array.from({ length: WORKERS }, (_, n) => startWorker(`outage-${n}`));
  await Promise.all(workers.map((w) => w.up));
});

afterAll(async () => {
  await Promise.all(workers.map((w) => w.stop()));
  await server?.stop();
});

describe('postgres: the server restarts and connections die under 4 writing processes', () => {
  const t0 = Date.now();
  it('no process dies, calls fail cleanly or retry, followers resume, and nothing is lost, doubled or overshot', async () => {
    const alive = (w: WorkerProcess) => w.child.exitCode === null && w.child.signalCode === null;
    const jobs: JobHandle<OutageReport>[] = workers.map((w, n) =>
      w.run<OutageReport>({
        mode: 'outage',
        url: taggedUrl(server.url, `outage-w${n}`),
        schema: SCHEMA,
        customerId: CUSTOMER,
        featureId: 'render-credits',
        reportFeatureId: 'outage-reports',
        beaconFeatureId: 'beacon',
        checkFeatureId: 'projects',
        worker: n,
        seed: n + 1,
        reconnectTimeoutMs: 300,
        followIntervalMs: 60_000,
      }),
    );
    // The beacon usages each worker's listener heard.
    const heard = workers.map(() => new Set<number>());
    workers.forEach((w, n) =>
      w.onLine((line) => {
        const m = /^heard (\d+) (\d+)$/.exec(line);
        if (m && Number(m[1]) === jobs[n]!.id) heard[n]!.add(Number(m[2]));
      }),
    );
    await Promise.all(jobs.map((j) => j.ready));
    for (const j of jobs) j.go();
    await sleep(300);

    const terminate = (pattern: string) =>
      sql(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name LIKE $1 AND pid <> pg_backend_pid()`, [pattern]);
    const disruptions: [string, () => Promise<unknown>][] = [
      ['fast shutdown', async () => (await server.shutdown('fast'), await sleep(300), server.start())],
      ['every connection terminated', () => terminate('outage-w%')],
      ['immediate shutdown (crash)', async () => (await server.shutdown('immediate'), await sleep(300), server.start())],
      // One worker's connections (its LISTEN one too) die just before another writes: the beacon's
      // notification may reach it only through the read made when its LISTEN is back.
      ['one process’s connections terminated', () => terminate('outage-w1')],
    ];
    let round = 0;
    for (const [name, disrupt] of disruptions) {
      await disrupt();
      round++;
      const writer = round % WORKERS === 1 ? 0 : round % WORKERS;
      jobs[writer]!.tell('beacon', round);
      const others = workers.map((_, n) => n).filter((n) => n !== writer);
      const deadline = Date.now() + 20_000;
      while (Date.now() < deadline && !others.every((n) => heard[n]!.has(round))) await sleep(50);
      expect(
        others.filter((n) => !heard[n]!.has(round)).map((n) => `worker ${n}`),
        `after ${name}: the beacon of round ${round} by worker ${writer} reached every other worker's listener`,
      ).toEqual([]);
      expect(workers.filter((w) => !alive(w)).map((w) => w.name), `after ${name}: every process alive`).toEqual([]);
      await sleep(100);
    }
    // Let the quota run out, so that the limit is tested at its edge.
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline && (await storedUsage('render-credits')) < LIMIT) await sleep(100);
    for (const j of jobs) j.tell('stop');
    const reports = await allDone(jobs);
    expect(workers.filter((w) => !alive(w)).map((w) => w.name), 'every process alive at the end').toEqual([]);

    const sum = (f: (r: OutageReport) => number) => reports.reduce((a, r) => a + f(r), 0);
    expect(reports.flatMap((r) => r.unexpected), 'errors other than STORE_UNAVAILABLE and USAGE_LIMIT_EXCEEDED').toEqual([]);
    // Checks of a NUMERIC feature are answered from the view: none failed, in or out of an outage.
    expect(reports.flatMap((r) => r.checkErrors)).toEqual([]);
    for (const r of reports) expect(r.checks).toBeGreaterThan(0);
    // The outages were real: calls saw STORE_UNAVAILABLE (and were made again with their keys).
    expect(sum((r) => r.unavailable)).toBeGreaterThan(0);
    // Each process heard of its LISTEN connection going away (nobody's call saw that), as STORE_UNAVAILABLE.
    for (const r of reports) {
      expect(r.backgroundErrors.length).toBeGreaterThan(0);
      expect(new Set(r.backgroundErrors)).toEqual(new Set(['STORE_UNAVAILABLE']));
    }

    // Nothing acknowledged lost, nothing counted twice: every report was acknowledged once in the end.
    expect(await storedUsage('outage-reports')).toBe(sum((r) => r.reported));
    expect(await storedUsage('render-credits')).toBe(sum((r) => r.granted));
    expect(sum((r) => r.granted)).toBeLessThanOrEqual(LIMIT);
    expect(sum((r) => r.granted)).toBe(LIMIT);
    expect(await storedUsage('beacon')).toBe(disruptions.length);

    // A new engine reads the same.
    const engine = await createEngine({ store: postgresStore({ connectionString: server.url, schema: SCHEMA, poolSize: 2 }) });
    try {
      const e = (await engine.getMeteredEntitlement({ customerId: CUSTOMER, featureId: 'render-credits' })) as MeteredEntitlement;
      expect(e.currentUsage).toBe(LIMIT);
    } finally {
      await engine.close();
    }
    console.log(
      `outage (${Date.now() - t0} ms): ${sum((r) => r.consumeCalls)} consume calls, ${sum((r) => r.reported)} keyed reports, ${sum((r) => r.checks)} checks; ` +
        `${sum((r) => r.unavailable)} STORE_UNAVAILABLE (${sum((r) => r.unknownOutcome)} of unknown outcome), ` +
        `${sum((r) => r.backgroundErrors.length)} background errors reported`,
    );
  }, 90_000);
});

/**
 * The replica's outbox in its own file: a local usage write and its outbox entry commit in one
 * transaction (a SIGKILL between the two keeps neither), the separate outbox file of earlier
 * versions is imported once and retired, and failures no caller sees (delivery, sync) reach the
 * replica's `error` event and logger, once per streak.
 */
import { copyFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { createEngine, memoryStore, type Clock, type EngineErrorEvent, type Logger } from '@tessera/core';
import { createClient, createReplica, serveSidecar, type Replica } from '@tessera/http';
import { FULL_KEY, tempDir } from './harness.js';
import { catalog, deadPort, metered, ReplicaWorker } from './replica-support.js';
import { kindOf, valueOf } from './replica-writes.js';

const tmp = tempDir();
afterAll(() => tmp.remove());

/** What writes `from..to-1` of the worker add: tokens and requests. */
function sums(indexes: number[]): { tokens: number; requests: number } {
  return {
    tokens: indexes.filter((i) => kindOf(i) === 'usage').reduce((sum, i) => sum + valueOf(i), 0),
    requests: indexes.filter((i) => kindOf(i) === 'event').length,
  };
}

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

/** What the replica file itself counts, read with the sidecar out of reach (no re-read from it can hide a difference). */
async function localCounts(file: string, customerId: string): Promise<{ tokens: number; requests: number; outboxDepth: number }> {
  const offline = await createReplica({ url: `http://127.0.0.1:${await deadPort()}`, apiKey: FULL_KEY, replica: file, timeoutMs: 300, logger: silent() });
  try {
    return { tokens: await metered(offline, customerId, 'tokens'), requests: await metered(offline, customerId, 'requests'), outboxDepth: offline.syncState().outboxDepth };
  } finally {
    await offline.close();
  }
}

/** A logger that keeps what it is given. */
function recorder(): Logger & { calls: { level: string; fields: Record<string, unknown>; message: string | undefined }[] } {
  const calls: { level: string; fields: Record<string, unknown>; message: string | undefined }[] = [];
  const at = (level: string) => (fields: Record<string, unknown>, message?: string) => void calls.push({ level, fields, message });
  return { calls, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

const silent = (): Logger => recorder();

/** Waits (polling every 20 ms, up to 10 s) until `done()`. */
async function until(what: string, done: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !done(); i++) await new Promise((r) => setTimeout(r, 20));
  if (!done()) throw new Error(`timed out waiting for ${what}`);
}

/** A sidecar in this process on a memory store, and a fetch that can cut the replica off from it. */
async function inProcessSidecar(clock?: Clock) {
  const store = memoryStore();
  const engine = await createEngine({ store, catalog, ...(clock ? { clock } : {}) });
  const sidecar = await serveSidecar({ engine, store, fullAccessKeys: [FULL_KEY], port: 0, changePollMs: 20 });
  const client = createClient({ url: sidecar.url, apiKey: FULL_KEY });
  const gate = {
    /** Requests whose path matches are refused as a network failure would be. */
    block: null as RegExp | null,
    attempts: new Map<string, number>(),
    fetch: (input: string, init: RequestInit) => {
      const path = new URL(input).pathname;
      gate.attempts.set(path, (gate.attempts.get(path) ?? 0) + 1);
      return gate.block?.test(path) ? Promise.reject(new TypeError('fetch failed')) : fetch(input, init);
    },
  };
  return {
    client,
    gate,
    url: sidecar.url,
    async close() {
      await sidecar.close();
      await engine.close();
    },
  };
}

describe('a SIGKILL between the local usage write and its outbox append', () => {
  it('keeps neither: the replica file counts what was acknowledged, and after restarts the sidecar counts the same, exactly', async () => {
    const TO = 120;
    const sidecar = await inProcessSidecar();
    const file = join(tmp.dir, 'crash.replica.db');
    const env = { REPLICA_URL: sidecar.url, REPLICA_KEY: FULL_KEY, REPLICA_FILE: file, CUSTOMER: 'crash', TO: String(TO) };
    const workers: ReplicaWorker[] = [];
    try {
      await sidecar.client.provisionCustomer({ customerId: 'crash' });
      let from = 0;
      // Write 37 is a usage report, killed before its append; 88 an event, killed after its
      // append, before the commit (runs of 50 of one kind). Each run delivers as it goes.
      for (const [crashAt, when] of [
        [37, 'before'],
        [88, 'after'],
      ] as const) {
        const worker = new ReplicaWorker({ ...env, FROM: String(from), WAIT_SYNC: from === 0 ? '1' : '0', CRASH_AT: String(crashAt), CRASH_WHEN: when });
        workers.push(worker);
        await worker.waitFor(new RegExp(`^crash ${crashAt} ${when}$`));
        expect(await worker.exit()).toBeNull(); // killed by a signal
        expect(worker.acks()).toEqual(range(from, crashAt));
        // The replica file counts exactly what was acknowledged: the killed write left nothing.
        const local = await localCounts(file, 'crash');
        expect([crashAt, { tokens: local.tokens, requests: local.requests }]).toEqual([crashAt, sums(range(0, crashAt))]);
        // The next run goes on from the killed write, with the same key.
        from = crashAt;
      }
      const last = new ReplicaWorker({ ...env, FROM: String(from), DRAIN: '1' });
      workers.push(last);
      const drained = await last.waitFor(/^drained /, 40_000);
      expect(JSON.parse(drained.slice('drained '.length))).toMatchObject({ outboxDepth: 0, failedDeliveries: 0 });
      expect(await last.exit()).toBe(0);
      expect(last.acks()).toEqual(range(from, TO));

      // Nothing lost, nothing twice: the sidecar, the replica file and the acknowledgements agree.
      const expected = sums(range(0, TO));
      expect({ tokens: await metered(sidecar.client, 'crash', 'tokens'), requests: await metered(sidecar.client, 'crash', 'requests') }).toEqual(expected);
      expect(await localCounts(file, 'crash')).toEqual({ ...expected, outboxDepth: 0 });
    } finally {
      for (const w of workers) await w.kill();
      await sidecar.close();
    }
  }, 90_000);
});

describe('local usage writes made at once', () => {
  it('each queue their own entry in their own transaction; those refused queue nothing', async () => {
    const side = await inProcessSidecar();
    await side.client.provisionCustomer({ customerId: 'acme' });
    const replica = await createReplica({ url: side.url, apiKey: FULL_KEY, replica: join(tmp.dir, 'concurrent.replica.db'), pollIntervalMs: 500, maxBackoffMs: 50, fetch: side.gate.fetch, logger: silent() });
    try {
      await replica.whenSynced(10_000);
      side.gate.block = /^\/v1\/report/;
      const calls: Promise<unknown>[] = [];
      for (let i = 0; i < 20; i++) {
        calls.push(replica.reportUsage({ customerId: 'acme', featureId: 'tokens', value: i + 1 }));
        calls.push(replica.consumeUsage({ customerId: 'acme', featureId: 'tokens', amount: 2 }));
        if (i % 2 === 0) calls.push(replica.reportEvent({ customerId: 'acme', eventName: 'request', idempotencyKey: `req-${i}` }));
        if (i % 4 === 0) calls.push(replica.reportUsage({ customerId: 'acme', featureId: 'no-such-feature', value: 1 }));
        if (i % 5 === 0) calls.push(replica.consumeUsage({ customerId: 'nobody', featureId: 'tokens', amount: 1 }));
      }
      const settled = await Promise.allSettled(calls);
      const refused = settled.filter((r) => r.status === 'rejected');
      expect(refused.map((r) => (r as PromiseRejectedResult).reason.code).sort()).toEqual([...Array(5).fill('FEATURE_NOT_FOUND'), ...Array(4).fill('CUSTOMER_NOT_FOUND')].sort());
      // 20 reports, 20 consumptions, 10 events: one entry each.
      expect(replica.syncState().outboxDepth).toBe(50);
      const local = { tokens: await metered(replica, 'acme', 'tokens'), requests: await metered(replica, 'acme', 'requests') };
      expect(local).toEqual({ tokens: (20 * 21) / 2 + 20 * 2, requests: 10 });

      side.gate.block = null;
      await replica.drained(10_000);
      expect({ tokens: await metered(side.client, 'acme', 'tokens'), requests: await metered(side.client, 'acme', 'requests') }).toEqual(local);
    } finally {
      await replica.close();
      await side.close();
    }
  });
});

/** The tables of an earlier replica's outbox file, as that version created them. */
const LEGACY_SCHEMA = `
  CREATE TABLE outbox (seq INTEGER PRIMARY KEY AUTOINCREMENT, dedupe_key TEXT NOT NULL UNIQUE, kind TEXT NOT NULL, customer_id TEXT NOT NULL, body TEXT NOT NULL);
  CREATE INDEX outbox_customer ON outbox (customer_id);
  CREATE TABLE outbox_failed (seq INTEGER PRIMARY KEY, kind TEXT NOT NULL, customer_id TEXT NOT NULL, body TEXT NOT NULL, code TEXT NOT NULL, message TEXT NOT NULL, failed_at INTEGER NOT NULL);
  CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
`;

/**
 * Turns a replica file of this version into one of the earlier layout: its outbox entries and
 * bookkeeping move to a separate `<file>.outbox` (plus one entry refused earlier), and its
 * outbox tables go. Returns what moved.
 */
function downgrade(file: string): { entries: number; meta: Record<string, string> } {
  const db = new BetterSqlite3(file);
  const entries = db.prepare('SELECT dedupe_key, kind, customer_id, body FROM replica_outbox ORDER BY seq').all() as Record<string, string>[];
  const meta = Object.fromEntries((db.prepare('SELECT key, value FROM replica_meta').all() as { key: string; value: string }[]).map((r) => [r.key, r.value]));
  db.exec('DROP TABLE replica_outbox; DROP TABLE replica_outbox_failed; DROP TABLE replica_meta;');
  db.close();
  const legacy = new BetterSqlite3(`${file}.outbox`);
  legacy.pragma('journal_mode = WAL');
  legacy.exec(LEGACY_SCHEMA);
  const insert = legacy.prepare('INSERT INTO outbox (dedupe_key, kind, customer_id, body) VALUES (?, ?, ?, ?)');
  for (const e of entries) insert.run(e.dedupe_key, e.kind, e.customer_id, e.body);
  for (const [k, v] of Object.entries(meta)) legacy.prepare('INSERT INTO meta (key, value) VALUES (?, ?)').run(k, v);
  legacy
    .prepare('INSERT INTO outbox_failed (seq, kind, customer_id, body, code, message, failed_at) VALUES (?, ?, ?, ?, ?, ?, ?)')
    .run(1, 'usage', 'acme', JSON.stringify({ customerId: 'acme', featureId: 'nope', value: 1 }), 'FEATURE_NOT_FOUND', 'no feature "nope"', 1);
  legacy.close();
  return { entries: entries.length, meta };
}

describe('upgrading a replica whose outbox is a separate file', () => {
  it('imports its undelivered entries and bookkeeping once, retires the file, and delivers them exactly once', async () => {
    const side = await inProcessSidecar();
    const file = join(tmp.dir, 'upgrade.replica.db');
    const legacyFile = `${file}.outbox`;
    const open = () => createReplica({ url: side.url, apiKey: FULL_KEY, replica: file, pollIntervalMs: 500, maxBackoffMs: 100, fetch: side.gate.fetch, logger: silent() });
    let replica: Replica | undefined;
    try {
      await side.client.provisionCustomer({ customerId: 'acme' });
      // A replica records usage it cannot deliver yet; its file is then turned into the earlier layout.
      side.gate.block = /^\/v1\/report/;
      replica = await open();
      await replica.whenSynced(10_000);
      for (const value of [2, 3, 4]) await replica.reportUsage({ customerId: 'acme', featureId: 'tokens', value });
      await replica.reportEvent({ customerId: 'acme', eventName: 'request', idempotencyKey: 'req-1' });
      await replica.close();
      const moved = downgrade(file);
      expect(moved.entries).toBe(4);
      expect(moved.meta.synced).toBe('1');

      // The upgraded replica starts where the earlier one stood, with its entries queued.
      replica = await open();
      expect(replica.syncState()).toMatchObject({ synced: true, lastSeq: Number(moved.meta.lastSeq), outboxDepth: 4, failedDeliveries: 1 });
      expect(replica.failedDeliveries()[0]).toMatchObject({ customerId: 'acme', code: 'FEATURE_NOT_FOUND', body: { featureId: 'nope' } });
      expect(existsSync(legacyFile)).toBe(false);
      expect(existsSync(`${legacyFile}.imported`)).toBe(true);
      expect(await metered(replica, 'acme', 'tokens')).toBe(9);

      side.gate.block = null;
      await replica.drained(10_000);
      expect({ tokens: await metered(side.client, 'acme', 'tokens'), requests: await metered(side.client, 'acme', 'requests') }).toEqual({ tokens: 9, requests: 1 });
      await replica.close();

      // A crash after the import but before the rename leaves the file in place: it is not imported again.
      copyFileSync(`${legacyFile}.imported`, legacyFile);
      side.gate.block = /^\/v1\/report/;
      replica = await open();
      expect(replica.syncState()).toMatchObject({ outboxDepth: 0, failedDeliveries: 1 });
      expect(existsSync(legacyFile)).toBe(false);
      expect(await metered(replica, 'acme', 'tokens')).toBe(9);
    } finally {
      await replica?.close();
      await side.close();
    }
  });

  it('refuses to start on an outbox file that is not one, rather than leave its usage behind', async () => {
    const file = join(tmp.dir, 'not-outbox.replica.db');
    new BetterSqlite3(`${file}.outbox`).exec('CREATE TABLE something (x)');
    await expect(createReplica({ url: `http://127.0.0.1:${await deadPort()}`, apiKey: FULL_KEY, replica: file, logger: silent() })).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
  });
});

describe('failures no caller sees', () => {
  it('reports a sidecar out of reach once per streak (again after a minute), and stops once delivery resumes', async () => {
    // One clock for the replica and the sidecar, moved by hand.
    let t = Date.now();
    const clock: Clock = { now: () => new Date(t), nowMs: () => t };
    const side = await inProcessSidecar(clock);
    await side.client.provisionCustomer({ customerId: 'acme' });
    const logger = recorder();
    const replica = await createReplica({ url: side.url, apiKey: FULL_KEY, replica: join(tmp.dir, 'report.replica.db'), clock, logger, pollIntervalMs: 200, timeoutMs: 500, maxBackoffMs: 20, fetch: side.gate.fetch });
    const events: EngineErrorEvent[] = [];
    replica.on('error', (e) => events.push(e));
    const deliveries = () => side.gate.attempts.get('/v1/reportUsage') ?? 0;
    try {
      await replica.whenSynced(10_000);
      expect(events).toEqual([]);

      side.gate.block = /./;
      await replica.reportUsage({ customerId: 'acme', featureId: 'tokens', value: 5 });
      await until('10 failed deliveries', () => deliveries() >= 10);
      const delivery = events.filter((e) => e.method === 'deliver');
      expect(delivery).toHaveLength(1);
      expect(delivery[0]).toMatchObject({ source: 'replica', code: 'OFFLINE' });
      expect(delivery[0]!.at).toEqual(new Date(t));
      await until('the sync failure', () => events.some((e) => e.method === 'sync'));
      expect(events.filter((e) => e.method === 'sync')).toHaveLength(1);
      // Cut off is an air-gapped replica's normal life: the logger hears it as a warning.
      expect(logger.calls.filter((c) => c.fields.source === 'replica' && c.level === 'warn').map((c) => c.fields.method).sort()).toEqual(['deliver', 'sync']);
      expect(logger.calls.filter((c) => c.level === 'error')).toEqual([]);

      // A minute on, still failing: reported once more.
      t += 61_000;
      const seen = deliveries();
      await until('more failed deliveries', () => deliveries() >= seen + 3);
      expect(events.filter((e) => e.method === 'deliver')).toHaveLength(2);

      // Back: delivered, the streak's end is logged, and no more reports.
      side.gate.block = null;
      await replica.drained(10_000);
      expect(await metered(side.client, 'acme', 'tokens')).toBe(5);
      await until('the end of the delivery streak', () => logger.calls.some((c) => c.level === 'info' && c.fields.method === 'deliver'));
      const reported = events.length;
      await replica.reportUsage({ customerId: 'acme', featureId: 'tokens', value: 1 });
      await replica.drained(10_000);
      await replica.syncNow();
      expect(events).toHaveLength(reported);
      expect(await metered(side.client, 'acme', 'tokens')).toBe(6);
      expect(await metered(replica, 'acme', 'tokens')).toBe(6);
    } finally {
      await replica.close();
      await side.close();
    }
  });

  it('reports an entry the sidecar refuses for good, at error level', async () => {
    const side = await inProcessSidecar();
    await side.client.provisionCustomer({ customerId: 'acme' });
    const logger = recorder();
    const replica = await createReplica({ url: side.url, apiKey: FULL_KEY, replica: join(tmp.dir, 'refused.replica.db'), logger, pollIntervalMs: 200, maxBackoffMs: 50, fetch: side.gate.fetch });
    const events: EngineErrorEvent[] = [];
    replica.on('error', (e) => events.push(e));
    try {
      await replica.whenSynced(10_000);
      // Archived at the sidecar while the replica, cut off, still has it: the delivery is refused.
      side.gate.block = /./;
      const polls = () => side.gate.attempts.get('/v1/changes') ?? 0;
      const seen = polls();
      await until('a refused change-feed poll', () => polls() > seen + 1);
      await side.client.archiveCustomer('acme');
      await replica.reportUsage({ customerId: 'acme', featureId: 'tokens', value: 1 });
      side.gate.block = null;
      await replica.drained(10_000);
      expect(replica.failedDeliveries()).toHaveLength(1);
      expect(events.filter((e) => e.method === 'deliver' && e.code === 'CUSTOMER_NOT_FOUND')).toEqual([expect.objectContaining({ source: 'replica', customerId: 'acme' })]);
      expect(logger.calls.filter((c) => c.level === 'error' && c.fields.code === 'CUSTOMER_NOT_FOUND')).toHaveLength(1);
    } finally {
      await replica.close();
      await side.close();
    }
  });

  it('refuses a logger without the four methods', async () => {
    await expect(createReplica({ url: 'http://127.0.0.1:1', apiKey: FULL_KEY, replica: join(tmp.dir, 'bad-logger.db'), logger: { info() {} } as unknown as Logger })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});

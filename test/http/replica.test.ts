/**
 * The air-gapped replica against a real sidecar process (`tessera serve`) on loopback: checks
 * agree with the sidecar after sync, usage recorded while cut off (and across a SIGKILL of the
 * replica's own process) reaches the sidecar exactly once, a never-synced replica answers from
 * fallback, forwarded writes fail with OFFLINE, and the replica file survives restarts.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TesseraError } from '@tessera/core';
import { createEngine, memoryStore } from '@tessera/core';
import { createClient, createReplica, serveSidecar, type Replica, type TesseraClient } from '@tessera/http';
import { FULL_KEY, startSidecarProcess, tempDir, type SidecarProcess } from './harness.js';
import { catalog, deadPort, metered, ReplicaWorker as Worker, writeCatalog } from './replica-support.js';
import { kindOf, valueOf } from './replica-writes.js';

/** Writes the worker records across its two runs (the worker takes any count through FROM/TO). */
const N = 10_000;

const tmp = tempDir();
const catalogFile = writeCatalog(tmp.dir);

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (e) {
    expect(e).toBeInstanceOf(TesseraError);
    return (e as TesseraError).code;
  }
  throw new Error('expected an error');
}

describe('the replica against a sidecar process', () => {
  const db = join(tmp.dir, 'billing.db');
  let sidecar: SidecarProcess;
  let client: TesseraClient;
  let replica: Replica;

  beforeAll(async () => {
    sidecar = await startSidecarProcess(['--db', db, '--catalog', catalogFile]);
    client = createClient({ url: sidecar.url, apiKey: FULL_KEY });
    await client.provisionCustomer({ customerId: 'acme', name: 'Acme' });
    replica = await createReplica({ url: sidecar.url, apiKey: FULL_KEY, replica: join(tmp.dir, 'one.replica.db'), pollIntervalMs: 2_000, timeoutMs: 2_000, maxBackoffMs: 500 });
    await replica.whenSynced(20_000);
  }, 30_000);

  afterAll(async () => {
    await replica?.close();
    await sidecar?.stop();
  });

  it('takes a snapshot on start: customers written before it answer locally', async () => {
    expect(replica.syncState()).toMatchObject({ synced: true, outboxDepth: 0 });
    expect(replica.syncState().lastSeq).toBeGreaterThan(0);
    expect(await replica.getEntitlement({ customerId: 'acme', featureId: 'projects' })).toEqual(await client.getEntitlement({ customerId: 'acme', featureId: 'projects' }));
    expect((await replica.getCustomer('acme')).name).toBe('Acme');
  });

  it('answers checks that agree with the sidecar after forwarded writes and local usage', async () => {
    await replica.provisionCustomer({ customerId: 'globex', subscriptionParams: { planId: 'basic', billingPeriod: 'MONTHLY', addons: [{ addonId: 'extra-seats', quantity: 2 }] } });
    await replica.grantPromotionalEntitlements({ customerId: 'acme', promotionalEntitlements: [{ featureId: 'sso', period: 'ONE_MONTH' }] });
    // An override replaces the plan's value; it reaches the replica's file with the customer's records.
    const override = await replica.setEntitlementOverride({ customerId: 'globex', featureId: 'projects', entitlement: { value: 42 } });
    expect(await replica.getNumericEntitlement({ customerId: 'globex', featureId: 'projects' })).toMatchObject({ value: 42, overrideId: override.id, isFallback: false });
    // Local usage counts at once in local checks, before the sidecar has it.
    await replica.reportUsage({ customerId: 'acme', featureId: 'api-calls', value: 7 });
    await replica.reportUsage({ customerId: 'globex', featureId: 'seats', value: 3, idempotencyKey: 'seats-1' });
    await replica.reportUsage({ customerId: 'globex', featureId: 'seats', value: 3, idempotencyKey: 'seats-1' });
    await replica.reportEvent({ customerId: 'acme', eventName: 'request', idempotencyKey: 'req-1' });
    const consumed = await replica.consumeUsage({ customerId: 'acme', featureId: 'api-calls', amount: 5 });
    expect(consumed.granted).toBe(5);
    expect(await metered(replica, 'acme', 'api-calls')).toBe(12);
    expect(await metered(replica, 'globex', 'seats')).toBe(3);

    await replica.drained(20_000);
    await replica.syncNow();
    expect(await metered(client, 'acme', 'api-calls')).toBe(12);
    expect(await metered(client, 'globex', 'seats')).toBe(3); // the repeated key counted once
    for (const customerId of ['acme', 'globex', 'nobody']) {
      for (const featureId of ['sso', 'projects', 'api-calls', 'seats', 'export', 'tokens', 'requests', 'no-such-feature']) {
        const params = { customerId, featureId, options: { requestedUsage: 1 } };
        expect([customerId, featureId, await replica.getEntitlement(params)]).toEqual([customerId, featureId, await client.getEntitlement(params)]);
      }
      expect(await replica.getEntitlements({ customerId })).toEqual(await client.getEntitlements({ customerId }));
    }
    expect(await replica.getActiveSubscriptions({ customerId: 'globex' })).toEqual(await client.getActiveSubscriptions({ customerId: 'globex' }));
    expect(await replica.getCustomer('globex')).toEqual(await client.getCustomer('globex'));
  });

  it('follows writes made at the sidecar by others through the change feed', async () => {
    await client.reportUsage({ customerId: 'globex', featureId: 'seats', value: 1 });
    await client.updateCustomer({ customerId: 'acme', name: 'Acme Inc' });
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline && (await metered(replica, 'globex', 'seats')) !== 4) await new Promise((r) => setTimeout(r, 50));
    expect(await metered(replica, 'globex', 'seats')).toBe(4);
    await replica.syncNow();
    expect((await replica.getCustomer('acme')).name).toBe('Acme Inc');
  });

  it('survives a restart: the file answers checks with the sidecar out of reach', async () => {
    const file = join(tmp.dir, 'restart.replica.db');
    const first = await createReplica({ url: sidecar.url, apiKey: FULL_KEY, replica: file, pollIntervalMs: 2_000 });
    await first.whenSynced(20_000);
    const params = { customerId: 'globex', featureId: 'seats', options: { requestedUsage: 1 } };
    const before = await first.getEntitlement(params);
    const { lastSeq } = first.syncState();
    await first.close();

    const again = await createReplica({ url: `http://127.0.0.1:${await deadPort()}`, apiKey: FULL_KEY, replica: file, timeoutMs: 500 });
    try {
      expect(again.syncState()).toMatchObject({ synced: true, lastSeq });
      const after = await again.getEntitlement(params);
      expect(after).toEqual(before);
      expect(after.isFallback).toBe(false);
      expect((await again.getCustomer('globex')).customerId).toBe('globex');
    } finally {
      await again.close();
    }
  });
});

describe('the replica cut off from its sidecar', () => {
  it('answers from fallback when it has never synced, saying so', async () => {
    const replica = await createReplica({
      url: `http://127.0.0.1:${await deadPort()}`,
      apiKey: FULL_KEY,
      replica: join(tmp.dir, 'never.replica.db'),
      timeoutMs: 500,
      fallback: { sso: { hasAccess: true }, 'api-calls': { hasAccess: true, usageLimit: 5 } },
    });
    try {
      const offline = new Promise<void>((resolve) => replica.on('offline', () => resolve()));
      const sso = await replica.getEntitlement({ customerId: 'acme', featureId: 'sso' });
      expect(sso).toMatchObject({ hasAccess: true, isFallback: true, fallbackReason: 'ReplicaNotSynced' });
      expect(await replica.getMeteredEntitlement({ customerId: 'acme', featureId: 'api-calls', options: { requestedUsage: 6 } })).toMatchObject({ hasAccess: false, isFallback: true, usageLimit: 5 });
      expect(await replica.getEntitlement({ customerId: 'acme', featureId: 'projects' })).toMatchObject({ hasAccess: false, isFallback: true, accessDeniedReason: 'Unknown' });
      await offline;
      expect(replica.syncState()).toMatchObject({ synced: false, online: false, lastSeq: 0, outboxDepth: 0 });
      expect(await codeOf(replica.getCustomer('acme'))).toBe('OFFLINE');
      expect(await codeOf(replica.reportUsage({ customerId: 'acme', featureId: 'api-calls', value: 1 }))).toBe('OFFLINE');
    } finally {
      await replica.close();
    }
  });

  it('fails forwarded writes with OFFLINE while the sidecar is down, and still counts usage locally', async () => {
    const db = join(tmp.dir, 'down.db');
    const sidecar = await startSidecarProcess(['--db', db, '--catalog', catalogFile]);
    await createClient({ url: sidecar.url, apiKey: FULL_KEY }).provisionCustomer({ customerId: 'acme' });
    const replica = await createReplica({ url: sidecar.url, apiKey: FULL_KEY, replica: join(tmp.dir, 'down.replica.db'), pollIntervalMs: 1_000, timeoutMs: 1_000, maxBackoffMs: 500 });
    try {
      await replica.whenSynced(20_000);
      const offline = new Promise<void>((resolve) => replica.on('offline', () => resolve()));
      await sidecar.stop('SIGKILL');
      await offline;
      expect(await codeOf(replica.provisionCustomer({ customerId: 'initech' }))).toBe('OFFLINE');
      expect(await codeOf(replica.updateSubscription({ subscriptionId: 'sub_x', billingPeriod: 'MONTHLY' }))).toBe('OFFLINE');
      await replica.reportUsage({ customerId: 'acme', featureId: 'api-calls', value: 4 });
      expect(await metered(replica, 'acme', 'api-calls')).toBe(4);
      expect(replica.syncState()).toMatchObject({ online: false, outboxDepth: 1 });
    } finally {
      await replica.close();
      await sidecar.stop('SIGKILL');
    }
  });

  it(`delivers ${N} usage reports and events recorded offline exactly once, across a SIGKILL of the replica process`, async () => {
    const db = join(tmp.dir, 'air.db');
    const file = join(tmp.dir, 'air.replica.db');
    let sidecar = await startSidecarProcess(['--db', db, '--catalog', catalogFile]);
    const port = new URL(sidecar.url).port;
    await createClient({ url: sidecar.url, apiKey: FULL_KEY }).provisionCustomer({ customerId: 'air' });
    const env = { REPLICA_URL: sidecar.url, REPLICA_KEY: FULL_KEY, REPLICA_FILE: file, CUSTOMER: 'air', TO: String(N) };
    const workers: Worker[] = [];
    try {
      // 1. The replica syncs, then the sidecar dies; the replica records writes and is killed partway.
      const first = new Worker({ ...env, FROM: '0', WAIT_SYNC: '1', WAIT_GO: '1' });
      workers.push(first);
      await first.waitFor(/^synced \d+/);
      await sidecar.stop('SIGKILL');
      first.send('go');
      const killAt = Math.floor(N * 0.4);
      await first.waitFor(new RegExp(`^ack ${killAt} `), 30_000);
      await first.kill('SIGKILL');
      const acked1 = first.acks();
      expect(acked1.length).toBeGreaterThan(killAt);
      expect(acked1).toEqual(acked1.map((_, i) => i)); // in order, none skipped

      // 2. A new replica process on the same files goes on after its last ack, still cut off.
      const from = acked1.at(-1)! + 1;
      const second = new Worker({ ...env, FROM: String(from), DRAIN: '1' });
      workers.push(second);
      await second.waitFor(/^done \d+/, 30_000);
      const acked2 = second.acks();
      expect(acked2[0]).toBe(from);
      expect(acked2.at(-1)).toBe(N - 1);

      // 3. The sidecar comes back on its file and port; the outbox drains.
      sidecar = await startSidecarProcess(['--db', db, '--catalog', catalogFile, '--port', port]);
      expect(sidecar.url).toBe(env.REPLICA_URL);
      const drained = await second.waitFor(/^drained /, 40_000);
      expect(JSON.parse(drained.slice('drained '.length))).toMatchObject({ outboxDepth: 0, failedDeliveries: 0 });
      expect(await second.exit()).toBe(0);

      // Exactly what was acknowledged, before and after the kill: nothing lost, nothing twice.
      const acked = [...acked1, ...acked2];
      const tokens = acked.filter((i) => kindOf(i) === 'usage').reduce((sum, i) => sum + valueOf(i), 0);
      const requests = acked.filter((i) => kindOf(i) === 'event').length;
      const check = createClient({ url: sidecar.url, apiKey: FULL_KEY });
      expect({ tokens: await metered(check, 'air', 'tokens'), requests: await metered(check, 'air', 'requests') }).toEqual({ tokens, requests });
      // Every write was acknowledged once in all: half are usage of 1 + i % 5 (3 on average), half events.
      expect({ tokens, requests }).toEqual({ tokens: (N / 2) * 3, requests: N / 2 });
    } finally {
      for (const w of workers) await w.kill();
      await sidecar.stop('SIGKILL');
    }
  }, 90_000);
});

describe('usage the sidecar has not acknowledged yet', () => {
  it('keeps local usage cells of a customer with queued writes when the sidecar sends its records, and takes the sidecar\'s once delivered', async () => {
    const store = memoryStore();
    const engine = await createEngine({ store, catalog });
    const sidecar = await serveSidecar({ engine, store, fullAccessKeys: [FULL_KEY], port: 0, changePollMs: 20 });
    const client = createClient({ url: sidecar.url, apiKey: FULL_KEY });
    await client.provisionCustomer({ customerId: 'acme' });
    // Deliveries of usage fail as if the sidecar could not be reached; everything else goes through.
    let blocked = true;
    const gate = (input: string, init: RequestInit) =>
      blocked && /\/v1\/reportUsage/.test(input) ? Promise.reject(new TypeError('fetch failed')) : fetch(input, init);
    const replica = await createReplica({ url: sidecar.url, apiKey: FULL_KEY, replica: join(tmp.dir, 'overlay.replica.db'), pollIntervalMs: 1_000, maxBackoffMs: 200, fetch: gate });
    try {
      await replica.whenSynced(10_000);
      await replica.reportUsage({ customerId: 'acme', featureId: 'api-calls', value: 5 });
      // The sidecar changes acme (name and its own usage of another feature): the replica re-reads acme.
      await client.updateCustomer({ customerId: 'acme', name: 'Acme Inc' });
      await client.reportUsage({ customerId: 'acme', featureId: 'seats', value: 1 });
      await replica.syncNow();
      expect((await replica.getCustomer('acme')).name).toBe('Acme Inc');
      // Queued: the sidecar's cells (api-calls 0, seats 1) did not replace the local ones.
      expect(replica.syncState().outboxDepth).toBe(1);
      expect(await metered(client, 'acme', 'api-calls')).toBe(0);
      expect(await metered(replica, 'acme', 'api-calls')).toBe(5);
      expect(await metered(replica, 'acme', 'seats')).toBe(0);

      blocked = false;
      await replica.drained(10_000);
      await client.reportUsage({ customerId: 'acme', featureId: 'api-calls', value: 2 });
      await replica.syncNow();
      expect(await metered(client, 'acme', 'api-calls')).toBe(7);
      expect(await metered(replica, 'acme', 'api-calls')).toBe(7);
      expect(await metered(replica, 'acme', 'seats')).toBe(1);
    } finally {
      await replica.close();
      await sidecar.close();
      await engine.close();
    }
  });
});

afterAll(() => tmp.remove());

/**
 * The sidecar as users run it: `tessera serve` in its own process on a SQLite file, on a free
 * loopback port, talked to through the typed client and plain fetch.
 */
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine, TesseraError, type Engine, type MeteredEntitlement } from '@tessera/core';
import { sqliteStore } from '@tessera/sqlite';
import { createClient, type TesseraClient } from '@tessera/http';
import { FULL_KEY, READ_KEY, runCli, SseReader, startSidecarProcess, tempDir, writeDemoCatalog, type SidecarProcess } from './harness.js';

const tmp = tempDir();
const db = join(tmp.dir, 'billing.db');
let sidecar: SidecarProcess;
let full: TesseraClient;
let read: TesseraClient;

const call = (method: string, body: unknown, headers: Record<string, string>) =>
  fetch(`${sidecar.url}/v1/${method}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

const errorCode = async (res: Response) => ((await res.json()) as { error: { code: string } }).error.code;

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (e) {
    expect(e).toBeInstanceOf(TesseraError);
    return (e as TesseraError).code;
  }
  throw new Error('expected an error');
}

beforeAll(async () => {
  sidecar = await startSidecarProcess(['--db', db, '--catalog', writeDemoCatalog(tmp.dir)]);
  full = createClient({ url: sidecar.url, apiKey: FULL_KEY });
  read = createClient({ url: sidecar.url, apiKey: READ_KEY });
}, 30_000);

afterAll(async () => {
  await sidecar?.stop();
  tmp.remove();
});

describe('tessera serve', () => {
  it('prints one line with its loopback URL', () => {
    expect(sidecar.banner.split('\n')).toHaveLength(1);
    expect(sidecar.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it('answers /health without a key', async () => {
    const res = await fetch(`${sidecar.url}/health`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ ok: true, lastChangeSeq: expect.any(Number), catalogVersion: 1 });
  });

  it('provisions customers and reports usage through the client', async () => {
    const { customer, subscription } = await full.provisionCustomer({ customerId: 'acme', name: 'Acme Corp' });
    expect(customer).toMatchObject({ customerId: 'acme', name: 'Acme Corp' });
    expect(customer.createdAt).toBeInstanceOf(Date);
    expect(subscription).toMatchObject({ planId: 'free', status: 'ACTIVE' });
    const globex = await full.provisionCustomer({
      customerId: 'globex',
      subscriptionParams: { planId: 'basic', billingPeriod: 'MONTHLY', addons: [{ addonId: 'extra-seats', quantity: 2 }] },
    });
    expect(globex.subscription).toMatchObject({ planId: 'basic', billingPeriod: 'MONTHLY' });

    const first = await full.reportUsage({ customerId: 'acme', featureId: 'api-calls', value: 60, idempotencyKey: 'batch-1' });
    const retry = await full.reportUsage({ customerId: 'acme', featureId: 'api-calls', value: 60, idempotencyKey: 'batch-1' });
    expect(retry).toEqual(first); // the retry counted nothing
    expect(first.currentUsage).toBe(60);
    expect(first.usagePeriodStart).toBeInstanceOf(Date);
    const check = (await read.getMeteredEntitlement({ customerId: 'acme', featureId: 'api-calls', options: { requestedUsage: 41 } })) as MeteredEntitlement;
    // 60 used + 41 asked > 100 on the free plan
    expect(check).toMatchObject({ hasAccess: false, accessDeniedReason: 'RequestedUsageExceedingLimit', currentUsage: 60, usageLimit: 100 });
    const consumed = await full.consumeUsage({ customerId: 'acme', featureId: 'api-calls', amount: 50, overage: 'CAP' });
    expect(consumed).toMatchObject({ granted: 40, currentUsage: 100 });
  });

  it('answers checks that agree with an engine opened in process on the same file', async () => {
    const local: Engine = await createEngine({ store: sqliteStore({ filename: db }) });
    try {
      for (const customerId of ['acme', 'globex', 'nobody']) {
        for (const featureId of ['sso', 'projects', 'api-calls', 'seats', 'export', 'no-such-feature']) {
          const params = { customerId, featureId, options: { requestedUsage: 1 } };
          expect(await read.getEntitlement(params)).toEqual(await local.getEntitlement(params));
        }
        expect(await read.getEntitlements({ customerId })).toEqual(await local.getEntitlements({ customerId }));
      }
      expect(await read.getCustomer('globex')).toEqual(await local.getCustomer('globex'));
    } finally {
      await local.close();
    }
  });

  it('carries error codes and statuses', async () => {
    expect(await codeOf(read.getCustomer('nobody'))).toBe('CUSTOMER_NOT_FOUND');
    expect(await codeOf(full.provisionSubscription({ customerId: 'acme', planId: 'no-such-plan', billingPeriod: 'MONTHLY' }))).toBe('PLAN_NOT_FOUND');
    expect(await codeOf(full.provisionSubscription({ customerId: 'acme', planId: 'basic' }))).toBe('BILLING_PERIOD_REQUIRED');
    expect(await codeOf(full.consumeUsage({ customerId: 'acme', featureId: 'api-calls', amount: 1, overage: 'REJECT' }))).toBe('USAGE_LIMIT_EXCEEDED');
    expect(await codeOf(read.getEntitlement({ featureId: 'sso' } as never))).toBe('INVALID_ARGUMENT');
    const statuses = await Promise.all([
      call('getCustomer', { customerId: 'nobody' }, { 'x-api-key': READ_KEY }),
      call('consumeUsage', { customerId: 'acme', featureId: 'api-calls', amount: 1, overage: 'REJECT' }, { 'x-api-key': FULL_KEY }),
      call('noSuchMethod', {}, { 'x-api-key': FULL_KEY }),
    ]);
    expect(statuses.map((r) => r.status)).toEqual([404, 422, 404]);
    expect(await statuses[0]!.json()).toMatchObject({ error: { code: 'CUSTOMER_NOT_FOUND', message: expect.any(String), details: { field: expect.stringMatching(/customerId$/) } } });
  });

  it('enforces keys: none or wrong 401, read-only writing 403, read-only reading 200', async () => {
    const noKey = await call('getProducts', {}, {});
    const wrong = await call('getProducts', {}, { authorization: 'Bearer wrong-key-wrong-key-wrong-key' });
    const readOnlyWrite = await call('reportUsage', { customerId: 'acme', featureId: 'seats', value: 1 }, { authorization: `Bearer ${READ_KEY}` });
    const readOnlyRead = await call('getEntitlement', { customerId: 'acme', featureId: 'seats' }, { authorization: `Bearer ${READ_KEY}` });
    expect([noKey.status, wrong.status, readOnlyWrite.status, readOnlyRead.status]).toEqual([401, 401, 403, 200]);
    expect(await errorCode(readOnlyWrite)).toBe('UNAUTHORIZED');
    expect(await codeOf(read.reportUsage({ customerId: 'acme', featureId: 'seats', value: 1 }))).toBe('UNAUTHORIZED');
    expect(await codeOf(createClient({ url: sidecar.url, apiKey: 'wrong-key-wrong-key-wrong-key' }).getProducts())).toBe('UNAUTHORIZED');
  });

  it('answers 413 to a body over 1 MiB', async () => {
    const res = await call('provisionCustomer', { customerId: 'big', metadata: { blob: 'x'.repeat(2 * 1024 * 1024) } }, { 'x-api-key': FULL_KEY });
    expect(res.status).toBe(413);
    expect(await errorCode(res)).toBe('INVALID_ARGUMENT');
    expect(await codeOf(read.getCustomer('big'))).toBe('CUSTOMER_NOT_FOUND');
  });

  it('long-polls the change feed: a write, also by another process, ends the wait', async () => {
    const { lastChangeSeq } = await read.health();
    const started = Date.now();
    const polled = read.changes({ after: lastChangeSeq, wait: 10_000 });
    setTimeout(() => void full.reportUsage({ customerId: 'globex', featureId: 'seats', value: 2 }), 100);
    const page = await polled;
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(page.changes[0]!.seq).toBe(lastChangeSeq + 1);
    expect(page.changes.some((c) => c.customerId === 'globex')).toBe(true);

    // An engine in this process writes to the file; the sidecar sees it through its poll.
    const local = await createEngine({ store: sqliteStore({ filename: db }) });
    try {
      const next = read.changes({ after: page.nextAfter, wait: 10_000 });
      setTimeout(() => void local.provisionCustomer({ customerId: 'initech' }), 100);
      const other = await next;
      expect(other.changes.some((c) => c.customerId === 'initech')).toBe(true);
    } finally {
      await local.close();
    }
  });

  it('streams the change feed as server-sent events and resumes from Last-Event-ID', async () => {
    const { lastChangeSeq } = await read.health();
    const headers = { authorization: `Bearer ${READ_KEY}` };
    const abort = new AbortController();
    const res = await fetch(`${sidecar.url}/v1/changes/stream?after=${lastChangeSeq}`, { headers, signal: abort.signal });
    expect(res.status).toBe(200);
    const sse = new SseReader(res.body!);
    await full.provisionCustomer({ customerId: 'hooli' });
    const first = await sse.next();
    expect(Number(first.id)).toBe(lastChangeSeq + 1);
    expect(JSON.parse(first.data)).toMatchObject({ seq: lastChangeSeq + 1, customerId: 'hooli' });
    abort.abort();

    await full.reportUsage({ customerId: 'hooli', featureId: 'seats', value: 1 });
    const resumed = await fetch(`${sidecar.url}/v1/changes/stream?after=${lastChangeSeq}`, { headers: { ...headers, 'last-event-id': first.id! } });
    const again = new SseReader(resumed.body!);
    const next = await again.next();
    expect(Number(next.id)).toBe(Number(first.id) + 1); // nothing lost, nothing repeated
    await again.close();
    expect(await fetch(`${sidecar.url}/v1/changes/stream`).then((r) => r.status)).toBe(401);
  });
});

describe('the tessera CLI', () => {
  it('refuses to start without keys, with keys on the command line, and prints --help', async () => {
    const keysFile = join(tmp.dir, 'keys.json');
    writeFileSync(keysFile, JSON.stringify({ fullAccess: [] }));
    chmodSync(keysFile, 0o600);
    const [noKeys, emptyFile, keyFlag, help] = await Promise.all([
      runCli(['serve', '--db', join(tmp.dir, 'other.db'), '--port', '0']),
      runCli(['serve', '--db', join(tmp.dir, 'other.db'), '--port', '0', '--keys-file', keysFile]),
      runCli(['serve', '--db', join(tmp.dir, 'other.db'), '--key', FULL_KEY]),
      runCli(['--help']),
    ]);
    expect(noKeys.code).toBe(1);
    expect(noKeys.stderr).toMatch(/refusing to start without API keys.*TESSERA_FULL_ACCESS_KEYS/);
    expect(noKeys.stdout).toBe('');
    expect(emptyFile.code).toBe(1);
    expect(keyFlag.code).toBe(2);
    expect(keyFlag.stderr).toMatch(/--key: keys are not accepted on the command line.*ps/);
    expect(keyFlag.stderr).not.toContain(FULL_KEY);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/Usage: tessera <command>/);
  }, 30_000);

  it('takes keys from a keys file and exits cleanly on SIGTERM, leaving the file usable', async () => {
    const keysFile = join(tmp.dir, 'keys2.json');
    writeFileSync(keysFile, JSON.stringify({ fullAccess: [FULL_KEY], readOnly: [READ_KEY] }));
    chmodSync(keysFile, 0o600);
    const file = join(tmp.dir, 'second.db');
    const second = await startSidecarProcess(['--db', file, '--catalog', writeDemoCatalog(tmp.dir), '--keys-file', keysFile], {});
    await createClient({ url: second.url, apiKey: FULL_KEY }).provisionCustomer({ customerId: 'kept' });
    expect(await second.stop('SIGTERM')).toBe(0);
    const reopened = await createEngine({ store: sqliteStore({ filename: file }) });
    try {
      expect((await reopened.getCustomer('kept')).customerId).toBe('kept');
    } finally {
      await reopened.close();
    }
  }, 30_000);
});

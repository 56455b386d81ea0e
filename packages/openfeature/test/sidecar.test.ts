/**
 * The provider on the sidecar client (`@tessera/client`): a real sidecar on a loopback port in
 * front of an engine on the memory store, evaluated through the OpenFeature SDK's client. The
 * answers must be the ones the provider gives on the engine itself.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode, OpenFeature, ProviderEvents, StandardResolutionReasons, type Client } from '@openfeature/server-sdk';
import { createEngine, memoryStore, testClock, type Engine } from '@tessera/core';
import { createClient } from '@tessera/client';
import { serveSidecar, type RunningSidecar } from '@tessera/http';
import { TesseraProvider } from '@tessera/openfeature';
import { demoCatalog } from '../../core/examples/demo-catalog.js';

const KEY = 'openfeature-read-key-0123456789abcdef';

let engine: Engine;
let sidecar: RunningSidecar;
let remote: Client;
let local: Client;
const internalErrors: unknown[] = [];

beforeAll(async () => {
  engine = await createEngine({ store: memoryStore(), catalog: demoCatalog, clock: testClock('2024-01-31T09:00:00Z') });
  await engine.provisionCustomer({ customerId: 'acme' });
  await engine.provisionCustomer({ customerId: 'bigco' });
  await engine.provisionSubscription({ customerId: 'bigco', planId: 'pro', billingPeriod: 'MONTHLY' });
  await engine.reportUsage({ customerId: 'acme', featureId: 'api-calls', value: 30 });
  // A read-only key: checks are reads, so that is all a provider needs.
  sidecar = await serveSidecar({ engine, readOnlyKeys: [KEY], port: 0, hostname: '127.0.0.1', onInternalError: (e) => internalErrors.push(e) });
  await OpenFeature.setProviderAndWait('remote', new TesseraProvider(createClient({ url: sidecar.url, apiKey: KEY })));
  await OpenFeature.setProviderAndWait('local', new TesseraProvider(engine));
  remote = OpenFeature.getClient('remote');
  local = OpenFeature.getClient('local');
});

afterAll(async () => {
  await OpenFeature.close();
  await sidecar.close();
  await engine.close();
});

describe('through the sidecar client', () => {
  it('answers every evaluation type as the engine does', async () => {
    const cases: [string, string, Record<string, unknown>][] = [
      ['boolean', 'sso', { targetingKey: 'acme' }],
      ['boolean', 'sso', { targetingKey: 'bigco' }],
      ['boolean', 'api-calls', { targetingKey: 'acme', requestedUsage: 71 }],
      ['boolean', 'export', { targetingKey: 'acme', requestedValues: ['csv'] }],
      ['number', 'api-calls', { targetingKey: 'acme' }],
      ['number', 'projects', { targetingKey: 'bigco' }],
      ['number', 'seats', { targetingKey: 'nobody' }],
      ['string', 'export', { targetingKey: 'bigco' }],
      ['string', 'export', { targetingKey: 'nobody' }],
      ['object', 'api-calls', { targetingKey: 'acme' }],
      ['object', 'sso', { targetingKey: 'nobody' }],
    ];
    for (const [type, flag, context] of cases) {
      const evaluate = (c: Client) =>
        type === 'boolean'
          ? c.getBooleanDetails(flag, true, context as never)
          : type === 'number'
            ? c.getNumberDetails(flag, -1, context as never)
            : type === 'string'
              ? c.getStringDetails(flag, 'dflt', context as never)
              : c.getObjectDetails(flag, {}, context as never);
      const [viaSidecar, inProcess] = await Promise.all([evaluate(remote), evaluate(local)]);
      expect(viaSidecar.errorCode, `${type} ${flag}`).toBeUndefined();
      expect(viaSidecar, `${type} ${flag} ${JSON.stringify(context)}`).toEqual(inProcess);
    }
    expect(await remote.getNumberValue('api-calls', -1, { targetingKey: 'acme' })).toBe(70);
    expect(await remote.getNumberValue('projects', -1, { targetingKey: 'bigco' })).toBe(Number.POSITIVE_INFINITY);
    const object = await remote.getObjectValue('api-calls', {}, { targetingKey: 'acme' });
    expect(typeof (object as { usagePeriodEnd?: unknown }).usagePeriodEnd).toBe('string');
  });

  it('maps the sidecar errors as the engine errors', async () => {
    expect(await remote.getBooleanDetails('no-such-feature', true, { targetingKey: 'acme' })).toMatchObject({ value: true, errorCode: ErrorCode.FLAG_NOT_FOUND });
    expect(await remote.getNumberDetails('sso', 5, { targetingKey: 'acme' })).toMatchObject({ value: 5, errorCode: ErrorCode.TYPE_MISMATCH });
    expect(await remote.getBooleanDetails('sso', true, {})).toMatchObject({ value: true, errorCode: ErrorCode.TARGETING_KEY_MISSING });
    // Refused by the server (400 INVALID_ARGUMENT with details.field), not by the provider.
    expect(await remote.getBooleanDetails('api-calls', true, { targetingKey: 'acme', requestedUsage: -1 })).toMatchObject({ value: true, errorCode: ErrorCode.INVALID_CONTEXT });
    expect(await remote.getBooleanDetails('x'.repeat(10_000), true, { targetingKey: 'acme' })).toMatchObject({ value: true, errorCode: ErrorCode.FLAG_NOT_FOUND });
    expect(internalErrors).toEqual([]);
  });

  it('a sidecar that cannot be reached is GENERAL with OFFLINE in the message', async () => {
    const gone = await serveSidecar({ engine, readOnlyKeys: [KEY], port: 0, hostname: '127.0.0.1' });
    const url = gone.url;
    await gone.close();
    await OpenFeature.setProviderAndWait('gone', new TesseraProvider(createClient({ url, apiKey: KEY, timeoutMs: 2_000 })));
    const d = await OpenFeature.getClient('gone').getBooleanDetails('sso', true, { targetingKey: 'acme' });
    expect(d).toMatchObject({ value: true, reason: StandardResolutionReasons.ERROR, errorCode: ErrorCode.GENERAL });
    expect(d.errorMessage).toMatch(/^OFFLINE: /);
  });

  it('emits no events: the client has no on/off', async () => {
    const heard: unknown[] = [];
    remote.addHandler(ProviderEvents.ConfigurationChanged, (d) => heard.push(d));
    // The in-process provider on the same engine hears the write; the remote one has nothing to hear it with.
    const localHeard = new Promise<unknown>((resolve) => local.addHandler(ProviderEvents.ConfigurationChanged, resolve));
    await engine.reportUsage({ customerId: 'acme', featureId: 'api-calls', value: 1 });
    expect(await localHeard).toMatchObject({ flagsChanged: ['api-calls'], domain: 'local' });
    expect(heard).toEqual([]);
  });
});

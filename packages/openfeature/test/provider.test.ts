/**
 * The provider through the OpenFeature SDK's own client, against a real engine on the memory
 * store with the demo catalog: every evaluation type, every error path, fallback answers and the
 * engine's events as ConfigurationChanged.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCode, OpenFeature, ProviderEvents, StandardResolutionReasons, type Client, type EventDetails } from '@openfeature/server-sdk';
import { createEngine, defineCatalog, memoryStore, testClock, type Engine } from '@tessera/core';
import { TesseraProvider } from '@tessera/openfeature';
import { demoCatalog } from '../../core/examples/demo-catalog.js';

let engine: Engine;
let provider: TesseraProvider;
let client: Client;

beforeEach(async () => {
  engine = await createEngine({ store: memoryStore(), catalog: demoCatalog, clock: testClock('2024-01-31T09:00:00Z') });
  await engine.provisionCustomer({ customerId: 'acme' }); // the free plan
  await engine.provisionCustomer({ customerId: 'bigco' });
  await engine.provisionSubscription({ customerId: 'bigco', planId: 'pro', billingPeriod: 'MONTHLY' });
  provider = new TesseraProvider(engine);
  await OpenFeature.setProviderAndWait(provider);
  client = OpenFeature.getClient();
});

afterEach(async () => {
  await OpenFeature.close();
  await engine.close();
});

describe('boolean flags', () => {
  it('are hasAccess, evaluated for the targeting key, with the denial in flagMetadata', async () => {
    const denied = await client.getBooleanDetails('sso', true, { targetingKey: 'acme' });
    expect(denied).toMatchObject({ flagKey: 'sso', value: false, reason: StandardResolutionReasons.TARGETING_MATCH });
    expect(denied.errorCode).toBeUndefined();
    expect(denied.flagMetadata).toEqual({ hasAccess: false, isFallback: false, featureType: 'BOOLEAN', accessDeniedReason: 'NoFeatureEntitlementInSubscription' });

    const granted = await client.getBooleanDetails('sso', false, { targetingKey: 'bigco' });
    expect(granted).toMatchObject({ value: true, reason: StandardResolutionReasons.TARGETING_MATCH, flagMetadata: { hasAccess: true } });
    expect(granted.flagMetadata.accessDeniedReason).toBeUndefined();
  });

  it('ask for requestedUsage and requestedValues from the context', async () => {
    await engine.reportUsage({ customerId: 'acme', featureId: 'api-calls', value: 60 });
    expect(await client.getBooleanValue('api-calls', false, { targetingKey: 'acme', requestedUsage: 40 })).toBe(true);
    const over = await client.getBooleanDetails('api-calls', true, { targetingKey: 'acme', requestedUsage: 41 });
    expect(over).toMatchObject({ value: false, flagMetadata: { accessDeniedReason: 'RequestedUsageExceedingLimit', currentUsage: 60, usageLimit: 100 } });

    expect(await client.getBooleanValue('export', false, { targetingKey: 'acme', requestedValues: ['csv'] })).toBe(true);
    const json = await client.getBooleanDetails('export', true, { targetingKey: 'acme', requestedValues: 'json' });
    expect(json).toMatchObject({ value: false, flagMetadata: { accessDeniedReason: 'RequestedValuesMismatch' } });
    expect(await client.getBooleanValue('export', false, { targetingKey: 'bigco', requestedValues: ['json', 'parquet'] })).toBe(true);
  });

  it('use resourceId from the context', async () => {
    // A product with one subscription per resource (a site, a workspace...).
    const perResource = await createEngine({
      store: memoryStore(),
      catalog: { ...demoCatalog, products: demoCatalog.products.map((p) => ({ ...p, multipleSubscriptions: true })) },
      clock: testClock('2024-01-31T09:00:00Z'),
    });
    await perResource.provisionCustomer({ customerId: 'acme' });
    await perResource.provisionSubscription({ customerId: 'acme', planId: 'pro', billingPeriod: 'MONTHLY', resourceId: 'site-1' });
    await OpenFeature.setProviderAndWait('sites', new TesseraProvider(perResource));
    const c = OpenFeature.getClient('sites');
    expect(await c.getBooleanDetails('sso', false, { targetingKey: 'acme', resourceId: 'site-1' })).toMatchObject({ value: true, flagMetadata: { resourceId: 'site-1' } });
    const other = await c.getBooleanDetails('sso', true, { targetingKey: 'acme', resourceId: 'site-2' });
    expect(other).toMatchObject({ value: false, flagMetadata: { resourceId: 'site-2', accessDeniedReason: 'CustomerResourceNotFound' } });
    await perResource.close();
  });

  it('deny an unknown customer as the engine does (not an error)', async () => {
    const details = await client.getBooleanDetails('sso', true, { targetingKey: 'nobody' });
    expect(details).toMatchObject({ value: false, reason: StandardResolutionReasons.TARGETING_MATCH, flagMetadata: { accessDeniedReason: 'CustomerNotFound' } });
    expect(details.errorCode).toBeUndefined();
  });
});

describe('number flags', () => {
  it('are a NUMERIC feature value, the unlimited value when unlimited', async () => {
    expect(await client.getNumberDetails('projects', -1, { targetingKey: 'acme' })).toMatchObject({
      value: 3,
      reason: StandardResolutionReasons.TARGETING_MATCH,
      flagMetadata: { featureType: 'NUMERIC', isUnlimited: false },
    });
    expect(await client.getNumberDetails('projects', -1, { targetingKey: 'bigco' })).toMatchObject({ value: Number.POSITIVE_INFINITY, flagMetadata: { isUnlimited: true } });
  });

  it('are the remaining usage of a METERED feature, never below 0', async () => {
    await engine.reportUsage({ customerId: 'acme', featureId: 'api-calls', value: 30 });
    const live = await engine.getMeteredEntitlement({ customerId: 'acme', featureId: 'api-calls' });
    const details = await client.getNumberDetails('api-calls', -1, { targetingKey: 'acme' });
    expect(details.value).toBe(live.usageLimit! - live.currentUsage);
    expect(details.value).toBe(70);
    expect(details.flagMetadata).toMatchObject({ currentUsage: 30, usageLimit: 100, featureType: 'METERED' });

    // Pro's API calls have a soft limit: usage may pass it, and what is left is then 0.
    await engine.reportUsage({ customerId: 'bigco', featureId: 'api-calls', value: 10_250 });
    expect(await client.getNumberDetails('api-calls', -1, { targetingKey: 'bigco' })).toMatchObject({ value: 0, flagMetadata: { currentUsage: 10_250, usageLimit: 10_000 } });
  });

  it('are 0 without an entitlement', async () => {
    for (const flag of ['projects', 'api-calls']) {
      const details = await client.getNumberDetails(flag, 7, { targetingKey: 'nobody' });
      expect(details).toMatchObject({ value: 0, reason: StandardResolutionReasons.TARGETING_MATCH, flagMetadata: { hasAccess: false, accessDeniedReason: 'CustomerNotFound' } });
    }
  });

  it('take the unlimited value from the options', async () => {
    await OpenFeature.setProviderAndWait('capped', new TesseraProvider(engine, { unlimited: Number.MAX_SAFE_INTEGER }));
    expect(await OpenFeature.getClient('capped').getNumberValue('projects', -1, { targetingKey: 'bigco' })).toBe(Number.MAX_SAFE_INTEGER);
  });
});

describe('string flags', () => {
  it('are the first enabled value of an ENUM feature, or the one the options pick', async () => {
    expect(await client.getStringDetails('export', 'none', { targetingKey: 'acme' })).toMatchObject({ value: 'csv', reason: StandardResolutionReasons.TARGETING_MATCH });
    const all = await engine.getEnumEntitlement({ customerId: 'bigco', featureId: 'export' });
    expect(await client.getStringValue('export', 'none', { targetingKey: 'bigco' })).toBe(all.enumValues[0]);

    await OpenFeature.setProviderAndWait('last', new TesseraProvider(engine, { enumValue: (values) => values.at(-1) }));
    expect(await OpenFeature.getClient('last').getStringValue('export', 'none', { targetingKey: 'bigco' })).toBe(all.enumValues.at(-1));
    expect(all.enumValues.at(-1)).not.toBe(all.enumValues[0]);

    await OpenFeature.setProviderAndWait('broken', new TesseraProvider(engine, { enumValue: () => 3 as never }));
    const broken = await OpenFeature.getClient('broken').getStringDetails('export', 'none', { targetingKey: 'bigco' });
    expect(broken).toMatchObject({ value: 'none', errorCode: ErrorCode.GENERAL });
    expect(broken.errorMessage).toContain('enumValue');
  });

  it('are the call default value, reason DEFAULT, without an enabled value', async () => {
    const details = await client.getStringDetails('export', 'none', { targetingKey: 'nobody' });
    expect(details).toMatchObject({ value: 'none', reason: StandardResolutionReasons.DEFAULT, flagMetadata: { accessDeniedReason: 'CustomerNotFound' } });
    expect(details.errorCode).toBeUndefined();
  });
});

describe('object flags', () => {
  it('are the whole entitlement as JSON, instants as ISO strings', async () => {
    await engine.reportUsage({ customerId: 'acme', featureId: 'api-calls', value: 5 });
    const live = await engine.getEntitlement({ customerId: 'acme', featureId: 'api-calls' });
    const details = await client.getObjectDetails('api-calls', {}, { targetingKey: 'acme' });
    expect(details.reason).toBe(StandardResolutionReasons.TARGETING_MATCH);
    expect(details.value).toEqual(JSON.parse(JSON.stringify(live)));
    const value = details.value as Record<string, unknown>;
    expect(value.usagePeriodStart).toBe((live as { usagePeriodStart: Date }).usagePeriodStart.toISOString());
    expect(value).toMatchObject({ currentUsage: 5, usageLimit: 100, hasAccess: true, feature: { id: 'api-calls', type: 'METERED' } });
    expect('accessDeniedReason' in value).toBe(false);
  });

  it('hold denials and every feature type', async () => {
    for (const flag of ['sso', 'projects', 'seats', 'export']) {
      const live = await engine.getEntitlement({ customerId: 'acme', featureId: flag });
      expect(await client.getObjectValue(flag, {}, { targetingKey: 'acme' })).toEqual(JSON.parse(JSON.stringify(live)));
    }
  });
});

describe('errors', () => {
  const byType = (c: Client, flag: string, context: Record<string, unknown>) => [
    c.getBooleanDetails(flag, true, context as never),
    c.getNumberDetails(flag, 42, context as never),
    c.getStringDetails(flag, 'dflt', context as never),
    c.getObjectDetails(flag, { d: 1 }, context as never),
  ];
  const defaults = [true, 42, 'dflt', { d: 1 }];

  it('an unknown feature is FLAG_NOT_FOUND with the default value, for every type and customer', async () => {
    for (const targetingKey of ['acme', 'nobody']) {
      const results = await Promise.all(byType(client, 'no-such-feature', { targetingKey }));
      results.forEach((d, i) => {
        expect(d).toMatchObject({ value: defaults[i], reason: StandardResolutionReasons.ERROR, errorCode: ErrorCode.FLAG_NOT_FOUND });
        expect(d.errorMessage).toContain('no-such-feature');
      });
    }
  });

  it('a flag key the engine refuses as a feature id is FLAG_NOT_FOUND', async () => {
    for (const key of ['bad\u0001key', 'x'.repeat(10_000)]) {
      const d = await client.getBooleanDetails(key, true, { targetingKey: 'acme' });
      expect(d).toMatchObject({ value: true, errorCode: ErrorCode.FLAG_NOT_FOUND });
    }
  });

  it('a flag of the wrong type is TYPE_MISMATCH', async () => {
    for (const [flag, call] of [
      ['sso', () => client.getNumberDetails('sso', 42, { targetingKey: 'acme' })],
      ['export', () => client.getNumberDetails('export', 42, { targetingKey: 'acme' })],
      ['projects', () => client.getStringDetails('projects', 'dflt', { targetingKey: 'acme' })],
      ['api-calls', () => client.getStringDetails('api-calls', 'dflt', { targetingKey: 'acme' })],
      ['sso', () => client.getStringDetails('sso', 'dflt', { targetingKey: 'bigco' })],
    ] as const) {
      const d = await call();
      expect(d).toMatchObject({ reason: StandardResolutionReasons.ERROR, errorCode: ErrorCode.TYPE_MISMATCH });
      expect([42, 'dflt']).toContain(d.value);
      expect(d.errorMessage).toContain(flag);
    }
  });

  it('no targeting key is TARGETING_KEY_MISSING', async () => {
    for (const context of [{}, { targetingKey: '' }, { resourceId: 'site-1' }]) {
      const results = await Promise.all(byType(client, 'sso', context));
      results.forEach((d, i) => expect(d).toMatchObject({ value: defaults[i], errorCode: ErrorCode.TARGETING_KEY_MISSING }));
    }
  });

  it('a context field of the wrong type or out of range is INVALID_CONTEXT', async () => {
    for (const context of [
      { targetingKey: 'acme', resourceId: 12 },
      { targetingKey: 'acme', requestedUsage: '5' },
      { targetingKey: 'acme', requestedValues: ['csv', 3] },
      { targetingKey: 'acme', requestedValues: { csv: true } },
      { targetingKey: 'acme', requestedUsage: -1 }, // refused by the engine (INVALID_ARGUMENT)
      { targetingKey: 'acme', resourceId: 'bad\u0001id' },
    ]) {
      const d = await client.getBooleanDetails('api-calls', true, context as never);
      expect(d, JSON.stringify(context)).toMatchObject({ value: true, reason: StandardResolutionReasons.ERROR, errorCode: ErrorCode.INVALID_CONTEXT });
    }
  });

  it('an engine that fails is GENERAL, with its code in the message', async () => {
    await engine.close();
    const d = await client.getBooleanDetails('sso', true, { targetingKey: 'acme' });
    expect(d).toMatchObject({ value: true, reason: StandardResolutionReasons.ERROR, errorCode: ErrorCode.GENERAL });
    expect(d.errorMessage).toMatch(/^STORE_UNAVAILABLE: /);
  });

  it('a source without getEntitlement or a bad option is refused at construction', () => {
    expect(() => new TesseraProvider({} as never)).toThrow(/getEntitlement/);
    expect(() => new TesseraProvider(engine, { unlimited: Number.NaN })).toThrow(/unlimited/);
    expect(() => new TesseraProvider(engine, { enumValue: 'first' as never })).toThrow(/enumValue/);
  });
});

describe('fallback answers', () => {
  it('come from the engine fallback values with reason DEFAULT', async () => {
    const offline = await createEngine({
      offline: true,
      catalog: demoCatalog,
      fallback: { sso: { hasAccess: true }, 'api-calls': { hasAccess: true, usageLimit: 50 }, export: { hasAccess: true, enumValues: ['json'] } },
    });
    await OpenFeature.setProviderAndWait('offline', new TesseraProvider(offline));
    const c = OpenFeature.getClient('offline');
    const ctx = { targetingKey: 'acme' };
    expect(await c.getBooleanDetails('sso', false, ctx)).toMatchObject({ value: true, reason: StandardResolutionReasons.DEFAULT, flagMetadata: { isFallback: true } });
    expect(await c.getNumberDetails('api-calls', 0, ctx)).toMatchObject({ value: 50, reason: StandardResolutionReasons.DEFAULT });
    expect(await c.getStringDetails('export', 'csv', ctx)).toMatchObject({ value: 'json', reason: StandardResolutionReasons.DEFAULT });
    // No fallback value for the feature: the engine denies, and says so.
    expect(await c.getBooleanDetails('projects', true, ctx)).toMatchObject({ value: false, reason: StandardResolutionReasons.DEFAULT, flagMetadata: { accessDeniedReason: 'Unknown' } });
    // A feature the fallback answer cannot type: the call's default value.
    expect(await c.getNumberDetails('no-such-feature', 9, ctx)).toMatchObject({ value: 9, reason: StandardResolutionReasons.DEFAULT });
    await offline.close();
  });
});

describe('events', () => {
  function nextChange(): Promise<EventDetails<ProviderEvents.ConfigurationChanged>> {
    return new Promise((resolve) => {
      const handler = (details?: EventDetails<ProviderEvents.ConfigurationChanged>) => {
        OpenFeature.removeHandler(ProviderEvents.ConfigurationChanged, handler);
        resolve(details!);
      };
      OpenFeature.addHandler(ProviderEvents.ConfigurationChanged, handler);
    });
  }

  it('reportUsage is a ConfigurationChanged event naming the feature', async () => {
    const change = nextChange();
    await engine.reportUsage({ customerId: 'acme', featureId: 'api-calls', value: 4 });
    const details = await change;
    expect(details).toMatchObject({ providerName: 'tessera', flagsChanged: ['api-calls'], metadata: { customerId: 'acme', currentUsage: 4 } });
    // The change is visible to the next evaluation.
    expect(await client.getNumberValue('api-calls', -1, { targetingKey: 'acme' })).toBe(96);
  });

  it('a subscription change is a ConfigurationChanged event for every flag of the customer', async () => {
    const change = nextChange();
    await engine.provisionSubscription({ customerId: 'acme', planId: 'basic', billingPeriod: 'MONTHLY' });
    const details = await change;
    expect(details.flagsChanged).toBeUndefined();
    expect(details.metadata).toMatchObject({ customerId: 'acme' });
    expect(await client.getNumberValue('projects', -1, { targetingKey: 'acme' })).toBe(10);
  });

  it('a published catalog is a ConfigurationChanged event, and its new features are flags', async () => {
    expect((await client.getBooleanDetails('beta', false, { targetingKey: 'acme' })).errorCode).toBe(ErrorCode.FLAG_NOT_FOUND);
    const change = nextChange();
    const { version } = await engine.publishCatalog({ ...demoCatalog, features: [...demoCatalog.features, { id: 'beta', type: 'BOOLEAN' }] });
    const details = await change;
    expect(details.metadata).toEqual({ catalogVersion: version });
    expect(await client.getBooleanDetails('beta', true, { targetingKey: 'acme' })).toMatchObject({ value: false, flagMetadata: { accessDeniedReason: 'NoFeatureEntitlementInSubscription' } });
  });

  it('stop when the provider is closed; a source without on/off has none', async () => {
    const seen: unknown[] = [];
    provider.events.addHandler(ProviderEvents.ConfigurationChanged, (d) => seen.push(d));
    await engine.reportUsage({ customerId: 'acme', featureId: 'api-calls', value: 1 });
    expect(seen).toHaveLength(1);
    await provider.onClose();
    await engine.reportUsage({ customerId: 'acme', featureId: 'api-calls', value: 1 });
    await engine.provisionSubscription({ customerId: 'acme', planId: 'basic', billingPeriod: 'MONTHLY' });
    expect(seen).toHaveLength(1);

    const bare = new TesseraProvider({ getEntitlement: (p) => engine.getEntitlement(p) });
    await bare.initialize();
    const heard: unknown[] = [];
    bare.events.addHandler(ProviderEvents.ConfigurationChanged, (d) => heard.push(d));
    await engine.reportUsage({ customerId: 'acme', featureId: 'api-calls', value: 1 });
    expect(heard).toEqual([]);
  });
});

it('accepts an engine whose ids are typed from its catalog', async () => {
  const catalog = defineCatalog({
    features: [{ id: 'sso', type: 'BOOLEAN' }],
    products: [{ id: 'app', defaultPlanId: 'free', downgradePlanId: 'free' }],
    plans: [{ id: 'free', productId: 'app', pricingType: 'FREE', entitlements: [{ featureId: 'sso' }] }],
  });
  const typed = await createEngine({ store: memoryStore(), catalog });
  await typed.provisionCustomer({ customerId: 'acme' });
  await OpenFeature.setProviderAndWait('typed', new TesseraProvider(typed));
  expect(await OpenFeature.getClient('typed').getBooleanValue('sso', false, { targetingKey: 'acme' })).toBe(true);
  await typed.close();
});

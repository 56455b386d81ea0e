/**
 * The sidecar's OpenAPI 3.1 document: valid by a maintained OpenAPI validator, generated from the
 * method table, served at /openapi.json, and true to the sidecar: every method is called for real
 * (in process, through hono's app.request) and every answer, successes and errors of every
 * documented status, is validated against the document's schema for its route and status.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Validator } from '@seriousme/openapi-schema-validator';
import { createEngine, memoryStore, testClock, TesseraError, type Engine, type Store, type TestClock } from '@tessera/core';
import { codesByStatus, createSidecar, ERROR_STATUSES, HTTP_STATUS, METHOD_PARAMS, METHOD_RESULTS, METHODS, openApiDocument } from '@tessera/http';
import { FULL_KEY, READ_KEY, SseReader } from './harness.js';
import { conformanceCatalog, doc, expectComponent, expectConforms, requestAccepts } from './openapi-support.js';

const METRICS_KEY = 'metrics-only-key-0123456789abcdef';
type App = ReturnType<typeof createSidecar>;

describe('the OpenAPI document', () => {
  it('is a valid OpenAPI 3.1 document', async () => {
    const validator = new Validator();
    const result = await validator.validate(structuredClone(openApiDocument()));
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe('3.1');
  });

  it('has one POST /v1/<method> with params and result schemas for every method of the table, and nothing else under /v1 but the feed and replica routes', () => {
    const methods = Object.keys(METHODS).sort();
    expect(Object.keys(METHOD_PARAMS).sort(), 'write the params schema in packages/http/src/openapi/params.ts').toEqual(methods);
    expect(Object.keys(METHOD_RESULTS).sort(), 'write the result schema in packages/http/src/openapi/results.ts').toEqual(methods);
    const v1 = Object.keys(doc.paths).filter((p) => p.startsWith('/v1/'));
    expect(v1.sort()).toEqual([...methods.map((m) => `/v1/${m}`), '/v1/changes', '/v1/changes/stream', '/v1/replicaCustomers', '/v1/replicaSnapshot'].sort());
    for (const m of methods) expect(Object.keys(doc.paths[`/v1/${m}`]!)).toEqual(['post']);
  });

  it('gives each error status the codes of HTTP_STATUS, and every code a status', () => {
    const byStatus = codesByStatus();
    for (const [code, status] of Object.entries(HTTP_STATUS)) {
      expect(ERROR_STATUSES).toContain(status);
      expect(byStatus[status]).toContain(code);
    }
    const codes = (openApiDocument() as { components: { schemas: { ErrorCode: { enum: string[] } } } }).components.schemas.ErrorCode.enum;
    expect([...codes].sort()).toEqual(Object.keys(HTTP_STATUS).sort());
  });
});

/** A memory store that can be made to fail: 'down' as a broken database does (503), 'broken' as a bug (500). */
function breakableStore(): { store: Store; mode: { now: 'ok' | 'down' | 'broken' } } {
  const inner = memoryStore();
  const mode = { now: 'ok' as 'ok' | 'down' | 'broken' };
  const fail = () =>
    Promise.reject(mode.now === 'down' ? new TesseraError('STORE_UNAVAILABLE', 'database at /srv/db is gone') : new Error('a bug in the store'));
  const store = new Proxy(inner, {
    get(target, key) {
      const value = Reflect.get(target, key);
      if (typeof value !== 'function') return value;
      if ((key === 'transaction' || key === 'lastChangeSeq' || key === 'getChanges') && mode.now !== 'ok') return fail;
      return value.bind(target);
    },
  });
  return { store, mode };
}

describe('every route answers as the document says', () => {
  let engine: Engine;
  let clock: TestClock;
  let app: App;
  let mode: { now: 'ok' | 'down' | 'broken' };
  let failCheckout: boolean;
  const covered = new Set<string>();

  beforeEach(async () => {
    clock = testClock('2024-01-31T09:00:00Z');
    failCheckout = false;
    const breakable = breakableStore();
    mode = breakable.mode;
    engine = await createEngine({
      store: breakable.store,
      catalog: conformanceCatalog,
      clock,
      followIntervalMs: 0,
      logger: { debug() {}, info() {}, warn() {}, error() {} },
      paymentProvider: {
        createCheckout: ({ subscriptionId }) => {
          if (failCheckout) throw new Error('card service down');
          return { checkoutUrl: `https://pay.test/${subscriptionId}` };
        },
      },
    });
    app = createSidecar({ engine, store: breakable.store, fullAccessKeys: [FULL_KEY], readOnlyKeys: [READ_KEY], metricsKeys: [METRICS_KEY], changePollMs: 20, onInternalError: () => {} });
  });
  afterEach(async () => {
    await engine.close();
  });

  /**
   * Calls a method, checks the answer against the document, and returns its body. A call expected
   * to succeed must also satisfy the params schema, and the same params with one unknown field
   * must be refused by the sidecar (400, writing nothing) exactly when the schema is closed.
   */
  async function call(method: string, body: unknown, expected = 200, headers: Record<string, string> = { authorization: `Bearer ${FULL_KEY}` }, target: App = app): Promise<any> {
    const send = (payload: unknown) =>
      target.request(`/v1/${method}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof payload === 'string' ? payload : JSON.stringify(payload) });
    if (expected === 200 && method in METHODS) {
      const accepted = requestAccepts(`/v1/${method}`, body);
      expect(accepted.ok ? [] : accepted.errors, `params of ${method}: ${JSON.stringify(body)}`).toEqual([]);
      const closed = !requestAccepts(`/v1/${method}`, { ...(body as object), notAParam: true }).ok;
      // An open schema (the checks) is only tried on read methods: a write would be done twice.
      if (typeof body === 'object' && body !== null && !Array.isArray(body) && (closed || METHODS[method as keyof typeof METHODS].access === 'read')) {
        const answer = await send({ ...body, notAParam: true });
        expect([method, answer.status], `the params schema of ${method} is ${closed ? 'closed' : 'open'}`).toEqual([method, closed ? 400 : 200]);
        expectConforms(`/v1/${method}`, 'post', answer.status, await answer.json());
      }
    }
    const res = await send(body);
    const json = await res.json();
    expect([method, res.status, json]).toEqual([method, expected, json]);
    // A method the sidecar does not have is in no path of the document: its 404 is still the Error body.
    if (doc.paths[`/v1/${method}`]) expectConforms(`/v1/${method}`, 'post', res.status, json);
    else expectComponent('ErrorBody', json);
    if (res.status === 200) covered.add(method);
    return json;
  }

  it('every method, called with real params, answers 200 with a body its result schema accepts', async () => {
    await call('syncNow', {});
    await call('lastChangeSeq', {});
    const published = await call('publishCatalog', { catalog: { ...conformanceCatalog, taxRates: [{ countryCode: 'DE', rate: '0.19' }] } });
    expect(published).toEqual({ version: 2, changed: true });
    await call('getProducts', {});
    expect(await call('getCoupons', {})).toHaveLength(1);

    await call('provisionCustomer', { customerId: 'acme', name: 'Acme', billingInfo: { hasPaymentMethod: true, billingCountryCode: 'DE' }, metadata: { tier: 'gold' } });
    await call('updateCustomer', { customerId: 'acme', email: 'billing@acme.test' });
    await call('provisionCustomer', { customerId: 'gone', subscriptionParams: null });
    await call('archiveCustomer', { customerId: 'gone' });
    await call('unarchiveCustomer', { customerId: 'gone' });

    const provisioned = await call('provisionSubscription', { customerId: 'acme', planId: 'basic', billingPeriod: 'MONTHLY', promotionCode: 'HELLO' });
    const subId = provisioned.subscription.id as string;
    await call('getSubscription', { subscriptionId: subId });
    await call('getActiveSubscriptions', { customerId: 'acme' });
    await call('estimateSubscription', { customerId: 'acme', planId: 'pro', billingPeriod: 'ANNUALLY', skipTrial: true });
    await call('estimateSubscriptionUpdate', { subscriptionId: subId, addons: [{ addonId: 'extra-seats', quantity: 2 }] });
    await call('updateSubscription', { subscriptionId: subId, addons: [{ addonId: 'extra-seats', quantity: 1 }] });
    await call('migrateSubscriptionToLatest', { subscriptionId: subId });
    await call('cancelSubscription', { subscriptionId: subId, cancellationTime: 'END_OF_BILLING_PERIOD' });
    const withUpdates = await call('getSubscription', { subscriptionId: subId });
    expect(withUpdates.scheduledUpdates.length + (withUpdates.endDate ? 1 : 0)).toBeGreaterThan(0);
    await call('cancelSubscriptionScheduledUpdates', { subscriptionId: subId });
    const customer = await call('getCustomer', { customerId: 'acme' });
    expect(customer.subscriptions.length).toBeGreaterThan(0);
    const listed = await call('getCustomers', { search: 'ACM', first: 5 });
    expect(listed.data.map((c: { customerId: string }) => c.customerId)).toEqual(['acme']);

    // A paid plan for a customer without a payment method waits for a checkout.
    await call('provisionCustomer', { customerId: 'payer', subscriptionParams: null });
    const pending = await call('provisionSubscription', { customerId: 'payer', planId: 'basic', billingPeriod: 'MONTHLY' });
    expect(pending.status).toBe('PAYMENT_REQUIRED');
    await call('retryCheckout', { subscriptionId: pending.id });
    await call('confirmPayment', { subscriptionId: pending.id });
    // getSubscription's detail: names, price lines (EUR-free catalog: base prices), collection status.
    const detail = await call('getSubscription', { subscriptionId: pending.id });
    expect(detail.paymentCollection).toBe('PAID');
    expect(detail.priceLines.length).toBeGreaterThan(0);
    await call('getSubscriptions', { first: 10, sort: { field: 'createdAt', direction: 'DESC' } });
    expect((await call('getInvoices', { customerId: 'acme' })).length).toBeGreaterThan(0);
    await call('tick', {});
    // The published catalog again (the result's shape is what is checked here; docs/simulation.md
    // says why acme's add-on, added in place by updateSubscription, shows in its earlier period too).
    const simulated = await call('simulateCatalog', { catalog: { ...conformanceCatalog, taxRates: [{ countryCode: 'DE', rate: '0.19' }] }, from: '2000-01-01T00:00:00Z', to: '2100-01-01T00:00:00Z' });
    expect(simulated.totals.customers).toBe(simulated.customers.length);
    expect(simulated.customers.length).toBeGreaterThan(0);

    await call('getEntitlement', { customerId: 'acme', featureId: 'projects' });
    const unknown = await call('getEntitlement', { customerId: 'acme', featureId: 'no-such-feature' });
    expect(unknown.accessDeniedReason).toBe('FeatureNotFound');
    await call('getBooleanEntitlement', { customerId: 'acme', featureId: 'sso' });
    await call('getNumericEntitlement', { customerId: 'acme', featureId: 'projects' });
    await call('getMeteredEntitlement', { customerId: 'acme', featureId: 'api-calls', options: { requestedUsage: 2 } });
    await call('getEnumEntitlement', { customerId: 'acme', featureId: 'export', options: { requestedValues: ['csv'] } });
    await call('getEntitlements', { customerId: 'acme' });
    // As of a past instant (docs/as-of.md): `at` as ISO 8601 or epoch ms; the client sends a Date as ISO (sidecar.test.ts).
    await call('getMeteredEntitlement', { customerId: 'acme', featureId: 'api-calls', at: '2024-01-31T09:00:00Z' });
    await call('getEntitlements', { customerId: 'acme', at: Date.parse('2024-01-31T09:00:00Z') });
    expect((await call('getEntitlement', { customerId: 'acme', featureId: 'api-calls', at: '2099-01-01T00:00:00Z' }, 400)).error.details.field).toBe('getEntitlement.at');

    // Entities (docs/entities.md): a seat with 50 API calls of its own, the pooled 1,000 above it.
    const ann = await call('createEntity', { customerId: 'acme', entityId: 'ann', featureId: 'seats', name: 'Ann', metadata: { team: 'core' } });
    expect(ann).toMatchObject({ entityId: 'ann', featureId: 'seats', deletedAt: null });
    await call('createEntity', { customerId: 'acme', entityId: 'bot' });
    const forAnn = await call('getMeteredEntitlement', { customerId: 'acme', featureId: 'api-calls', entityId: 'ann', options: { requestedUsage: 1 } });
    expect([forAnn.usageLimit, forAnn.entity, forAnn.pooled.usageLimit]).toEqual([50, { entityId: 'ann', usageLimit: 50, currentUsage: 0 }, 1000]);
    expect((await call('getEntitlement', { customerId: 'acme', featureId: 'api-calls', entityId: 'ghost' })).accessDeniedReason).toBe('EntityNotFound');
    expect((await call('getEntitlements', { customerId: 'acme', entityId: 'ann' })).find((e: { featureId: string }) => e.featureId === 'api-calls').entity.entityId).toBe('ann');
    expect(await call('reportUsage', { customerId: 'acme', featureId: 'api-calls', entityId: 'ann', value: 2, idempotencyKey: 'ue-1' })).toMatchObject({ entityId: 'ann', currentUsage: 2, pooledUsage: 2 });
    await call('reportUsageBulk', { usages: [{ customerId: 'acme', featureId: 'api-calls', entityId: 'bot', value: 1 }] });
    const eaten = await call('consumeUsage', { customerId: 'acme', featureId: 'api-calls', entityId: 'ann', amount: 3 });
    expect([eaten.entity, eaten.pooled]).toEqual([{ entityId: 'ann', currentUsage: 5, usageLimit: 50, remaining: 45 }, { currentUsage: 6, usageLimit: 1000, remaining: 994 }]);
    const heldForAnn = await call('reserveUsage', { customerId: 'acme', featureId: 'api-calls', entityId: 'ann', amount: 4, expiresIn: 60_000 });
    expect(heldForAnn.entity.currentUsage).toBe(9);
    await call('commitReservation', { reservationId: heldForAnn.reservationId });
    await call('reportEvent', { customerId: 'acme', eventName: 'job', idempotencyKey: 'e-ann', entityId: 'ann' });
    await call('reportEvent', { customerId: 'acme', eventName: 'job', idempotencyKey: 'e-ghost', entityId: 'ghost' });
    const window = { start: '2024-01-01T00:00:00Z', end: '2024-03-01T00:00:00Z' };
    expect((await call('getUsageHistory', { customerId: 'acme', featureId: 'api-calls', entityId: 'ann', ...window })).entityId).toBe('ann');
    const byEntity = await call('getUsageHistory', { customerId: 'acme', featureId: 'api-calls', groupByEntity: true, ...window });
    expect(byEntity.periods.flatMap((p: { entities?: unknown[] }) => p.entities ?? [])).toEqual([{ entityId: 'ann', usage: 9 }, { entityId: 'bot', usage: 1 }]);
    const entities = await call('getEntities', { customerId: 'acme', featureId: 'seats', limit: 10 });
    expect(entities.data.map((e: { entityId: string }) => e.entityId)).toEqual(['ann']);
    expect((await call('deleteEntity', { customerId: 'acme', entityId: 'bot' })).deletedAt).toMatch(/Z$/);
    expect((await call('getEntities', { customerId: 'acme', includeDeleted: true })).data).toHaveLength(2);

    expect(await call('setUsageAlerts', { customerId: 'acme', featureId: 'api-calls', percents: [100, 50] })).toEqual({ customerId: 'acme', featureId: 'api-calls', percents: [50, 100] });
    await call('reportUsage', { customerId: 'acme', featureId: 'api-calls', value: 3, idempotencyKey: 'u-1' });
    await call('reportUsageBulk', { usages: [{ customerId: 'acme', featureId: 'seats', value: 1 }] });
    await call('reportEvent', { customerId: 'acme', eventName: 'job', idempotencyKey: 'e-1', dimensions: { region: 'eu' } });
    await call('reportEvent', [{ customerId: 'nobody', eventName: 'job', idempotencyKey: 'e-2' }]);
    await call('consumeUsage', { customerId: 'acme', featureId: 'api-calls', amount: 2 });
    const held = await call('reserveUsage', { customerId: 'acme', featureId: 'api-calls', amount: 5, expiresIn: 60_000 });
    await call('commitReservation', { reservationId: held.reservationId, amount: 4 });
    const held2 = await call('reserveUsage', { customerId: 'acme', featureId: 'api-calls', amount: 1, expiresIn: 60_000 });
    await call('releaseReservation', { reservationId: held2.reservationId });
    await call('getUsageHistory', { customerId: 'acme', featureId: 'api-calls', start: '2024-01-01T00:00:00Z', end: '2024-03-01T00:00:00Z' });
    expect((await call('getUnmatchedEvents', { first: 10 })).data.map((e: { reason: string }) => e.reason).sort()).toEqual(['CUSTOMER_NOT_FOUND', 'ENTITY_NOT_FOUND']);

    await call('grantPromotionalEntitlements', { customerId: 'acme', promotionalEntitlements: [{ featureId: 'sso', period: 'ONE_MONTH' }] });
    await call('revokePromotionalEntitlements', { customerId: 'acme', featureId: 'sso' });
    await call('setEntitlementOverride', { customerId: 'acme', featureId: 'api-calls', entitlement: { usageLimit: 1_000_000, resetPeriod: 'MONTH' }, endDate: '2099-01-01T00:00:00Z', reason: 'deal' });
    await call('getEntitlementOverrides', { customerId: 'acme' });
    expect((await call('getMeteredEntitlement', { customerId: 'acme', featureId: 'api-calls' })).overrideId).toMatch(/./);
    await call('removeEntitlementOverride', { customerId: 'acme', featureId: 'api-calls' });
    expect(await call('setSpendCap', { customerId: 'acme', amount: '500.00', currency: 'USD' })).toEqual({ customerId: 'acme', featureId: null, amount: '500.00', currency: 'USD' });
    expect(await call('getSpendCaps', { customerId: 'acme' })).toEqual([{ featureId: null, cap: '500.00', spent: '0.00', remaining: '500.00', currency: 'USD' }]);
    await call('getMeteredEntitlement', { customerId: 'acme', featureId: 'api-calls' });
    expect(await call('removeSpendCap', { customerId: 'acme' })).toEqual({ customerId: 'acme', featureId: null, removed: true });
    await call('grantCredits', { customerId: 'acme', currencyId: 'ai-credits', amount: '100', category: 'PAID', expiresAt: '2025-01-01T00:00:00Z' });
    const spare = await call('grantCredits', { customerId: 'acme', currencyId: 'ai-credits', amount: '5' });
    await call('voidCreditGrant', { customerId: 'acme', grantId: spare.id });
    await call('getCreditGrants', { customerId: 'acme' });
    await call('consumeCredits', { customerId: 'acme', currencyId: 'ai-credits', amount: '12.5' });
    expect((await call('getCreditBalance', { customerId: 'acme', currencyId: 'ai-credits' })).balance).toBe('87.5');
    await call('getCreditLedger', { customerId: 'acme', currencyId: 'ai-credits', first: 2 });
    await call('getCreditEntitlement', { customerId: 'acme', currencyId: 'ai-credits', options: { requestedAmount: 1000 } });
    await call('getAutomaticRechargeConfiguration', { customerId: 'acme', currencyId: 'ai-credits' });
    await call('saveAutomaticRechargeConfiguration', { customerId: 'acme', currencyId: 'ai-credits', isEnabled: true, thresholdType: 'CREDIT_AMOUNT', thresholdValue: '10', targetBalance: 50 });
    expect(await call('getAutomaticRechargeConfiguration', { customerId: 'acme', currencyId: 'ai-credits' })).not.toBeNull();
    await call('getPaywall', { customerId: 'acme', billingCountryCode: 'DE' });
    expect((await call('getChanges', { limit: 5 })).length).toBe(5);
    // No webhooks transport on this engine: an empty page, in the documented shape.
    expect(await call('getWebhookDeliveries', { status: 'PENDING', first: 10 })).toEqual({ data: [], pageInfo: { hasNextPage: false, endCursor: null } });

    expect(Object.keys(METHODS).filter((m) => !covered.has(m)), 'methods never called with success').toEqual([]);
  });

  it('answers errors of every documented status with the Error body and a code the status carries', async () => {
    const seen = new Set<number>();
    const expectError = async (method: string, body: unknown, status: number, code: string, headers?: Record<string, string>, target?: App) => {
      const json = await call(method, body, status, headers, target);
      expect(json.error.code).toBe(code);
      seen.add(status);
    };
    await call('provisionCustomer', { customerId: 'acme' });
    await expectError('getCustomer', { customerId: 42 }, 400, 'INVALID_ARGUMENT');
    await expectError('getCustomer', '{not json', 400, 'INVALID_ARGUMENT');
    await expectError('getCustomer', { customerId: 'acme' }, 401, 'UNAUTHORIZED', {});
    await expectError('reportUsage', { customerId: 'acme', featureId: 'api-calls', value: 1 }, 403, 'UNAUTHORIZED', { 'x-api-key': READ_KEY });
    await expectError('getCustomer', { customerId: 'acme' }, 403, 'UNAUTHORIZED', { authorization: `Bearer ${METRICS_KEY}` });
    await expectError('getCustomer', { customerId: 'nobody' }, 404, 'CUSTOMER_NOT_FOUND');
    await expectError('consumeUsage', { customerId: 'acme', featureId: 'api-calls', entityId: 'ghost', amount: 1 }, 404, 'ENTITY_NOT_FOUND');
    await expectError('noSuchMethod', {}, 404, 'INVALID_ARGUMENT');
    await call('archiveCustomer', { customerId: 'acme' });
    await expectError('provisionCustomer', { customerId: 'acme' }, 409, 'CUSTOMER_ID_ARCHIVED');
    const small = createSidecar({ engine, fullAccessKeys: [FULL_KEY], maxBodyBytes: 64 });
    await expectError('reportUsage', { customerId: 'x'.repeat(100), featureId: 'api-calls', value: 1 }, 413, 'INVALID_ARGUMENT', undefined, small);
    await call('provisionCustomer', { customerId: 'busy', subscriptionParams: null });
    await expectError('consumeUsage', { customerId: 'busy', featureId: 'api-calls', amount: 1000 }, 422, 'USAGE_LIMIT_EXCEEDED');
    failCheckout = true;
    await expectError('provisionSubscription', { customerId: 'busy', planId: 'basic', billingPeriod: 'MONTHLY' }, 502, 'PAYMENT_PROVIDER_FAILED');
    mode.now = 'down';
    await expectError('getCustomer', { customerId: 'busy' }, 503, 'STORE_UNAVAILABLE');
    const health = await app.request('/health');
    expect(health.status).toBe(503);
    expectConforms('/health', 'get', 503, await health.json());
    mode.now = 'broken';
    await expectError('getCustomer', { customerId: 'busy' }, 500, 'INTERNAL');
    expect([...seen].sort()).toEqual([...ERROR_STATUSES].sort());
  });

  it('serves /openapi.json without a key (and with any key), /health, /metrics, the change feed and the replica routes as documented', async () => {
    for (const headers of [{}, { authorization: 'Bearer not-a-key-but-long-enough' }] as Record<string, string>[]) {
      const res = await app.request('/openapi.json', { headers });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      expect(await res.json()).toEqual(openApiDocument());
    }
    await call('provisionCustomer', { customerId: 'acme' });
    const health = await app.request('/health');
    expectConforms('/health', 'get', 200, await health.json());

    const metrics = await app.request('/metrics', { headers: { authorization: `Bearer ${METRICS_KEY}` } });
    expect(metrics.status).toBe(200);
    expectConforms('/metrics', 'get', 200, await metrics.text(), 'text/plain');
    const noKey = await app.request('/metrics');
    expectConforms('/metrics', 'get', noKey.status, await noKey.json());

    const auth = { authorization: `Bearer ${READ_KEY}` };
    const page = await app.request('/v1/changes?after=0&limit=2', { headers: auth });
    const pageBody = (await page.json()) as { changes: unknown[] };
    expect(pageBody.changes).toHaveLength(2);
    expectConforms('/v1/changes', 'get', page.status, pageBody);
    const bad = await app.request('/v1/changes?after=-1', { headers: auth });
    expectConforms('/v1/changes', 'get', bad.status, await bad.json());
    expect(bad.status).toBe(400);

    const stream = await app.request('/v1/changes/stream?after=0', { headers: auth });
    expect(stream.status).toBe(200);
    expect(Object.keys(doc.paths['/v1/changes/stream']!.get!.responses['200']!.content!)).toEqual([stream.headers.get('content-type')!.split(';')[0]]);
    const reader = new SseReader(stream.body!);
    const event = await reader.next();
    await reader.close();
    expectComponent('Change', JSON.parse(event.data));

    const snapshot = await call('replicaSnapshot', {}, 200, auth);
    expect(snapshot.customerIds).toContain('acme');
    const customers = await call('replicaCustomers', { customerIds: ['acme'] }, 200, auth);
    expect(customers.customers).toHaveLength(1);
    await call('replicaCustomers', { customerIds: 'acme' }, 400, auth);
  });
});

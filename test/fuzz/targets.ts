/**
 * What the fuzz suites call: an engine on a fixture state, every public method with a valid
 * params object to mutate (near-valid inputs reach deeper than random ones), the checks every
 * call must pass, and a dump of a SQLite store to prove a rejected call wrote nothing.
 */
import BetterSqlite3 from 'better-sqlite3';
import fc from 'fast-check';
import { Engine, isTesseraError, type CatalogDefinition, type TesseraErrorCode } from '@tessera/core';
import {
  arbMalformedJson,
  arbMalformedParams,
  arbMalformedValue,
  arbNearValid,
  BAD_DATES,
  BAD_DECIMALS,
  CRAFTED_CURSORS,
  HOSTILE_STRINGS,
} from '@tessera/testing';
import { creditsCatalog } from '../engine/credits-catalog.js';

/**
 * Calls per method per run: `default` keeps the suite near 60 s on a 2-core machine;
 * `TESSERA_FUZZ_RUNS=500 npx vitest run test/fuzz` tries more (and TESSERA_FUZZ_SEED replays one run).
 */
export function runsPerMethod(fallback: number): number {
  return Number(process.env.TESSERA_FUZZ_RUNS ?? '') || fallback;
}

/** A fixed seed when TESSERA_FUZZ_SEED is set (to replay a failure), else fast-check's random one. */
export const FUZZ_SEED = process.env.TESSERA_FUZZ_SEED ? Number(process.env.TESSERA_FUZZ_SEED) : undefined;

/** The credits catalog with a SUM meter, so that reportEvent folds numbers. */
export const fuzzCatalog: CatalogDefinition = (() => {
  const c = structuredClone(creditsCatalog);
  c.features.push({ id: 'tokens-sum', displayName: 'Tokens', type: 'METERED', meter: { eventName: 'llm', aggregation: { type: 'SUM', field: 'tokens' } } });
  c.plans.find((p) => p.id === 'free')!.entitlements!.push({ featureId: 'tokens-sum', isUnlimited: true });
  return c;
})();

/**
 * Engine methods that take no request params or are not requests; fuzzed nowhere (listeners are
 * another issue's; `transaction` takes a callback, and its tx methods are the fuzzed ones).
 */
export const NOT_FUZZED = ['constructor', 'addListener', 'removeListener', 'on', 'off', 'close', 'transaction'];

/** Ids the fixture creates (newId is deterministic: `${prefix}_${n}`). */
export interface Fixture {
  subscriptionId: string;
  reservationId: string;
  grantId: string;
}

/** Puts the fixture state in place: customers, a paid subscription, usage, credits, a hold, an event. */
export async function seed(engine: Engine): Promise<Fixture> {
  await engine.provisionCustomer({ customerId: 'c1', name: 'Ada', metadata: { team: 'a' } });
  const { subscription } = await engine.provisionCustomer({
    customerId: 'c2',
    subscriptionParams: { planId: 'pro', billingPeriod: 'MONTHLY' },
  });
  await engine.provisionCustomer({ customerId: 'c-arch' });
  await engine.archiveCustomer('c-arch');
  await engine.reportUsage({ customerId: 'c1', featureId: 'api-calls', value: 3 });
  const grant = await engine.grantCredits({ customerId: 'c1', currencyId: 'ai-credits', amount: '100' });
  const hold = await engine.reserveUsage({ customerId: 'c2', featureId: 'api-calls', amount: 2, expiresIn: 86_400_000 });
  await engine.reportEvent({ customerId: 'nobody', eventName: 'llm', idempotencyKey: 'e0', dimensions: { tokens: 5 } });
  await engine.reportEvent({ customerId: 'c1', eventName: 'llm', idempotencyKey: 'e1', dimensions: { tokens: 5 } });
  return { subscriptionId: subscription!.id, reservationId: hold.reservationId, grantId: grant.id };
}

/** How one method is called: its name, how to build its arguments from a generated value, and the generator. */
export interface Target {
  method: string;
  /** Arguments of the call from one generated value. */
  args(value: unknown): unknown[];
  arb: fc.Arbitrary<unknown>;
  /** The same, JSON-only (for the sidecar); absent: the method takes no params. */
  jsonArb?: fc.Arbitrary<unknown>;
}

const ids = (...valid: string[]) => fc.oneof(fc.constantFrom(...valid, ...HOSTILE_STRINGS), arbMalformedValue({ deep: false }));
const idsJson = (...valid: string[]) => fc.oneof(fc.constantFrom(...valid, ...HOSTILE_STRINGS), arbMalformedJson());

/** Every fuzzed engine method with a valid params object to mutate. */
export function targets(f: Fixture): Target[] {
  const obj = (method: string, valid: Record<string, unknown>, extra: fc.Arbitrary<unknown>[] = []): Target => ({
    method,
    args: (v) => [v],
    arb: fc.oneof(arbMalformedParams(valid), ...extra),
    jsonArb: fc.oneof(arbNearValid(valid, { values: arbMalformedJson() }), arbMalformedJson(), ...extra.map((a) => a.filter(isJsonSafe))),
  });
  const byId = (method: string, ...valid: string[]): Target => ({ method, args: (v) => [v], arb: ids(...valid), jsonArb: idsJson(...valid) });
  const none = (method: string): Target => ({ method, args: (v) => [v], arb: arbMalformedValue({ deep: false }) });
  const cursor = fc.constantFrom(...CRAFTED_CURSORS);
  const date = fc.constantFrom(...BAD_DATES);
  const decimal = fc.constantFrom(...BAD_DECIMALS);
  const check = { customerId: 'c1', featureId: 'api-calls', options: { requestedUsage: 1 } };
  const event = { customerId: 'c1', eventName: 'llm', idempotencyKey: 'ev', dimensions: { tokens: 1 }, timestamp: '2024-01-31T09:59:00Z' };
  const usage = { customerId: 'c1', featureId: 'api-calls', value: 1, updateBehavior: 'DELTA', idempotencyKey: 'u1' };
  const promo = { featureId: 'api-calls', period: 'ONE_MONTH', usageLimit: 10 };
  return [
    none('syncNow'),
    none('lastChangeSeq'),
    none('getProducts'),
    none('getCoupons'),
    none('tick'),
    none('getMetrics'),
    {
      method: 'publishCatalog',
      args: (v) => [v],
      arb: fc.oneof(arbMalformedParams(fuzzCatalog as unknown as Record<string, unknown>), arbNearValid({ ...fuzzCatalog, features: [...fuzzCatalog.features, { id: 'x', type: 'BOOLEAN' }] })),
    },
    obj('provisionCustomer', {
      customerId: 'c3',
      name: 'N',
      email: 'n@example.com',
      billingInfo: { billingCountryCode: 'US', taxExempt: false, extra: { a: 1 } },
      metadata: { k: 'v' },
      subscriptionParams: { planId: 'basic', billingPeriod: 'MONTHLY', addons: [{ addonId: 'extra-seats', quantity: 1 }] },
    }),
    obj('updateCustomer', { customerId: 'c1', name: 'B', billingInfo: { currency: 'USD' }, metadata: { a: 'b' } }),
    byId('getCustomer', 'c1', 'c-arch'),
    obj('getCustomers', { search: 'C1', archived: false, first: 2, after: CRAFTED_CURSORS[5] }, [
      cursor.map((after) => ({ after })),
      fc.constantFrom('%', '_', '!', '\u0000', 'a\u0007', '\ud800', 'x'.repeat(501), '').map((search) => ({ search })),
    ]),
    byId('archiveCustomer', 'c-none', 'c-arch'),
    byId('unarchiveCustomer', 'c1', 'c-none'),
    obj('provisionSubscription', { customerId: 'c1', planId: 'basic', billingPeriod: 'MONTHLY', addons: [{ addonId: 'extra-seats', quantity: 2 }], metadata: { a: 'b' }, startDate: '2024-01-31T10:00:00Z' }),
    byId('getSubscription', f.subscriptionId),
    obj('getActiveSubscriptions', { customerId: 'c2', resourceId: ['r1', 'r2'] }),
    obj('cancelSubscription', { subscriptionId: 'sub_none', cancellationTime: 'END_OF_BILLING_PERIOD', endDate: '2024-05-01T00:00:00Z' }),
    obj('updateSubscription', { subscriptionId: f.subscriptionId, addons: [{ addonId: 'extra-seats', quantity: 1 }], billingPeriod: 'MONTHLY', metadata: { a: 'b' } }),
    obj('cancelSubscriptionScheduledUpdates', { subscriptionId: f.subscriptionId, status: 'SCHEDULED' }),
    obj('migrateSubscriptionToLatest', { subscriptionId: 'sub_none', subscriptionMigrationTime: 'IMMEDIATE' }),
    obj('confirmPayment', { subscriptionId: f.subscriptionId }),
    obj('retryCheckout', { subscriptionId: f.subscriptionId }),
    obj(
      'getSubscriptions',
      { filter: { planId: { eq: 'pro', in: ['a'] }, createdAt: { gte: '2024-01-01T00:00:00Z' }, or: [{ status: { ne: 'CANCELED' } }] }, sort: { field: 'customerId', direction: 'DESC' }, first: 2, after: CRAFTED_CURSORS[9] },
      [cursor.map((after) => ({ after })), cursor.map((after) => ({ after, sort: { field: 'customerId' } })), fc.constant({ filter: { planId: undefined, status: { eq: undefined } } })],
    ),
    obj('getInvoices', { customerId: 'c2', subscriptionId: f.subscriptionId }),
    obj(
      'simulateCatalog',
      { catalog: fuzzCatalog, from: '2024-01-01T00:00:00Z', to: '2024-04-01T00:00:00Z', customerIds: ['c1', 'c2'], planMapping: { basic: 'pro' }, largest: 5 },
      [date.map((from) => ({ catalog: fuzzCatalog, from, to: '2024-04-01T00:00:00Z' })), fc.constant({ catalog: { ...fuzzCatalog, plans: [{ id: 'x' }] }, from: '2024-01-01', to: '2024-02-01' })],
    ),
    obj('estimateSubscription', { customerId: 'c1', planId: 'pro', billingPeriod: 'ANNUALLY', billingCountryCode: 'DE' }),
    obj('estimateSubscriptionUpdate', { subscriptionId: f.subscriptionId, billableFeatures: [{ featureId: 'seats', quantity: 2 }], prorationBehavior: 'PRORATE', downgradeTiming: 'IMMEDIATE' }),
    // As of a past instant (docs/as-of.md): the base value carries `at`, so its mutations reach the as-of path.
    obj('getEntitlement', { ...check, at: '2024-01-31T09:00:00Z' }),
    obj('getBooleanEntitlement', { customerId: 'c1', featureId: 'sso' }),
    obj('getNumericEntitlement', { customerId: 'c1', featureId: 'projects' }),
    obj('getMeteredEntitlement', check, [date.map((at) => ({ ...check, at })), fc.constantFrom(Date.parse('2024-01-31T09:00:00Z'), -1, 2 ** 60, 1.5).map((at) => ({ ...check, at }))]),
    obj('getEnumEntitlement', { customerId: 'c2', featureId: 'export', options: { requestedValues: ['csv', 'json'] } }),
    {
      method: 'getEntitlements',
      args: (v) => (Array.isArray(v) && v.length === 2 && v[0] === 'two-args' ? ['c1', v[1]] : [v]),
      arb: fc.oneof(arbMalformedParams({ customerId: 'c1', resourceId: 'r1' }), arbMalformedParams({ customerId: 'c1', at: '2024-01-31T09:00:00Z' }), ids('c1').map((r) => ['two-args', r])),
      jsonArb: fc.oneof(
        arbNearValid({ customerId: 'c1', resourceId: 'r1' }, { values: arbMalformedJson() }),
        arbNearValid({ customerId: 'c1', at: '2024-01-31T09:00:00Z' }, { values: arbMalformedJson() }),
        arbMalformedJson(),
      ),
    },
    obj('reportUsage', usage, [fc.constantFrom(1e308, Number.MAX_VALUE, 2 ** 53, -(2 ** 60)).map((value) => ({ ...usage, value, idempotencyKey: undefined }))]),
    obj('reportUsageBulk', { usages: [usage, { ...usage, idempotencyKey: 'u2', featureId: 'seats' }] }, [
      fc.constant({ usages: null }),
      fc.constant(null).map(() => ({ usages: new Array(3) })),
      // eslint-disable-next-line no-sparse-arrays
      fc.constant(null).map(() => ({ usages: [, usage] })),
      fc.constant({ usages: [{ ...usage, value: Number.MAX_VALUE, idempotencyKey: 'big1' }, { ...usage, value: Number.MAX_VALUE, idempotencyKey: 'big2' }] }),
    ]),
    {
      method: 'reportEvent',
      args: (v) => [v],
      arb: fc.oneof(
        arbMalformedParams(event),
        fc.array(fc.oneof(fc.constant(event), arbNearValid(event)), { maxLength: 3 }).map((list) => list.map((e, i) => ({ ...e, idempotencyKey: `ev${i}` }))),
        fc.constant(null).map(() => new Array(2)),
        fc.constant([{ ...event, idempotencyKey: 'h1', dimensions: { tokens: 1e308 } }, { ...event, idempotencyKey: 'h2', dimensions: { tokens: 1e308 } }]),
        arbMalformedValue({ deep: false }).map((v) => [event, v]),
      ),
      jsonArb: fc.oneof(arbNearValid(event, { values: arbMalformedJson() }), fc.array(arbNearValid(event, { values: arbMalformedJson() }), { maxLength: 3 }), arbMalformedJson()),
    },
    obj('consumeUsage', { customerId: 'c1', featureId: 'api-calls', amount: 1, overage: 'CAP', idempotencyKey: 'k1' }, [
      fc.constantFrom(1e308, Number.MAX_SAFE_INTEGER).map((amount) => ({ customerId: 'c1', featureId: 'ai-tokens', amount })),
    ]),
    obj('reserveUsage', { customerId: 'c1', featureId: 'api-calls', amount: 1, expiresIn: 60_000, overage: 'REJECT' }),
    obj('commitReservation', { reservationId: f.reservationId, amount: 1 }),
    obj('releaseReservation', { reservationId: 'res_none' }),
    obj('createEntity', { customerId: 'c1', entityId: 'ent1', featureId: 'seats', name: 'Ada', metadata: { team: 'a' } }),
    obj('deleteEntity', { customerId: 'c1', entityId: 'ent_none' }),
    obj('getEntities', { customerId: 'c1', featureId: 'seats', includeDeleted: true, limit: 2, cursor: CRAFTED_CURSORS[5] }, [cursor.map((c) => ({ customerId: 'c1', cursor: c }))]),
    obj('getUsageHistory', { customerId: 'c1', featureId: 'api-calls', start: '2024-01-01T00:00:00Z', end: '2024-03-01T00:00:00Z', groupBy: 'x' }, [
      date.map((start) => ({ customerId: 'c1', featureId: 'api-calls', start, end: '2024-03-01T00:00:00Z' })),
    ]),
    obj('getUnmatchedEvents', { first: 2, after: CRAFTED_CURSORS[5] }, [cursor.map((after) => ({ after })), fc.constant({ first: undefined, after: undefined })]),
    obj('grantPromotionalEntitlements', { customerId: 'c1', resourceId: 'r1', promotionalEntitlements: [promo, { featureId: 'export', period: 'CUSTOM', customEndDate: '2025-01-01T00:00:00Z', enumValues: ['csv'] }] }, [
      fc.constant({ customerId: 'c1', promotionalEntitlements: null }),
      fc.constant(null).map(() => ({ customerId: 'c1', promotionalEntitlements: new Array(2) })),
      arbMalformedValue().map((usageLimit) => ({ customerId: 'c1', promotionalEntitlements: [{ ...promo, usageLimit }] })),
      arbMalformedValue().map((resetPeriodConfiguration) => ({ customerId: 'c1', promotionalEntitlements: [{ ...promo, resetPeriod: 'MONTH', resetPeriodConfiguration }] })),
    ]),
    obj('revokePromotionalEntitlements', { customerId: 'c1', featureId: 'api-calls', resourceId: 'r1' }),
    obj('setEntitlementOverride', { customerId: 'c1', featureId: 'api-calls', resourceId: 'r1', entitlement: { usageLimit: 1000, resetPeriod: 'MONTH' }, startDate: '2024-01-01T00:00:00Z', endDate: '2099-01-01T00:00:00Z', reason: 'deal' }, [
      fc.constant({ customerId: 'c1', featureId: 'api-calls', entitlement: null }),
      arbMalformedValue().map((usageLimit) => ({ customerId: 'c1', featureId: 'api-calls', entitlement: { usageLimit } })),
      arbMalformedValue().map((entitlement) => ({ customerId: 'c1', featureId: 'api-calls', entitlement })),
      date.map((endDate) => ({ customerId: 'c1', featureId: 'api-calls', entitlement: { isUnlimited: true }, endDate })),
      arbMalformedValue().map((reason) => ({ customerId: 'c1', featureId: 'api-calls', entitlement: { isUnlimited: true }, reason })),
    ]),
    obj('removeEntitlementOverride', { customerId: 'c1', featureId: 'api-calls', resourceId: 'r1' }),
    obj('getEntitlementOverrides', { customerId: 'c1' }),
    obj('grantCredits', { customerId: 'c1', currencyId: 'ai-credits', amount: '5', category: 'PROMOTIONAL', expiresAt: '2025-01-01T00:00:00Z', priority: 1, idempotencyKey: 'g1' }, [
      decimal.map((amount) => ({ customerId: 'c1', currencyId: 'ai-credits', amount })),
      date.map((expiresAt) => ({ customerId: 'c1', currencyId: 'ai-credits', amount: '1', expiresAt })),
    ]),
    obj('voidCreditGrant', { customerId: 'c1', grantId: 'grant_none' }),
    obj('getCreditGrants', { customerId: 'c1', currencyId: 'ai-credits' }),
    obj('getCreditBalance', { customerId: 'c1', currencyId: 'ai-credits' }),
    obj('getCreditLedger', { customerId: 'c1', currencyId: 'ai-credits', first: 2, after: '1' }, [cursor.map((after) => ({ customerId: 'c1', currencyId: 'ai-credits', after }))]),
    obj('consumeCredits', { customerId: 'c1', currencyId: 'ai-credits', amount: '1', idempotencyKey: 'cc1' }, [decimal.map((amount) => ({ customerId: 'c1', currencyId: 'ai-credits', amount }))]),
    obj('getCreditEntitlement', { customerId: 'c1', currencyId: 'ai-credits', options: { requestedAmount: 5 } }),
    obj('saveAutomaticRechargeConfiguration', {
      customerId: 'c1',
      currencyId: 'ai-credits',
      isEnabled: true,
      thresholdType: 'CREDIT_AMOUNT',
      thresholdValue: '10',
      targetBalance: '100',
      maxSpendLimit: '50',
      grantExpirationPeriod: 'ONE_MONTH',
    }, [decimal.map((thresholdValue) => ({ customerId: 'c1', currencyId: 'ai-credits', isEnabled: true, thresholdType: 'DOLLAR_AMOUNT', thresholdValue, targetBalance: '5' }))]),
    obj('getAutomaticRechargeConfiguration', { customerId: 'c1', currencyId: 'ai-credits' }),
    obj('getPaywall', { productId: 'app', customerId: 'c1', billingCountryCode: 'DE', includeHiddenPlans: true }),
    obj('getChanges', { after: 1, limit: 5 }),
    obj('setUsageAlerts', { customerId: 'c1', featureId: 'api-calls', percents: [80, 100] }, [
      arbMalformedValue({ deep: false }).map((p) => ({ customerId: 'c1', featureId: 'api-calls', percents: [p] })),
      fc.constant({ customerId: 'c1', featureId: 'api-calls', percents: [80, 80] }),
    ]),
    obj('setSpendCap', { customerId: 'c1', amount: '5.00', currency: 'USD', featureId: 'api-calls' }, [
      decimal.map((amount) => ({ customerId: 'c1', amount, currency: 'USD' })),
      arbMalformedValue().map((currency) => ({ customerId: 'c1', amount: '5.00', currency })),
    ]),
    obj('removeSpendCap', { customerId: 'c1', featureId: 'api-calls' }),
    obj('getSpendCaps', { customerId: 'c1' }),
    obj('getWebhookDeliveries', { status: 'PENDING', first: 2, after: '1:webhook:evt_1:https://example.test/hook' }, [cursor.map((after) => ({ after }))]),
  ];
}

function isJsonSafe(v: unknown): boolean {
  try {
    return JSON.stringify(v) !== undefined;
  } catch {
    return false;
  }
}

/** Codes that an argument must never produce: they say the engine or the store broke. */
export const BROKEN_CODES: readonly TesseraErrorCode[] = ['INTERNAL', 'STORE_UNAVAILABLE', 'STORE_CORRUPT'];

/** Settles `p` or fails after `ms`: every call must settle in bounded time. */
export async function settle(p: () => Promise<unknown>, ms = 10_000): Promise<{ ok: true } | { ok: false; error: unknown }> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`did not settle within ${ms} ms`)), ms);
  });
  try {
    await Promise.race([Promise.resolve().then(p), timeout]);
    return { ok: true };
  } catch (error) {
    if (error instanceof Error && error.message.startsWith('did not settle')) throw error;
    return { ok: false, error };
  } finally {
    clearTimeout(timer);
  }
}

/** Throws unless `error` is a TesseraError with a code an argument may produce. */
export function expectArgumentError(method: string, error: unknown): void {
  if (!isTesseraError(error)) {
    throw new Error(`${method}: threw a raw ${(error as Error)?.constructor?.name ?? typeof error}: ${(error as Error)?.message ?? String(error)}`, { cause: error });
  }
  if (BROKEN_CODES.includes(error.code)) throw new Error(`${method}: an argument produced ${error.code}: ${error.message}`, { cause: error });
}

/** What Object.prototype and Array.prototype hold, to prove no call polluted them. */
export function prototypeFingerprint(): string {
  const probe = {} as Record<string, unknown>;
  return JSON.stringify([Object.getOwnPropertyNames(Object.prototype).sort(), Object.getOwnPropertyNames(Array.prototype).sort(), probe.polluted ?? null, Object.getPrototypeOf(probe) === Object.prototype]);
}

/** Every row of every table of a SQLite file, read on a connection of its own. */
export function sqliteDumper(filename: string): { dump(): string; close(): void } {
  const db = new BetterSqlite3(filename, { readonly: true, fileMustExist: true });
  const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as { name: string }[]).map((t) => t.name);
  const reads = tables.map((t) => [t, db.prepare(`SELECT * FROM "${t.replace(/"/g, '""')}"`)] as const);
  return {
    dump: () => {
      const out: string[] = [];
      for (const [t, stmt] of reads) out.push(t, ...(stmt.all() as unknown[]).map((r) => JSON.stringify(r)).sort());
      return out.join('\n');
    },
    close: () => db.close(),
  };
}

/**
 * Reads the fixture customers the way an application would after any call: a call that stored
 * something unreadable (a hole saved as null, Infinity usage) does lasting damage, found here.
 */
export async function probeCustomers(engine: Engine, after: string): Promise<void> {
  for (const customerId of ['c1', 'c2']) {
    const reads: [string, () => Promise<unknown>][] = [
      ['getCustomer', () => engine.getCustomer(customerId)],
      ['getEntitlements', () => engine.getEntitlements({ customerId })],
      ['getMeteredEntitlement', () => engine.getMeteredEntitlement({ customerId, featureId: 'api-calls' })],
      ['getSubscriptions', () => engine.getSubscriptions({ filter: { customerId: { eq: customerId } } })],
    ];
    for (const [name, read] of reads) {
      try {
        const result = await read();
        const usage = (result as { currentUsage?: unknown }).currentUsage;
        if (usage !== undefined && !(typeof usage === 'number' && Number.isSafeInteger(Math.round(usage)))) {
          throw new Error(`currentUsage is ${String(usage)}`);
        }
      } catch (e) {
        if (isTesseraError(e, 'CUSTOMER_NOT_FOUND')) continue;
        throw new Error(`after a successful ${after}, ${name}(${customerId}) fails: ${(e as Error).message}`, { cause: e });
      }
    }
  }
}

/** Throws when a SQLite usage cell holds a value past Number.MAX_SAFE_INTEGER (or Infinity). */
export function expectFiniteUsage(filename: string, after: string): void {
  const db = new BetterSqlite3(filename, { readonly: true, fileMustExist: true });
  try {
    const bad = db.prepare('SELECT count(*) AS n FROM usage WHERE NOT (abs(value) <= 9007199254740991 AND abs(sum) <= 9007199254740991)').get() as { n: number };
    if (bad.n > 0) throw new Error(`after ${after}, ${bad.n} usage cell(s) hold a value past Number.MAX_SAFE_INTEGER`);
  } finally {
    db.close();
  }
}

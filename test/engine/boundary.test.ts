/**
 * The boundary rule (docs/conventions.md#boundary), one example per case the fuzz suite
 * (test/fuzz) generates at random: each malformed input is refused with INVALID_ARGUMENT, writes
 * nothing, and leaves the customer readable.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { JSON_VALUE_LIMITS, MAX_USAGE, TesseraError, type CatalogDefinition, type MeteredEntitlement } from '@tessera/core';
import { circularObject, deepObject, protoKeyObject } from '@tessera/testing';
import { creditsCatalog } from './credits-catalog.js';
import { engineOn, storeFactories } from './stores.js';
import { rejection } from '../support/rejection.js';

type Env = Awaited<ReturnType<typeof engineOn>>;

/** The credits catalog with a SUM meter (unlimited on every plan through `free`). */
const catalog: CatalogDefinition = (() => {
  const c = structuredClone(creditsCatalog);
  c.features.push({ id: 'tokens-sum', displayName: 'Tokens', type: 'METERED', meter: { eventName: 'llm', aggregation: { type: 'SUM', field: 'tokens' } } });
  c.plans.find((p) => p.id === 'free')!.entitlements!.push({ featureId: 'tokens-sum', isUnlimited: true });
  return c;
})();

async function invalid(call: Promise<unknown>, field: RegExp, message?: RegExp): Promise<void> {
  const e = await rejection(call);
  expect(e.code).toBe('INVALID_ARGUMENT');
  expect(e.details.field).toMatch(field);
  if (message) expect(e.message).toMatch(message);
}

for (const factory of storeFactories()) {
  describe(factory.name, () => {
    let env: Env;
    let changes: number;
    beforeEach(async () => {
      env = await engineOn(factory, { catalog });
      await env.engine.provisionCustomer({ customerId: 'c1' });
      await env.engine.provisionCustomer({ customerId: 'c2', subscriptionParams: { planId: 'pro', billingPeriod: 'MONTHLY' } });
      changes = await env.engine.lastChangeSeq();
    });
    afterEach(async () => {
      await env.cleanup();
    });

    /** Nothing was written, and c1 still reads. */
    const unchanged = async () => {
      expect(await env.engine.lastChangeSeq()).toBe(changes);
      await expect(env.engine.getCustomer('c1')).resolves.toMatchObject({ customerId: 'c1' });
      await expect(env.engine.getEntitlements({ customerId: 'c1' })).resolves.toBeInstanceOf(Array);
    };
    const usageOf = async (customerId: string, featureId: string) =>
      ((await env.engine.getMeteredEntitlement({ customerId, featureId })) as MeteredEntitlement).currentUsage;

    describe('lists', () => {
      it('reportUsageBulk refuses usages: null with a message that says what to give', async () => {
        await invalid(env.engine.reportUsageBulk({ usages: null as never }), /usages$/, /must be an array, not null/);
        await unchanged();
      });

      it('reportUsageBulk refuses arrays with holes, which used to be stored as null', async () => {
        await invalid(env.engine.reportUsageBulk({ usages: new Array(3) }), /usages$/, /empty slot at index 0/);
        // eslint-disable-next-line no-sparse-arrays
        await invalid(env.engine.reportUsageBulk({ usages: [, { customerId: 'c1', featureId: 'api-calls', value: 1 }] as never }), /usages$/, /index 0/);
        await unchanged();
      });

      it('grantPromotionalEntitlements refuses a null list and a list with holes', async () => {
        await invalid(env.engine.grantPromotionalEntitlements({ customerId: 'c1', promotionalEntitlements: null as never }), /promotionalEntitlements$/);
        await invalid(env.engine.grantPromotionalEntitlements({ customerId: 'c1', promotionalEntitlements: new Array(2) }), /promotionalEntitlements$/);
        // eslint-disable-next-line no-sparse-arrays
        const holed = [, { featureId: 'api-calls', period: 'ONE_MONTH', usageLimit: 5 }] as never;
        await invalid(env.engine.grantPromotionalEntitlements({ customerId: 'c1', promotionalEntitlements: holed }), /promotionalEntitlements$/);
        await unchanged();
        expect((await env.engine.getCustomer('c1')).promotionalEntitlements).toEqual([]);
      });

      it('reportEvent refuses a batch with a hole instead of skipping it', async () => {
        // eslint-disable-next-line no-sparse-arrays
        const batch = [, { customerId: 'c1', eventName: 'llm', idempotencyKey: 'e1', dimensions: { tokens: 1 } }] as never;
        await invalid(env.engine.reportEvent(batch), /events\[0\]/, /empty slot/);
        await unchanged();
      });
    });

    describe('JSON values: metadata, billing info, promotional fields', () => {
      it('refuses circular, deep, function, symbol and BigInt values in billingInfo', async () => {
        for (const bad of [circularObject({ currency: 'USD' }), { nested: deepObject(5_000) }, { f: () => 1 }, { s: Symbol('s') }, { n: 10n }, { d: new Date(0) }]) {
          await invalid(env.engine.updateCustomer({ customerId: 'c1', billingInfo: bad as never }), /^updateCustomer\.billingInfo/);
        }
        await unchanged();
      });

      it('refuses circular and oversized metadata, and __proto__ / constructor keys', async () => {
        await invalid(env.engine.updateCustomer({ customerId: 'c1', metadata: circularObject() as never }), /metadata/);
        await invalid(env.engine.updateCustomer({ customerId: 'c1', metadata: protoKeyObject() as never }), /metadata/);
        await invalid(env.engine.updateCustomer({ customerId: 'c1', metadata: { constructor: 'x' } as never }), /metadata\.constructor/, /reserved key/);
        const many = Object.fromEntries(Array.from({ length: JSON_VALUE_LIMITS.maxEntries + 1 }, (_, i) => [`k${i}`, 'v']));
        await invalid(env.engine.updateCustomer({ customerId: 'c1', metadata: many }), /metadata/, /too many entries/);
        await invalid(env.engine.updateCustomer({ customerId: 'c1', metadata: { k: 'x'.repeat(JSON_VALUE_LIMITS.maxStringLength + 1) } }), /metadata\.k/);
        await invalid(env.engine.updateCustomer({ customerId: 'c1', metadata: { k: 'a\ud800b' } }), /metadata\.k/, /lone surrogate/);
        expect(({} as Record<string, unknown>).polluted).toBeUndefined();
        await unchanged();
      });

      it('stores a copy of billingInfo: mutating the object afterwards changes nothing stored', async () => {
        const info = { currency: 'USD', extra: { tags: ['a'] } };
        await env.engine.updateCustomer({ customerId: 'c1', billingInfo: info });
        info.extra.tags.push('b');
        expect((await env.engine.getCustomer('c1')).billingInfo).toEqual({ currency: 'USD', extra: { tags: ['a'] } });
      });

      it('grantPromotionalEntitlements refuses a usageLimit holding a function, symbol, BigInt, circular or deep value', async () => {
        for (const usageLimit of [() => 5, Symbol('x'), 5n, circularObject(), deepObject(5_000), Number.MAX_VALUE]) {
          const call = env.engine.grantPromotionalEntitlements({ customerId: 'c1', promotionalEntitlements: [{ featureId: 'api-calls', period: 'ONE_MONTH', usageLimit: usageLimit as never }] });
          await invalid(call, /promotionalEntitlements\[0\]/);
        }
        await unchanged();
      });
    });

    describe('paging cursors and filters', () => {
      const cursor = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

      it('getSubscriptions refuses a crafted cursor whose decoded parts have the wrong types', async () => {
        for (const after of [cursor(['createdAt', { a: 1 }, 'id']), cursor(['createdAt', 1, 5]), cursor(['customerId', 7, 'x']), cursor(['createdAt', 1e400, 'x']), cursor(null), 'not-base64!']) {
          await invalid(env.engine.getSubscriptions({ after }), /getSubscriptions\.after/);
        }
      });

      it('getSubscriptions treats filter operators given as undefined as absent', async () => {
        const all = await env.engine.getSubscriptions({});
        const same = await env.engine.getSubscriptions({ filter: { planId: undefined, status: { eq: undefined }, createdAt: { gte: undefined } } });
        expect(same.data.map((s) => s.id)).toEqual(all.data.map((s) => s.id));
        expect(all.data.length).toBeGreaterThan(0);
      });

      it('getUnmatchedEvents refuses a crafted cursor and pages with a real one', async () => {
        for (const after of [cursor(['x', 'k']), cursor([1.5, 'k']), cursor([1, 7]), cursor([1]), cursor({}), '!!']) {
          await invalid(env.engine.getUnmatchedEvents({ after }), /after/);
        }
        await env.engine.reportEvent([1, 2].map((i) => ({ customerId: 'nobody', eventName: 'llm', idempotencyKey: `u${i}`, dimensions: { tokens: 1 } })));
        const first = await env.engine.getUnmatchedEvents({ first: 1 });
        const next = await env.engine.getUnmatchedEvents({ first: 1, after: first.pageInfo.endCursor! });
        expect([...first.data, ...next.data].map((e) => e.idempotencyKey)).toEqual(['u1', 'u2']);
      });

      it('getCreditLedger refuses cursors that are not a sequence number', async () => {
        for (const after of ['-1', '1e3', '0x10', ' 1', '99999999999999999999']) {
          await invalid(env.engine.getCreditLedger({ customerId: 'c1', currencyId: 'ai-credits', after }), /after/);
        }
      });
    });

    describe('usage stays a finite number within MAX_USAGE', () => {
      it('refuses two reports of Number.MAX_VALUE, and a replay still returns the stored number', async () => {
        await invalid(env.engine.reportUsage({ customerId: 'c1', featureId: 'api-calls', value: Number.MAX_VALUE, idempotencyKey: 'k1' }), /reportUsage\.value/);
        await invalid(env.engine.reportUsageBulk({ usages: [1, 2].map((i) => ({ customerId: 'c1', featureId: 'api-calls', value: Number.MAX_VALUE, idempotencyKey: `b${i}` })) }), /usages\[0\]\.value/);
        await unchanged();
        const first = await env.engine.reportUsage({ customerId: 'c1', featureId: 'api-calls', value: MAX_USAGE - 1, idempotencyKey: 'k2' });
        await invalid(env.engine.reportUsage({ customerId: 'c1', featureId: 'api-calls', value: 2 }), /reportUsage\.value/, /past the largest usage/);
        expect(await usageOf('c1', 'api-calls')).toBe(MAX_USAGE - 1);
        const replay = await env.engine.reportUsage({ customerId: 'c1', featureId: 'api-calls', value: MAX_USAGE - 1, idempotencyKey: 'k2' });
        expect(replay.currentUsage).toBe(first.currentUsage);
      });

      it('refuses a reportEvent batch whose SUM meter would pass MAX_USAGE, storing none of it', async () => {
        const events = [1, 2].map((i) => ({ customerId: 'c1', eventName: 'llm', idempotencyKey: `h${i}`, dimensions: { tokens: 2 ** 52 + 1 } }));
        await invalid(env.engine.reportEvent(events), /tokens-sum/);
        await unchanged();
        expect(await usageOf('c1', 'tokens-sum')).toBe(0);
        expect((await env.engine.reportEvent(events.slice(0, 1))).accepted).toBe(1);
      });

      it('refuses consumeUsage and reserveUsage past MAX_USAGE on a soft limit', async () => {
        await env.engine.consumeUsage({ customerId: 'c2', featureId: 'api-calls', amount: MAX_USAGE - 1 });
        const seq = await env.engine.lastChangeSeq();
        await invalid(env.engine.consumeUsage({ customerId: 'c2', featureId: 'api-calls', amount: 5 }), /consumeUsage\.amount/);
        await invalid(env.engine.reserveUsage({ customerId: 'c2', featureId: 'api-calls', amount: 5, expiresIn: 1000 }), /reserveUsage\.amount/);
        await invalid(env.engine.consumeUsage({ customerId: 'c2', featureId: 'api-calls', amount: Number.MAX_VALUE }), /amount/);
        expect(await env.engine.lastChangeSeq()).toBe(seq);
        expect(await usageOf('c2', 'api-calls')).toBe(MAX_USAGE - 1);
      });
    });

    describe('ids', () => {
      it('refuses lone surrogates in ids, which a SQL store would not read back', async () => {
        await invalid(env.engine.provisionCustomer({ customerId: 'a\ud800' }), /customerId/, /lone surrogate/);
        await invalid(env.engine.reportEvent({ customerId: 'c1', eventName: 'llm', idempotencyKey: '\udc00' }), /idempotencyKey/);
        await unchanged();
      });
    });
  });
}

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createEngine, TesseraError, validateCatalog, type MeteredEntitlement, type TesseraErrorCode } from '@tessera/core';
import { engineOn, storeFactories } from './stores.js';
import { entitiesCatalog } from './entities-catalog.js';

// Entities: balances per member, pooled balances per customer (docs/entities.md).

type Env = Awaited<ReturnType<typeof engineOn>>;

async function expectCode(call: Promise<unknown>, code: TesseraErrorCode): Promise<TesseraError> {
  const e = await call.then(
    (v) => {
      throw new Error(`expected ${code}, got ${JSON.stringify(v)}`);
    },
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(TesseraError);
  expect((e as TesseraError).code).toBe(code);
  return e as TesseraError;
}

/** Runs on memory now; SQLite and PostgreSQL once their adapters store entities. */
const STORES = storeFactories().filter((f) => f.name === 'memory' || f.name === 'sqlite');

for (const factory of STORES) {
  describe(factory.name, () => {
    let env: Env;
    const start = async (over: Parameters<typeof entitiesCatalog>[0] = {}) => {
      env = await engineOn(factory, { catalog: entitiesCatalog(over), start: '2024-03-10T10:00:00Z' });
      await env.engine.provisionCustomer({ customerId: 'c1' });
    };
    afterEach(async () => {
      await env?.cleanup();
    });
    const metered = async (featureId: string, entityId?: string, requestedUsage?: number) =>
      (await env.engine.getMeteredEntitlement({
        customerId: 'c1',
        featureId,
        ...(entityId === undefined ? {} : { entityId }),
        ...(requestedUsage === undefined ? {} : { options: { requestedUsage } }),
      })) as MeteredEntitlement;

    describe('Example A: each seat 100 AI messages a month, 10,000 pooled', () => {
      beforeEach(() => start({ seats: 2 }));

      it('a seat entity takes one unit of the seat feature, and the third of two seats is refused with the reason', async () => {
        await env.engine.createEntity({ customerId: 'c1', entityId: 'ann', featureId: 'seats', name: 'Ann' });
        await env.engine.createEntity({ customerId: 'c1', entityId: 'bob', featureId: 'seats' });
        expect((await metered('seats')).currentUsage).toBe(2);
        const e = await expectCode(env.engine.createEntity({ customerId: 'c1', entityId: 'cat', featureId: 'seats' }), 'USAGE_LIMIT_EXCEEDED');
        expect(e.details.reason).toBe('RequestedUsageExceedingLimit');
        // Refused: nothing written, the seat count stays 2 and cat does not exist.
        expect((await metered('seats')).currentUsage).toBe(2);
        expect((await env.engine.getEntities({ customerId: 'c1' })).data.map((x) => x.entityId)).toEqual(['ann', 'bob']);
      });

      it('the per-entity limit denies while the pool has room', async () => {
        await env.engine.createEntity({ customerId: 'c1', entityId: 'ann', featureId: 'seats' });
        const first = await env.engine.consumeUsage({ customerId: 'c1', featureId: 'ai-messages', entityId: 'ann', amount: 90 });
        // Ann: 90 of her 100; pool: 90 of 10,000.
        expect(first.entity).toEqual({ entityId: 'ann', currentUsage: 90, usageLimit: 100, remaining: 10 });
        expect(first.pooled).toEqual({ currentUsage: 90, usageLimit: 10_000, remaining: 9_910 });
        const e = await expectCode(env.engine.consumeUsage({ customerId: 'c1', featureId: 'ai-messages', entityId: 'ann', amount: 11 }), 'USAGE_LIMIT_EXCEEDED');
        expect(e.details.available).toBe(10);
        const check = await metered('ai-messages', 'ann', 11);
        expect(check).toMatchObject({ hasAccess: false, accessDeniedReason: 'RequestedUsageExceedingLimit', usageLimit: 100, currentUsage: 90 });
        expect(check.pooled).toEqual({ usageLimit: 10_000, currentUsage: 90, isUnlimited: false });
        // CAP grants what is left of Ann's limit.
        const capped = await env.engine.consumeUsage({ customerId: 'c1', featureId: 'ai-messages', entityId: 'ann', amount: 50, overage: 'CAP' });
        expect(capped.granted).toBe(10);
        expect((await metered('ai-messages')).currentUsage).toBe(100);
      });

      it('the pool denies while the entity has room', async () => {
        await env.engine.createEntity({ customerId: 'c1', entityId: 'ann', featureId: 'seats' });
        // The customer's own usage (no entity) fills the pool to 9,950 of 10,000.
        await env.engine.reportUsage({ customerId: 'c1', featureId: 'ai-messages', value: 9_950 });
        const check = await metered('ai-messages', 'ann', 60);
        // Ann has used 0 of 100, but only 50 are left in the pool.
        expect(check).toMatchObject({ hasAccess: false, usageLimit: 100, currentUsage: 0 });
        expect(check.pooled?.currentUsage).toBe(9_950);
        expect((await metered('ai-messages', 'ann', 50)).hasAccess).toBe(true);
        await expectCode(env.engine.consumeUsage({ customerId: 'c1', featureId: 'ai-messages', entityId: 'ann', amount: 60 }), 'USAGE_LIMIT_EXCEEDED');
        const r = await env.engine.reserveUsage({ customerId: 'c1', featureId: 'ai-messages', entityId: 'ann', amount: 60, overage: 'CAP', expiresIn: 60_000 });
        expect(r.granted).toBe(50);
        // The hold counts in both cells: the pool is full, Ann holds 50 of her 100.
        expect((await metered('ai-messages')).currentUsage).toBe(10_000);
        expect((await metered('ai-messages', 'ann')).currentUsage).toBe(50);
        await env.engine.commitReservation({ reservationId: r.reservationId, amount: 30 });
        expect((await metered('ai-messages')).currentUsage).toBe(9_980);
        expect((await metered('ai-messages', 'ann')).currentUsage).toBe(30);
      });

      it('a check without entityId answers the pooled figures; reportUsage with entityId moves both cells', async () => {
        await env.engine.createEntity({ customerId: 'c1', entityId: 'ann', featureId: 'seats' });
        await env.engine.createEntity({ customerId: 'c1', entityId: 'bob', featureId: 'seats' });
        const ann = await env.engine.reportUsage({ customerId: 'c1', featureId: 'ai-messages', entityId: 'ann', value: 30 });
        expect(ann).toMatchObject({ currentUsage: 30, entityId: 'ann', pooledUsage: 30 });
        await env.engine.reportUsage({ customerId: 'c1', featureId: 'ai-messages', entityId: 'bob', value: 20 });
        // SET on an entity moves the pool by the difference: 30 -> 10 is -20.
        const set = await env.engine.reportUsage({ customerId: 'c1', featureId: 'ai-messages', entityId: 'ann', value: 10, updateBehavior: 'SET' });
        expect(set).toMatchObject({ currentUsage: 10, pooledUsage: 30 });
        const pooled = await metered('ai-messages');
        expect(pooled).toMatchObject({ usageLimit: 10_000, currentUsage: 30, hasAccess: true });
        expect(pooled.entity).toBeUndefined();
        expect(await metered('ai-messages', 'bob')).toMatchObject({ usageLimit: 100, currentUsage: 20, entity: { entityId: 'bob', usageLimit: 100, currentUsage: 20 } });
      });

      it('reportUsageBulk and idempotent retries carry the entity; a bulk naming a deleted entity writes nothing', async () => {
        await env.engine.createEntity({ customerId: 'c1', entityId: 'ann', featureId: 'seats' });
        await env.engine.createEntity({ customerId: 'c1', entityId: 'bob', featureId: 'seats' });
        const bulk = await env.engine.reportUsageBulk({
          usages: [
            { customerId: 'c1', featureId: 'ai-messages', entityId: 'ann', value: 4, idempotencyKey: 'k1' },
            { customerId: 'c1', featureId: 'ai-messages', entityId: 'bob', value: 6 },
            { customerId: 'c1', featureId: 'ai-messages', value: 1 },
          ],
        });
        // Pool after each: 4, 10, 11.
        expect(bulk.map((r) => [r.entityId ?? null, r.currentUsage, r.pooledUsage ?? null])).toEqual([
          ['ann', 4, 4],
          ['bob', 6, 10],
          [null, 11, null],
        ]);
        const retry = await env.engine.reportUsage({ customerId: 'c1', featureId: 'ai-messages', entityId: 'ann', value: 4, idempotencyKey: 'k1' });
        expect(retry).toEqual(bulk[0]);
        await env.engine.deleteEntity({ customerId: 'c1', entityId: 'bob' });
        await expectCode(
          env.engine.reportUsageBulk({
            usages: [
              { customerId: 'c1', featureId: 'ai-messages', entityId: 'ann', value: 1 },
              { customerId: 'c1', featureId: 'ai-messages', entityId: 'bob', value: 1 },
            ],
          }),
          'ENTITY_NOT_FOUND',
        );
        expect((await metered('ai-messages')).currentUsage).toBe(11);
        expect((await metered('ai-messages', 'ann')).currentUsage).toBe(4);
        const again = await env.engine.consumeUsage({ customerId: 'c1', featureId: 'ai-messages', entityId: 'ann', amount: 2, idempotencyKey: 'c1' });
        expect(await env.engine.consumeUsage({ customerId: 'c1', featureId: 'ai-messages', entityId: 'ann', amount: 2, idempotencyKey: 'c1' })).toEqual(again);
        expect((await metered('ai-messages', 'ann')).currentUsage).toBe(6);
      });

      it('deleting an entity frees its seat; its usage stays in the history and the pool', async () => {
        await env.engine.createEntity({ customerId: 'c1', entityId: 'ann', featureId: 'seats' });
        await env.engine.createEntity({ customerId: 'c1', entityId: 'bob', featureId: 'seats' });
        await env.engine.consumeUsage({ customerId: 'c1', featureId: 'ai-messages', entityId: 'ann', amount: 40 });
        const deleted = await env.engine.deleteEntity({ customerId: 'c1', entityId: 'ann' });
        expect(deleted.deletedAt).toBeInstanceOf(Date);
        expect((await metered('seats')).currentUsage).toBe(1);
        await env.engine.createEntity({ customerId: 'c1', entityId: 'cat', featureId: 'seats' });
        expect((await metered('ai-messages')).currentUsage).toBe(40);
        const history = await env.engine.getUsageHistory({ customerId: 'c1', featureId: 'ai-messages', start: '2024-03-01T00:00:00Z', end: '2024-04-01T00:00:00Z', groupByEntity: true });
        expect(history.periods).toHaveLength(1);
        expect(history.periods[0]).toMatchObject({ value: 40, entities: [{ entityId: 'ann', usage: 40 }] });
        const annHistory = await env.engine.getUsageHistory({ customerId: 'c1', featureId: 'ai-messages', entityId: 'ann', start: '2024-03-01T00:00:00Z', end: '2024-04-01T00:00:00Z' });
        expect(annHistory.entityId).toBe('ann');
        expect(annHistory.periods.map((p) => p.value)).toEqual([40]);
        // Writes naming a deleted entity are refused; a check denies.
        await expectCode(env.engine.consumeUsage({ customerId: 'c1', featureId: 'ai-messages', entityId: 'ann', amount: 1 }), 'ENTITY_NOT_FOUND');
        await expectCode(env.engine.reportUsage({ customerId: 'c1', featureId: 'ai-messages', entityId: 'ann', value: 1 }), 'ENTITY_NOT_FOUND');
        await expectCode(env.engine.deleteEntity({ customerId: 'c1', entityId: 'ann' }), 'ENTITY_NOT_FOUND');
        expect(await metered('ai-messages', 'ann')).toMatchObject({ hasAccess: false, accessDeniedReason: 'EntityNotFound' });
        // Listing: live by default, deleted ones on request.
        expect((await env.engine.getEntities({ customerId: 'c1' })).data.map((x) => x.entityId)).toEqual(['bob', 'cat']);
        expect((await env.engine.getEntities({ customerId: 'c1', includeDeleted: true })).data.map((x) => x.entityId)).toEqual(['ann', 'bob', 'cat']);
      });

      it('reviving a deleted entity takes a seat again and keeps its usage in the window', async () => {
        await env.engine.createEntity({ customerId: 'c1', entityId: 'ann', featureId: 'seats' });
        await env.engine.consumeUsage({ customerId: 'c1', featureId: 'ai-messages', entityId: 'ann', amount: 70 });
        await env.engine.deleteEntity({ customerId: 'c1', entityId: 'ann' });
        const revived = await env.engine.createEntity({ customerId: 'c1', entityId: 'ann', featureId: 'seats' });
        expect(revived.deletedAt).toBeNull();
        expect((await metered('seats')).currentUsage).toBe(1);
        // 70 used this month before the deletion still count against Ann's 100.
        await expectCode(env.engine.consumeUsage({ customerId: 'c1', featureId: 'ai-messages', entityId: 'ann', amount: 31 }), 'USAGE_LIMIT_EXCEEDED');
      });

      it('creating a live entity again is idempotent when equal and CONFLICT otherwise', async () => {
        const a = await env.engine.createEntity({ customerId: 'c1', entityId: 'ann', featureId: 'seats', name: 'Ann', metadata: { team: 'x' } });
        const again = await env.engine.createEntity({ customerId: 'c1', entityId: 'ann', featureId: 'seats', name: 'Ann', metadata: { team: 'x' } });
        expect(again).toEqual(a);
        expect((await metered('seats')).currentUsage).toBe(1);
        await expectCode(env.engine.createEntity({ customerId: 'c1', entityId: 'ann', featureId: 'seats', name: 'Anne' }), 'CONFLICT');
      });

      it('unknown entities, customers and seat features are refused with a code', async () => {
        await expectCode(env.engine.consumeUsage({ customerId: 'c1', featureId: 'ai-messages', entityId: 'nobody', amount: 1 }), 'ENTITY_NOT_FOUND');
        await expectCode(env.engine.reserveUsage({ customerId: 'c1', featureId: 'ai-messages', entityId: 'nobody', amount: 1, expiresIn: 1000 }), 'ENTITY_NOT_FOUND');
        await expectCode(env.engine.createEntity({ customerId: 'nope', entityId: 'ann' }), 'CUSTOMER_NOT_FOUND');
        await expectCode(env.engine.createEntity({ customerId: 'c1', entityId: 'ann', featureId: 'ghost' }), 'FEATURE_NOT_FOUND');
        await expectCode(env.engine.createEntity({ customerId: 'c1', entityId: 'ann', featureId: 'tokens' }), 'INVALID_ARGUMENT');
        await expectCode(env.engine.getEntities({ customerId: 'c1', cursor: 'garbage' }), 'INVALID_ARGUMENT');
        expect((await env.engine.getEntities({ customerId: 'c1' })).data).toEqual([]);
      });

      it('raw events for an entity feed its cell and the pool; an unknown entity leaves the event unmatched', async () => {
        await env.engine.createEntity({ customerId: 'c1', entityId: 'ann', featureId: 'seats' });
        const r = await env.engine.reportEvent([
          { customerId: 'c1', eventName: 'completion', idempotencyKey: 'e1', entityId: 'ann', dimensions: { tokens: 300 } },
          { customerId: 'c1', eventName: 'completion', idempotencyKey: 'e2', dimensions: { tokens: 50 } },
          { customerId: 'c1', eventName: 'completion', idempotencyKey: 'e3', entityId: 'ghost', dimensions: { tokens: 7 } },
        ]);
        expect(r).toMatchObject({ accepted: 3, unmatched: 1 });
        expect((await env.engine.getUnmatchedEvents()).data.map((e) => e.reason)).toEqual(['ENTITY_NOT_FOUND']);
        // Pool: 300 + 50; Ann: 300 of her 400.
        expect((await metered('tokens')).currentUsage).toBe(350);
        expect(await metered('tokens', 'ann', 101)).toMatchObject({ hasAccess: false, usageLimit: 400, currentUsage: 300 });
      });

      it('events and the change feed carry the entity', async () => {
        const seen: unknown[] = [];
        env.engine.on('entityCreated', (e) => seen.push(['created', e.entityId, e.featureId]));
        env.engine.on('entityDeleted', (e) => seen.push(['deleted', e.entityId]));
        env.engine.on('usageUpdated', (e) => seen.push(['usage', e.featureId, e.entityId ?? null, e.currentUsage]));
        const after = await env.engine.lastChangeSeq();
        await env.engine.createEntity({ customerId: 'c1', entityId: 'ann', featureId: 'seats' });
        await env.engine.consumeUsage({ customerId: 'c1', featureId: 'ai-messages', entityId: 'ann', amount: 5 });
        await env.engine.deleteEntity({ customerId: 'c1', entityId: 'ann' });
        expect(seen).toEqual([
          ['usage', 'seats', null, 1],
          ['created', 'ann', 'seats'],
          ['usage', 'ai-messages', 'ann', 5],
          ['usage', 'ai-messages', null, 5],
          ['usage', 'seats', null, 0],
          ['deleted', 'ann'],
        ]);
        const changes = (await env.engine.getChanges({ after })).filter((c) => c.kind === 'entity.updated');
        expect(changes.map((c) => [c.entityId, (c.payload as { deleted: boolean }).deleted])).toEqual([
          ['ann', false],
          ['ann', true],
        ]);
      });

      it('another engine on the store hears of entities and entity usage through the change feed', async () => {
        const other = await createEngine({ store: env.store, clock: env.clock, followIntervalMs: 0 });
        const heard: unknown[] = [];
        other.on('entityCreated', (e) => heard.push(['created', e.entityId, e.featureId]));
        other.on('usageUpdated', (e) => heard.push(['usage', e.featureId, e.entityId ?? null, e.currentUsage]));
        // Warm the other engine's pooled cell, which the writes below must not leave stale.
        expect((await other.getMeteredEntitlement({ customerId: 'c1', featureId: 'ai-messages' })).currentUsage).toBe(0);
        await env.engine.createEntity({ customerId: 'c1', entityId: 'ann', featureId: 'seats' });
        await env.engine.consumeUsage({ customerId: 'c1', featureId: 'ai-messages', entityId: 'ann', amount: 7 });
        await other.syncNow();
        expect(heard).toEqual([
          ['usage', 'seats', null, 1],
          ['created', 'ann', 'seats'],
          ['usage', 'ai-messages', 'ann', 7],
          ['usage', 'ai-messages', null, 7],
        ]);
        expect((await other.getMeteredEntitlement({ customerId: 'c1', featureId: 'ai-messages' })).currentUsage).toBe(7);
        expect((await other.getMeteredEntitlement({ customerId: 'c1', featureId: 'ai-messages', entityId: 'ann' })).currentUsage).toBe(7);
      });

      it('pages entities with a cursor', async () => {
        for (const id of ['e1', 'e2', 'e3', 'e4', 'e5']) await env.engine.createEntity({ customerId: 'c1', entityId: id });
        const p1 = await env.engine.getEntities({ customerId: 'c1', limit: 2 });
        expect(p1.data.map((e) => e.entityId)).toEqual(['e1', 'e2']);
        expect(p1.pageInfo.hasNextPage).toBe(true);
        const p2 = await env.engine.getEntities({ customerId: 'c1', limit: 2, cursor: p1.pageInfo.endCursor! });
        const p3 = await env.engine.getEntities({ customerId: 'c1', limit: 2, cursor: p2.pageInfo.endCursor! });
        expect([...p2.data, ...p3.data].map((e) => e.entityId)).toEqual(['e3', 'e4', 'e5']);
        expect(p3.pageInfo.hasNextPage).toBe(false);
        // Entities without a seat take none.
        expect((await metered('seats')).currentUsage).toBe(0);
      });
    });

    describe('Example B: 3 workspaces, 5 projects each', () => {
      beforeEach(() => start());

      it('the fourth workspace is refused; each workspace stops at 5 projects while projects are unlimited in total', async () => {
        for (const w of ['w1', 'w2', 'w3']) await env.engine.createEntity({ customerId: 'c1', entityId: w, featureId: 'workspaces' });
        const e = await expectCode(env.engine.createEntity({ customerId: 'c1', entityId: 'w4', featureId: 'workspaces' }), 'USAGE_LIMIT_EXCEEDED');
        expect(e.details.reason).toBe('RequestedUsageExceedingLimit');
        await env.engine.consumeUsage({ customerId: 'c1', featureId: 'projects', entityId: 'w1', amount: 5 });
        await expectCode(env.engine.consumeUsage({ customerId: 'c1', featureId: 'projects', entityId: 'w1', amount: 1 }), 'USAGE_LIMIT_EXCEEDED');
        await env.engine.consumeUsage({ customerId: 'c1', featureId: 'projects', entityId: 'w2', amount: 5 });
        // The customer-level figure is unlimited and sums the workspaces: 5 + 5.
        expect(await metered('projects')).toMatchObject({ isUnlimited: true, usageLimit: null, currentUsage: 10, hasAccess: true });
        expect(await metered('projects', 'w3', 5)).toMatchObject({ hasAccess: true, usageLimit: 5, currentUsage: 0, isUnlimited: false });
        // Deleting a workspace frees its place; a new one starts with 5 projects of its own.
        await env.engine.deleteEntity({ customerId: 'c1', entityId: 'w1' });
        await env.engine.createEntity({ customerId: 'c1', entityId: 'w4', featureId: 'workspaces' });
        expect((await env.engine.consumeUsage({ customerId: 'c1', featureId: 'projects', entityId: 'w4', amount: 5 })).granted).toBe(5);
      });

      it('an entity of another feature has no per-entity limit: the pool alone bounds it', async () => {
        await env.engine.createEntity({ customerId: 'c1', entityId: 'bot', name: 'API key' });
        const r = await env.engine.consumeUsage({ customerId: 'c1', featureId: 'projects', entityId: 'bot', amount: 50 });
        expect(r.entity).toEqual({ entityId: 'bot', currentUsage: 50, usageLimit: null, remaining: null });
        const check = await metered('projects', 'bot');
        expect(check).toMatchObject({ hasAccess: true, isUnlimited: true, usageLimit: null, currentUsage: 50, entity: { entityId: 'bot', usageLimit: null, currentUsage: 50 } });
      });

      it('getEntitlements with entityId answers each feature as the entity sees it', async () => {
        await env.engine.createEntity({ customerId: 'c1', entityId: 'w1', featureId: 'workspaces' });
        await env.engine.consumeUsage({ customerId: 'c1', featureId: 'projects', entityId: 'w1', amount: 2 });
        const all = await env.engine.getEntitlements({ customerId: 'c1', entityId: 'w1' });
        const projects = all.find((e) => e.featureId === 'projects') as MeteredEntitlement;
        expect(projects).toMatchObject({ usageLimit: 5, currentUsage: 2, entity: { entityId: 'w1' } });
        const workspaces = all.find((e) => e.featureId === 'workspaces') as MeteredEntitlement;
        // workspaces has no perEntity: the pooled figures.
        expect(workspaces).toMatchObject({ usageLimit: 3, currentUsage: 1 });
      });
    });
  });
}

describe('the catalog', () => {
  /** The problems of a catalog whose only entitlement is ai-messages with `extra` fields. */
  const problems = (extra: Record<string, unknown>) =>
    validateCatalog({
      ...entitiesCatalog(),
      plans: [{ ...entitiesCatalog().plans[0]!, entitlements: [{ featureId: 'ai-messages', usageLimit: 10, ...extra } as never] }],
    }).map((p) => `${p.path}: ${p.message}`);

  it('accepts the two examples', () => {
    expect(validateCatalog(entitiesCatalog())).toEqual([]);
  });

  it('refuses perEntity on a feature that is not METERED, an unknown or meter-fed entity feature, and a bad limit', () => {
    expect(problems({ perEntity: { featureId: 'ghost', usageLimit: 1 } }).join('\n')).toMatch(/perEntity\.featureId: unknown feature "ghost"/);
    expect(problems({ perEntity: { featureId: 'tokens', usageLimit: 1 } }).join('\n')).toMatch(/perEntity\.featureId: "tokens" must be a METERED feature without a meter/);
    expect(problems({ perEntity: { featureId: 'seats', usageLimit: 1.5 } }).join('\n')).toMatch(/perEntity\.usageLimit: must be an integer >= 0/);
    expect(problems({ perEntity: { featureId: 'seats', usageLimit: -1 } }).join('\n')).toMatch(/perEntity\.usageLimit/);
    const c = entitiesCatalog();
    c.features.push({ id: 'sso', displayName: 'SSO', type: 'BOOLEAN' });
    c.plans[0]!.entitlements!.push({ featureId: 'sso', perEntity: { featureId: 'seats', usageLimit: 1 } });
    expect(validateCatalog(c).map((p) => p.path)).toContain('plans[0].entitlements[5].perEntity');
  });

  it('refuses two perEntity of one feature naming different entity features', () => {
    const c = entitiesCatalog();
    c.addons = [{ id: 'more', productId: 'app', displayName: 'More', entitlements: [{ featureId: 'ai-messages', usageLimit: 10, perEntity: { featureId: 'workspaces', usageLimit: 1 } }] }];
    expect(validateCatalog(c).map((p) => `${p.path}: ${p.message}`).join('\n')).toMatch(/addons\[0\]\.entitlements\[0\]\.perEntity\.featureId: "ai-messages" is given per seats/);
  });
});

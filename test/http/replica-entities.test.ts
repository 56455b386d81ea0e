/**
 * Entities on a replica (docs/entities.md, packages/http/README.md#replicas): the replica's file
 * holds the customer's entities and their usage cells as the sidecar's store does, so checks and
 * consumptions with `entityId` are answered locally, and usage written for an entity while the
 * sidecar cannot be reached is delivered later with its `entityId`, exactly once, also when the
 * sidecar's answers are lost and the same entries are sent again.
 */
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createEngine, memoryStore, type MeteredEntitlement } from '@tessera/core';
import { createClient, createReplica, serveSidecar, type Replica, type TesseraClient } from '@tessera/http';
import { entitiesCatalog } from '../engine/entities-catalog.js';
import { FULL_KEY, tempDir } from './harness.js';

const tmp = tempDir();
afterAll(() => tmp.remove());

const silent = { debug() {}, info() {}, warn() {}, error() {} };

/** Waits (polling every 20 ms, up to 10 s) until `done()`. */
async function until(what: string, done: () => Promise<boolean> | boolean): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (await done()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/**
 * A sidecar in this process (each seat 100 AI messages a month, 10,000 pooled; tokens metered from
 * `completion` events, 400 per seat) and a fetch that can cut the replica off from it, or let a
 * request through and lose its answer.
 */
async function entitySidecar() {
  const store = memoryStore();
  const engine = await createEngine({ store, catalog: entitiesCatalog() });
  const sidecar = await serveSidecar({ engine, store, fullAccessKeys: [FULL_KEY], port: 0, changePollMs: 20 });
  const client = createClient({ url: sidecar.url, apiKey: FULL_KEY });
  const gate = {
    /** Requests whose path matches are refused as a network failure would be. */
    block: null as RegExp | null,
    /** Requests whose path matches reach the sidecar, and their answers are lost (while `losses` > 0). */
    lose: null as RegExp | null,
    losses: 0,
    lost: [] as string[],
    fetch: async (input: string, init: RequestInit) => {
      const path = new URL(input).pathname;
      if (gate.block?.test(path)) throw new TypeError('fetch failed');
      const res = await fetch(input, init);
      if (gate.lose?.test(path) && gate.losses > 0) {
        gate.losses--;
        gate.lost.push(path);
        throw new TypeError('fetch failed');
      }
      return res;
    },
  };
  return {
    engine,
    client,
    gate,
    url: sidecar.url,
    async close() {
      await sidecar.close();
      await engine.close();
    },
  };
}

const check = async (from: TesseraClient | Replica, entityId: string, featureId = 'ai-messages', requestedUsage = 0) =>
  (await from.getMeteredEntitlement({ customerId: 'acme', featureId, entityId, options: { requestedUsage } })) as MeteredEntitlement;

describe('a replica with entities', () => {
  it('answers checks and consumptions with entityId from its synced entities and entity cells, as the sidecar does', async () => {
    const side = await entitySidecar();
    let replica: Replica | undefined;
    try {
      await side.client.provisionCustomer({ customerId: 'acme' });
      await side.client.createEntity({ customerId: 'acme', entityId: 'ann', featureId: 'seats', name: 'Ann' });
      await side.client.createEntity({ customerId: 'acme', entityId: 'bob', featureId: 'seats' });
      await side.client.consumeUsage({ customerId: 'acme', featureId: 'ai-messages', entityId: 'ann', amount: 30 });
      const held = await side.client.reserveUsage({ customerId: 'acme', featureId: 'ai-messages', entityId: 'bob', amount: 15, expiresIn: 600_000 });
      await side.client.reportEvent({ customerId: 'acme', eventName: 'completion', idempotencyKey: 'c-1', entityId: 'bob', dimensions: { tokens: 12 } });

      replica = await createReplica({ url: side.url, apiKey: FULL_KEY, replica: join(tmp.dir, 'sync.replica.db'), pollIntervalMs: 500, maxBackoffMs: 50, fetch: side.gate.fetch, logger: silent });
      await replica.whenSynced(10_000);
      for (const [entityId, featureId] of [['ann', 'ai-messages'], ['bob', 'ai-messages'], ['bob', 'tokens'], ['ghost', 'ai-messages']] as const) {
        expect([entityId, featureId, await check(replica, entityId, featureId, 1)]).toEqual([entityId, featureId, await check(side.client, entityId, featureId, 1)]);
      }
      // The figures are the entities' own, not a copy of the pool: ann 30, bob's hold 15, the pool both.
      expect((await check(replica, 'ann')).entity).toEqual({ entityId: 'ann', usageLimit: 100, currentUsage: 30 });
      expect((await check(replica, 'bob')).pooled).toMatchObject({ currentUsage: 45, usageLimit: 10_000 });
      expect((await check(replica, 'ghost')).accessDeniedReason).toBe('EntityNotFound');
      expect(await replica.getEntitlements({ customerId: 'acme', entityId: 'ann' })).toEqual(await side.client.getEntitlements({ customerId: 'acme', entityId: 'ann' }));

      // Decided locally against ann's own limit: 70 left of her 100.
      await expect(replica.consumeUsage({ customerId: 'acme', featureId: 'ai-messages', entityId: 'ann', amount: 71 })).rejects.toMatchObject({ code: 'USAGE_LIMIT_EXCEEDED' });
      expect((await replica.consumeUsage({ customerId: 'acme', featureId: 'ai-messages', entityId: 'ann', amount: 100, overage: 'CAP' })).granted).toBe(70);

      // Forwarded entity writes reach the replica's file before they resolve.
      await replica.createEntity({ customerId: 'acme', entityId: 'cy', featureId: 'seats' });
      expect((await check(replica, 'cy')).entity).toEqual({ entityId: 'cy', usageLimit: 100, currentUsage: 0 });
      await replica.deleteEntity({ customerId: 'acme', entityId: 'bob' });
      expect((await check(replica, 'bob')).accessDeniedReason).toBe('EntityNotFound');
      await replica.drained(10_000);
      expect((await check(side.client, 'ann')).currentUsage).toBe(100);
      await side.client.releaseReservation({ reservationId: held.reservationId });
    } finally {
      await replica?.close();
      await side.close();
    }
  });

  it('delivers usage written for entities while cut off later, each with its entityId, exactly once although answers were lost', async () => {
    const side = await entitySidecar();
    let replica: Replica | undefined;
    try {
      await side.client.provisionCustomer({ customerId: 'acme' });
      await side.client.createEntity({ customerId: 'acme', entityId: 'ann', featureId: 'seats' });
      await side.client.createEntity({ customerId: 'acme', entityId: 'bob', featureId: 'seats' });
      await side.client.consumeUsage({ customerId: 'acme', featureId: 'ai-messages', entityId: 'ann', amount: 30 });
      replica = await createReplica({ url: side.url, apiKey: FULL_KEY, replica: join(tmp.dir, 'offline.replica.db'), pollIntervalMs: 500, maxBackoffMs: 50, fetch: side.gate.fetch, logger: silent });
      await replica.whenSynced(10_000);

      side.gate.block = /./;
      await replica.reportUsage({ customerId: 'acme', featureId: 'ai-messages', entityId: 'ann', value: 5 });
      expect((await replica.consumeUsage({ customerId: 'acme', featureId: 'ai-messages', entityId: 'bob', amount: 10 })).entity).toMatchObject({ currentUsage: 10, remaining: 90 });
      // Over bob's own limit (10 + 95 > 100): refused locally, nothing queued.
      await expect(replica.consumeUsage({ customerId: 'acme', featureId: 'ai-messages', entityId: 'bob', amount: 95 })).rejects.toMatchObject({ code: 'USAGE_LIMIT_EXCEEDED' });
      await replica.reportEvent({ customerId: 'acme', eventName: 'completion', idempotencyKey: 'c-ann', entityId: 'ann', dimensions: { tokens: 7 } });
      await expect(replica.reportUsage({ customerId: 'acme', featureId: 'ai-messages', entityId: 'ghost', value: 1 })).rejects.toMatchObject({ code: 'ENTITY_NOT_FOUND' });
      expect(replica.syncState().outboxDepth).toBe(3);
      // The replica counts them at once: ann 30 + 5, bob 10, the pool 45; ann's tokens 7.
      expect([(await check(replica, 'ann')).currentUsage, (await check(replica, 'bob')).currentUsage, (await check(replica, 'bob')).pooled!.currentUsage]).toEqual([35, 10, 45]);
      expect((await check(replica, 'ann', 'tokens')).currentUsage).toBe(7);
      expect((await check(side.client, 'ann')).pooled!.currentUsage).toBe(30);

      // Back, but the sidecar's first two answers to the deliveries are lost: the same entries go again.
      side.gate.block = null;
      side.gate.lose = /^\/v1\/report/;
      side.gate.losses = 2;
      await replica.drained(10_000);
      expect(side.gate.lost).toHaveLength(2);
      expect(replica.failedDeliveries()).toEqual([]);

      const expected = { ann: 35, bob: 10, pooled: 45, annTokens: 7, pooledTokens: 7 };
      const figures = async (from: TesseraClient | Replica) => ({
        ann: (await check(from, 'ann')).currentUsage,
        bob: (await check(from, 'bob')).currentUsage,
        pooled: (await check(from, 'ann')).pooled!.currentUsage,
        annTokens: (await check(from, 'ann', 'tokens')).currentUsage,
        pooledTokens: (await check(from, 'ann', 'tokens')).pooled!.currentUsage,
      });
      expect(await figures(side.client)).toEqual(expected);
      // The sidecar's history per entity says where each unit went.
      const history = await side.client.getUsageHistory({ customerId: 'acme', featureId: 'ai-messages', groupByEntity: true, start: new Date(Date.now() - 40 * 86_400_000), end: new Date(Date.now() + 40 * 86_400_000) });
      expect(history.periods.flatMap((p) => p.entities ?? [])).toEqual([{ entityId: 'ann', usage: 35 }, { entityId: 'bob', usage: 10 }]);
      // And the replica, once it has read the sidecar's records again, shows the same.
      await replica.syncNow();
      await until('the replica to agree with the sidecar', async () => JSON.stringify(await figures(replica!)) === JSON.stringify(expected));
    } finally {
      await replica?.close();
      await side.close();
    }
  });
});

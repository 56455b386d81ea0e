// tx.createEntity / tx.deleteEntity inside engine.transaction, the same steps on every store
// (docs/transactions.md#what-runs-in-the-transaction): a rollback keeps no entity and no seat.
import { expect } from 'vitest';
import type { Engine, MeteredEntitlement } from '@tessera/core';

class Undo extends Error {}

/** Runs the steps on `engine`, whose catalog has a METERED `projects` feature, for a provisioned `customerId`. */
export async function checkTxEntities(engine: Engine, customerId: string): Promise<void> {
  const live = async () => (await engine.getEntities({ customerId })).data.filter((e) => e.deletedAt === null).map((e) => e.entityId);
  const seats = async () => ((await engine.getMeteredEntitlement({ customerId, featureId: 'projects' })) as MeteredEntitlement).currentUsage;
  const undone = await engine
    .transaction(async (tx) => {
      await tx.createEntity({ customerId, entityId: 'u1', featureId: 'projects' });
      throw new Undo();
    })
    .catch((e: unknown) => e);
  expect(undone).toBeInstanceOf(Undo);
  expect(await live()).toEqual([]);
  expect(await seats()).toBe(0);
  const created = await engine.transaction(async (tx) => {
    await tx.createEntity({ customerId, entityId: 'u1', featureId: 'projects' });
    return tx.createEntity({ customerId, entityId: 'u2', featureId: 'projects', name: 'two' });
  });
  expect(created.name).toBe('two');
  expect(await live()).toEqual(['u1', 'u2']);
  expect(await seats()).toBe(2);
  await engine
    .transaction(async (tx) => {
      await tx.deleteEntity({ customerId, entityId: 'u1' });
      throw new Undo();
    })
    .catch(() => undefined);
  expect(await live()).toEqual(['u1', 'u2']);
  expect(await seats()).toBe(2);
  const deleted = await engine.transaction((tx) => tx.deleteEntity({ customerId, entityId: 'u1' }));
  expect(deleted.deletedAt).not.toBeNull();
  expect(await live()).toEqual(['u2']);
  expect(await seats()).toBe(1);
}

import type { Context, Env as HonoEnv, Hono } from 'hono';
import { TesseraError, type Store } from '@tessera/core';
import { customerIdsFromLog, exportCustomer, MAX_REPLICA_CUSTOMERS, type ReplicaCustomers, type ReplicaSnapshot } from '../replica/records.js';

/** The routes replicas sync from (read access), besides the change feed. */
export const REPLICA_ROUTES = ['replicaSnapshot', 'replicaCustomers'] as const;

type Json = (value: unknown) => Response;

const bad = (field: string, message: string, value?: unknown) => new TesseraError('INVALID_ARGUMENT', `${field}: ${message}`, value === undefined ? { field } : { field, value });

/**
 * Adds `POST /v1/replicaSnapshot` and `POST /v1/replicaCustomers` to a sidecar app. They read the
 * engine's store directly (records as stored); without a store they answer INVALID_ARGUMENT
 * saying how to start the sidecar. Registered before the `/v1/:method` route, after the key check.
 */
export function addReplicaRoutes<E extends HonoEnv>(app: Hono<E>, store: Store | undefined, json: Json, readBody: (c: Context<E>) => Promise<unknown>): void {
  const needStore = (): Store => {
    if (!store) throw new TesseraError('INVALID_ARGUMENT', 'this sidecar serves no replicas: start it with the `store` option (tessera serve does)', { field: 'store' });
    return store;
  };

  app.post('/v1/replicaSnapshot', async (c) => {
    const s = needStore();
    const body = (await readBody(c)) as { customerIds?: unknown };
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw bad('body', 'must be a JSON object');
    if (body.customerIds !== undefined && typeof body.customerIds !== 'boolean') throw bad('customerIds', 'must be a boolean', body.customerIds);
    // The seq first: whatever commits after it reaches the replica through the feed.
    const lastChangeSeq = await s.lastChangeSeq();
    const catalogVersions = await s.transaction('read', (tx) => tx.listCatalogVersions());
    const out: ReplicaSnapshot = { lastChangeSeq, catalogVersions };
    if (body.customerIds !== false) out.customerIds = await customerIdsFromLog(s, lastChangeSeq);
    return json(out);
  });

  app.post('/v1/replicaCustomers', async (c) => {
    const s = needStore();
    const body = (await readBody(c)) as { customerIds?: unknown };
    if (typeof body !== 'object' || body === null || !Array.isArray(body.customerIds)) throw bad('customerIds', 'must be an array of customer ids');
    const ids = body.customerIds;
    if (ids.length > MAX_REPLICA_CUSTOMERS) throw bad('customerIds', `at most ${MAX_REPLICA_CUSTOMERS} per call`, ids.length);
    ids.forEach((id, i) => {
      if (typeof id !== 'string' || id === '') throw bad(`customerIds[${i}]`, 'must be a non-empty string', id);
    });
    const catalogs = await s.transaction('read', (tx) => tx.listCatalogVersions());
    const metered = new Set<string>();
    for (const v of catalogs) for (const f of v.definition.features) if (f.type === 'METERED') metered.add(f.id);
    const features = [...metered];
    const customers = await s.transaction('read', async (tx) => {
      const list = [];
      for (const id of ids as string[]) list.push(await exportCustomer(tx, id, features));
      return list;
    });
    return json({ customers } satisfies ReplicaCustomers);
  });
}

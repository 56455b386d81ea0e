/**
 * A connection lost during COMMIT (packages/postgres/README.md#when-the-database-goes-away): the
 * store cannot tell from the connection whether the write committed, so it asks the server by the
 * transaction's id (pg_xact_status) on a new connection. Shown through a TCP proxy between the
 * store and the server that cuts the connection once, exactly around a write's COMMIT:
 * - the COMMIT never reaches the server: rolled back, the write runs again (counted once);
 * - the server commits but its answer is cut: committed, the call returns without running again
 *   (an unkeyed report counted once, not twice);
 * - the answer is cut and the server stays unreachable past reconnectTimeoutMs: STORE_UNAVAILABLE
 *   with details.outcome 'unknown', and a retry with the same idempotency key counts once;
 * - no connection can be had at all: STORE_UNAVAILABLE with details.outcome 'not written'.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine, isTesseraError, type Engine } from '@tessera/core';
import { postgresStore } from '@tessera/postgres';
import { demoCatalog } from '../engine/stores.js';
import { freshSchema, onPglite, pgUrl } from '../support/pg-stores.js';
import { startRestartablePostgres, type PostgresServer } from '../support/postgres-server.js';

type Cut = 'pass' | 'before-commit' | 'commit-answer';

/** A proxy that cuts one connection at the next write COMMIT it sees ("COMMIT; NOTIFY ..."), as `cut` says. */
class CuttingProxy {
  cut: Cut = 'pass';
  /** Refuse new connections (close them at once): the server looks down. */
  refuse = false;
  /** How many cuts were made. */
  cuts = 0;
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  port = 0;

  constructor(private readonly target: { host: string; port: number }) {
    this.server = createServer((client) => this.accept(client));
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as { port: number }).port;
  }

  /** Closes every connection through the proxy. */
  dropAll(): void {
    for (const s of this.sockets) s.destroy();
  }

  async stop(): Promise<void> {
    this.dropAll();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: Socket): void {
    if (this.refuse) {
      client.destroy();
      return;
    }
    const upstream = connect(this.target.port, this.target.host);
    this.sockets.add(client).add(upstream);
    let cutAnswer = false;
    const cutBoth = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('data', (chunk) => {
      // The store's write COMMIT: a simple query message whose text starts with COMMIT and
      // announces the commit after it ("COMMIT; NOTIFY ...").
      if (this.cut !== 'pass' && chunk.includes('COMMIT; NOTIFY')) {
        const how = this.cut;
        this.cut = 'pass';
        this.cuts++;
        if (how === 'before-commit') return cutBoth();
        cutAnswer = true;
      }
      upstream.write(chunk);
    });
    upstream.on('data', (chunk) => (cutAnswer ? cutBoth() : client.write(chunk)));
    for (const [a, b] of [
      [client, upstream],
      [upstream, client],
    ] as const) {
      a.on('error', () => b.destroy());
      a.on('close', () => {
        b.destroy();
        this.sockets.delete(a);
      });
    }
  }
}

let own: PostgresServer | undefined;
let url: string;
let proxy: CuttingProxy;

beforeAll(async () => {
  if (onPglite()) {
    // The run has no server (PGlite has no connections to cut): this file starts one of its own.
    own = await startRestartablePostgres();
    if (!own) throw new Error('this test needs a PostgreSQL server: the server binaries, or TESSERA_PG_URL');
  }
  url = own?.url ?? pgUrl();
  const target = new URL(url);
  proxy = new CuttingProxy({ host: target.hostname, port: Number(target.port || 5432) });
  await proxy.start();
});

afterAll(async () => {
  await proxy?.stop();
  await own?.stop();
});

/** An engine whose store goes through the proxy; no follower, so that the only COMMITs with NOTIFY are the test's writes. */
async function engineThroughProxy(schema: string, reconnectTimeoutMs: number): Promise<Engine> {
  const through = new URL(url);
  through.hostname = '127.0.0.1';
  through.port = String(proxy.port);
  return createEngine({
    store: postgresStore({ connectionString: through.toString(), schema, poolSize: 2, reconnectTimeoutMs }),
    catalog: demoCatalog,
    followIntervalMs: 0,
  });
}

async function stored(schema: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const r = await client.query<{ v: string }>(`SELECT coalesce(sum(value), 0)::text AS v FROM ${schema}.usage WHERE customer_id = 'acme' AND feature_id = 'api-calls'`);
    return Number(r.rows[0]!.v);
  } finally {
    await client.end();
  }
}

describe('postgres: a connection lost around COMMIT', () => {
  it('runs a write again when its COMMIT never reached the server, and not when the server committed it', async () => {
    const schema = freshSchema('commit');
    const engine = await engineThroughProxy(schema, 5_000);
    try {
      await engine.provisionCustomer({ customerId: 'acme' });

      proxy.cut = 'before-commit';
      const first = await engine.reportUsage({ customerId: 'acme', featureId: 'api-calls', value: 1 });
      expect(proxy.cuts).toBe(1);
      expect(first.currentUsage).toBe(1);
      expect(await stored(schema)).toBe(1);

      // No idempotency key: running it again would count it twice. The lookup finds it committed.
      proxy.cut = 'commit-answer';
      const second = await engine.reportUsage({ customerId: 'acme', featureId: 'api-calls', value: 1 });
      expect(proxy.cuts).toBe(2);
      expect(second.currentUsage).toBe(2);
      expect(await stored(schema)).toBe(2);
    } finally {
      await engine.close();
    }
  });

  it('says the outcome is unknown when the server stays away, and a keyed retry then counts once', async () => {
    const schema = freshSchema('commit');
    const engine = await engineThroughProxy(schema, 300);
    try {
      await engine.provisionCustomer({ customerId: 'acme' });
      proxy.cut = 'commit-answer';
      proxy.refuse = true;
      let error: unknown;
      try {
        await engine.reportUsage({ customerId: 'acme', featureId: 'api-calls', value: 5, idempotencyKey: 'req-1' });
      } catch (e) {
        error = e;
      } finally {
        proxy.refuse = false;
      }
      expect(isTesseraError(error, 'STORE_UNAVAILABLE'), String(error)).toBe(true);
      expect((error as { details: Record<string, unknown> }).details.outcome).toBe('unknown');
      // It had committed: the retry with the key is answered from its record.
      const retried = await engine.reportUsage({ customerId: 'acme', featureId: 'api-calls', value: 5, idempotencyKey: 'req-1' });
      expect(retried.currentUsage).toBe(5);
      expect(await stored(schema)).toBe(5);
    } finally {
      await engine.close();
    }
  });

  it('fails with outcome "not written" when no connection can be had, and works once the server is back', async () => {
    const schema = freshSchema('commit');
    const engine = await engineThroughProxy(schema, 200);
    try {
      await engine.provisionCustomer({ customerId: 'acme' });
      proxy.refuse = true;
      // The pool's idle connections go too, as in a server restart.
      proxy.dropAll();
      let error: unknown;
      try {
        await engine.reportUsage({ customerId: 'acme', featureId: 'api-calls', value: 2, idempotencyKey: 'req-2' });
      } catch (e) {
        error = e;
      } finally {
        proxy.refuse = false;
      }
      expect(isTesseraError(error, 'STORE_UNAVAILABLE'), String(error)).toBe(true);
      expect((error as { details: Record<string, unknown> }).details.outcome).toBe('not written');
      expect(await stored(schema)).toBe(0);
      expect((await engine.reportUsage({ customerId: 'acme', featureId: 'api-calls', value: 2, idempotencyKey: 'req-2' })).currentUsage).toBe(2);
    } finally {
      await engine.close();
    }
  });
});

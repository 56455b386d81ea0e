/**
 * What the PostgreSQL benches share: a store wrapper that counts transactions and retries, and
 * the clean-up of schemas made on a server the run does not own.
 */
import type { Store } from '@tessera/core';
import pg from 'pg';

/** Write transactions, the times their callback ran (one more per serialization-failure retry), and read transactions. */
export interface Tally {
  transactions: number;
  attempts: number;
  reads: number;
}

/**
 * `store`, counting into `tally`. `watch: false` hides the store's watchChanges, so that an
 * engine's change follower only polls.
 */
export function countedStore(store: Store, tally: Tally, opts: { watch?: boolean } = {}): Store {
  return {
    kind: store.kind,
    ...(store.concurrentWrites !== undefined ? { concurrentWrites: store.concurrentWrites } : {}),
    open: () => store.open(),
    close: () => store.close(),
    transaction: (mode, fn, options) => {
      if (mode !== 'write') {
        tally.reads++;
        return store.transaction(mode, fn, options);
      }
      tally.transactions++;
      return store.transaction(
        mode,
        (tx) => {
          tally.attempts++;
          return fn(tx);
        },
        options,
      );
    },
    getChanges: (after, limit) => store.getChanges(after, limit),
    lastChangeSeq: () => store.lastChangeSeq(),
    ...(store.watchChanges && opts.watch !== false ? { watchChanges: (onChange: (seq?: number) => void) => store.watchChanges!(onChange) } : {}),
  };
}

/** On a server of TESSERA_PG_URL (not a throwaway one), the schemas a run made are dropped at the end. */
export async function dropSchemas(url: string, schemas: string[]): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    for (const s of schemas) await client.query(`drop schema if exists ${s} cascade`);
  } finally {
    await client.end();
  }
}

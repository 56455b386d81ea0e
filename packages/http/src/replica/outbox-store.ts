/**
 * The store the replica's local engine writes through: the replica file's store, whose write
 * transaction made for a local usage write also appends that write's outbox entries, in the same
 * transaction (packages/http/README.md#replicas, "The outbox").
 */
import type { Store, StoreTx, TransactionMode } from '@tessera/core';
import type { NewOutboxEntry, Outbox } from './outbox.js';

/** What one local usage write queues, built from what its transaction returned. */
export type OutboxEntries = (result: unknown) => readonly NewOutboxEntry[];

interface Turn {
  entries: OutboxEntries;
  release(): void;
}

/**
 * Local usage writes and the outbox entries they queue. Which write transaction belongs to which
 * engine call is known by taking turns: a write holds the turn from its start until the engine
 * asks the store for its write transaction (or the call settles without one), so the write
 * transaction asked for meanwhile is its own. Only the local usage writes write through this
 * store (sync-down writes the replica file through the inner store). The turn ends before the
 * transaction runs, so concurrent writes still share a commit (the SQLite store's group commit).
 * An AsyncLocalStorage would say the same without turns, but on Node 20 it slows every promise
 * of the process (measured: 3 to 5 times on an await loop), the replica's checks included.
 */
export class OutboxWrites {
  private turn: Turn | undefined;
  private queue: Promise<void> = Promise.resolve();

  constructor(private readonly outbox: Outbox) {}

  /** Runs `apply` (one local engine call) so that its write transaction queues `entries` before it commits. */
  async run<T>(entries: OutboxEntries, apply: () => Promise<T>): Promise<T> {
    let release!: () => void;
    const previous = this.queue;
    this.queue = new Promise<void>((resolve) => (release = resolve));
    await previous;
    let released = false;
    const turn: Turn = {
      entries,
      release: () => {
        if (released) return;
        released = true;
        if (this.turn === turn) this.turn = undefined;
        release();
      },
    };
    this.turn = turn;
    try {
      return await apply();
    } finally {
      turn.release();
    }
  }

  /**
   * Wraps the replica file's store. The write transaction asked for during a turn runs the
   * engine's callback, then appends the entries on the same connection, inside the same
   * transaction: a crash anywhere before the commit keeps neither the usage nor its entry.
   */
  store(inner: Store): Store {
    const { outbox } = this;
    const store: Store = {
      kind: inner.kind,
      ...(inner.concurrentWrites !== undefined ? { concurrentWrites: inner.concurrentWrites } : {}),
      open: () => inner.open(),
      transaction: <T>(mode: TransactionMode, fn: (tx: StoreTx) => Promise<T>): Promise<T> => {
        const turn = mode === 'write' ? this.turn : undefined;
        if (!turn) return inner.transaction(mode, fn);
        turn.release();
        let added = 0;
        return inner
          .transaction(mode, async (tx) => {
            const result = await fn(tx);
            added = outbox.appendIn(tx, turn.entries(result));
            return result;
          })
          .then((result) => {
            outbox.noteAppended(added);
            return result;
          });
      },
      getChanges: (after, limit) => inner.getChanges(after, limit),
      lastChangeSeq: () => inner.lastChangeSeq(),
      close: () => inner.close(),
    };
    if (inner.watchChanges) store.watchChanges = (onChange) => inner.watchChanges!(onChange);
    return store;
  }
}

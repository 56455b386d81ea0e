/**
 * Tessera's writes inside a transaction the application opened on its own `pg` connection
 * (`engine.transaction(fn, { connection })`): packages/postgres/README.md#in-your-own-transaction.
 * The application owns BEGIN, COMMIT, ROLLBACK and any retry; Tessera checks the transaction can
 * hold its writes safely, and keeps what it writes undoable on its own (a savepoint).
 */
import { TesseraError, invalidArgument, type StoreTx } from '@tessera/core';
import { SqlTx, type Statements } from '@tessera/sql';
import { TAKE_WRITER_LOCK_OF } from './changes.js';
import { pgExecutor, toStoreError, type ErrorContext, type PgQueryable, type PgStatement } from './dialect.js';
import { TxConnection, isApplicationError } from './tx-connection.js';

/** What joining needs of the store. */
export interface JoinContext {
  statements: Statements<PgStatement>;
  /** The NOTIFY channel of the schema's change feed. */
  channel: string;
  /** Tessera's schema (its current_schema at open). */
  schema: string;
  ctx: ErrorContext;
  /** Where connectionOf finds the shared connection of a StoreTx. */
  shared: WeakMap<StoreTx, TxConnection>;
}

/** A pg client as the application hands it: `query`, and where its transaction stands. */
interface AppClient extends PgQueryable {
  getTransactionStatus(): string | null;
}

const SAVEPOINT = 'tessera_join';

/**
 * Runs `fn` on the application's connection, inside the transaction it opened. Throws
 * INVALID_ARGUMENT (nothing sent but reads of settings) when the connection is not a pg client in
 * a SERIALIZABLE read-write transaction; CONFLICT when that transaction already failed. When `fn`
 * or a statement fails, Tessera's part (and the application's statements made in `fn`) are rolled
 * back to a savepoint and the error rethrown: the application's transaction stays open, the
 * application decides. A serialization failure rethrown so must end that transaction: roll it
 * back and run it again.
 */
export async function joinApplicationTransaction<T>(d: JoinContext, connection: unknown, fn: (tx: StoreTx) => Promise<T>): Promise<T> {
  const client = asClient(connection);
  const status = client.getTransactionStatus();
  if (status === 'E') throw new TesseraError('CONFLICT', 'options.connection: its transaction already failed; roll it back (and run it again)');
  if (status !== 'T') throw invalidArgument('options.connection', 'is not inside a transaction: send BEGIN ISOLATION LEVEL SERIALIZABLE on it first');
  const q = async (text: string, values: unknown[] = []) => (await client.query({ text, values, rowMode: 'array' })).rows;
  let settings: unknown[];
  try {
    settings = (await q(`SELECT current_setting('transaction_isolation'), current_setting('transaction_read_only'), current_setting('search_path')`))[0]!;
  } catch (e) {
    throw toStoreError(e, d.ctx, 'joining the application’s transaction');
  }
  const [isolation, readOnly, searchPath] = settings as [string, string, string];
  if (isolation !== 'serializable') {
    throw invalidArgument(
      'options.connection',
      `its transaction runs at ${isolation.toUpperCase()}; Tessera's writes need SERIALIZABLE (a quota checked at a lower level can be overshot by concurrent writers): BEGIN ISOLATION LEVEL SERIALIZABLE`,
      { isolation },
    );
  }
  if (readOnly === 'on') throw invalidArgument('options.connection', 'its transaction is READ ONLY; Tessera writes');

  const state = { open: true };
  let appended = false;
  let saved = false;
  try {
    // The writer lock is the top-level transaction's (taken before the savepoint), held to its
    // end: the change feed's gap check then waits for the application's commit (changes.ts).
    // Tessera's tables first, then whatever the application searched: its statements in `fn`
    // find its own tables as before. Put back after `fn` (set_config(..., true) is transaction-local).
    // By name: current_schema() is the application's here, and a lock under another name would
    // let the feed step over this transaction's changes before they commit.
    await q(`SELECT ${TAKE_WRITER_LOCK_OF}`, [d.schema]);
    await client.query(`SAVEPOINT ${SAVEPOINT}`);
    saved = true;
    await q(`SELECT set_config('search_path', $1, true)`, [`"${d.schema}", ${searchPath}`]);
    const shared = new TxConnection(client, state);
    const executor = pgExecutor(shared.forStore, (s) => {
      if (d.statements.appendsChanges(s)) appended = true;
    });
    const tx = new SqlTx(d.statements, executor, 'write', state, (e, doing) => toStoreError(e, d.ctx, doing));
    d.shared.set(tx, shared);
    const result = await fn(tx);
    state.open = false;
    // A statement of the application's that failed and was caught left the transaction aborted.
    const aborted = await shared.abortedBy();
    if (aborted !== undefined) throw aborted;
    // Delivered when, and only if, the application commits.
    if (appended) await client.query(`NOTIFY ${d.channel}`);
    await q(`SELECT set_config('search_path', $1, true)`, [searchPath]);
    await client.query(`RELEASE SAVEPOINT ${SAVEPOINT}`);
    return result;
  } catch (e) {
    state.open = false;
    if (saved) {
      // Fails only when the connection is gone: the application's transaction is then lost anyway.
      await client
        .query(`ROLLBACK TO SAVEPOINT ${SAVEPOINT}; RELEASE SAVEPOINT ${SAVEPOINT}`)
        .then(() => q(`SELECT set_config('search_path', $1, true)`, [searchPath]))
        .catch(() => undefined);
    }
    if (isApplicationError(e)) throw e;
    throw toStoreError(e, d.ctx, 'a write in the application’s transaction');
  }
}

function asClient(connection: unknown): AppClient {
  const c = connection as Partial<AppClient> | null;
  if (c === null || typeof c !== 'object' || typeof c.query !== 'function' || typeof c.getTransactionStatus !== 'function') {
    throw invalidArgument('options.connection', 'pass the pg Client or PoolClient your transaction runs on (pg 8.11 or later)');
  }
  return c as AppClient;
}

/**
 * The connection of a write transaction as `engine.transaction` hands it to the application
 * (`tx.connection`, and `tx.db`, a kysely instance on it): packages/postgres/README.md#one-transaction-with-your-application.
 */
import { TesseraError } from '@tessera/core';
import { Kysely, PostgresDialect, PostgresDriver, type DatabaseConnection, type TransactionSettings } from 'kysely';
import type { PgQueryable } from './dialect.js';

const ENDED = 'engine.transaction: the transaction already ended; run statements on tx.db / tx.connection only while its callback runs';

/**
 * One write transaction's connection, shared by Tessera's statements and the application's: every
 * query waits for the one before it (pg 8 warns on queries sent while one runs, pg 9 refuses them),
 * and once the transaction ended (`state.open` false) a query rejects with CONFLICT instead of
 * running on a connection back in the pool, perhaps inside someone else's transaction.
 */
/** Failures of the application's own statements, which reach the application as pg raised them. */
const applicationErrors = new WeakSet<object>();

/** True for an error a statement of the application's (tx.db, tx.connection) raised: the store passes it on untranslated. */
export function isApplicationError(e: unknown): boolean {
  return typeof e === 'object' && e !== null && applicationErrors.has(e);
}

export class TxConnection {
  private tail: Promise<unknown> = Promise.resolve();
  private builder: Kysely<any> | undefined;

  constructor(
    private readonly client: PgQueryable,
    private readonly state: { readonly open: boolean },
  ) {}

  /** What must run before an application statement: the store's BEGIN, deferred to its first statement. */
  private beforeApp: (() => Promise<void>) | undefined;

  /** Sets what runs before each application statement (cheap once it has run). */
  beforeApplication(hook: () => Promise<void>): void {
    this.beforeApp = hook;
  }

  /** `pg`'s `client.query` for the application, in turn with the transaction's other statements. */
  query(...args: unknown[]): Promise<any> {
    return this.beforeApp ? this.beforeApp().then(() => this.applicationQuery(args)) : this.applicationQuery(args);
  }

  private applicationQuery(args: unknown[]): Promise<any> {
    const result = this.queue(args);
    result.catch((e: unknown) => {
      if (typeof e === 'object' && e !== null && !(e instanceof TesseraError)) {
        applicationErrors.add(e);
        // "current transaction is aborted" (25P02) follows the failure that aborted it: keep that one.
        if (this.failure === undefined || (e as { code?: unknown }).code !== '25P02') this.failure = { error: e };
      }
    });
    return result;
  }

  /** The last failure of a statement of the application's (but for 25P02). */
  private failure: { error: unknown } | undefined;

  /**
   * The error that left the transaction aborted when the application caught it and went on;
   * undefined when the transaction is usable (no statement of the application's failed, or it
   * rolled back to a savepoint of its own). Asks the server only after a failure: pg rejects a
   * query before it hears the transaction status, so the client's own status may be stale.
   */
  async abortedBy(): Promise<unknown> {
    if (this.failure === undefined) return undefined;
    await this.tail;
    try {
      await this.client.query('SELECT 1');
      return undefined;
    } catch (e) {
      if ((e as { code?: unknown }).code === '25P02') return this.failure.error;
      throw e;
    }
  }

  /** The same queue for Tessera's own statements (pgExecutor): their failures are translated as usual. */
  readonly forStore = { query: (...args: unknown[]): Promise<any> => this.queue(args) } as unknown as PgQueryable;

  private queue(args: unknown[]): Promise<any> {
    if (!this.state.open) return Promise.reject(new TesseraError('CONFLICT', ENDED));
    const result = this.tail.then(() => {
      if (!this.state.open) throw new TesseraError('CONFLICT', ENDED);
      return (this.client.query as (...a: unknown[]) => Promise<unknown>)(...args);
    });
    // Only the queue's order ignores a failure: the caller gets it through `result`.
    this.tail = result.catch(() => undefined);
    return result;
  }

  /** A kysely instance whose queries run on this connection, made on first use. */
  kysely(): Kysely<any> {
    const client = { query: (sql: string, parameters: unknown[]) => this.query(sql, parameters), release: () => undefined };
    this.builder ??= new Kysely<any>({
      dialect: new (class extends PostgresDialect {
        override createDriver() {
          return new InTransactionDriver({ pool: { connect: async () => client, end: async () => undefined } as never });
        }
      })({ pool: {} as never }),
    });
    return this.builder;
  }
}

/**
 * A driver for queries inside a transaction Tessera opened: a nested `db.transaction()` would send
 * BEGIN and then COMMIT, committing Tessera's transaction half way through its callback, so it is refused.
 */
class InTransactionDriver extends PostgresDriver {
  override beginTransaction(_connection: DatabaseConnection, _settings: TransactionSettings): Promise<void> {
    return Promise.reject(
      new TesseraError('CONFLICT', 'tx.db is already inside the transaction engine.transaction opened: run your statements on it directly, without db.transaction()'),
    );
  }
}

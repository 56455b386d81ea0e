// What a dialect supplies to SqlTx, split out of tx.ts so a dialect's author finds the contract without reading every StoreTx operation.

/** A result a dialect gives now (SQLite runs statements synchronously) or later (PostgreSQL). */
export type Maybe<T> = T | Promise<T>;

/**
 * How a dialect runs one prepared statement inside the transaction it has open. Rows come back
 * as arrays in the statement's column order, with the values the row mappers expect (numbers for
 * integer columns, strings for text).
 */
export interface SqlExecutor<S> {
  all(statement: S, args: readonly unknown[]): Maybe<unknown[][]>;
  get(statement: S, args: readonly unknown[]): Maybe<unknown[] | undefined>;
  /** Runs a write; resolves to the number of rows it changed. */
  run(statement: S, args: readonly unknown[]): Maybe<number>;
  /** Runs a write once per argument list, in order; the rows each run changed. */
  runEach(statement: S, argsList: readonly (readonly unknown[])[]): Maybe<number[]>;
  /**
   * Runs an INSERT into a table keyed by an integer rowid and returns the rowid it gave, where
   * the driver reports it without a RETURNING clause (SQLite); absent elsewhere.
   */
  insertId?(statement: S, args: readonly unknown[]): number;
  /**
   * True where each statement costs a round trip to a server (PostgreSQL): batches are then sent
   * as multi-row statements. False where statements run in process (SQLite), for which a prepared
   * one-row statement per row measured faster than a multi-row one.
   */
  readonly roundTrips: boolean;
}

/** Turns a driver's error into the TesseraError callers branch on (or returns it unchanged). */
export type TranslateError = (e: unknown, doing: string) => unknown;

export const isPromise = <T>(x: Maybe<T>): x is Promise<T> => typeof (x as { then?: unknown } | null)?.then === 'function';

/** The results together: at once when every one is there now (SQLite), else as one promise. */
export const settle = <T>(xs: Maybe<T>[]): Maybe<T[]> => (xs.some(isPromise) ? Promise.all(xs) : (xs as T[]));

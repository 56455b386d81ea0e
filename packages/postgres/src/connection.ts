/**
 * Connections that go away: an error listener on every connection the store borrows, telling a
 * lost connection from a failed statement, the backoff between attempts, and finding out whether
 * a transaction whose COMMIT got no answer committed (packages/postgres/README.md#when-the-database-goes-away).
 */
import { sqlState, type PgPool, type PgPoolClient, type PgQueryable } from './dialect.js';

/** What the store needs of a connection's events: pg's clients are EventEmitters; PGlite's pool clients are not. */
interface Emitting {
  on(event: 'error', listener: (e: Error) => void): unknown;
  removeListener(event: 'error', listener: (e: Error) => void): unknown;
}

const emits = (c: unknown): c is Emitting =>
  typeof (c as Partial<Emitting>).on === 'function' && typeof (c as Partial<Emitting>).removeListener === 'function';

/**
 * A connection borrowed from the pool, with an error listener for as long as it is borrowed.
 * pg emits `'error'` on a client whose connection fails, also while a query of it is running
 * (the query rejects too), and pg-pool listens only while the client is idle in the pool: without
 * a listener of ours, a connection dropped mid-call is an unhandled 'error' event, which ends
 * the process.
 */
export class Lease {
  /** The connection's own error, once it failed: the client is then unusable and is dropped on release. */
  lost: Error | undefined;
  private readonly onError = (e: Error) => {
    this.lost ??= e;
  };
  private released = false;

  private constructor(readonly client: PgPoolClient) {
    if (emits(client)) client.on('error', this.onError);
  }

  /** Borrows a connection; rejects with the pool's error (the caller translates it). */
  static async take(pool: PgPool): Promise<Lease> {
    return new Lease(await pool.connect());
  }

  /** Gives the connection back; `broken` (or a connection error seen meanwhile) makes the pool drop it. */
  release(broken?: unknown): void {
    if (this.released) return;
    this.released = true;
    const drop = this.lost ?? broken;
    // release() first: pg-pool puts its own idle listener back before ours goes, so the client is
    // never without one.
    this.client.release(drop === undefined ? undefined : drop instanceof Error ? drop : new Error(String(drop)));
    if (emits(this.client)) this.client.removeListener('error', this.onError);
  }
}

/** Error codes of Node's sockets that mean the server cannot be reached or the connection broke. */
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNABORTED']);

/** pg's messages for a connection that ended or failed (it sets no code on these). */
const LOST_MESSAGE = /Connection terminated|not queryable|Client was closed|Connection ended|timeout exceeded when trying to connect|Client has encountered a connection error/i;

/**
 * True when `e` (or an error it wraps) says the connection was lost or could not be made, as
 * opposed to a statement the server refused: socket errors, pg's "Connection terminated", SQLSTATE
 * class 08 (connection exception), 57P01..57P03 (the server shutting down, crashed, starting up)
 * and 53300 (too many connections). A transaction that failed so never committed, unless the
 * failure came during its COMMIT.
 */
export function isConnectionLoss(e: unknown): boolean {
  for (let x = e, depth = 0; x !== null && typeof x === 'object' && depth < 4; x = (x as { cause?: unknown }).cause, depth++) {
    const state = sqlState(x);
    if (state !== undefined) return state.startsWith('08') || state === '57P01' || state === '57P02' || state === '57P03' || state === '53300';
    const code = (x as { code?: unknown }).code;
    if (typeof code === 'string' && SOCKET_CODES.has(code)) return true;
    if (LOST_MESSAGE.test((x as { message?: unknown }).message as string)) return true;
  }
  return false;
}

/**
 * A pause before attempt `attempt + 1` after a lost connection: exponential from `baseMs`, capped
 * at `capMs`, with full jitter (a random share of it), so that processes that lost the server
 * together do not come back in step.
 */
export function backoffMs(attempt: number, baseMs: number, capMs: number): number {
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.min(attempt, 20));
  return ceiling / 2 + (Math.random() * ceiling) / 2;
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * What became of a transaction, by its 64-bit id (`pg_current_xact_id()`): `committed`, `aborted`
 * (also when the server has not reached that id: a failover lost it), `in progress`, or `unknown`
 * (too old for the server to remember).
 */
export async function transactionStatus(client: PgQueryable, xid: string): Promise<'committed' | 'aborted' | 'in progress' | 'unknown'> {
  try {
    const r = await client.query({ text: 'SELECT pg_xact_status($1::text::xid8)', values: [xid], rowMode: 'array' });
    const status = r.rows[0]?.[0];
    return status === 'committed' || status === 'aborted' || status === 'in progress' ? status : 'unknown';
  } catch (e) {
    // "transaction ID ... is in the future": this server never handed it out (a standby promoted
    // before it received the commit), so nothing of the transaction is here.
    if (sqlState(e) === '22023') return 'aborted';
    throw e;
  }
}

/** A write whose COMMIT got no answer: it may have committed. Carries what is needed to find out. */
export class UnknownCommit<T> extends Error {
  constructor(
    readonly xid: string,
    readonly result: T,
    readonly lostWith: unknown,
  ) {
    super('the connection was lost during COMMIT');
  }
}

/** The transaction id a write's BEGIN selected: the first column of the last result's row (as an array or an object). */
export function xidOf(results: readonly unknown[]): string | undefined {
  const row = (results[results.length - 1] as { rows?: unknown[] } | undefined)?.rows?.[0];
  const xid = Array.isArray(row) ? row[0] : (row as { xid?: unknown } | undefined)?.xid;
  return typeof xid === 'string' ? xid : undefined;
}

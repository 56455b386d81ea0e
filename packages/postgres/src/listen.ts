/**
 * The LISTEN connection of a store's change feed, kept up for as long as someone watches: when it
 * goes away (server restart, failover, a terminated backend), it is opened again with exponential
 * backoff and jitter, and the watchers are told to read the feed once it is back, since
 * notifications sent meanwhile were lost (packages/postgres/README.md#when-the-database-goes-away).
 */
import { TesseraError, invalidArgument, type WatchOptions } from '@tessera/core';
import { backoffMs } from './connection.js';
import { toStoreError, type ErrorContext, type PgPool, type PgPoolClient } from './dialect.js';

/** First pause before opening the LISTEN connection again, in ms; it doubles up to the cap. */
export const LISTEN_RETRY_BASE_MS = 100;
/** Longest pause between two attempts at the LISTEN connection, in ms. */
export const LISTEN_RETRY_CAP_MS = 5_000;

/** A connection that can LISTEN: a pg client borrowed from a pool. */
export interface ListenClient extends PgPoolClient {
  on(event: 'notification', listener: (message: { payload?: string | undefined }) => void): unknown;
  on(event: 'error' | 'end', listener: (e?: Error) => void): unknown;
}

export interface ListenerOptions {
  /** Borrows the connection to LISTEN on. */
  connect(): Promise<ListenClient>;
  /** The channel, a quoted identifier. */
  channel: string;
  /**
   * A notification came (`seq`: the highest seq its transaction appended, when it says), or the
   * connection is back after being lost (no seq): read the feed.
   */
  onNotify(seq?: number): void;
  /** The connection was lost, or opening it again failed (it keeps trying). */
  onError(error: TesseraError): void;
  /** Where the store is (host:port/database), for messages. */
  where: string;
}

/**
 * Holds one LISTEN connection from `start()` to `stop()`, opening it again whenever it is lost.
 * Never throws: failures go to `onError`, and followers poll meanwhile.
 */
export class ChangeListener {
  private client: ListenClient | undefined;
  private stopped = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private attempt = 0;

  constructor(private readonly o: ListenerOptions) {}

  start(): void {
    void this.open();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const client = this.client;
    this.client = undefined;
    // Closed rather than given back: the pool would otherwise keep a connection still subscribed
    // to the channel, with this listener's handlers on it.
    client?.release(true);
  }

  private async open(): Promise<void> {
    this.timer = undefined;
    let client: ListenClient | undefined;
    let failed: Error | undefined;
    try {
      client = await this.o.connect();
      // Listeners before the first statement: a connection can fail while LISTEN runs.
      client.on('error', (e?: Error) => this.lose(client!, e));
      client.on('end', () => this.lose(client!, undefined));
      client.on('notification', (message) => this.o.onNotify(seqOf(message.payload)));
      await client.query(`LISTEN ${this.o.channel}`);
    } catch (e) {
      failed = e instanceof Error ? e : new Error(String(e));
    }
    if (this.stopped) {
      client?.release(true);
      return;
    }
    if (failed !== undefined || client === undefined) {
      client?.release(failed ?? true);
      this.o.onError(this.error(`opening the LISTEN connection again failed (attempt ${this.attempt + 1}); trying again`, failed));
      this.retry();
      return;
    }
    this.client = client;
    this.attempt = 0;
    // Commits made while no connection listened (before this one, or between a lost one and
    // this) sent notifications nobody got: one read of the feed covers them.
    this.o.onNotify();
  }

  private lose(client: ListenClient, e: Error | undefined): void {
    if (this.client !== client) return;
    this.client = undefined;
    client.release(e ?? true);
    if (this.stopped) return;
    this.o.onError(this.error('the LISTEN connection was lost; opening it again (followers poll meanwhile)', e));
    this.retry();
  }

  private retry(): void {
    if (this.stopped || this.timer) return;
    const delay = backoffMs(this.attempt++, LISTEN_RETRY_BASE_MS, LISTEN_RETRY_CAP_MS);
    this.timer = setTimeout(() => void this.open(), delay);
    // A process whose only remaining work is this retry may exit.
    this.timer.unref?.();
  }

  private error(message: string, cause: Error | undefined): TesseraError {
    const err = new TesseraError('STORE_UNAVAILABLE', `${message}: PostgreSQL at ${this.o.where}${cause ? ` (${cause.message})` : ''}`, { where: this.o.where });
    if (cause) Object.defineProperty(err, 'cause', { value: cause, enumerable: false, configurable: true, writable: true });
    return err;
  }
}

/** The seq a notification's payload carries (store.ts sends the highest seq a commit appended), if any. */
export function seqOf(payload: string | undefined): number | undefined {
  if (payload === undefined || !/^[1-9][0-9]{0,15}$/.test(payload)) return undefined;
  const seq = Number(payload);
  return Number.isSafeInteger(seq) ? seq : undefined;
}

/** A watcher of `watchChanges`. */
interface Watcher {
  onChange: (seq?: number) => void;
  onError: ((error: Error) => void) | undefined;
}

/**
 * The watchers of a store's `watchChanges`, and the LISTEN connection held while there is one:
 * a ChangeListener on a connection of the pool, or the pool's own `listen` (PGlite, in process).
 */
export class ChangeWatchers {
  private readonly watchers = new Set<Watcher>();
  private stopListening: (() => Promise<void>) | undefined;
  private listening: Promise<void> | undefined;
  private closed = false;

  /** `ready`: the store's pool and channel once it is open; rejects when it is not (closed). */
  constructor(
    private readonly ready: () => Promise<{ pool: PgPool; channel: string }>,
    private readonly ctx: ErrorContext,
  ) {}

  /** See the store's `watchChanges`. Throws INVALID_ARGUMENT when `onChange` or `onError` is not a function. */
  add(onChange: (seq?: number) => void, options: WatchOptions = {}): () => void {
    if (typeof onChange !== 'function') throw invalidArgument('onChange', 'pass a function');
    if (options === null || typeof options !== 'object') throw invalidArgument('options', 'pass { onError } or nothing');
    if (options.onError !== undefined && typeof options.onError !== 'function') throw invalidArgument('onError', 'pass a function or leave it out');
    const watcher: Watcher = { onChange, onError: options.onError };
    this.watchers.add(watcher);
    void this.listen();
    return () => {
      this.watchers.delete(watcher);
      if (this.watchers.size === 0) void this.unlisten();
    };
  }

  /** Tells the watchers of a failure no call sees. */
  report(error: unknown): void {
    const err = error instanceof Error ? error : new Error(String(error));
    for (const w of this.watchers) {
      try {
        w.onError?.(err);
      } catch {
        // A watcher's failure is its own.
      }
    }
  }

  /** Stops listening for good (the store closes). */
  async close(): Promise<void> {
    this.closed = true;
    await this.listening?.catch(() => undefined);
    await this.unlisten();
  }

  private notify(seq?: number): void {
    for (const w of this.watchers) {
      try {
        w.onChange(seq);
      } catch {
        // A watcher's failure is its own.
      }
    }
  }

  private listen(): Promise<void> {
    this.listening ??= (async () => {
      try {
        const { pool, channel } = await this.ready();
        if (pool.listen) {
          this.stopListening = await pool.listen(channel, (payload) => this.notify(seqOf(payload)));
        } else {
          const listener = new ChangeListener({
            connect: () => pool.connect() as Promise<ListenClient>,
            channel,
            onNotify: (seq) => this.notify(seq),
            onError: (e) => this.report(e),
            where: this.ctx.where,
          });
          listener.start();
          this.stopListening = async () => listener.stop();
        }
        if (this.closed || this.watchers.size === 0) await this.unlisten();
      } catch (e) {
        this.listening = undefined;
        this.report(toStoreError(e, this.ctx, 'listening for changes'));
      }
    })();
    return this.listening;
  }

  private async unlisten(): Promise<void> {
    const stop = this.stopListening;
    this.stopListening = undefined;
    this.listening = undefined;
    await stop?.().catch(() => undefined);
  }
}

/**
 * How a replica reports what fails where no caller sees it (deliveries, sync): the replica's
 * `error` event and its `logger`, shaped as the engine's (packages/core/docs/operating.md#errors).
 */
import type { EventEmitter } from 'node:events';
import { describeError, FailureStreak, isTesseraError, safeLog, type Clock, type EngineErrorEvent, type Logger } from '@tessera/core';

type Level = 'debug' | 'info' | 'warn' | 'error';

/** Sends replica failures to the `error` event and the logger. Never throws. */
export class ReplicaReporter {
  constructor(
    private readonly emitter: EventEmitter,
    private readonly logger: Logger | undefined,
    private readonly clock: Clock,
  ) {}

  /** Writes to the logger; a logger that throws has nowhere further to report to. */
  log(level: Level, fields: Record<string, unknown>, message: string): void {
    safeLog(this.logger, level, fields, message);
  }

  /**
   * Reports one failure. With neither a logger nor an `error` listener it goes to the console,
   * as the engine's do: a failure nobody hears would be a silent one.
   */
  report(error: unknown, method: string, level: 'warn' | 'error', extra: { customerId?: string } = {}): void {
    const code = isTesseraError(error) ? error.code : undefined;
    const message = `tessera: replica ${method} failed: ${describeError(error)}`;
    this.log(level, { err: error, source: 'replica', method, ...extra, ...(code ? { code } : {}) }, message);
    const heard = this.emitter.listenerCount('error') > 0;
    if (heard) {
      const event: EngineErrorEvent = { error, source: 'replica', method, ...extra, ...(code ? { code } : {}), at: this.clock.now() };
      try {
        this.emitter.emit('error', event);
      } catch (e) {
        // Reporting an error listener's own failure again would loop.
        this.log('error', { err: e, source: 'listener', method: 'replica error listener' }, 'tessera: a replica error listener threw');
      }
    }
    if (!heard && !this.logger) (level === 'warn' ? console.warn : console.error)(message, error);
  }
}

/**
 * The failures of one background task in a row (delivery, sync). The sidecar out of reach fails
 * every retry of an offline replica, so a streak is reported when it starts and then at most once
 * a minute (OFFLINE at `warn`: cut off is the normal life of an air-gapped replica; anything else
 * at `error`), and its end is logged at `info`.
 */
export class Streak {
  private readonly failures = new FailureStreak();

  constructor(
    private readonly reporter: ReplicaReporter,
    private readonly clock: Clock,
    private readonly method: string,
  ) {}

  failed(error: unknown): void {
    if (!this.failures.failed(this.clock.nowMs())) return;
    const offline = isTesseraError(error) && error.code === 'OFFLINE';
    this.reporter.report(error, this.method, offline ? 'warn' : 'error');
  }

  succeeded(): void {
    const ended = this.failures.succeeded(this.clock.nowMs());
    if (ended) this.reporter.log('info', { source: 'replica', method: this.method, ...ended }, `tessera: replica ${this.method} works again`);
  }
}

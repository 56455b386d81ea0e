import type { Emitter } from 'mitt';
import type { Clock } from '../../clock.js';
import { isTesseraError } from '../../errors.js';
import type { EngineErrorSource, EngineEvents } from '../../events.js';
import { describeError, safeLog, type Logger } from '../../logger.js';

/** What a reported failure was part of (docs/operating.md#errors). */
export interface ErrorContext {
  source: EngineErrorSource;
  method?: string;
  customerId?: string;
}

/** Reports a failure no caller sees: to the `error` event and the logger. Never throws. */
export type ErrorReporter = (error: unknown, context: ErrorContext) => void;

/**
 * The engine's reporter. With neither a logger nor an `error` listener the failure is written to
 * `console.error` as a last resort: a failure nobody hears would be a silent one.
 */
export function createReporter(emitter: () => Emitter<EngineEvents>, logger: Logger | undefined, clock: Clock): ErrorReporter {
  return (error, context) => {
    const code = isTesseraError(error) ? error.code : undefined;
    const where = context.method ? `${context.source} ${context.method}` : context.source;
    const message = `tessera: ${where} failed: ${describeError(error)}`;
    const fields = { err: error, ...context, ...(code ? { code } : {}) };
    safeLog(logger, 'error', fields, message);
    const em = emitter();
    const heard = (em.all.get('error')?.length ?? 0) > 0;
    if (heard) em.emit('error', { error, ...context, ...(code ? { code } : {}), at: clock.now() });
    if (!heard && !logger) console.error(message, error);
  };
}

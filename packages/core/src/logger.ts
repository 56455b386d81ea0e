/**
 * Where the engine writes what no caller sees: pino's and console's shape, so either fits
 * (`createEngine({ logger: pino() })`, `createEngine({ logger: console })`). The first argument
 * is a structured context (`err`, `source`, `method`, `customerId`, `code`), the second a message.
 */
export interface Logger {
  debug(context: Record<string, unknown>, message?: string): void;
  info(context: Record<string, unknown>, message?: string): void;
  warn(context: Record<string, unknown>, message?: string): void;
  error(context: Record<string, unknown>, message?: string): void;
}

const LEVELS = ['debug', 'info', 'warn', 'error'] as const;

/** A one-line description of anything thrown, for a log message; never throws itself. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return error.message;
  try {
    return String(error);
  } catch {
    // An object whose toString throws (or a null-prototype object) still gets a line.
    return typeof error;
  }
}

/** True when `v` has the four methods of a Logger. */
export function isLogger(v: unknown): v is Logger {
  return typeof v === 'object' && v !== null && LEVELS.every((l) => typeof (v as Record<string, unknown>)[l] === 'function');
}

/**
 * Calls a logger method without letting the logger's own failure escape: a broken logger must
 * not turn a committed write into an error, and there is nowhere further to report it.
 */
export function safeLog(logger: Logger | undefined, level: (typeof LEVELS)[number], context: Record<string, unknown>, message: string): void {
  if (!logger) return;
  try {
    logger[level](context, message);
  } catch {
    // The logger is the last place a failure can go; a logger that throws has nowhere to report to.
  }
}

/** The CLI's logger: JSON lines on stderr (what log shippers read), filtered by level. */
import type { Logger } from '@tessera/core';
import { CliError, type OptionValue } from './options.js';

const LEVELS = ['debug', 'info', 'warn', 'error', 'silent'] as const;
/** A level name of `--log-level`. */
export type LogLevel = (typeof LEVELS)[number];

/** `--log-level`'s value; CliError naming the accepted levels otherwise. */
export function parseLevel({ value, source }: OptionValue): LogLevel {
  if (!(LEVELS as readonly string[]).includes(value)) throw new CliError(`${source}: must be one of ${LEVELS.join(', ')}`, 2);
  return value as LogLevel;
}

function serialise(context: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(context)) {
    // An Error's fields are not enumerable: JSON.stringify would write {}.
    out[k] = v instanceof Error ? { name: v.name, message: v.message, ...('code' in v ? { code: (v as { code: unknown }).code } : {}), stack: v.stack } : v;
  }
  return out;
}

/** A Logger writing one JSON object per line to `write` (stderr by default) at `level` and above. */
export function jsonLinesLogger(level: LogLevel, write: (line: string) => void = (l) => void process.stderr.write(l)): Logger {
  const min = LEVELS.indexOf(level);
  const at = (name: Exclude<LogLevel, 'silent'>) => (context: Record<string, unknown>, message?: string) => {
    if (LEVELS.indexOf(name) < min) return;
    let line: string;
    try {
      line = JSON.stringify({ time: new Date().toISOString(), level: name, msg: message, ...serialise(context) });
    } catch {
      line = JSON.stringify({ time: new Date().toISOString(), level: name, msg: message, context: 'unserialisable' });
    }
    write(`${line}\n`);
  };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

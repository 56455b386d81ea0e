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
  for (const [k, v] of Object.entries(context)) out[k] = v instanceof Error ? errorFields(v) : v;
  return out;
}

// An Error's fields are not enumerable: JSON.stringify would write {}.
const errorFields = (e: Error) => ({ name: e.name, message: e.message, ...('code' in e ? { code: (e as { code: unknown }).code } : {}), stack: e.stack });

const INDEX = /^(?:0|[1-9]\d*)$/;

/** A context value as JSON text; undefined for what JSON.stringify leaves out (undefined, functions). */
function valueJson(v: unknown): string | undefined {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : 'null';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (v instanceof Error) return JSON.stringify(errorFields(v));
  return JSON.stringify(v);
}

/**
 * One line, built field by field rather than by JSON.stringify of a merged object: the sidecar
 * writes one per request (bench/README.md#sidecar). A context field named time, level or msg
 * replaces the line's own in place, as the object spread did; a field named like an array index
 * (which an object puts first) takes the spread itself.
 */
function lineOf(time: string, level: string, message: string | undefined, context: Record<string, unknown>): string {
  const keys = Object.keys(context);
  for (const k of keys) if (INDEX.test(k)) return JSON.stringify({ time, level, msg: message, ...serialise(context) });
  const own: Record<string, unknown> = { time, level, msg: message };
  let head = '';
  let tail = '';
  for (const k in own) {
    const v = Object.hasOwn(context, k) ? context[k] : own[k];
    const json = valueJson(v);
    if (json !== undefined) head += `,${JSON.stringify(k)}:${json}`;
  }
  for (const k of keys) {
    if (k === 'time' || k === 'level' || k === 'msg') continue;
    const json = valueJson(context[k]);
    if (json !== undefined) tail += `,${JSON.stringify(k)}:${json}`;
  }
  return `{${head.slice(1)}${head === '' ? tail.slice(1) : tail}}`;
}

/** Lines of one event-loop turn are written together; past this many characters at once. */
const BATCH_CHARS = 64 * 1024;

/**
 * A Logger writing one JSON object per line to `write` (stderr by default) at `level` and above.
 * With the default `write`, debug and info lines of one event-loop turn go out in one write
 * (at most BATCH_CHARS wait), warn and error lines at once with whatever waits before them, and
 * what waits is written when the process exits: a line is never lost, only delayed to the end of
 * the turn. A given `write` gets every line at once.
 */
export function jsonLinesLogger(level: LogLevel, write?: (line: string) => void): Logger {
  const min = LEVELS.indexOf(level);
  let out: (line: string, urgent: boolean) => void;
  if (write) {
    out = (line) => write(line);
  } else {
    let pending = '';
    let scheduled = false;
    const flush = () => {
      scheduled = false;
      if (pending === '') return;
      const text = pending;
      pending = '';
      process.stderr.write(text);
    };
    // A write that throws inside a logger call reaches the caller (safeLog, which drops it, as it
    // did for unbatched lines); one that throws at the end of the turn is dropped here likewise
    // rather than ending the process: stderr is where it would have been reported.
    const flushLater = () => {
      try {
        flush();
      } catch {
        // Nowhere left to report to.
      }
    };
    // stderr is synchronous for files and pipes (Linux), so what is written at exit arrives.
    process.on('exit', flush);
    out = (line, urgent) => {
      pending += line;
      if (urgent || pending.length >= BATCH_CHARS) flush();
      else if (!scheduled) {
        scheduled = true;
        setImmediate(flushLater);
      }
    };
  }
  let lastMs = Number.NaN;
  let lastIso = '';
  const now = () => {
    const ms = Date.now();
    if (ms !== lastMs) {
      lastMs = ms;
      lastIso = new Date(ms).toISOString();
    }
    return lastIso;
  };
  const at = (name: Exclude<LogLevel, 'silent'>) => {
    const rank = LEVELS.indexOf(name);
    const urgent = rank >= LEVELS.indexOf('warn');
    return (context: Record<string, unknown>, message?: string) => {
      if (rank < min) return;
      const time = now();
      let line: string;
      try {
        line = lineOf(time, name, message, context);
      } catch {
        line = JSON.stringify({ time, level: name, msg: message, context: 'unserialisable' });
      }
      out(`${line}\n`, urgent);
    };
  };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

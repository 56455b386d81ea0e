import { TesseraError } from '../../errors.js';
import { FORBIDDEN_KEYS, isPlainObject, isWellFormed, JSON_VALUE_LIMITS, readJsonValue, type JsonValue } from '../../json-value.js';

/**
 * A params object: any non-array object, class instances included (DTOs), read by own fields.
 * Free-form values inside are held to the stricter JSON rule (readJsonValue).
 */
const isParamsObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date) && !(v instanceof Map) && !(v instanceof Set);

/** Longest id Tessera accepts (customer, feature, resource, idempotency key...). */
export const MAX_ID_LENGTH = 255;

/**
 * The largest magnitude of a usage amount, a limit and any usage total Tessera stores: beyond it
 * numbers lose integer precision, and a sum could reach Infinity (docs/conventions.md#boundary).
 */
export const MAX_USAGE = Number.MAX_SAFE_INTEGER;

/**
 * Reads one public call's params object field by field, throwing INVALID_ARGUMENT with the
 * field's path and what to fix. `known` lists the accepted keys so a misspelt one is reported
 * instead of silently ignored.
 */
export class Params {
  readonly raw: Record<string, unknown>;

  constructor(
    value: unknown,
    readonly path: string,
    known?: readonly string[],
  ) {
    if (!isParamsObject(value)) {
      throw new TesseraError('INVALID_ARGUMENT', `${path}: expected an object of parameters`, { field: path, value: detailValue(value) });
    }
    this.raw = value;
    if (known) {
      for (const key of Object.keys(value)) {
        if (!known.includes(key) && value[key] !== undefined) {
          if (FORBIDDEN_KEYS.has(key)) this.fail(key, 'is a reserved key name');
          throw new TesseraError('INVALID_ARGUMENT', `${this.at(key)}: unknown field; expected one of ${known.join(', ')}`, {
            field: this.at(key),
            allowed: known,
          });
        }
      }
    } else {
      for (const key of Object.keys(value)) if (FORBIDDEN_KEYS.has(key)) this.fail(key, 'is a reserved key name');
    }
  }

  at(key: string): string {
    return this.path ? `${this.path}.${key}` : key;
  }

  fail(key: string, message: string, extra: Record<string, unknown> = {}): never {
    throw new TesseraError('INVALID_ARGUMENT', `${this.at(key)}: ${message}`, { field: this.at(key), value: detailValue(this.raw[key]), ...extra });
  }

  has(key: string): boolean {
    return this.raw[key] !== undefined;
  }

  /** A required id: a non-empty string of at most 255 characters without control characters. */
  id(key: string): string {
    const v = this.raw[key];
    if (v === undefined || v === null) this.fail(key, 'is required');
    return checkId(this, key, v);
  }

  optId(key: string): string | undefined {
    const v = this.raw[key];
    return v === undefined || v === null ? undefined : checkId(this, key, v);
  }

  optString(key: string, max = 1000): string | null | undefined {
    const v = this.raw[key];
    if (v === undefined) return undefined;
    if (v === null) return null;
    if (typeof v !== 'string') this.fail(key, 'must be a string or null');
    if (v.length > max) this.fail(key, `must be at most ${max} characters`);
    if (!isWellFormed(v)) this.fail(key, 'must not contain a lone surrogate (malformed UTF-16)');
    return v;
  }

  optBoolean(key: string): boolean | undefined {
    const v = this.raw[key];
    if (v === undefined) return undefined;
    if (typeof v !== 'boolean') this.fail(key, 'must be true or false');
    return v;
  }

  /** A finite number, optionally bounded and integral. */
  number(key: string, opts: NumberOptions = {}): number {
    const v = this.raw[key];
    if (v === undefined || v === null) this.fail(key, 'is required');
    return checkNumber(this, key, v, opts);
  }

  optNumber(key: string, opts: NumberOptions = {}): number | undefined {
    const v = this.raw[key];
    return v === undefined ? undefined : checkNumber(this, key, v, opts);
  }

  /** One of a closed set of strings. */
  optEnum<T extends string>(key: string, allowed: readonly T[]): T | undefined {
    const v = this.raw[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'string' || !allowed.includes(v as T)) this.fail(key, `must be one of ${allowed.join(', ')}`, { allowed });
    return v as T;
  }

  /** An instant as a Date or an ISO-8601 string (UTC); returns epoch ms. */
  optInstant(key: string): number | undefined {
    const v = this.raw[key];
    if (v === undefined || v === null) return undefined;
    let ms = NaN;
    if (v instanceof Date) ms = v.getTime();
    // A regex on a 10k string is cheap, but there is no ISO instant that long.
    else if (typeof v === 'string' && v.length > 40) ms = NaN;
    else if (typeof v === 'string' && /^\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(v)) ms = Date.parse(v);
    if (!Number.isFinite(ms)) this.fail(key, 'must be a Date or an ISO-8601 string such as 2024-01-31T00:00:00Z');
    return ms;
  }

  /**
   * A flat record of string values (metadata), within the bounds of JSON_VALUE_LIMITS
   * (docs/conventions.md#boundary). Returns a copy.
   */
  optMetadata(key: string): Record<string, string> | undefined {
    const v = this.raw[key];
    if (v === undefined || v === null) return undefined;
    if (!isPlainObject(v)) this.fail(key, 'must be an object of string values');
    for (const [k, x] of Object.entries(v)) {
      if (typeof x !== 'string') this.fail(key, `value of "${k.slice(0, 50)}" must be a string`);
    }
    return readJsonValue(v, this.at(key)) as Record<string, string>;
  }

  /** A JSON value within JSON_VALUE_LIMITS (docs/conventions.md#boundary), copied; undefined when absent. */
  optJson(key: string): JsonValue | undefined {
    const v = this.raw[key];
    return v === undefined ? undefined : readJsonValue(v, this.at(key), JSON_VALUE_LIMITS);
  }

  /** A nested params object, or undefined / null as given. */
  optObject(key: string, known?: readonly string[]): Params | null | undefined {
    const v = this.raw[key];
    if (v === undefined) return undefined;
    if (v === null) return null;
    return new Params(v, this.at(key), known);
  }

  /**
   * An array, each element read by `read` with its index in the path; undefined when absent or
   * null. Refuses sparse arrays (`new Array(3)`, `[, x]`): a hole is never read as a value.
   */
  optArray<T>(key: string, read: (item: unknown, path: string, index: number) => T, maxLength = 10_000): T[] | undefined {
    const v = this.raw[key];
    if (v === undefined || v === null) return undefined;
    return this.readArray(key, v, read, maxLength);
  }

  /** A required array (null refused), read as `optArray` does. */
  array<T>(key: string, read: (item: unknown, path: string, index: number) => T, maxLength = 10_000): T[] {
    const v = this.raw[key];
    if (v === undefined) this.fail(key, 'is required');
    if (v === null) this.fail(key, 'must be an array, not null');
    return this.readArray(key, v, read, maxLength);
  }

  private readArray<T>(key: string, v: unknown, read: (item: unknown, path: string, index: number) => T, maxLength: number): T[] {
    if (!Array.isArray(v)) this.fail(key, 'must be an array');
    if (v.length > maxLength) this.fail(key, `must have at most ${maxLength} items`);
    const out: T[] = new Array<T>(v.length);
    for (let i = 0; i < v.length; i++) {
      if (!(i in v)) this.fail(key, `has an empty slot at index ${i} (a sparse array); give a value or remove it`, { index: i });
      out[i] = read(v[i], `${this.at(key)}[${i}]`, i);
    }
    return out;
  }
}

/**
 * The offending value as error details carry it: primitives that JSON can carry (long strings
 * cut), never an object, which could be circular, huge or hold a function.
 */
function detailValue(v: unknown): unknown {
  if (typeof v === 'string') return v.length > 1000 || !isWellFormed(v) ? `${v.slice(0, 100).replace(/[\ud800-\udfff]/g, '\ufffd')}...` : v;
  if (typeof v === 'number') return Number.isFinite(v) ? v : String(v);
  if (typeof v === 'boolean' || v === null || v === undefined) return v;
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? 'Invalid Date' : v.toISOString();
  return Array.isArray(v) ? `array of ${v.length}` : typeof v === 'object' ? 'object' : typeof v;
}

/** Bounds of a number param. */
export interface NumberOptions {
  min?: number;
  /** Inclusive; defaults to none. */
  max?: number;
  integer?: boolean;
}

/** Checks `v` as an id (what `Params.id` accepts), failing at `key` of `p`. */
export function checkId(p: Params, key: string, v: unknown): string {
  if (typeof v !== 'string' || v.length === 0) p.fail(key, 'must be a non-empty string');
  if (v.length > MAX_ID_LENGTH) p.fail(key, `must be at most ${MAX_ID_LENGTH} characters`);
  // A loop rather than a regex: this runs for every id of every call.
  let surrogates = false;
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) p.fail(key, 'must not contain control characters');
    if (c >= 0xd800 && c <= 0xdfff) surrogates = true;
  }
  // A lone surrogate would be stored as U+FFFD by a SQL store: the id would not read back.
  if (surrogates && !isWellFormed(v)) p.fail(key, 'must not contain a lone surrogate (malformed UTF-16)');
  return v;
}

function checkNumber(p: Params, key: string, v: unknown, opts: NumberOptions): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) p.fail(key, 'must be a finite number');
  if (opts.integer && !Number.isInteger(v)) p.fail(key, 'must be an integer');
  if (opts.min !== undefined && v < opts.min) p.fail(key, `must be at least ${opts.min}`);
  if (opts.max !== undefined && v > opts.max) p.fail(key, `must be at most ${opts.max}`);
  // -0 and 0 are the same amount; keep one so that stored JSON and comparisons agree.
  return v === 0 ? 0 : v;
}

/**
 * Throws INVALID_ARGUMENT at `field` when a usage total a call would store is not a finite number
 * within +-MAX_USAGE (docs/conventions.md#boundary); the call then writes nothing.
 */
export function requireSafeUsage(total: number, field: string): void {
  if (Number.isFinite(total) && Math.abs(total) <= MAX_USAGE) return;
  throw new TesseraError('INVALID_ARGUMENT', `${field}: usage would become ${total}, past the largest usage Tessera stores (${MAX_USAGE}); nothing was recorded`, {
    field,
    total: Number.isFinite(total) ? total : String(total),
  });
}

/** The JSON a paging cursor (`after`) holds, or undefined when it is not base64url JSON. Callers type-check the parts. */
export function decodeCursor(cursor: string): unknown {
  try {
    return JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}

/** Reads a required id given directly (methods that take an id rather than an object). */
export function readIdArgument(value: unknown, name: string): string {
  return new Params({ [name]: value }, '').id(name);
}

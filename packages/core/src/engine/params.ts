import { TesseraError } from '../errors.js';

/** Longest id Tessera accepts (customer, feature, resource, idempotency key...). */
export const MAX_ID_LENGTH = 255;

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date);

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
    if (!isPlainObject(value)) {
      throw new TesseraError('INVALID_ARGUMENT', `${path}: expected an object of parameters`, { field: path, value });
    }
    this.raw = value;
    if (known) {
      for (const key of Object.keys(value)) {
        if (!known.includes(key) && value[key] !== undefined) {
          throw new TesseraError('INVALID_ARGUMENT', `${this.at(key)}: unknown field; expected one of ${known.join(', ')}`, {
            field: this.at(key),
            allowed: known,
          });
        }
      }
    }
  }

  at(key: string): string {
    return this.path ? `${this.path}.${key}` : key;
  }

  fail(key: string, message: string, extra: Record<string, unknown> = {}): never {
    throw new TesseraError('INVALID_ARGUMENT', `${this.at(key)}: ${message}`, { field: this.at(key), value: this.raw[key], ...extra });
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
    return v;
  }

  optBoolean(key: string): boolean | undefined {
    const v = this.raw[key];
    if (v === undefined) return undefined;
    if (typeof v !== 'boolean') this.fail(key, 'must be true or false');
    return v;
  }

  /** A finite number, optionally bounded and integral. */
  number(key: string, opts: { min?: number; integer?: boolean } = {}): number {
    const v = this.raw[key];
    if (v === undefined || v === null) this.fail(key, 'is required');
    return checkNumber(this, key, v, opts);
  }

  optNumber(key: string, opts: { min?: number; integer?: boolean } = {}): number | undefined {
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
    else if (typeof v === 'string' && /^\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(v)) ms = Date.parse(v);
    if (!Number.isFinite(ms)) this.fail(key, 'must be a Date or an ISO-8601 string such as 2024-01-31T00:00:00Z');
    return ms;
  }

  /** A flat record of string values (metadata). */
  optMetadata(key: string): Record<string, string> | undefined {
    const v = this.raw[key];
    if (v === undefined || v === null) return undefined;
    if (!isPlainObject(v)) this.fail(key, 'must be an object of string values');
    for (const [k, x] of Object.entries(v)) {
      if (typeof x !== 'string') this.fail(key, `value of "${k}" must be a string`);
    }
    return { ...(v as Record<string, string>) };
  }

  /** A nested params object, or undefined / null as given. */
  optObject(key: string, known?: readonly string[]): Params | null | undefined {
    const v = this.raw[key];
    if (v === undefined) return undefined;
    if (v === null) return null;
    return new Params(v, this.at(key), known);
  }

  /** An array, each element read by `read` with its index in the path. */
  optArray<T>(key: string, read: (item: unknown, path: string, index: number) => T, maxLength = 10_000): T[] | undefined {
    const v = this.raw[key];
    if (v === undefined || v === null) return undefined;
    if (!Array.isArray(v)) this.fail(key, 'must be an array');
    if (v.length > maxLength) this.fail(key, `must have at most ${maxLength} items`);
    return v.map((item, i) => read(item, `${this.at(key)}[${i}]`, i));
  }
}

function checkId(p: Params, key: string, v: unknown): string {
  if (typeof v !== 'string' || v.length === 0) p.fail(key, 'must be a non-empty string');
  if (v.length > MAX_ID_LENGTH) p.fail(key, `must be at most ${MAX_ID_LENGTH} characters`);
  // A loop rather than a regex: this runs for every id of every call.
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) p.fail(key, 'must not contain control characters');
  }
  return v;
}

function checkNumber(p: Params, key: string, v: unknown, opts: { min?: number; integer?: boolean }): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) p.fail(key, 'must be a finite number');
  if (opts.integer && !Number.isInteger(v)) p.fail(key, 'must be an integer');
  if (opts.min !== undefined && v < opts.min) p.fail(key, `must be at least ${opts.min}`);
  return v;
}

/** Reads a required id given directly (methods that take an id rather than an object). */
export function readIdArgument(value: unknown, name: string): string {
  return new Params({ [name]: value }, '').id(name);
}

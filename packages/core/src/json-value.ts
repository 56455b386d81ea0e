import { TesseraError } from './errors.js';

/** A value JSON can carry unchanged: what metadata, billing info and other free-form fields may hold. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/**
 * Bounds of every free-form JSON value that crosses the boundary (billing info, metadata,
 * promotional entitlement fields); docs/conventions.md#boundary.
 */
export interface JsonValueLimits {
  /** Nesting levels of objects and arrays (the value itself is level 1). */
  maxDepth: number;
  /** Length of `JSON.stringify(value)` in UTF-16 code units. */
  maxSerializedLength: number;
  /** Object keys and array items over the whole value. */
  maxEntries: number;
  /** Length of any one string, keys included. */
  maxStringLength: number;
}

/** The bounds of docs/conventions.md#boundary: depth 16, 64 KiB serialized, 1,000 entries, strings of 10,000. */
export const JSON_VALUE_LIMITS: Readonly<JsonValueLimits> = Object.freeze({
  maxDepth: 16,
  maxSerializedLength: 65_536,
  maxEntries: 1_000,
  maxStringLength: 10_000,
});

/** Bounds of a catalog definition, larger than a field's: a catalog is a document of its own. */
export const CATALOG_JSON_LIMITS: Readonly<JsonValueLimits> = Object.freeze({
  maxDepth: 32,
  maxSerializedLength: 16 * 1024 * 1024,
  maxEntries: 1_000_000,
  maxStringLength: 10_000,
});

/** Keys refused anywhere in params: assigning them could reach Object.prototype. */
export const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

const fail = (path: string, message: string): never => {
  throw new TesseraError('INVALID_ARGUMENT', `${path}: ${message}`, { field: path });
};

/** True for `{}`-literal and null-prototype objects (what JSON.parse makes); not arrays, Dates, Maps or class instances. */
export function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null) return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

/** A string that survives UTF-8 encoding: no lone surrogate (a store would replace it silently). */
export function isWellFormed(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0xd800 || c > 0xdfff) continue;
    if (c >= 0xdc00) return false;
    const next = s.charCodeAt(i + 1);
    if (!(next >= 0xdc00 && next <= 0xdfff)) return false;
    i++;
  }
  return true;
}

/**
 * Checks that `value` is a JSON value within `limits` and returns a deep copy of it, so that a
 * caller mutating its object afterwards changes nothing stored. Refuses functions, symbols,
 * BigInt, undefined inside objects, NaN and infinities, sparse arrays, circular references,
 * Dates and class instances, `__proto__` / `constructor` / `prototype` keys and lone surrogates,
 * with INVALID_ARGUMENT naming the path of the first offending part.
 */
export function readJsonValue(value: unknown, path: string, limits: JsonValueLimits = JSON_VALUE_LIMITS): JsonValue {
  const state = { entries: 0, length: 0, ancestors: new Set<object>() };
  const copy = walk(value, path, 1, limits, state);
  return copy;
}

function walk(v: unknown, path: string, depth: number, limits: JsonValueLimits, s: { entries: number; length: number; ancestors: Set<object> }): JsonValue {
  // An estimate of the serialized length, counted as we go so a huge value stops early.
  const grow = (n: number) => {
    s.length += n;
    if (s.length > limits.maxSerializedLength) fail(path, `is too large: at most ${limits.maxSerializedLength} characters as JSON`);
  };
  switch (typeof v) {
    case 'string':
      if (v.length > limits.maxStringLength) fail(path, `must be at most ${limits.maxStringLength} characters`);
      if (!isWellFormed(v)) fail(path, 'must not contain a lone surrogate (malformed UTF-16)');
      grow(v.length + 2);
      return v;
    case 'number':
      if (!Number.isFinite(v)) fail(path, 'must be a finite number (JSON has no NaN or Infinity)');
      grow(String(v).length);
      return Object.is(v, -0) ? 0 : v;
    case 'boolean':
      grow(5);
      return v;
    case 'object':
      break;
    default:
      return fail(path, `must be a JSON value; a ${typeof v} is not one`);
  }
  if (v === null) {
    grow(4);
    return null;
  }
  if (depth > limits.maxDepth) fail(path, `is nested too deeply: at most ${limits.maxDepth} levels`);
  if (s.ancestors.has(v)) fail(path, 'is a circular reference');
  s.ancestors.add(v);
  let out: JsonValue;
  if (Array.isArray(v)) {
    const arr: JsonValue[] = [];
    for (let i = 0; i < v.length; i++) {
      if (++s.entries > limits.maxEntries) fail(path, `has too many entries: at most ${limits.maxEntries} keys and items in all`);
      if (!(i in v)) fail(`${path}[${i}]`, 'is an empty slot (a sparse array); give a value or remove it');
      arr.push(walk(v[i], `${path}[${i}]`, depth + 1, limits, s));
      grow(1);
    }
    grow(2);
    out = arr;
  } else {
    if (!isPlainObject(v)) fail(path, 'must be a plain object (a Date, Map or class instance is not JSON)');
    const obj: Record<string, JsonValue> = {};
    for (const key of Object.keys(v)) {
      if (++s.entries > limits.maxEntries) fail(path, `has too many entries: at most ${limits.maxEntries} keys and items in all`);
      if (FORBIDDEN_KEYS.has(key)) fail(`${path}.${key}`, 'is a reserved key name');
      if (key.length > limits.maxStringLength || !isWellFormed(key)) fail(`${path}.${key.slice(0, 50)}`, 'is not an acceptable key (too long or a lone surrogate)');
      const item = (v as Record<string, unknown>)[key];
      // JSON.stringify drops undefined members: keep the copy equal to what a store reads back.
      if (item === undefined) continue;
      obj[key] = walk(item, `${path}.${key}`, depth + 1, limits, s);
      grow(key.length + 4);
    }
    if (Object.getOwnPropertySymbols(v).length > 0) fail(path, 'must not have symbol keys');
    grow(2);
    out = obj;
  }
  s.ancestors.delete(v);
  return out;
}

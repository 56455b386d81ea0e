/**
 * Malformed inputs for fuzzing a boundary: values a caller should never send and that a
 * well-behaved API refuses with a typed error instead of crashing, hanging or storing them.
 * Two families: any JavaScript value (`arbMalformedValue`, for in-process calls) and JSON-only
 * values (`arbMalformedJson`, for HTTP bodies). `arbNearValid` mutates one field of a valid
 * params object, which reaches deeper than random params do.
 */
import fc from 'fast-check';

/** A string of `n` code units. */
const long = (n: number, c = 'x') => c.repeat(n);

/** An object nested `depth` levels deep: `{ a: { a: ... } }`. */
export function deepObject(depth: number): Record<string, unknown> {
  let v: Record<string, unknown> = { leaf: 1 };
  for (let i = 0; i < depth; i++) v = { a: v };
  return v;
}

/** An array nested `depth` levels deep. */
export function deepArray(depth: number): unknown[] {
  let v: unknown[] = [1];
  for (let i = 0; i < depth; i++) v = [v];
  return v;
}

/** An object that contains itself (`o.self === o`), optionally with a valid-looking field. */
export function circularObject(extra: Record<string, unknown> = {}): Record<string, unknown> {
  const o: Record<string, unknown> = { ...extra };
  o.self = o;
  return o;
}

/** An object with an own `__proto__` key, as `JSON.parse` makes it: assigning it naively pollutes. */
export function protoKeyObject(): Record<string, unknown> {
  return JSON.parse('{"__proto__":{"polluted":"yes"},"a":1}') as Record<string, unknown>;
}

/** Paging cursors an API never returned: not base64, base64 of wrong JSON shapes and types. */
export const CRAFTED_CURSORS: readonly string[] = [
  '',
  '!!!',
  'not a cursor',
  '\u0000',
  Buffer.from('not json').toString('base64url'),
  Buffer.from('null').toString('base64url'),
  Buffer.from('[]').toString('base64url'),
  Buffer.from('{}').toString('base64url'),
  Buffer.from('[1]').toString('base64url'),
  Buffer.from('["createdAt",{"a":1},"id"]').toString('base64url'),
  Buffer.from('["createdAt",null,null]').toString('base64url'),
  Buffer.from('["createdAt",1e400,"x"]').toString('base64url'),
  Buffer.from('["customerId",["x"],"y"]').toString('base64url'),
  Buffer.from('["customerId",123,"y"]').toString('base64url'),
  Buffer.from('[{"__proto__":{"polluted":1}},"x"]').toString('base64url'),
  Buffer.from('["x",1]').toString('base64url'),
  Buffer.from('[1.5,""]').toString('base64url'),
  Buffer.from('[-1e308,"k"]').toString('base64url'),
  Buffer.from(JSON.stringify(['createdAt', 1, 'x'.repeat(5000)])).toString('base64url'),
  '-1',
  '1e3',
  '0x10',
  ' 1',
  '99999999999999999999',
];

/** Strings that look like dates and are not (or are out of range). */
export const BAD_DATES: readonly unknown[] = [
  'yesterday',
  '2024-13-45',
  '2024-02-30T25:61:00Z',
  '',
  '2024-01-01T00:00:00+99:99',
  '+275760-09-13T00:00:00.001Z',
  new Date(Number.NaN),
  new Date(8.64e15 + 1),
  1706659200000,
  '2024-01-01'.repeat(1000),
];

/** Strings that are not decimal amounts. */
export const BAD_DECIMALS: readonly unknown[] = ['', ' ', 'NaN', 'Infinity', '-Infinity', '1e400', '1.2.3', '1,5', '--1', '0x1F', '١٢', '1e-400', '9'.repeat(400), 12.5, -1, null];

/** Strings with UTF-16 problems or hostile shapes. */
export const HOSTILE_STRINGS: readonly string[] = [
  '',
  ' ',
  '\ud800',
  'a\udc00b',
  '\udfff\ud800',
  '\u0000',
  'line\nbreak',
  long(256),
  long(10_000),
  long(10_001),
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'UNKNOWN_ENUM_VALUE',
  '${jndi}',
  "'; DROP TABLE customers; --",
];

/** Numbers at the edges. */
export const HOSTILE_NUMBERS: readonly number[] = [
  Number.NaN,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
  -0,
  -1,
  0.5,
  Number.MAX_VALUE,
  -Number.MAX_VALUE,
  Number.MAX_SAFE_INTEGER,
  Number.MAX_SAFE_INTEGER + 2,
  Number.MIN_VALUE,
  1e21,
  -1e21,
  2 ** 53 * 1000,
];

class NotPlain {
  a = 1;
}

/** Options of the malformed-value arbitraries. */
export interface MalformedOptions {
  /** Include the 5,000-level nested object and array (slow to print in a failure report). Default true. */
  deep?: boolean;
}

/**
 * Any JavaScript value an API must refuse or handle when it meets it where it expects something
 * else: wrong types, null and undefined, NaN, +-Infinity, -0, huge and negative numbers, empty
 * and 10k strings, lone surrogates, `__proto__` / `constructor` keys, unknown enum values, bad
 * dates and decimal strings, deep and circular objects, sparse arrays, functions, symbols,
 * BigInt, Maps, class instances and crafted cursors.
 */
export function arbMalformedValue(options: MalformedOptions = {}): fc.Arbitrary<unknown> {
  const deep = options.deep ?? true;
  const exotic = fc.constantFrom<() => unknown>(
    () => () => 1,
    () => Symbol('s'),
    () => 10n,
    () => new Map([['a', 1]]),
    () => new Set([1]),
    () => new NotPlain(),
    () => circularObject(),
    () => {
      const a: unknown[] = [1];
      a.push(a);
      return a;
    },
    () => new Array(3),
    // eslint-disable-next-line no-sparse-arrays
    () => [, { a: 1 }],
    () => protoKeyObject(),
    () => ({ constructor: { prototype: { polluted: 'yes' } } }),
    () => Object.create(null) as object,
    () => new Date(Number.NaN),
    () => /regex/,
    () => new Error('boom'),
    () => Promise.resolve(1),
    () => new Uint8Array(4),
    ...(deep ? [() => deepObject(5_000), () => deepArray(5_000)] : []),
    () => deepObject(20),
  );
  return fc.oneof(
    { weight: 3, arbitrary: exotic.map((make) => make()) },
    { weight: 2, arbitrary: arbMalformedJson() },
  );
}

/**
 * A value JSON can carry that an API should still refuse where it expects something else:
 * null, wrong types, edge numbers (no NaN: JSON has none), hostile strings, crafted cursors,
 * bad dates and decimals, `__proto__` keys, arrays of the wrong items, deep nesting.
 */
export function arbMalformedJson(): fc.Arbitrary<unknown> {
  const jsonNumbers = HOSTILE_NUMBERS.filter((n) => Number.isFinite(n));
  return fc.oneof(
    fc.constantFrom<unknown>(null, true, false, 0, '', [], {}),
    fc.constantFrom(...jsonNumbers),
    fc.constantFrom(...HOSTILE_STRINGS),
    fc.constantFrom(...CRAFTED_CURSORS),
    fc.constantFrom(...BAD_DECIMALS.filter((v) => typeof v !== 'number' || Number.isFinite(v))),
    fc.constantFrom(...BAD_DATES.filter((v) => typeof v === 'string' || typeof v === 'number')),
    fc.constant(null).map(() => protoKeyObject()),
    fc.constant(null).map(() => ({ constructor: 'x', prototype: 1 })),
    fc.constant(null).map(() => deepObject(40)),
    fc.constant(null).map(() => Array.from({ length: 2_000 }, (_, i) => i)),
    fc.constant(null).map(() => Object.fromEntries(Array.from({ length: 1_500 }, (_, i) => [`k${i}`, 'v']))),
    fc.array(fc.constantFrom<unknown>(null, 1, 'x', {}, [], true), { maxLength: 4 }),
    fc.dictionary(fc.constantFrom('a', 'customerId', '__proto__', 'constructor', 'unknownField'), fc.constantFrom<unknown>(null, 1, 'x', {}, []), { maxKeys: 3 }),
    fc.string({ maxLength: 20, unit: 'grapheme' }),
    fc.double(),
    fc.integer(),
  );
}

/** Options of `arbNearValid`. */
export interface NearValidOptions {
  /** The values a field is replaced with; default `arbMalformedValue()`. */
  values?: fc.Arbitrary<unknown>;
  /** Also mutate one level down (a field of an object-valued field, an item of an array field). Default true. */
  nested?: boolean;
}

/**
 * A valid params object with one thing wrong: a field replaced by a malformed value, removed, set
 * to undefined, an unknown key added, or (with `nested`) one field of a nested object or one
 * item of a nested array replaced. The input is not mutated.
 */
export function arbNearValid<T extends Record<string, unknown>>(valid: T, options: NearValidOptions = {}): fc.Arbitrary<Record<string, unknown>> {
  const values = options.values ?? arbMalformedValue();
  const keys = Object.keys(valid);
  const key = keys.length > 0 ? fc.constantFrom(...keys) : fc.constant('unknownField');
  const replaced = fc.tuple(key, values).map(([k, v]) => ({ ...valid, [k]: v }));
  const removed = key.map((k) => {
    const copy: Record<string, unknown> = { ...valid };
    delete copy[k];
    return copy;
  });
  const undef = key.map((k) => ({ ...valid, [k]: undefined }));
  const extra = fc.tuple(fc.constantFrom('unknownField', '__proto__', 'constructor', 'prototype'), values).map(([k, v]) => {
    const copy: Record<string, unknown> = { ...valid };
    Object.defineProperty(copy, k, { value: v, enumerable: true, writable: true, configurable: true });
    return copy;
  });
  const arbs: fc.Arbitrary<Record<string, unknown>>[] = [replaced, removed, undef, extra];
  const nestedKeys = keys.filter((k) => typeof valid[k] === 'object' && valid[k] !== null);
  if ((options.nested ?? true) && nestedKeys.length > 0) {
    arbs.push(
      fc.tuple(fc.constantFrom(...nestedKeys), values, fc.nat()).map(([k, v, n]) => {
        const inner = valid[k];
        if (Array.isArray(inner)) {
          if (inner.length === 0) return { ...valid, [k]: [v] };
          const i = n % inner.length;
          const item = inner[i];
          if (typeof item === 'object' && item !== null && !Array.isArray(item)) {
            const fields = Object.keys(item);
            const f = fields.length > 0 ? fields[n % fields.length]! : 'unknownField';
            const copy = [...inner];
            copy[i] = { ...item, [f]: v };
            return { ...valid, [k]: copy };
          }
          const copy = [...inner];
          copy[i] = v;
          return { ...valid, [k]: copy };
        }
        const fields = Object.keys(inner as object);
        const f = fields.length > 0 ? fields[n % fields.length]! : 'unknownField';
        return { ...valid, [k]: { ...(inner as object), [f]: v } };
      }),
    );
  }
  return fc.oneof(...arbs);
}

/**
 * Params for a method whose valid shape is `valid`: half near-valid, half anything at all
 * (including a non-object in place of the params).
 */
export function arbMalformedParams<T extends Record<string, unknown>>(valid: T, options: NearValidOptions = {}): fc.Arbitrary<unknown> {
  return fc.oneof(arbNearValid(valid, options), options.values ?? arbMalformedValue());
}

/** The same, JSON-only (for HTTP bodies). */
export function arbMalformedJsonParams<T extends Record<string, unknown>>(valid: T): fc.Arbitrary<unknown> {
  return arbMalformedParams(valid, { values: arbMalformedJson() });
}

/**
 * Request bodies as text that a JSON endpoint must refuse or handle: not JSON, truncated, numbers
 * JSON.parse turns into Infinity, 5,000 levels of nesting, `__proto__` keys, escaped lone
 * surrogates, a NUL byte, and any JSON value of `arbMalformedJson` serialized.
 */
export function arbMalformedJsonText(): fc.Arbitrary<string> {
  return fc.oneof(
    fc.constantFrom(
      '',
      ' ',
      '{',
      '}',
      '{"a":',
      'null',
      'true',
      '[]',
      '"text"',
      '1e400',
      '{"value":1e400}',
      '{"value":-1e400,"customerId":"c1"}',
      '{"__proto__":{"polluted":"yes"}}',
      '{"constructor":{"prototype":{"polluted":"yes"}}}',
      '{"customerId":"\\ud800"}',
      '{"customerId":"c1","customerId":"c2"}',
      '\u0000',
      "{'single':'quotes'}",
      '{"a":1}garbage',
      `${'['.repeat(5_000)}${']'.repeat(5_000)}`,
      `${'{"a":'.repeat(5_000)}1${'}'.repeat(5_000)}`,
    ),
    arbMalformedJson().map((v) => JSON.stringify(v) ?? 'undefined'),
  );
}

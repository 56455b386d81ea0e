import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { arbMalformedJson, arbMalformedJsonText, arbMalformedValue, arbNearValid, circularObject, deepObject } from '../src/index.js';

const valid = { customerId: 'c1', value: 1, nested: { a: 'b' }, list: [{ id: 'x' }] };

describe('malformed arbitraries', () => {
  it('arbNearValid changes exactly one thing and never the valid object it was given', () => {
    const before = JSON.stringify(valid);
    fc.assert(
      fc.property(arbNearValid(valid), (v) => {
        expect(JSON.stringify(valid)).toBe(before);
        const keys = new Set([...Object.keys(valid), ...Object.keys(v)]);
        const differing = [...keys].filter((k) => !Object.is((v as Record<string, unknown>)[k], (valid as Record<string, unknown>)[k]));
        // One top-level key differs (a nested mutation replaces its parent with a changed copy).
        expect(differing.length).toBeLessThanOrEqual(1);
      }),
      { numRuns: 300 },
    );
  });

  it('arbMalformedJson gives only values JSON can carry, and arbMalformedJsonText only strings', () => {
    fc.assert(
      fc.property(arbMalformedJson(), arbMalformedJsonText(), (v, text) => {
        expect(() => JSON.stringify(v)).not.toThrow();
        expect(typeof text).toBe('string');
      }),
      { numRuns: 300 },
    );
  });

  it('arbMalformedValue reaches the values JSON cannot carry', () => {
    const seen = new Set<string>();
    fc.assert(
      fc.property(arbMalformedValue(), (v) => {
        seen.add(typeof v === 'object' && v !== null ? (Array.isArray(v) ? 'array' : (Object.getPrototypeOf(v)?.constructor?.name ?? 'null-proto')) : typeof v);
      }),
      { numRuns: 500 },
    );
    for (const kind of ['function', 'symbol', 'bigint', 'Map', 'array', 'Object']) expect(seen).toContain(kind);
  });

  it('builds deep and circular objects as named', () => {
    let depth = 0;
    for (let o: unknown = deepObject(5_000); typeof o === 'object' && o !== null && 'a' in o; o = (o as { a: unknown }).a) depth++;
    expect(depth).toBe(5_000);
    const c = circularObject({ k: 1 });
    expect(c.self).toBe(c);
  });
});

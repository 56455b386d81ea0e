import { describe, expect, it } from 'vitest';
import { isTesseraError, TesseraError, type TesseraErrorCode, type TesseraErrorDetails } from '@tessera/core';

/**
 * What another copy of @tessera/core (its CommonJS build loaded beside the ESM one) defines: a
 * class of its own, unrelated to ours for `instanceof`, that carries the same global brand.
 */
class OtherCopyError extends Error {
  override readonly name = 'TesseraError';
  constructor(
    readonly code: TesseraErrorCode,
    message: string,
    readonly details: TesseraErrorDetails = {},
  ) {
    super(message);
  }
}
Object.defineProperty(OtherCopyError.prototype, Symbol.for('tessera.error'), { value: true });

describe('isTesseraError', () => {
  it('recognises an error of this copy, with and without a code', () => {
    const e = new TesseraError('PLAN_NOT_FOUND', 'plan "gold" is unknown');
    expect(isTesseraError(e)).toBe(true);
    expect(isTesseraError(e, 'PLAN_NOT_FOUND')).toBe(true);
    expect(isTesseraError(e, 'CONFLICT')).toBe(false);
  });

  it('recognises an error of another copy by its Symbol.for brand', () => {
    const e: unknown = new OtherCopyError('CUSTOMER_NOT_FOUND', 'customer "c1" does not exist', { field: 'customerId' });
    expect(e instanceof TesseraError).toBe(false);
    expect(isTesseraError(e)).toBe(true);
    expect(isTesseraError(e, 'CUSTOMER_NOT_FOUND')).toBe(true);
    expect(isTesseraError(e, 'CONFLICT')).toBe(false);
    if (isTesseraError(e)) expect(e.details.field).toBe('customerId');
  });

  it('recognises a branded instance (the brand on the object rather than its prototype)', () => {
    const e = Object.assign(new Error('x'), { code: 'OFFLINE', details: {}, [Symbol.for('tessera.error')]: true });
    expect(isTesseraError(e, 'OFFLINE')).toBe(true);
  });

  it('rejects look-alikes without the brand, and branded objects without the shape', () => {
    expect(isTesseraError(Object.assign(new Error('x'), { code: 'OFFLINE', details: {} }))).toBe(false);
    expect(isTesseraError({ code: 'OFFLINE', message: 'x', details: {} })).toBe(false);
    const brand = Symbol.for('tessera.error');
    expect(isTesseraError({ [brand]: true, message: 'x', details: {} })).toBe(false);
    expect(isTesseraError({ [brand]: true, code: 'OFFLINE', message: 'x', details: null })).toBe(false);
    expect(isTesseraError({ [brand]: 'yes', code: 'OFFLINE', message: 'x', details: {} })).toBe(false);
    expect(isTesseraError(null)).toBe(false);
    expect(isTesseraError('OFFLINE')).toBe(false);
  });

  it('keeps the brand off the JSON form and the own keys of an error', () => {
    const e = new TesseraError('OFFLINE', 'no store');
    expect(JSON.parse(JSON.stringify(e))).toEqual({ code: 'OFFLINE', message: 'no store', details: {} });
    expect(Object.getOwnPropertySymbols(e)).toEqual([]);
  });
});

import type { TesseraErrorCode, TesseraErrorDetails } from '@tessera/core';

/**
 * The brand every Tessera error carries, whichever copy of which package made it:
 * `Symbol.for` gives one symbol per JavaScript realm, so `isTesseraError` (here and in
 * `@tessera/core`) recognises errors that `instanceof` would not (an ESM and a CJS copy of a
 * package in one app, or this client's errors beside the engine's).
 */
export const TESSERA_ERROR_BRAND: unique symbol = Symbol.for('tessera.error') as never;

/** The sidecar's code for a failure it did not expect (a bug): not one of the engine's codes. */
export const INTERNAL = 'INTERNAL';

/** Codes the client throws: the engine's, plus INTERNAL for failures the server did not expect. */
export type WireErrorCode = TesseraErrorCode | typeof INTERNAL;

/**
 * What the client throws: the server's code, message and details as the engine threw them, or
 * OFFLINE when the sidecar cannot be reached. The same shape as `@tessera/core`'s TesseraError
 * (`code`, `message`, `details`, `toJSON()`), without loading the engine; tell them apart from
 * other errors with `isTesseraError`, not `instanceof`.
 */
export class TesseraError extends Error {
  override readonly name = 'TesseraError';
  constructor(
    readonly code: TesseraErrorCode,
    message: string,
    readonly details: TesseraErrorDetails = {},
  ) {
    super(message);
  }

  /** The brand `isTesseraError` looks for: on the prototype, so an error's own keys stay code, message and details. */
  get [TESSERA_ERROR_BRAND](): true {
    return true;
  }

  toJSON(): { code: TesseraErrorCode; message: string; details: TesseraErrorDetails } {
    return { code: this.code, message: this.message, details: this.details };
  }
}

/**
 * True when `e` is a Tessera error (this client's, or the engine's from any copy of
 * `@tessera/core`), optionally with the given code.
 */
export function isTesseraError(e: unknown, code?: TesseraErrorCode): e is TesseraError {
  return (
    typeof e === 'object' &&
    e !== null &&
    (e as Record<symbol, unknown>)[TESSERA_ERROR_BRAND] === true &&
    (code === undefined || (e as { code?: unknown }).code === code)
  );
}

/** Stable error codes; callers branch on these, never on message text. */
export type TesseraErrorCode =
  | 'INVALID_ARGUMENT'
  | 'CUSTOMER_NOT_FOUND'
  | 'CUSTOMER_ID_ARCHIVED'
  | 'PLAN_NOT_FOUND'
  | 'ADDON_NOT_FOUND'
  | 'FEATURE_NOT_FOUND'
  | 'SUBSCRIPTION_NOT_FOUND'
  | 'ADDON_NOT_COMPATIBLE'
  | 'ADDON_QUANTITY_EXCEEDED'
  | 'BILLING_PERIOD_REQUIRED'
  | 'PRICE_NOT_FOUND'
  | 'PROMOTION_CODE_INVALID'
  | 'USAGE_LIMIT_EXCEEDED'
  | 'RESERVATION_NOT_FOUND'
  /** A write named an entity the customer does not have, or one deleted (docs/entities.md). */
  | 'ENTITY_NOT_FOUND'
  | 'CONFLICT'
  | 'STORE_UNAVAILABLE'
  /** A payment provider did not start a checkout; what it was for is committed and retryable (docs/providers.md). */
  | 'PAYMENT_PROVIDER_FAILED'
  /**
   * A stored record cannot be read (a JSON column that does not parse): `details.table` and
   * `details.key` name it. Only calls touching that record fail; restore it from a backup.
   */
  | 'STORE_CORRUPT'
  | 'OFFLINE'
  | 'UNAUTHORIZED'
  /** An unexpected failure inside a service (the sidecar answers it for non-Tessera errors). */
  | 'INTERNAL';

/** What went wrong with which input: `field` is a dotted path into the call's params. */
export interface TesseraErrorDetails {
  field?: string;
  value?: unknown;
  allowed?: readonly unknown[];
  problems?: { path: string; message: string }[];
  [key: string]: unknown;
}

/**
 * The brand every TesseraError carries, registered globally (`Symbol.for`) so that errors thrown by
 * another copy of `@tessera/core` (its ESM and CommonJS builds in one app, or two versions) are
 * recognised by `isTesseraError`, where `instanceof` sees two unrelated classes.
 */
export const TESSERA_ERROR_BRAND: unique symbol = Symbol.for('tessera.error');

/**
 * The one error type Tessera throws. `code` is stable; `message` says what to fix;
 * `details` names the offending field. A call that throws has written nothing.
 */
export class TesseraError extends Error {
  override readonly name = 'TesseraError';
  /** Set on the prototype (below): marks Tessera errors across copies of the package. */
  declare readonly [TESSERA_ERROR_BRAND]: true;
  constructor(
    readonly code: TesseraErrorCode,
    message: string,
    readonly details: TesseraErrorDetails = {},
  ) {
    super(message);
  }

  toJSON(): { code: TesseraErrorCode; message: string; details: TesseraErrorDetails } {
    return { code: this.code, message: this.message, details: this.details };
  }
}

/** Shorthand for the most common error: a bad argument at `field`. */
export function invalidArgument(field: string, message: string, extra: TesseraErrorDetails = {}): TesseraError {
  return new TesseraError('INVALID_ARGUMENT', `${field}: ${message}`, { field, ...extra });
}

// On the prototype, not each instance: one property for all errors, and `toEqual` comparisons
// and JSON output of an error stay as they were.
Object.defineProperty(TesseraError.prototype, TESSERA_ERROR_BRAND, { value: true });

/**
 * True when `e` is a TesseraError, optionally with the given code. Also true for an error of
 * another copy of `@tessera/core` (ESM beside CommonJS): it carries the `Symbol.for('tessera.error')`
 * brand and has the shape (a string `code` and `message`, an object `details`).
 */
export function isTesseraError(e: unknown, code?: TesseraErrorCode): e is TesseraError {
  if (e instanceof TesseraError) return code === undefined || e.code === code;
  if (typeof e !== 'object' || e === null) return false;
  const o = e as { [TESSERA_ERROR_BRAND]?: unknown; code?: unknown; message?: unknown; details?: unknown };
  return (
    o[TESSERA_ERROR_BRAND] === true &&
    typeof o.code === 'string' &&
    typeof o.message === 'string' &&
    typeof o.details === 'object' &&
    o.details !== null &&
    (code === undefined || o.code === code)
  );
}

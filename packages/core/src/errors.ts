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
  | 'CONFLICT'
  | 'STORE_UNAVAILABLE'
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
 * The one error type Tessera throws. `code` is stable; `message` says what to fix;
 * `details` names the offending field. A call that throws has written nothing.
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

  toJSON(): { code: TesseraErrorCode; message: string; details: TesseraErrorDetails } {
    return { code: this.code, message: this.message, details: this.details };
  }
}

/** Shorthand for the most common error: a bad argument at `field`. */
export function invalidArgument(field: string, message: string, extra: TesseraErrorDetails = {}): TesseraError {
  return new TesseraError('INVALID_ARGUMENT', `${field}: ${message}`, { field, ...extra });
}

/** True when `e` is a TesseraError, optionally with the given code. */
export function isTesseraError(e: unknown, code?: TesseraErrorCode): e is TesseraError {
  return e instanceof TesseraError && (code === undefined || e.code === code);
}

import type { TesseraError, TesseraErrorCode, TesseraErrorDetails } from '@tessera/core';

/**
 * The HTTP status of each error code. A record over the whole union, so a new code does not
 * compile until it has a status here.
 *
 * - 400: the request is wrong as sent (bad argument, missing billing period, add-on not
 *   compatible or over its maximum, promotion code not valid).
 * - 404: a named thing does not exist (`*_NOT_FOUND`, ADDON_NOT_FOUND included).
 * - 409: the request conflicts with stored state (CONFLICT, an archived customer's id).
 * - 422: USAGE_LIMIT_EXCEEDED: well formed and understood, refused because of the quota now;
 *   not 409 so that clients can tell "over the limit" from "state moved under you".
 * - 502: PAYMENT_PROVIDER_FAILED: the payment provider failed; the subscription is committed, retry the checkout.
 * - 500: STORE_CORRUPT (a damaged stored record; the body does not say which, the log does).
 * - 503: STORE_UNAVAILABLE (and OFFLINE, which a server does not normally send): retry later.
 * - 401: UNAUTHORIZED; the sidecar itself answers 403 for a read-only key calling a write method.
 */
export const HTTP_STATUS: Record<TesseraErrorCode, number> = {
  INVALID_ARGUMENT: 400,
  BILLING_PERIOD_REQUIRED: 400,
  ADDON_NOT_COMPATIBLE: 400,
  ADDON_QUANTITY_EXCEEDED: 400,
  PROMOTION_CODE_INVALID: 400,
  CUSTOMER_NOT_FOUND: 404,
  PLAN_NOT_FOUND: 404,
  ADDON_NOT_FOUND: 404,
  FEATURE_NOT_FOUND: 404,
  SUBSCRIPTION_NOT_FOUND: 404,
  PRICE_NOT_FOUND: 404,
  RESERVATION_NOT_FOUND: 404,
  ENTITY_NOT_FOUND: 404,
  CUSTOMER_ID_ARCHIVED: 409,
  CONFLICT: 409,
  USAGE_LIMIT_EXCEEDED: 422,
  STORE_UNAVAILABLE: 503,
  PAYMENT_PROVIDER_FAILED: 502,
  // Damaged stored data: retrying does not help and the client did nothing wrong.
  STORE_CORRUPT: 500,
  OFFLINE: 503,
  UNAUTHORIZED: 401,
  INTERNAL: 500,
};

/**
 * The code of an error that is no TesseraError (a bug or an unexpected failure in the server).
 * The sidecar answers it with status 500 and no stack; the client throws a TesseraError with it.
 */
export const INTERNAL = 'INTERNAL';

/** Codes on the wire: the engine's, plus INTERNAL for failures the server did not expect. */
export type WireErrorCode = TesseraErrorCode | typeof INTERNAL;

/** The JSON body of every error answer. */
export interface ErrorBody {
  error: { code: WireErrorCode; message: string; details: TesseraErrorDetails };
}

/** What an error answer may say, and whether its full story belongs in the log instead. */
export interface PublicError {
  status: number;
  code: WireErrorCode;
  message: string;
  details: TesseraErrorDetails;
  /** The body says less than the error: the sidecar logs the error in full. */
  withheld: boolean;
}

/** Generic messages for answers whose own message is withheld (packages/http/README.md#errors). */
const GENERIC: Partial<Record<WireErrorCode, string>> = {
  STORE_UNAVAILABLE: 'the store is unavailable right now; retry later (the sidecar log has the cause)',
  OFFLINE: 'the engine is offline; retry later',
  CONFLICT: 'the call conflicts with stored state; read the current state and retry',
  STORE_CORRUPT: 'stored data needed by this call is damaged; the sidecar log names the record',
};

/**
 * The body of an error answer. A message that says what to fix goes to the caller as it is. What
 * may hold a server path, a driver message or a stack does not: any 5xx (a broken or busy store,
 * a bug), and any error a store translated from a driver error (it carries the driver's error as
 * `cause`, e.g. a SQLite CONFLICT quoting the constraint). Those answer a generic message for
 * their code with no details; the caller still branches on the code.
 */
/** Codes whose message and details the engine composes without any driver or provider text. */
const SELF_DESCRIBED = new Set<string>(['PAYMENT_PROVIDER_FAILED']);

export function publicError(e: TesseraError): PublicError {
  const status = HTTP_STATUS[e.code] ?? 500;
  const fromDriver = (e as { cause?: unknown }).cause !== undefined;
  // The engine writes PAYMENT_PROVIDER_FAILED's message and details itself (the subscription to
  // retry, the idempotency key) and keeps the provider's own error as the cause only, so the
  // caller gets what it needs to retry and nothing of the provider's.
  if ((status < 500 && !fromDriver) || SELF_DESCRIBED.has(e.code)) return { status, code: e.code, message: e.message, details: e.details, withheld: false };
  return { status, code: e.code, message: GENERIC[e.code] ?? `the sidecar could not serve the call (${e.code}); its log has the cause`, details: {}, withheld: true };
}

import type { TesseraErrorCode, TesseraErrorDetails } from '@tessera/core';

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
  CUSTOMER_ID_ARCHIVED: 409,
  CONFLICT: 409,
  USAGE_LIMIT_EXCEEDED: 422,
  STORE_UNAVAILABLE: 503,
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

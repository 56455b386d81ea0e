export { createClient, type ClientOptions, type TesseraClient, type ChangesPage, type SidecarHealth, type FetchLike } from './client.js';
export { reviveDates, DATE_FIELDS } from './revive.js';
export { METHOD_WIRE, NOT_EXPOSED, type MethodName, type MethodWire } from './methods.js';
export { TesseraError, isTesseraError, TESSERA_ERROR_BRAND, INTERNAL, type WireErrorCode } from './errors.js';
export type { TesseraErrorCode, TesseraErrorDetails } from '@tessera/core';

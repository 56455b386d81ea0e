export { TesseraProvider, type TesseraProviderOptions } from './provider.js';
export type { EntitlementSource, CheckParams } from './source.js';
export { toJson } from './resolve.js';

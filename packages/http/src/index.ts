export { createSidecar, MAX_WAIT_MS, type SidecarOptions } from './server/app.js';
export { serveSidecar, type ServeSidecarOptions, type RunningSidecar } from './server/serve.js';
export { MIN_KEY_LENGTH } from './server/keys.js';
// The typed client is @tessera/client's; this createClient throws the engine's TesseraError.
export { createClient } from './client.js';
export { reviveDates, DATE_FIELDS, METHOD_WIRE, type ClientOptions, type TesseraClient, type ChangesPage, type SidecarHealth, type FetchLike, type MethodWire } from '@tessera/client';
export { METHODS, NOT_EXPOSED, type MethodName, type MethodSpec, type MethodAccess } from './methods.js';
export { HTTP_STATUS, INTERNAL, publicError, type ErrorBody, type PublicError, type WireErrorCode } from './errors.js';
export {
  createReplica,
  httpSyncStore,
  type Replica,
  type ReplicaOptions,
  type ReplicaSyncState,
  type ReplicaEventMap,
  type ReplicaFallbackEntitlement,
  type ForwardedMethodName,
} from './replica/replica.js';
export type { FailedEntry as ReplicaFailedEntry } from './replica/outbox.js';
export { MAX_REPLICA_CUSTOMERS, type CustomerExport, type ReplicaSnapshot, type ReplicaCustomers } from './replica/records.js';
export { REPLICA_ROUTES } from './server/replica-routes.js';
export { openApiDocument, codesByStatus, ERROR_STATUSES } from './openapi/document.js';
export { METHOD_PARAMS } from './openapi/params.js';
export { METHOD_RESULTS } from './openapi/results.js';
export { httpWebhooks, type HttpWebhooksOptions, type WebhookEndpoint } from './webhooks/transport.js';
export { verifyWebhook, signWebhook, generateWebhookSecret, type VerifyWebhookOptions, type WebhookHeaders } from './webhooks/signature.js';

import type { Entitlement, EngineEventName, EngineEvents } from '@tessera/core';

/** The check the provider asks its source for (the params of `getEntitlement`). */
export interface CheckParams {
  customerId: string;
  featureId: string;
  resourceId?: string;
  options?: { requestedUsage?: number; requestedValues?: string[] };
}

/**
 * Where the provider gets its answers: anything with the engine's `getEntitlement`, i.e. an
 * `Engine` (in process) or a `TesseraClient` of a sidecar (`@tessera/client`). With `on` and
 * `off` (an `Engine`), the provider also turns the engine's events into OpenFeature
 * ConfigurationChanged events; a source without them (the sidecar client) emits none.
 */
export interface EntitlementSource {
  getEntitlement(params: CheckParams): Promise<Entitlement>;
  on?<K extends EngineEventName>(event: K, handler: (event: EngineEvents[K]) => void): unknown;
  off?<K extends EngineEventName>(event: K, handler: (event: EngineEvents[K]) => void): unknown;
}

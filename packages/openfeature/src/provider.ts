import {
  FlagNotFoundError,
  GeneralError,
  InvalidContextError,
  OpenFeatureError,
  OpenFeatureEventEmitter,
  ProviderEvents,
  type EvaluationContext,
  type EventMetadata,
  type JsonValue,
  type Provider,
  type ResolutionDetails,
} from '@openfeature/server-sdk';
import type { CatalogPublishedEvent, CreditBalanceUpdatedEvent, EntitlementsUpdatedEvent, UsageUpdatedEvent } from '@tessera/core';
import { checkParams } from './context.js';
import { resolveBoolean, resolveNumber, resolveObject, resolveString, type ResolveOptions } from './resolve.js';
import type { CheckParams, EntitlementSource } from './source.js';

/** Options of `TesseraProvider`. */
export interface TesseraProviderOptions {
  /**
   * The number flag of an unlimited NUMERIC or METERED entitlement; `Infinity` by default. Pass
   * e.g. `Number.MAX_SAFE_INTEGER` when the value goes somewhere JSON (Infinity becomes null).
   */
  unlimited?: number;
  /**
   * Picks the string flag of an ENUM feature from the customer's enabled values (as the check
   * lists them: sorted by value); the first one by default. Return undefined to have the call's
   * default value; anything else that is not a string is an error (GENERAL).
   */
  enumValue?: (values: readonly string[]) => string | undefined;
}

/**
 * An OpenFeature server provider whose flags are Tessera entitlement checks: the flag key is the
 * feature id, the context's `targetingKey` the customer id (README.md for the whole mapping).
 * The source is an `Engine` or a sidecar `TesseraClient`; the provider never closes it.
 */
export class TesseraProvider implements Provider {
  readonly metadata = { name: 'tessera' } as const;
  readonly runsOn = 'server' as const;
  /** ConfigurationChanged events, from the source's events (a source with `on`/`off` only). */
  readonly events = new OpenFeatureEventEmitter();

  private readonly options: ResolveOptions;
  private subscribed = false;

  constructor(
    private readonly source: EntitlementSource,
    options: TesseraProviderOptions = {},
  ) {
    if (typeof source?.getEntitlement !== 'function') {
      throw new TypeError('TesseraProvider needs a source with a getEntitlement method: an Engine or a TesseraClient');
    }
    const unlimited = options.unlimited ?? Number.POSITIVE_INFINITY;
    if (typeof unlimited !== 'number' || Number.isNaN(unlimited)) throw new TypeError(`options.unlimited must be a number, got ${String(unlimited)}`);
    if (options.enumValue !== undefined && typeof options.enumValue !== 'function') throw new TypeError('options.enumValue must be a function');
    this.options = { unlimited, enumValue: options.enumValue ?? ((values) => values[0]) };
  }

  /** Called by the SDK when the provider is set: starts forwarding the source's events. */
  async initialize(): Promise<void> {
    const source = this.source;
    if (this.subscribed || typeof source.on !== 'function' || typeof source.off !== 'function') return;
    source.on('entitlementsUpdated', this.onEntitlements);
    source.on('usageUpdated', this.onUsage);
    source.on('catalogPublished', this.onCatalog);
    source.on('creditBalanceUpdated', this.onCredits);
    this.subscribed = true;
  }

  /** Called by the SDK when the provider is replaced or OpenFeature closes: stops forwarding events (the source stays open). */
  async onClose(): Promise<void> {
    const source = this.source;
    if (!this.subscribed || typeof source.off !== 'function') return;
    source.off('entitlementsUpdated', this.onEntitlements);
    source.off('usageUpdated', this.onUsage);
    source.off('catalogPublished', this.onCatalog);
    source.off('creditBalanceUpdated', this.onCredits);
    this.subscribed = false;
  }

  async resolveBooleanEvaluation(flagKey: string, _defaultValue: boolean, context: EvaluationContext): Promise<ResolutionDetails<boolean>> {
    return resolveBoolean(flagKey, await this.check(flagKey, context));
  }

  async resolveNumberEvaluation(flagKey: string, defaultValue: number, context: EvaluationContext): Promise<ResolutionDetails<number>> {
    return resolveNumber(flagKey, await this.check(flagKey, context), defaultValue, this.options);
  }

  async resolveStringEvaluation(flagKey: string, defaultValue: string, context: EvaluationContext): Promise<ResolutionDetails<string>> {
    return resolveString(flagKey, await this.check(flagKey, context), defaultValue, this.options);
  }

  async resolveObjectEvaluation<T extends JsonValue>(flagKey: string, _defaultValue: T, context: EvaluationContext): Promise<ResolutionDetails<T>> {
    // The value is the entitlement whatever T the caller names: T is the caller's claim, as with any provider.
    return resolveObject(flagKey, await this.check(flagKey, context)) as ResolutionDetails<T>;
  }

  /**
   * Runs the check. A TesseraError becomes the OpenFeature error that says the same: bad input
   * INVALID_CONTEXT (or FLAG_NOT_FOUND when it is the flag key), anything else GENERAL with the
   * code in the message and the error as `cause`; the SDK then answers the default value with
   * the error code and logs it.
   */
  private async check(flagKey: string, context: EvaluationContext) {
    const params: CheckParams = checkParams(flagKey, context);
    try {
      return await this.source.getEntitlement(params);
    } catch (e) {
      throw toOpenFeatureError(e, flagKey);
    }
  }

  private readonly onEntitlements = (e: EntitlementsUpdatedEvent) => {
    // Any feature of the customer may have changed: no flagsChanged, which means "maybe all".
    this.changed(undefined, { customerId: e.customerId, ...(e.resourceId ? { resourceId: e.resourceId } : {}), reason: e.reason });
  };

  private readonly onUsage = (e: UsageUpdatedEvent) => {
    this.changed([e.featureId], { customerId: e.customerId, ...(e.resourceId ? { resourceId: e.resourceId } : {}), currentUsage: e.currentUsage });
  };

  private readonly onCatalog = (e: CatalogPublishedEvent) => {
    this.changed(undefined, { catalogVersion: e.version });
  };

  private readonly onCredits = (e: CreditBalanceUpdatedEvent) => {
    // Features that cost credits are granted while the balance covers them; which ones cost this currency the event does not say.
    this.changed(undefined, { customerId: e.customerId, currencyId: e.currencyId, balance: e.balance });
  };

  private changed(flagsChanged: string[] | undefined, metadata: EventMetadata): void {
    this.events.emit(ProviderEvents.ConfigurationChanged, { ...(flagsChanged ? { flagsChanged } : {}), metadata });
  }
}

/** Whether `e` is a TesseraError of any copy of Tessera (core, the client): its Symbol.for brand, without loading core. */
function tesseraErrorCode(e: unknown): string | undefined {
  if (typeof e !== 'object' || e === null || (e as Record<symbol, unknown>)[Symbol.for('tessera.error')] !== true) return undefined;
  const code = (e as { code?: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}

function toOpenFeatureError(e: unknown, flagKey: string): OpenFeatureError {
  if (e instanceof OpenFeatureError) return e;
  const code = tesseraErrorCode(e);
  const message = e instanceof Error ? e.message : String(e);
  if (code === 'INVALID_ARGUMENT') {
    const field = (e as { details?: { field?: unknown } }).details?.field;
    // The flag key is the feature id: a key the engine refuses (too long, control characters) names no feature.
    if (typeof field === 'string' && /(^|\.)featureId$/.test(field)) return new FlagNotFoundError(`"${flagKey}" cannot be a Tessera feature id: ${message}`, { cause: e });
    return new InvalidContextError(`the evaluation context does not make a valid Tessera check: ${message}`, { cause: e });
  }
  return new GeneralError(code ? `${code}: ${message}` : message, { cause: e });
}

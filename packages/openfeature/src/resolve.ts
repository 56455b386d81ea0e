import {
  FlagNotFoundError,
  GeneralError,
  StandardResolutionReasons,
  TypeMismatchError,
  type FlagMetadata,
  type JsonObject,
  type JsonValue,
  type ResolutionDetails,
} from '@openfeature/server-sdk';
import type { Entitlement, FeatureType } from '@tessera/core';

/** How an entitlement becomes a flag value: the provider's options, with their defaults filled in. */
export interface ResolveOptions {
  /** The number flag of an unlimited NUMERIC or METERED entitlement. */
  unlimited: number;
  /** The string flag of an ENUM entitlement, from its enabled values (sorted by value); undefined for none. */
  enumValue: (values: readonly string[]) => string | undefined;
}

/**
 * The feature's type, or undefined when the answer does not say (a fallback answer for a feature
 * the engine's catalog does not have). Throws FlagNotFoundError when the catalog has no such
 * feature: a live answer always carries `feature` when the catalog has it, also when it denies
 * for another reason (an unknown customer), so its absence is what tells.
 */
function featureType(flagKey: string, e: Entitlement): FeatureType | undefined {
  if (e.accessDeniedReason === 'FeatureNotFound' || (!e.isFallback && !e.feature)) {
    throw new FlagNotFoundError(`no feature "${flagKey}" in the Tessera catalog (the flag key is the feature id)`);
  }
  return e.feature?.type ?? e.type;
}

/**
 * Live answers are the result of evaluating the customer's subscriptions, grants and usage:
 * TARGETING_MATCH, granted or denied (the denial's reason is in flagMetadata). Answers from the
 * engine's fallback values are pre-configured values: DEFAULT (README.md#reasons).
 */
function reasonOf(e: Entitlement): string {
  return e.isFallback ? StandardResolutionReasons.DEFAULT : StandardResolutionReasons.TARGETING_MATCH;
}

/** What the check said beside the value, as flag metadata (strings, numbers and booleans only). */
export function metadataOf(e: Entitlement): FlagMetadata {
  const m: FlagMetadata = { hasAccess: e.hasAccess, isFallback: e.isFallback };
  if (e.accessDeniedReason) m.accessDeniedReason = e.accessDeniedReason;
  const type = e.feature?.type ?? e.type;
  if (type) m.featureType = type;
  if (e.resourceId) m.resourceId = e.resourceId;
  if (e.type === 'NUMERIC' || e.type === 'METERED') m.isUnlimited = e.isUnlimited;
  if (e.type === 'METERED') {
    m.currentUsage = e.currentUsage;
    if (e.usageLimit !== null) m.usageLimit = e.usageLimit;
  }
  return m;
}

function mismatch(flagKey: string, type: FeatureType, asked: string): TypeMismatchError {
  const fits = type === 'ENUM' ? 'boolean, string or object' : type === 'BOOLEAN' ? 'boolean or object' : 'boolean, number or object';
  return new TypeMismatchError(`"${flagKey}" is a ${type} feature: evaluate it as a ${fits} flag, not as a ${asked} flag`);
}

/** A boolean flag: whether the customer has access (to the requested usage or values, if any). */
export function resolveBoolean(flagKey: string, e: Entitlement): ResolutionDetails<boolean> {
  featureType(flagKey, e);
  return { value: e.hasAccess, reason: reasonOf(e), flagMetadata: metadataOf(e) };
}

/**
 * A number flag: a NUMERIC feature's value, a METERED feature's remaining usage (limit minus
 * current usage, never below 0); `options.unlimited` when unlimited, 0 without an entitlement.
 * Throws TypeMismatchError for a BOOLEAN or ENUM feature.
 */
export function resolveNumber(flagKey: string, e: Entitlement, defaultValue: number, options: ResolveOptions): ResolutionDetails<number> {
  const type = featureType(flagKey, e);
  if (type === undefined) return { value: defaultValue, reason: StandardResolutionReasons.DEFAULT, flagMetadata: metadataOf(e) };
  if (type !== 'NUMERIC' && type !== 'METERED') throw mismatch(flagKey, type, 'number');
  let value = 0;
  if (e.type === 'NUMERIC') {
    if (e.isUnlimited) value = options.unlimited;
    else if (e.hasAccess && e.value !== null) value = e.value;
  } else if (e.type === 'METERED') {
    // A soft limit lets usage pass the limit: what is left is then nothing, not a negative amount.
    if (e.isUnlimited) value = options.unlimited;
    else if (e.usageLimit !== null) value = Math.max(0, e.usageLimit - e.currentUsage);
  }
  return { value, reason: reasonOf(e), flagMetadata: metadataOf(e) };
}

/**
 * A string flag: one of an ENUM feature's enabled values, chosen by `options.enumValue` (the
 * first, by default). With no enabled value (no entitlement), the call's default value, reason
 * DEFAULT. Throws TypeMismatchError for a feature of another type.
 */
export function resolveString(flagKey: string, e: Entitlement, defaultValue: string, options: ResolveOptions): ResolutionDetails<string> {
  const type = featureType(flagKey, e);
  if (type === undefined) return { value: defaultValue, reason: StandardResolutionReasons.DEFAULT, flagMetadata: metadataOf(e) };
  if (type !== 'ENUM') throw mismatch(flagKey, type, 'string');
  const value: unknown = e.type === 'ENUM' ? options.enumValue(e.enumValues) : undefined;
  if (value !== undefined && typeof value !== 'string') throw new GeneralError(`options.enumValue returned ${typeof value} for "${flagKey}": it must return one of the values or undefined`);
  if (value === undefined) return { value: defaultValue, reason: StandardResolutionReasons.DEFAULT, flagMetadata: metadataOf(e) };
  return { value, reason: reasonOf(e), flagMetadata: metadataOf(e) };
}

/** An object flag: the whole entitlement as JSON (instants as ISO strings, absent fields left out). */
export function resolveObject(flagKey: string, e: Entitlement): ResolutionDetails<JsonObject> {
  featureType(flagKey, e);
  return { value: toJson(e) as JsonObject, reason: reasonOf(e), flagMetadata: metadataOf(e) };
}

/**
 * A JSON copy of a check result: what JSON.stringify would keep, as values. Dates become ISO
 * strings, undefined fields are left out, a number JSON cannot hold becomes null.
 */
export function toJson(value: unknown): JsonValue {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map((v) => (v === undefined || typeof v === 'function' ? null : toJson(v)));
  if (typeof value === 'object') {
    const out: JsonObject = {};
    for (const [k, v] of Object.entries(value)) {
      if (v === undefined || typeof v === 'function' || typeof v === 'symbol') continue;
      out[k] = toJson(v);
    }
    return out;
  }
  return null;
}

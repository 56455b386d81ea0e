import type { FeatureDefinition, FeatureType } from '../../catalog/types.js';

/** The feature as entitlement results show it. */
export interface FeatureInfo {
  id: string;
  displayName: string;
  type: FeatureType;
  units: string | null;
  unitsPlural: string | null;
  metadata: Record<string, string>;
}

const featureInfoCache = new WeakMap<FeatureDefinition, FeatureInfo>();

/** The public description of a feature (memoised per catalog object: checks return it often). */
export function featureInfo(f: FeatureDefinition): FeatureInfo {
  let info = featureInfoCache.get(f);
  if (!info) {
    info = {
      id: f.id,
      displayName: f.displayName ?? f.id,
      type: f.type,
      units: f.units ?? null,
      unitsPlural: f.unitsPlural ?? f.units ?? null,
      metadata: { ...(f.metadata ?? {}) },
    };
    featureInfoCache.set(f, info);
  }
  return info;
}

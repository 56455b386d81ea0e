import { describe, expect, it } from 'vitest';
import type { EntitlementDefinition, FeatureDefinition } from '../src/catalog/types.js';
import { combineEntitlement, type EntitlementSource } from '../src/rules/entitlements.js';

// How further limits of several sources combine (docs/conventions.md#combining-sources, docs/limits.md).

const feature: FeatureDefinition = { id: 'api-calls', displayName: 'API calls', type: 'METERED' };
const ANCHOR = Date.UTC(2024, 2, 1);
const src = (kind: EntitlementSource['kind'], sourceId: string, e: Omit<EntitlementDefinition, 'featureId'>, quantity = 1): EntitlementSource => ({
  kind,
  sourceId,
  entitlement: { featureId: 'api-calls', ...e },
  quantity,
  anchor: ANCHOR,
});
const plan = src('PLAN', 'pro', { usageLimit: 100, resetPeriod: 'HOUR', limits: [{ usageLimit: 2000, resetPeriod: 'MONTH' }] });
const shown = (sources: EntitlementSource[]) => {
  const e = combineEntitlement(feature, sources)!;
  return { usageLimit: e.usageLimit, resetPeriod: e.resetPeriod, limits: e.limits?.map((l) => [l.resetPeriod, l.usageLimit]) };
};

describe('combining further limits', () => {
  it('keeps one source\'s limits as declared, windows anchored on the source', () => {
    expect(shown([plan])).toEqual({ usageLimit: 100, resetPeriod: 'HOUR', limits: [['MONTH', 2000]] });
    expect(combineEntitlement(feature, [plan])!.limits![0]!.window).toEqual({ resetPeriod: 'MONTH', anchor: ANCHOR });
  });

  it('adds limits on the same period, times quantity: 2,000 + 500 x 2 = 3,000 a month', () => {
    const addon = src('ADDON', 'boost', { usageLimit: 50, resetPeriod: 'HOUR', limits: [{ usageLimit: 500, resetPeriod: 'MONTH' }] }, 2);
    // Primary: 100 + 50 x 2 = 200 an hour.
    expect(shown([plan, addon])).toEqual({ usageLimit: 200, resetPeriod: 'HOUR', limits: [['MONTH', 3000]] });
  });

  it('counts a source whose own period is a further limit\'s period in that limit: 2,000 + 700 a month', () => {
    const addon = src('ADDON', 'monthly', { usageLimit: 700, resetPeriod: 'MONTH' });
    // Primary by its own rule (every usageLimit adds, the shortest period wins): 100 + 700 an hour.
    expect(shown([plan, addon])).toEqual({ usageLimit: 800, resetPeriod: 'HOUR', limits: [['MONTH', 2700]] });
  });

  it('folds a further limit on the combined primary period into the primary', () => {
    const daily = src('PLAN', 'daily', { usageLimit: 10, resetPeriod: 'DAY', limits: [{ usageLimit: 40, resetPeriod: 'HOUR' }] });
    // Shortest period HOUR wins the primary: 100 + 10 + 40 (the hourly further limit) = 150; MONTH 2,000 stays.
    expect(shown([plan, daily])).toEqual({ usageLimit: 150, resetPeriod: 'HOUR', limits: [['MONTH', 2000]] });
  });

  it('drops every limit when a source is unlimited, and leaves entitlements without limits as they were', () => {
    expect(shown([plan, src('PROMOTIONAL', 'promo', { isUnlimited: true, resetPeriod: 'HOUR' })])).toEqual({ usageLimit: null, resetPeriod: 'HOUR', limits: undefined });
    expect('limits' in combineEntitlement(feature, [src('PLAN', 'p', { usageLimit: 5, resetPeriod: 'DAY' })])!).toBe(false);
  });
});

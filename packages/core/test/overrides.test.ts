import { describe, expect, it } from 'vitest';
import type { FeatureDefinition } from '../src/catalog/types.js';
import { type EntitlementSource, resolveEntitlements } from '../src/rules/entitlements.js';
import { type EntitlementOverrideState, applyOverrides, isOverrideActiveAt, nextOverrideTransition, overridesInForce, removeOverrides } from '../src/rules/overrides.js';

const at = (iso: string) => Date.parse(iso);

const features = new Map<string, FeatureDefinition>(
  [
    { id: 'seats', type: 'NUMERIC' },
    { id: 'api-calls', type: 'METERED' },
  ].map((f) => [f.id, f as FeatureDefinition]),
);

const ANCHOR = at('2024-01-05T00:00:00Z');
const NOW = at('2024-02-10T00:00:00Z');
const plan: EntitlementSource[] = [
  { kind: 'PLAN', sourceId: 'team', entitlement: { featureId: 'api-calls', usageLimit: 10_000, resetPeriod: 'MONTH' }, quantity: 1, anchor: ANCHOR },
  { kind: 'ADDON', sourceId: 'boost', entitlement: { featureId: 'api-calls', usageLimit: 1_000, resetPeriod: 'MONTH' }, quantity: 3, anchor: ANCHOR },
  { kind: 'PLAN', sourceId: 'team', entitlement: { featureId: 'seats', value: 5 }, quantity: 1, anchor: ANCHOR },
];
const promo: EntitlementSource = { kind: 'PROMOTIONAL', sourceId: 'p1', entitlement: { featureId: 'api-calls', usageLimit: 500, resetPeriod: 'MONTH' }, quantity: 1, anchor: at('2024-02-03T00:00:00Z') };

function override(over: Partial<EntitlementOverrideState> & Pick<EntitlementOverrideState, 'id'>): EntitlementOverrideState {
  return {
    resourceId: '',
    featureId: 'api-calls',
    entitlement: { featureId: 'api-calls', usageLimit: 1_000_000, resetPeriod: 'MONTH' },
    startDate: at('2024-02-01T00:00:00Z'),
    endDate: at('2024-03-01T00:00:00Z'),
    removedAt: null,
    ...over,
  };
}

describe('overrides in force', () => {
  const o = override({ id: 'o1' });

  it('start at startDate, end just before endDate, and end at removal', () => {
    expect(isOverrideActiveAt(o, at('2024-02-01T00:00:00Z') - 1)).toBe(false);
    expect(isOverrideActiveAt(o, at('2024-02-01T00:00:00Z'))).toBe(true);
    expect(isOverrideActiveAt(o, at('2024-03-01T00:00:00Z') - 1)).toBe(true);
    expect(isOverrideActiveAt(o, at('2024-03-01T00:00:00Z'))).toBe(false);
    expect(isOverrideActiveAt({ ...o, removedAt: NOW }, NOW - 1)).toBe(true);
    expect(isOverrideActiveAt({ ...o, removedAt: NOW }, NOW)).toBe(false);
  });

  it('names the next instant the overrides in force change', () => {
    const removed = override({ id: 'o2', featureId: 'seats', startDate: at('2024-02-15T00:00:00Z'), endDate: null, removedAt: at('2024-02-20T00:00:00Z') });
    expect(nextOverrideTransition([o, removed], at('2024-01-15T00:00:00Z'))).toBe(at('2024-02-01T00:00:00Z'));
    expect(nextOverrideTransition([o, removed], at('2024-02-01T00:00:00Z'))).toBe(at('2024-02-15T00:00:00Z'));
    expect(nextOverrideTransition([o, removed], at('2024-02-15T00:00:00Z'))).toBe(at('2024-02-20T00:00:00Z'));
    expect(nextOverrideTransition([o, removed], at('2024-02-20T00:00:00Z'))).toBe(at('2024-03-01T00:00:00Z'));
    expect(nextOverrideTransition([o, removed], at('2024-03-01T00:00:00Z'))).toBe(Number.POSITIVE_INFINITY);
  });

  it("prefers a resource's own override to the customer-level one, for that resource only", () => {
    const customer = override({ id: 'c' });
    const site = override({ id: 's', resourceId: 'site-a' });
    expect(overridesInForce([site, customer], NOW, 'site-a').get('api-calls')!.id).toBe('s');
    expect(overridesInForce([site, customer], NOW, 'site-b').get('api-calls')!.id).toBe('c');
    expect(overridesInForce([site, customer], NOW, '').get('api-calls')!.id).toBe('c');
  });
});

describe('applyOverrides', () => {
  it('replaces plan and add-on sources of the feature, keeps promotions and other features', () => {
    const out = applyOverrides([...plan, promo], [override({ id: 'o1' })], NOW, '');
    expect(out.map((s) => `${s.kind}:${s.sourceId}:${s.entitlement.featureId}`).sort()).toEqual(['OVERRIDE:o1:api-calls', 'PLAN:team:seats', 'PROMOTIONAL:p1:api-calls']);
    const resolved = resolveEntitlements(features, out);
    // 1,000,000 from the override + 500 from the promotion; the plan's 10,000 and the add-on's 3 x 1,000 are gone.
    expect(resolved.get('api-calls')).toMatchObject({ usageLimit: 1_000_500 });
    expect(resolved.get('api-calls')!.sources.map((s) => s.kind)).toEqual(['OVERRIDE', 'PROMOTIONAL']);
    expect(resolved.get('seats')).toMatchObject({ value: 5 });
  });

  it("anchors the override's windows at the replaced subscription's anchor, else at its own start", () => {
    const o = override({ id: 'o1' });
    expect(resolveEntitlements(features, applyOverrides(plan, [o], NOW, '')).get('api-calls')!.window).toEqual({ resetPeriod: 'MONTH', anchor: ANCHOR });
    expect(resolveEntitlements(features, applyOverrides([], [o], NOW, '')).get('api-calls')!.window).toEqual({ resetPeriod: 'MONTH', anchor: o.startDate });
  });

  it('gives a NUMERIC value lower than the plan: it replaces, not takes the highest', () => {
    const o = override({ id: 'o1', featureId: 'seats', entitlement: { featureId: 'seats', value: 2 } });
    expect(resolveEntitlements(features, applyOverrides(plan, [o], NOW, '')).get('seats')).toMatchObject({ value: 2 });
  });

  it('changes nothing outside its dates or once removed', () => {
    expect(applyOverrides(plan, [override({ id: 'o1' })], at('2024-03-01T00:00:00Z'), '')).toBe(plan);
    expect(applyOverrides(plan, [override({ id: 'o1', removedAt: NOW })], NOW, '')).toBe(plan);
  });
});

describe('removeOverrides', () => {
  it('marks the live and scheduled overrides of the key removed, leaving ended and other keys', () => {
    const live = override({ id: 'live' });
    const scheduled = override({ id: 'later', startDate: at('2024-04-01T00:00:00Z'), endDate: null });
    const ended = override({ id: 'ended', endDate: NOW - 1 });
    const site = override({ id: 'site', resourceId: 'site-a' });
    const { overrides, removed } = removeOverrides([live, scheduled, ended, site], { featureId: 'api-calls', resourceId: '' }, NOW);
    expect(removed).toEqual(['live', 'later']);
    expect(overrides.map((o) => o.removedAt)).toEqual([NOW, NOW, null, null]);
    expect(live.removedAt).toBeNull();
  });
});

import { describe, expect, it } from 'vitest';
import type { FeatureDefinition } from '../src/catalog/types.js';
import { isTesseraError } from '../src/errors.js';
import { type EntitlementSource, resolveEntitlements } from '../src/rules/entitlements.js';
import {
  type PromotionalGrant,
  activeGrantsAt,
  grantSources,
  isGrantActiveAt,
  nextGrantTransition,
  promotionalEntitlement,
  promotionalPeriodEnd,
  revokeGrants,
} from '../src/rules/promotions.js';

const at = (iso: string) => Date.parse(iso);

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return isTesseraError(e) ? e.code : `not a TesseraError: ${String(e)}`;
  }
  return undefined;
}

function fieldOf(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return isTesseraError(e) ? e.details.field : `not a TesseraError: ${String(e)}`;
  }
  return undefined;
}

const FEATURES: FeatureDefinition[] = [
  { id: 'sso', type: 'BOOLEAN' },
  { id: 'seats', type: 'NUMERIC' },
  { id: 'api-calls', type: 'METERED' },
  { id: 'region', type: 'ENUM', enumValues: ['us', 'eu'] },
];
const features = new Map(FEATURES.map((f) => [f.id, f]));
const feature = (id: string) => features.get(id)!;

function grant(over: Partial<PromotionalGrant> & Pick<PromotionalGrant, 'id' | 'featureId' | 'entitlement'>): PromotionalGrant {
  return { customerId: 'c1', resourceId: '', startDate: at('2024-01-01T00:00:00Z'), endDate: null, revokedAt: null, ...over };
}

describe('promotionalPeriodEnd', () => {
  it('adds UTC calendar months with month ends clamped', () => {
    expect(promotionalPeriodEnd('ONE_MONTH', at('2024-01-31T10:00:00Z'))).toBe(at('2024-02-29T10:00:00Z'));
    expect(promotionalPeriodEnd('ONE_MONTH', at('2023-01-31T10:00:00Z'))).toBe(at('2023-02-28T10:00:00Z'));
    expect(promotionalPeriodEnd('SIX_MONTHS', at('2023-08-31T00:00:00Z'))).toBe(at('2024-02-29T00:00:00Z'));
    expect(promotionalPeriodEnd('ONE_YEAR', at('2024-02-29T00:00:00Z'))).toBe(at('2025-02-28T00:00:00Z'));
  });

  it('makes a week 7 days, LIFETIME endless and CUSTOM end at the date given', () => {
    expect(promotionalPeriodEnd('ONE_WEEK', at('2024-02-26T00:00:00Z'))).toBe(at('2024-03-04T00:00:00Z'));
    expect(promotionalPeriodEnd('LIFETIME', at('2024-02-26T00:00:00Z'))).toBeNull();
    expect(promotionalPeriodEnd('CUSTOM', at('2024-02-26T00:00:00Z'), at('2024-05-01T00:00:00Z'))).toBe(at('2024-05-01T00:00:00Z'));
  });

  it('refuses a CUSTOM period without an end after the start, and an end with another period', () => {
    const start = at('2024-02-26T00:00:00Z');
    expect(fieldOf(() => promotionalPeriodEnd('CUSTOM', start))).toBe('customEndDate');
    expect(fieldOf(() => promotionalPeriodEnd('CUSTOM', start, start))).toBe('customEndDate');
    expect(fieldOf(() => promotionalPeriodEnd('CUSTOM', start, start - 1))).toBe('customEndDate');
    expect(fieldOf(() => promotionalPeriodEnd('ONE_WEEK', start, start + 1))).toBe('customEndDate');
    expect(fieldOf(() => promotionalPeriodEnd('FOREVER' as 'LIFETIME', start))).toBe('period');
    expect(codeOf(() => promotionalPeriodEnd('LIFETIME', Number.NaN))).toBe('INVALID_ARGUMENT');
  });
});

describe('grants in force', () => {
  const g = grant({
    id: 'p1',
    featureId: 'sso',
    entitlement: { featureId: 'sso' },
    startDate: at('2024-02-01T00:00:00Z'),
    endDate: at('2024-03-01T00:00:00Z'),
  });

  it('starts at startDate and ends just before endDate', () => {
    expect(isGrantActiveAt(g, at('2024-02-01T00:00:00Z') - 1)).toBe(false);
    expect(isGrantActiveAt(g, at('2024-02-01T00:00:00Z'))).toBe(true);
    expect(isGrantActiveAt(g, at('2024-03-01T00:00:00Z') - 1)).toBe(true);
    expect(isGrantActiveAt(g, at('2024-03-01T00:00:00Z'))).toBe(false);
  });

  it('ends at revocation', () => {
    const revoked = { ...g, revokedAt: at('2024-02-10T00:00:00Z') };
    expect(activeGrantsAt([g, revoked], at('2024-02-09T00:00:00Z')).length).toBe(2);
    expect(activeGrantsAt([g, revoked], at('2024-02-10T00:00:00Z'))).toEqual([g]);
  });

  it('names the next instant the grants in force change', () => {
    const later = { ...g, id: 'p2', startDate: at('2024-02-15T00:00:00Z'), endDate: null };
    expect(nextGrantTransition([g, later], at('2024-01-15T00:00:00Z'))).toBe(at('2024-02-01T00:00:00Z'));
    expect(nextGrantTransition([g, later], at('2024-02-01T00:00:00Z'))).toBe(at('2024-02-15T00:00:00Z'));
    expect(nextGrantTransition([g, later], at('2024-02-20T00:00:00Z'))).toBe(at('2024-03-01T00:00:00Z'));
    expect(nextGrantTransition([g, later], at('2024-03-01T00:00:00Z'))).toBe(Number.POSITIVE_INFINITY);
  });
});

describe('combining with plan entitlements', () => {
  const NOW = at('2024-02-10T00:00:00Z');
  const plan: EntitlementSource[] = [
    { kind: 'PLAN', sourceId: 'basic', entitlement: { featureId: 'api-calls', usageLimit: 1000, resetPeriod: 'MONTH' }, quantity: 1, anchor: at('2024-01-05T00:00:00Z') },
    { kind: 'PLAN', sourceId: 'basic', entitlement: { featureId: 'seats', value: 5 }, quantity: 1, anchor: at('2024-01-05T00:00:00Z') },
  ];

  it('adds a promotional limit to the plan limit and keeps the plan window', () => {
    const grants = [grant({ id: 'p1', featureId: 'api-calls', entitlement: { featureId: 'api-calls', usageLimit: 500, resetPeriod: 'MONTH' }, startDate: at('2024-02-03T00:00:00Z') })];
    const sources = grantSources(grants, NOW);
    expect(sources).toEqual([
      { kind: 'PROMOTIONAL', sourceId: 'p1', entitlement: { featureId: 'api-calls', usageLimit: 500, resetPeriod: 'MONTH' }, quantity: 1, anchor: at('2024-02-03T00:00:00Z') },
    ]);
    const resolved = resolveEntitlements(features, [...plan, ...sources]).get('api-calls')!;
    expect(resolved.usageLimit).toBe(1500);
    // Equal reset periods: the plan's anchor wins the tie.
    expect(resolved.window.anchor).toBe(at('2024-01-05T00:00:00Z'));
  });

  it('anchors a promotion-only windowed entitlement at the grant start', () => {
    const grants = [grant({ id: 'p1', featureId: 'api-calls', entitlement: { featureId: 'api-calls', usageLimit: 50, resetPeriod: 'WEEK' }, startDate: at('2024-02-03T00:00:00Z') })];
    const resolved = resolveEntitlements(features, [...grantSources(grants, NOW)]).get('api-calls')!;
    expect(resolved.window).toEqual({ resetPeriod: 'WEEK', anchor: at('2024-02-03T00:00:00Z') });
  });

  it('takes the highest numeric value and lets unlimited win', () => {
    const grants = [
      grant({ id: 'p1', featureId: 'seats', entitlement: { featureId: 'seats', value: 10 } }),
      grant({ id: 'p2', featureId: 'api-calls', entitlement: { featureId: 'api-calls', isUnlimited: true } }),
    ];
    const resolved = resolveEntitlements(features, [...plan, ...grantSources(grants, NOW)]);
    expect(resolved.get('seats')!.value).toBe(10);
    expect(resolved.get('api-calls')!).toMatchObject({ isUnlimited: true, usageLimit: null });
  });

  it('gives a feature the plan lacks, only while the grant is in force', () => {
    const grants = [grant({ id: 'p1', featureId: 'sso', entitlement: { featureId: 'sso' }, endDate: at('2024-02-10T00:00:00Z') })];
    expect(resolveEntitlements(features, [...plan, ...grantSources(grants, NOW - 1)]).has('sso')).toBe(true);
    expect(resolveEntitlements(features, [...plan, ...grantSources(grants, NOW)]).has('sso')).toBe(false);
  });

  it('applies customer-level grants to every resource and resource grants only to theirs', () => {
    const grants = [
      grant({ id: 'customer', featureId: 'sso', entitlement: { featureId: 'sso' } }),
      grant({ id: 'site-a', resourceId: 'site-a', featureId: 'seats', entitlement: { featureId: 'seats', value: 3 } }),
    ];
    expect(grantSources(grants, NOW, '').map((s) => s.sourceId)).toEqual(['customer']);
    expect(grantSources(grants, NOW, 'site-a').map((s) => s.sourceId)).toEqual(['customer', 'site-a']);
    expect(grantSources(grants, NOW, 'site-b').map((s) => s.sourceId)).toEqual(['customer']);
    expect(grantSources(grants, NOW).map((s) => s.sourceId)).toEqual(['customer', 'site-a']);
  });
});

describe('promotionalEntitlement', () => {
  it('accepts what the feature type takes and drops undefined fields', () => {
    expect(promotionalEntitlement(feature('sso'), { featureId: 'sso', value: undefined })).toEqual({ featureId: 'sso' });
    expect(promotionalEntitlement(feature('seats'), { featureId: 'seats', value: 10 })).toEqual({ featureId: 'seats', value: 10 });
    expect(promotionalEntitlement(feature('api-calls'), { featureId: 'api-calls', usageLimit: 100, resetPeriod: 'MONTH' })).toEqual({
      featureId: 'api-calls',
      usageLimit: 100,
      resetPeriod: 'MONTH',
    });
    expect(promotionalEntitlement(feature('region'), { featureId: 'region', enumValues: ['eu'] })).toEqual({ featureId: 'region', enumValues: ['eu'] });
  });

  it('refuses fields the feature type does not take, or a missing limit, by the catalog rules', () => {
    expect(fieldOf(() => promotionalEntitlement(feature('sso'), { featureId: 'sso', value: 3 }))).toBe('promotionalEntitlements[0].value');
    expect(fieldOf(() => promotionalEntitlement(feature('seats'), { featureId: 'seats' }))).toBe('promotionalEntitlements[0].value');
    expect(fieldOf(() => promotionalEntitlement(feature('api-calls'), { featureId: 'api-calls', usageLimit: 5, isUnlimited: true }))).toBe(
      'promotionalEntitlements[0].usageLimit',
    );
    expect(fieldOf(() => promotionalEntitlement(feature('api-calls'), { featureId: 'api-calls', usageLimit: -1 }, 'grants[2]'))).toBe('grants[2].usageLimit');
    expect(fieldOf(() => promotionalEntitlement(feature('region'), { featureId: 'region', enumValues: ['mars'] }))).toBe(
      'promotionalEntitlements[0].enumValues[0]',
    );
    expect(codeOf(() => promotionalEntitlement(feature('seats'), { featureId: 'sso' }))).toBe('INVALID_ARGUMENT');
  });
});

describe('revokeGrants', () => {
  it('revokes the live and future grants of the feature at the resource, and nothing else', () => {
    const NOW = at('2024-02-10T00:00:00Z');
    const grants = [
      grant({ id: 'live', featureId: 'sso', entitlement: { featureId: 'sso' } }),
      grant({ id: 'future', featureId: 'sso', entitlement: { featureId: 'sso' }, startDate: at('2024-03-01T00:00:00Z') }),
      grant({ id: 'ended', featureId: 'sso', entitlement: { featureId: 'sso' }, endDate: at('2024-02-01T00:00:00Z') }),
      grant({ id: 'other-feature', featureId: 'seats', entitlement: { featureId: 'seats', value: 1 } }),
      grant({ id: 'other-resource', resourceId: 'r1', featureId: 'sso', entitlement: { featureId: 'sso' } }),
      grant({ id: 'other-customer', customerId: 'c2', featureId: 'sso', entitlement: { featureId: 'sso' } }),
    ];
    const { grants: after, revoked } = revokeGrants(grants, { customerId: 'c1', featureId: 'sso' }, NOW);
    expect(revoked).toEqual(['live', 'future']);
    expect(activeGrantsAt(after, NOW).map((g) => g.id)).toEqual(['other-feature', 'other-resource', 'other-customer']);
    expect(activeGrantsAt(after, at('2024-03-02T00:00:00Z')).map((g) => g.id)).toEqual(['other-feature', 'other-resource', 'other-customer']);
    expect(grants[0]!.revokedAt).toBeNull();
    expect(revokeGrants(after, { customerId: 'c1', featureId: 'sso' }, NOW).revoked).toEqual([]);
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { EntitlementDefinition, FeatureDefinition, FeatureType, ResetPeriod } from '../src/catalog/types.js';
import { FEATURE_TYPES, RESET_PERIODS, WEEK_DAYS } from '../src/catalog/types.js';
import { arbFeature } from '@tessera/testing';
import { combineEntitlement, grantingQuantities, planSources, resolveEntitlements, type EntitlementSource, type EntitlementSourceKind } from '../src/rules/entitlements.js';

// Property runs: ~300 by default so CI stays fast. Run more locally with
//   FC_NUM_RUNS=20000 npx vitest run packages/core/test/entitlements.property.test.ts
const NUM_RUNS = Number(process.env.FC_NUM_RUNS ?? 300);
const fcOptions = { numRuns: NUM_RUNS };

const FEATURE_IDS = ['api-calls', 'seats', 'projects'] as const;

const arbFeatureType: fc.Arbitrary<FeatureType> = fc.constantFrom(...FEATURE_TYPES);

/**
 * An entitlement definition with any mix of fields (the rules must cope with what any source
 * brings): limits, values, unlimited, soft flag, reset period (or none), its anchoring, enum values.
 * Deliberately not the kit's arbEntitlement, which gives only entitlements a catalog accepts for
 * the feature's type: combining must also hold for fields the feature's type ignores.
 */
const arbEntitlement = (featureId: string): fc.Arbitrary<EntitlementDefinition> =>
  fc.record(
    {
      featureId: fc.constant(featureId),
      value: fc.integer({ min: 0, max: 1_000_000 }),
      usageLimit: fc.integer({ min: 0, max: 1_000_000 }),
      isUnlimited: fc.boolean(),
      hasSoftLimit: fc.boolean(),
      resetPeriod: fc.option(fc.constantFrom(...RESET_PERIODS), { nil: null }),
      resetPeriodConfiguration: fc.record(
        {
          monthlyAccordingTo: fc.constantFrom('SUBSCRIPTION_START' as const, 'START_OF_THE_MONTH' as const),
          weeklyAccordingTo: fc.constantFrom(...WEEK_DAYS),
        },
        { requiredKeys: [] },
      ),
      enumValues: fc.subarray(['csv', 'json', 'parquet']),
    },
    { requiredKeys: ['featureId'] },
  );

const ANCHORS = [Date.UTC(2024, 0, 31, 10), Date.UTC(2023, 11, 1)];

/**
 * A source of any kind. Ids and anchors come from small pools so that sources often tie on
 * everything the combination orders by.
 */
const arbSource = (featureId: string = 'f'): fc.Arbitrary<EntitlementSource> =>
  fc.record({
    kind: fc.constantFrom<EntitlementSourceKind>('PLAN', 'BILLABLE_QUANTITY', 'ADDON', 'PROMOTIONAL'),
    sourceId: fc.constantFrom('basic', 'extra-seats'),
    entitlement: arbEntitlement(featureId),
    quantity: fc.integer({ min: 1, max: 10 }),
    anchor: fc.constantFrom(...ANCHORS),
  });

const arbSources = fc.array(arbSource(), { minLength: 1, maxLength: 8 });

/** A list of sources and a permutation of it. */
const arbSourcesAndPermutation = arbSources.chain((list) =>
  fc.tuple(fc.constant(list), fc.shuffledSubarray(list, { minLength: list.length, maxLength: list.length })),
);

const periodRank = (p: ResetPeriod | null | undefined): number => (p ? RESET_PERIODS.indexOf(p) : Infinity);

describe('combineEntitlement', () => {
  it('gives nothing for no sources', () => {
    expect(combineEntitlement({ id: 'f', type: 'METERED' }, [])).toBeUndefined();
  });

  it('any permutation of the sources gives a deep-equal result', () => {
    fc.assert(
      fc.property(arbFeature({ id: 'f' }), arbSourcesAndPermutation, (feature, [sources, permuted]) => {
        expect(combineEntitlement(feature, permuted)).toEqual(combineEntitlement(feature, sources));
      }),
      fcOptions,
    );
  });

  it('METERED limits add: the limit is the sum of usageLimit x quantity when no source is unlimited', () => {
    fc.assert(
      fc.property(arbSources, (sources) => {
        fc.pre(sources.every((s) => !s.entitlement.isUnlimited));
        const e = combineEntitlement({ id: 'f', type: 'METERED' }, sources)!;
        const sum = sources.reduce((acc, s) => acc + (s.entitlement.usageLimit ?? 0) * s.quantity, 0);
        expect(e).toMatchObject({ isUnlimited: false, usageLimit: sum, value: null });
      }),
      fcOptions,
    );
  });

  it('NUMERIC values take the highest (quantity does not multiply them) when no source is unlimited', () => {
    fc.assert(
      fc.property(arbSources, (sources) => {
        fc.pre(sources.every((s) => !s.entitlement.isUnlimited));
        const e = combineEntitlement({ id: 'f', type: 'NUMERIC' }, sources)!;
        const values = sources.flatMap((s) => (s.entitlement.value === undefined ? [] : [s.entitlement.value]));
        expect(e).toMatchObject({ isUnlimited: false, value: values.length === 0 ? null : Math.max(...values), usageLimit: null });
      }),
      fcOptions,
    );
  });

  it('unlimited wins: one unlimited source makes a NUMERIC or METERED feature unlimited with no bound', () => {
    fc.assert(
      fc.property(fc.constantFrom<FeatureType>('NUMERIC', 'METERED'), arbSources, (type, sources) => {
        fc.pre(sources.some((s) => s.entitlement.isUnlimited));
        expect(combineEntitlement({ id: 'f', type }, sources)).toMatchObject({ isUnlimited: true, value: null, usageLimit: null });
      }),
      fcOptions,
    );
  });

  it('the reset period is the shortest one present (none when no source has one)', () => {
    fc.assert(
      fc.property(arbSources, (sources) => {
        const e = combineEntitlement({ id: 'f', type: 'METERED' }, sources)!;
        const shortest = Math.min(...sources.map((s) => periodRank(s.entitlement.resetPeriod)));
        expect(e.resetPeriod).toBe(shortest === Infinity ? null : RESET_PERIODS[shortest]);
        expect(e.window.resetPeriod ?? null).toBe(e.resetPeriod);
        // The window counts from the anchor of a source that has the winning period.
        const winners = sources.filter((s) => (s.entitlement.resetPeriod ?? null) === e.resetPeriod);
        expect(winners.map((s) => s.anchor)).toContain(e.window.anchor);
      }),
      fcOptions,
    );
  });

  it('a soft limit on any METERED source makes the combined limit soft', () => {
    fc.assert(
      fc.property(arbSources, (sources) => {
        const e = combineEntitlement({ id: 'f', type: 'METERED' }, sources)!;
        expect(e.hasSoftLimit).toBe(sources.some((s) => s.entitlement.hasSoftLimit === true));
      }),
      fcOptions,
    );
  });

  it('ENUM values unite, sorted; other types have none and no bound', () => {
    fc.assert(
      fc.property(arbFeatureType, arbSources, (type, sources) => {
        const e = combineEntitlement({ id: 'f', type }, sources)!;
        const union = [...new Set(sources.flatMap((s) => s.entitlement.enumValues ?? []))].sort();
        expect(e.enumValues).toEqual(type === 'ENUM' ? union : []);
        if (type === 'BOOLEAN' || type === 'ENUM') {
          expect(e).toMatchObject({ isUnlimited: false, value: null, usageLimit: null, hasSoftLimit: false, resetPeriod: null });
        }
      }),
      fcOptions,
    );
  });

  it('lists every source once', () => {
    fc.assert(
      fc.property(arbFeature({ id: 'f' }), arbSources, (feature, sources) => {
        const e = combineEntitlement(feature, sources)!;
        const key = (s: { kind: string; sourceId: string; quantity: number }) => `${s.kind}/${s.sourceId}/${s.quantity}`;
        expect(e.sources.map(key).sort()).toEqual(sources.map(key).sort());
      }),
      fcOptions,
    );
  });

  it('two sources that tie on period, kind, anchor and id still give one window whatever their order', () => {
    // E.g. the same add-on sold under two catalog versions on a trial and a paid subscription.
    const calendar: EntitlementSource = {
      kind: 'ADDON',
      sourceId: 'extra-calls',
      entitlement: { featureId: 'f', usageLimit: 10, resetPeriod: 'MONTH', resetPeriodConfiguration: { monthlyAccordingTo: 'START_OF_THE_MONTH' } },
      quantity: 1,
      anchor: ANCHORS[0]!,
    };
    const anchored: EntitlementSource = { ...calendar, entitlement: { featureId: 'f', usageLimit: 10, resetPeriod: 'MONTH' }, quantity: 2 };
    const feature: FeatureDefinition = { id: 'f', type: 'METERED' };
    expect(combineEntitlement(feature, [anchored, calendar])).toEqual(combineEntitlement(feature, [calendar, anchored]));
  });

  it('basic seats 5 plus the extra-seats add-on (5) x 3 is 20', () => {
    const e = combineEntitlement({ id: 'seats', type: 'METERED' }, [
      { kind: 'PLAN', sourceId: 'basic', entitlement: { featureId: 'seats', usageLimit: 5 }, quantity: 1, anchor: 0 },
      { kind: 'ADDON', sourceId: 'extra-seats', entitlement: { featureId: 'seats', usageLimit: 5 }, quantity: 3, anchor: 0 },
    ]);
    expect(e).toMatchObject({ usageLimit: 20, isUnlimited: false, resetPeriod: null });
  });
});

// docs/conventions.md#billable-quantities
describe('planSources: billable quantities', () => {
  const features = new Map<string, FeatureDefinition>([
    ['templates', { id: 'templates', type: 'METERED' }],
    ['messages', { id: 'messages', type: 'METERED' }],
    ['projects', { id: 'projects', type: 'NUMERIC' }],
    ['region', { id: 'region', type: 'ENUM', enumValues: ['eu', 'us'] }],
  ]);
  const plan: EntitlementDefinition[] = [
    { featureId: 'templates', usageLimit: 50 },
    { featureId: 'messages', usageLimit: 1000, resetPeriod: 'MONTH', hasSoftLimit: true, resetPeriodConfiguration: { monthlyAccordingTo: 'START_OF_THE_MONTH' } },
    { featureId: 'projects', isUnlimited: true },
    { featureId: 'region', enumValues: ['eu'] },
  ];
  const resolve = (quantities: { featureId: string; quantity: number }[], extra: EntitlementSource[] = []) =>
    resolveEntitlements(features, [...planSources('team', plan, quantities, features, ANCHORS[0]!), ...extra]);

  it('grants 2 templates bought as a limit of 2, in place of the plan\'s 50, not added to it', () => {
    const e = resolve([{ featureId: 'templates', quantity: 2 }]).get('templates');
    expect(e).toMatchObject({ usageLimit: 2, isUnlimited: false, resetPeriod: null, sources: [{ kind: 'BILLABLE_QUANTITY', sourceId: 'team', quantity: 2 }] });
  });

  it('keeps the shape of the plan\'s entitlement: reset period, its anchoring, the soft limit', () => {
    const e = resolve([{ featureId: 'messages', quantity: 300 }]).get('messages');
    expect(e).toMatchObject({ usageLimit: 300, hasSoftLimit: true, resetPeriod: 'MONTH', window: { resetPeriod: 'MONTH', monthlyAccordingTo: 'START_OF_THE_MONTH' } });
  });

  it('keeps the plan\'s alert thresholds and rollover for a quantity bought (neither scales with it)', () => {
    const shaped: EntitlementDefinition[] = [
      { featureId: 'messages', usageLimit: 1000, resetPeriod: 'MONTH', alerts: { usagePercent: [80, 100] }, rollover: { max: 40, expiresAfter: 2 } },
    ];
    const e = resolveEntitlements(features, planSources('team', shaped, [{ featureId: 'messages', quantity: 300 }], features, ANCHORS[0]!)).get('messages');
    expect(e).toMatchObject({ usageLimit: 300, resetPeriod: 'MONTH', usageAlerts: [80, 100], rollover: { max: 40, expiresAfter: 2 } });
  });

  it('grants a NUMERIC quantity as the value, replacing even an unlimited plan entitlement', () => {
    expect(resolve([{ featureId: 'projects', quantity: 7 }]).get('projects')).toMatchObject({ value: 7, isUnlimited: false });
  });

  it('leaves an ENUM feature and features not bought to the plan; grants a quantity the plan has no entitlement for', () => {
    const out = resolve([{ featureId: 'region', quantity: 4 }]);
    expect(out.get('region')).toMatchObject({ enumValues: ['eu'], sources: [{ kind: 'PLAN' }] });
    expect(out.get('templates')?.usageLimit).toBe(50);
    const none = resolveEntitlements(features, planSources('team', [], [{ featureId: 'templates', quantity: 3 }], features, 0)).get('templates');
    expect(none).toMatchObject({ usageLimit: 3, resetPeriod: null });
  });

  it('adds an add-on to the quantity bought: 2 + 10 x 2 = 22', () => {
    const addon: EntitlementSource = { kind: 'ADDON', sourceId: 'pack', entitlement: { featureId: 'templates', usageLimit: 10 }, quantity: 2, anchor: 0 };
    expect(resolve([{ featureId: 'templates', quantity: 2 }], [addon]).get('templates')?.usageLimit).toBe(22);
  });

  it('grants only quantities the plan prices PER_UNIT in the billing period', () => {
    const prices = [
      { billingPeriod: 'MONTHLY' as const, billingModel: 'PER_UNIT' as const, featureId: 'templates', currency: 'USD', amount: '1' },
      { billingPeriod: 'ANNUALLY' as const, billingModel: 'PER_UNIT' as const, featureId: 'projects', currency: 'USD', amount: '1' },
      { billingPeriod: 'MONTHLY' as const, billingModel: 'USAGE_BASED' as const, featureId: 'messages', currency: 'USD', amount: '1' },
    ];
    const bought = [
      { featureId: 'templates', quantity: 2 },
      { featureId: 'projects', quantity: 3 },
      { featureId: 'messages', quantity: 4 },
    ];
    expect(grantingQuantities(prices, 'MONTHLY', bought)).toEqual([{ featureId: 'templates', quantity: 2 }]);
    expect(grantingQuantities(prices, null, bought)).toEqual(bought.slice(0, 2));
  });
});

describe('resolveEntitlements', () => {
  /** Features of the ids in FEATURE_IDS with arbitrary types, plus sources naming them or an unknown id. */
  const arbCase = fc
    .tuple(arbFeatureType, arbFeatureType, arbFeatureType)
    .map((types) => new Map<string, FeatureDefinition>(FEATURE_IDS.map((id, i) => [id, { id, type: types[i]! }])))
    .chain((features) =>
      fc
        .array(fc.constantFrom(...FEATURE_IDS, 'gone').chain((id) => arbSource(id)), { maxLength: 12 })
        .chain((sources) =>
          fc.tuple(
            fc.constant(features),
            fc.constant(sources),
            fc.shuffledSubarray(sources, { minLength: sources.length, maxLength: sources.length }),
          ),
        ),
    );

  it('any permutation of the sources gives a deep-equal result', () => {
    fc.assert(
      fc.property(arbCase, ([features, sources, permuted]) => {
        expect(resolveEntitlements(features, permuted)).toEqual(resolveEntitlements(features, sources));
      }),
      fcOptions,
    );
  });

  it('resolves each known feature from its own sources and ignores features the catalog no longer has', () => {
    fc.assert(
      fc.property(arbCase, ([features, sources]) => {
        const resolved = resolveEntitlements(features, sources);
        const granted = new Set(sources.map((s) => s.entitlement.featureId).filter((id) => features.has(id)));
        expect([...resolved.keys()].sort()).toEqual([...granted].sort());
        for (const [id, e] of resolved) {
          expect(e).toEqual(combineEntitlement(features.get(id)!, sources.filter((s) => s.entitlement.featureId === id)));
        }
      }),
      fcOptions,
    );
  });
});

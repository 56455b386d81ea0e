import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { defineCatalog, isTesseraError, validateCatalog, type CatalogDefinition, type EntitlementDefinition } from '../src/index.js';
import { rolloverLedger, rolloverStanding, type RolloverChunk, type RolloverWindowInput } from '../src/rules/rollover.js';
import { combineEntitlement, type EntitlementSource } from '../src/rules/entitlements.js';
import { usageWindow, type WindowSpec } from '../src/rules/windows.js';

// The rollover ledger (docs/rollovers.md#the-ledger). More runs: NUM_RUNS=1000.
const NUM_RUNS = Number(process.env.NUM_RUNS ?? 200);

const JAN = Date.UTC(2024, 0, 1);
const spec: WindowSpec = { resetPeriod: 'MONTH', anchor: JAN };

/** `n` consecutive monthly windows from January 2024 with these usages, all on one limit and rollover. */
function months(used: number[], limit = 100, rollover: RolloverWindowInput['rollover'] = { max: 50, expiresAfter: 2 }): RolloverWindowInput[] {
  const out: RolloverWindowInput[] = [];
  let at = JAN;
  for (const u of used) {
    const w = usageWindow(spec, at);
    out.push({ start: w.start, end: w.end, limit, used: u, rollover });
    at = w.end;
  }
  return out;
}

const d = (iso: string) => Date.parse(iso);
const total = (cs: readonly RolloverChunk[]) => cs.reduce((s, c) => s + c.amount, 0);

describe('rolloverLedger, worked by hand (100 a month, max 50, expires after 2)', () => {
  it('month 1 uses 30: 50 carried (capped); month 2 uses 120: 50 burnt, 30 carried; ...', () => {
    const l = rolloverLedger(spec, months([30, 120, 0, 10, 100]));
    // Jan: 70 unused, 50 fit under max; usable in Feb and Mar.
    expect(l[0]).toMatchObject({ burnt: 0, expired: 0, added: 50, carriedOut: [{ amount: 50, expiresAt: d('2024-04-01T00:00:00Z') }] });
    // Feb: 120 = 50 carried + 70 base; 30 base unused.
    expect(l[1]).toMatchObject({ burnt: 50, expired: 0, added: 30, carriedOut: [{ amount: 30, expiresAt: d('2024-05-01T00:00:00Z') }] });
    // Mar: nothing used; 100 unused, 50 - 30 = 20 fit.
    expect(l[2]).toMatchObject({ burnt: 0, expired: 0, added: 20 });
    expect(l[2]!.carriedOut).toEqual([
      { amount: 30, expiresAt: d('2024-05-01T00:00:00Z') },
      { amount: 20, expiresAt: d('2024-06-01T00:00:00Z') },
    ]);
    // Apr: 10 burnt from the 30 (soonest expiring); its other 20 expire at Apr's end; 30 fit.
    expect(l[3]).toMatchObject({ burnt: 10, expired: 20, added: 30 });
    expect(l[3]!.carriedOut).toEqual([
      { amount: 20, expiresAt: d('2024-06-01T00:00:00Z') },
      { amount: 30, expiresAt: d('2024-07-01T00:00:00Z') },
    ]);
    // May: 100 = 50 carried + 50 base; 50 unused, all fit.
    expect(l[4]).toMatchObject({ burnt: 50, expired: 0, added: 50, carriedOut: [{ amount: 50, expiresAt: d('2024-08-01T00:00:00Z') }] });
  });

  it('overage past base + rollover carries nothing and burns everything carried', () => {
    const l = rolloverLedger(spec, months([0, 400]));
    expect(l[1]).toMatchObject({ burnt: 50, expired: 0, added: 0, carriedOut: [] });
  });

  it('a window without rollover (a plan change) expires what it carried in and carries nothing out', () => {
    const ws = months([0, 0, 0]);
    ws[1] = { ...ws[1]!, rollover: null };
    const l = rolloverLedger(spec, ws);
    expect(l[1]).toMatchObject({ burnt: 0, expired: 50, added: 0, carriedOut: [] });
    expect(l[2]).toMatchObject({ added: 50 });
  });

  it('a lower max expires the excess, soonest-expiring first', () => {
    const ws = months([0, 0, 0]);
    ws[2] = { ...ws[2]!, rollover: { max: 20, expiresAfter: 2 } };
    // Into March: 50 (Jan's, expires Apr 1)... Jan's 50 then Feb adds 0 (max reached). March caps at 20.
    const l = rolloverLedger(spec, ws);
    expect(l[1]!.carriedOut).toEqual([{ amount: 50, expiresAt: d('2024-04-01T00:00:00Z') }]);
    expect(l[2]).toMatchObject({ expired: 50, added: 20, carriedOut: [{ amount: 20, expiresAt: d('2024-06-01T00:00:00Z') }] });
  });

  it('rolloverStanding burns the soonest-expiring chunks first', () => {
    const s = rolloverStanding([{ amount: 30, expiresAt: 10 }, { amount: 20, expiresAt: 20 }], 35);
    expect(s).toEqual({ balance: 50, used: 35, remaining: 15, expiries: [{ amount: 15, expiresAt: 20 }] });
    expect(rolloverStanding([{ amount: 30, expiresAt: 10 }], 0).used).toBe(0);
  });
});

const arbWindows = fc
  .array(
    fc.record({
      used: fc.oneof(fc.integer({ min: 0, max: 300 }), fc.double({ min: 0, max: 300, noNaN: true })),
      limit: fc.integer({ min: 0, max: 200 }),
      rollover: fc.option(fc.record({ max: fc.integer({ min: 0, max: 400 }), expiresAfter: fc.integer({ min: 1, max: 4 }) }), { freq: 6 }),
    }),
    { minLength: 1, maxLength: 18 },
  )
  .map((ws) => {
    let at = JAN;
    return ws.map((w) => {
      const win = usageWindow(spec, at);
      at = win.end;
      return { ...w, start: win.start, end: win.end };
    });
  });

describe('rolloverLedger, by property', () => {
  it('balances (carried in + added = burnt + expired + carried out), stays >= 0 and <= max, and keeps nothing past expiresAfter', () => {
    fc.assert(
      fc.property(arbWindows, (windows) => {
        const ledger = rolloverLedger(spec, windows);
        const eps = 1e-6;
        ledger.forEach((l, i) => {
          const w = windows[i]!;
          expect(Math.abs(total(l.carriedIn) + l.added - (l.burnt + l.expired + total(l.carriedOut)))).toBeLessThan(eps);
          for (const c of [...l.carriedIn, ...l.carriedOut]) expect(c.amount).toBeGreaterThan(0);
          expect(l.burnt).toBeGreaterThanOrEqual(0);
          expect(l.expired).toBeGreaterThanOrEqual(-eps);
          expect(l.burnt).toBeLessThanOrEqual(w.used + eps);
          if (w.rollover === null) expect(l.carriedOut).toEqual([]);
          else expect(total(l.carriedOut)).toBeLessThanOrEqual(w.rollover.max + eps);
          // Unused base only: what is added never exceeds limit - base used.
          expect(l.added).toBeLessThanOrEqual(Math.max(0, w.limit - (w.used - l.burnt)) + eps);
          // Usage burns carried units first: either all burnt or usage covered by them.
          expect(l.burnt === total(l.carriedIn) || Math.abs(l.burnt - w.used) < eps).toBe(true);
          // Each chunk carried out is usable in the next window and came from at most expiresAfter windows back.
          for (const c of l.carriedOut) {
            expect(c.expiresAt).toBeGreaterThan(w.end);
            const made = ledger.findIndex((m) => m.added > 0 && m.carriedOut.some((x) => x.expiresAt === c.expiresAt) && m.end <= w.end);
            expect(made).toBeGreaterThanOrEqual(0);
            expect(i - made).toBeLessThan(windows[made]!.rollover!.expiresAfter);
          }
          if (i > 0) expect(l.carriedIn).toEqual(ledger[i - 1]!.carriedOut);
        });
      }),
      { numRuns: NUM_RUNS },
    );
  });
});

describe('combining and validating rollovers', () => {
  const feature = { id: 'api-calls', type: 'METERED' as const };
  const src = (kind: EntitlementSource['kind'], e: Omit<EntitlementDefinition, 'featureId'>): EntitlementSource => ({ kind, sourceId: kind, entitlement: { featureId: 'api-calls', ...e }, quantity: 1, anchor: JAN });

  it('takes the settings of the first source rolling over on the combined period; unlimited drops it', () => {
    const plan = src('PLAN', { usageLimit: 100, resetPeriod: 'MONTH', rollover: { max: 50, expiresAfter: 2 } });
    const addon = src('ADDON', { usageLimit: 10, resetPeriod: 'MONTH', rollover: { max: 5, expiresAfter: 1 } });
    expect(combineEntitlement(feature, [addon, plan])!.rollover).toEqual({ max: 50, expiresAfter: 2 });
    expect(combineEntitlement(feature, [src('PLAN', { usageLimit: 100, resetPeriod: 'MONTH' }), addon])!.rollover).toEqual({ max: 5, expiresAfter: 1 });
    expect(combineEntitlement(feature, [plan, src('PROMOTIONAL', { isUnlimited: true })])!.rollover).toBeUndefined();
    // A rollover on another period than the combined (shortest) one does not apply.
    expect(combineEntitlement(feature, [src('PLAN', { usageLimit: 5, resetPeriod: 'DAY' }), plan])!.rollover).toBeUndefined();
  });

  const catalogWith = (e: Record<string, unknown>): CatalogDefinition => ({
    features: [{ id: 'api-calls', type: 'METERED' }],
    products: [{ id: 'app' }],
    plans: [{ id: 'free', productId: 'app', pricingType: 'FREE', entitlements: [{ featureId: 'api-calls', ...e } as EntitlementDefinition] }],
  });
  const paths = (e: Record<string, unknown>) => validateCatalog(catalogWith(e)).map((p) => p.path);
  const at = 'plans[0].entitlements[0]';

  it('accepts a rollover on a bounded, windowed entitlement', () => {
    expect(paths({ usageLimit: 100, resetPeriod: 'MONTH', rollover: { max: 50, expiresAfter: 2 } })).toEqual([]);
    expect(() => defineCatalog(catalogWith({ usageLimit: 100, resetPeriod: 'MONTH', rollover: { max: 0, expiresAfter: 24 } }))).not.toThrow();
  });

  it('refuses it unlimited, without a resetPeriod, with bad numbers, unknown fields or inside limits', () => {
    expect(paths({ isUnlimited: true, resetPeriod: 'MONTH', rollover: { max: 5, expiresAfter: 1 } })).toEqual([`${at}.rollover`]);
    expect(paths({ usageLimit: 100, rollover: { max: 5, expiresAfter: 1 } })).toEqual([`${at}.rollover`]);
    expect(paths({ usageLimit: 100, resetPeriod: 'MONTH', rollover: { max: -1, expiresAfter: 0 } }).sort()).toEqual([`${at}.rollover.expiresAfter`, `${at}.rollover.max`]);
    expect(paths({ usageLimit: 100, resetPeriod: 'MONTH', rollover: { max: 1.5, expiresAfter: 25 } }).sort()).toEqual([`${at}.rollover.expiresAfter`, `${at}.rollover.max`]);
    expect(paths({ usageLimit: 100, resetPeriod: 'MONTH', rollover: { max: 1, expiresAfter: 1, keep: true } })).toEqual([`${at}.rollover.keep`]);
    expect(paths({ usageLimit: 100, resetPeriod: 'MONTH', rollover: 50 })).toEqual([`${at}.rollover`]);
    expect(paths({ usageLimit: 100, resetPeriod: 'HOUR', limits: [{ usageLimit: 1000, resetPeriod: 'MONTH', rollover: { max: 1, expiresAfter: 1 } }] })).toEqual([`${at}.limits[0].rollover`]);
    let caught: unknown;
    try {
      defineCatalog(catalogWith({ usageLimit: 100, rollover: { max: 5, expiresAfter: 1 } }));
    } catch (e) {
      caught = e;
    }
    expect(isTesseraError(caught, 'INVALID_ARGUMENT')).toBe(true);
  });

  it('refuses it on a NUMERIC feature', () => {
    const c = catalogWith({ usageLimit: 1 });
    c.features[0] = { id: 'api-calls', type: 'NUMERIC' };
    c.plans[0]!.entitlements = [{ featureId: 'api-calls', value: 3, rollover: { max: 1, expiresAfter: 1 } }];
    expect(validateCatalog(c).map((p) => p.path)).toEqual([`${at}.rollover`]);
  });
});

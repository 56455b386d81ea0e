import { describe, expect, it } from 'vitest';
import { MS_PER_DAY } from '../src/rules/calendar.js';
import { conversionAfter, replacementBy, type NewestProvisioning } from '../src/rules/lifecycle.js';

// The pure half of docs/conventions.md#one-subscription-in-force: what the newest provisioning
// does to one subscription already in its product and resource. Instants in days from 0.

const day = (n: number) => n * MS_PER_DAY;
const sub = (o: { start?: number; end?: number | null; trialEnd?: number | null }) => ({
  startDate: day(o.start ?? 0),
  endDate: o.end == null ? null : day(o.end),
  trialEndDate: o.trialEnd == null ? null : day(o.trialEnd),
});
const NOW = day(10);
const upgrade: NewestProvisioning = { trialEndDate: null, convertsToPaid: false, replacesAt: NOW };
const downgradeAt30: NewestProvisioning = { trialEndDate: null, convertsToPaid: false, replacesAt: day(30) };
const convertingTrial: NewestProvisioning = { trialEndDate: day(24), convertsToPaid: true, replacesAt: NOW };
const expiringTrial: NewestProvisioning = { trialEndDate: day(17), convertsToPaid: false, replacesAt: NOW };

describe('replacementBy', () => {
  it('ends a running trial at once, whatever comes, and says it was cut short', () => {
    for (const incoming of [upgrade, downgradeAt30, convertingTrial, expiringTrial]) {
      expect(replacementBy(sub({ start: 5, trialEnd: 19 }), incoming, NOW)).toEqual({ kind: 'END', at: NOW, trialCutShort: true });
    }
  });

  it('ends a trial that has not started at its start', () => {
    expect(replacementBy(sub({ start: 12, trialEnd: 26 }), upgrade, NOW)).toEqual({ kind: 'END', at: day(12), trialCutShort: true });
  });

  it('treats a trial that already converted as paid', () => {
    expect(replacementBy(sub({ start: 0, trialEnd: 7 }), upgrade, NOW)).toEqual({ kind: 'END', at: NOW, trialCutShort: false });
  });

  it('replaces the paid subscription now on an upgrade, at the period end on a downgrade', () => {
    expect(replacementBy(sub({ start: 0 }), upgrade, NOW)).toEqual({ kind: 'END', at: NOW, trialCutShort: false });
    expect(replacementBy(sub({ start: 0 }), downgradeAt30, NOW)).toEqual({ kind: 'END', at: day(30), trialCutShort: false });
    // One already ending earlier keeps its own end.
    expect(replacementBy(sub({ start: 0, end: 20 }), downgradeAt30, NOW)).toEqual({ kind: 'END', at: day(20), trialCutShort: false });
  });

  it('never starts what was arranged to start later (a scheduled downgrade, the downgrade plan)', () => {
    expect(replacementBy(sub({ start: 30 }), downgradeAt30, NOW)).toEqual({ kind: 'END', at: day(30), trialCutShort: false });
    expect(replacementBy(sub({ start: 15 }), downgradeAt30, NOW)).toEqual({ kind: 'END', at: day(15), trialCutShort: false });
  });

  it('holds the paid subscription until a new trial converts, and keeps it beside a trial that will not', () => {
    expect(replacementBy(sub({ start: 0 }), convertingTrial, NOW)).toEqual({ kind: 'HOLD', at: day(24) });
    expect(replacementBy(sub({ start: 0, end: 30 }), convertingTrial, NOW)).toEqual({ kind: 'HOLD', at: day(24) });
    expect(replacementBy(sub({ start: 0, end: 24 }), convertingTrial, NOW)).toEqual({ kind: 'KEEP' });
    expect(replacementBy(sub({ start: 0 }), expiringTrial, NOW)).toEqual({ kind: 'KEEP' });
  });

  it('beside a converting trial, one starting at or after the conversion never starts; one starting before is held', () => {
    expect(replacementBy(sub({ start: 24 }), convertingTrial, NOW)).toEqual({ kind: 'END', at: day(24), trialCutShort: false });
    expect(replacementBy(sub({ start: 20 }), convertingTrial, NOW)).toEqual({ kind: 'HOLD', at: day(24) });
  });
});

describe('conversionAfter', () => {
  const converts = (planId: string) => planId === 'pro';
  it('finds the running trial that converts, and when', () => {
    const subs = [{ ...sub({ start: 0 }), planId: 'team' }, { ...sub({ start: 5, trialEnd: 19 }), planId: 'pro' }];
    expect(conversionAfter(subs, NOW, converts)).toEqual({ at: day(19), planId: 'pro' });
    expect(conversionAfter(subs, day(19), converts)).toBeNull(); // converted already
  });

  it('ignores a trial that downgrades and one cancelled at its trial end', () => {
    expect(conversionAfter([{ ...sub({ start: 5, trialEnd: 12 }), planId: 'premium' }], NOW, converts)).toBeNull();
    expect(conversionAfter([{ ...sub({ start: 5, trialEnd: 19, end: 19 }), planId: 'pro' }], NOW, converts)).toBeNull();
  });
});

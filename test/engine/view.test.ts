import { describe, expect, it } from 'vitest';
import { CustomerView } from '../../packages/core/src/engine/checks/view.js';
import { customer, DAY, subscription, T0 } from '../conformance/fixtures.js';

// CustomerView.holdsAt decides whether an instant other than now (an event's timestamp) can use
// the entitlements resolved for now, or must resolve its own: wrong either way counts usage in
// the wrong window or against the wrong plan.

/** A view whose only subscription starts at T0, ends its trial at T0 + 14 days and ends at T0 + 60 days. */
function view(): CustomerView {
  const sub = subscription('s1', 'c1', { resourceId: '', scheduledUpdates: [] });
  return new CustomerView(customer('c1'), [sub], new Map(), () => new Map());
}

describe('CustomerView.holdsAt', () => {
  it('holds inside the resolved period [now, next transition) and not at or past the transition', () => {
    const v = view();
    const now = T0 + 5 * DAY;
    v.resource('', now);
    expect(v.holdsAt(now)).toBe(true);
    expect(v.holdsAt(T0 + 14 * DAY - 1)).toBe(true);
    expect(v.holdsAt(T0 + 14 * DAY)).toBe(false);
  });

  it('an instant before the resolution holds when no transition lies between, and the period then starts there', () => {
    const v = view();
    v.resource('', T0 + 5 * DAY);
    expect(v.holdsAt(T0 + 1 * DAY)).toBe(true);
    // Resolving again is not needed for anything in [T0 + 1 day, T0 + 14 days).
    expect(v.holdsAt(T0 + 1 * DAY + 1)).toBe(true);
  });

  it('an instant before a transition that precedes the resolution does not hold (the trial ended between)', () => {
    const v = view();
    v.resource('', T0 + 20 * DAY);
    expect(v.holdsAt(T0 + 14 * DAY)).toBe(true);
    expect(v.holdsAt(T0 + 14 * DAY - 1)).toBe(false);
    expect(v.holdsAt(T0 - 1)).toBe(false);
    // A failed look back leaves the period as it was.
    expect(v.holdsAt(T0 + 14 * DAY)).toBe(true);
    expect(v.holdsAt(T0 + 60 * DAY)).toBe(false);
  });
});

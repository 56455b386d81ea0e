import { describe, expect, it } from 'vitest';
import type { FilterOperator, MeterAggregation, MeterCondition, MeterDefinition } from '../src/catalog/types.js';
import { conditionHolds, foldEvent, meterInput, meterMatches, type Dimensions } from '../src/rules/meters.js';
import type { UsageRecord } from '../src/store/records.js';

// Pure rules of docs/metering.md: filters (#filters), the value an event contributes, and the
// incremental fold of one event into a usage cell (#aggregations).

const cond = (field: string, operator: FilterOperator, value?: MeterCondition['value']): MeterCondition =>
  value === undefined ? { field, operator } : { field, operator, value };

const meter = (type: MeterAggregation, field?: string, filters?: MeterDefinition['filters']): MeterDefinition => ({
  eventName: 'api_request',
  aggregation: field === undefined ? { type } : { type, field },
  ...(filters ? { filters } : {}),
});

const emptyCell = (): UsageRecord => ({
  customerId: 'c1',
  resourceId: '',
  entityId: '',
  featureId: 'f',
  windowStart: 0,
  windowEnd: 1,
  value: 0,
  count: 0,
  sum: 0,
  min: null,
  max: null,
  latestAt: null,
  latestValue: null,
  updatedAt: 0,
});

/** Folds events ([input, timestamp]) into a fresh cell and returns the value after each one. */
function fold(m: MeterDefinition, events: readonly (readonly [number | string, number])[]): number[] {
  const rec = emptyCell();
  const seen = new Set<string>();
  return events.map(([input, ts]) => {
    const isNew = !seen.has(String(input));
    seen.add(String(input));
    foldEvent(rec, m, input, ts, isNew);
    return rec.value;
  });
}

describe('conditionHolds', () => {
  // One row per case: the condition, the dimensions, whether it holds.
  const cases: [string, MeterCondition, Dimensions, boolean][] = [
    ['EQUALS a number', cond('status', 'EQUALS', 200), { status: 200 }, true],
    ['EQUALS is strict: "200" is not 200', cond('status', 'EQUALS', 200), { status: '200' }, false],
    ['EQUALS is strict: 200 is not "200"', cond('status', 'EQUALS', '200'), { status: 200 }, false],
    ['EQUALS is strict: true is not "true"', cond('flag', 'EQUALS', true), { flag: 'true' }, false],
    ['EQUALS a boolean', cond('flag', 'EQUALS', false), { flag: false }, true],
    ['EQUALS on a missing dimension', cond('status', 'EQUALS', 200), {}, false],
    ['NOT_EQUALS another value', cond('plan', 'NOT_EQUALS', 'pro'), { plan: 'free' }, true],
    ['NOT_EQUALS the same value', cond('plan', 'NOT_EQUALS', 'pro'), { plan: 'pro' }, false],
    ['NOT_EQUALS is strict: "1" is not 1', cond('n', 'NOT_EQUALS', 1), { n: '1' }, true],
    ['NOT_EQUALS holds on a missing dimension', cond('plan', 'NOT_EQUALS', 'pro'), {}, true],
    ['IN a listed value', cond('plan', 'IN', ['pro', 'team']), { plan: 'team' }, true],
    ['IN an unlisted value', cond('plan', 'IN', ['pro', 'team']), { plan: 'free' }, false],
    ['IN is strict: "1" is not in [1]', cond('n', 'IN', [1, 2]), { n: '1' }, false],
    ['IN on a missing dimension', cond('plan', 'IN', ['pro']), {}, false],
    ['NOT_IN an unlisted value', cond('plan', 'NOT_IN', ['pro', 'team']), { plan: 'free' }, true],
    ['NOT_IN a listed value', cond('plan', 'NOT_IN', ['pro', 'team']), { plan: 'pro' }, false],
    ['NOT_IN holds on a missing dimension', cond('plan', 'NOT_IN', ['pro']), {}, true],
    ['GREATER_THAN numbers', cond('n', 'GREATER_THAN', 10), { n: 11 }, true],
    ['GREATER_THAN equal numbers', cond('n', 'GREATER_THAN', 10), { n: 10 }, false],
    ['GREATER_THAN_OR_EQUAL equal numbers', cond('n', 'GREATER_THAN_OR_EQUAL', 10), { n: 10 }, true],
    ['GREATER_THAN_OR_EQUAL a smaller number', cond('n', 'GREATER_THAN_OR_EQUAL', 10), { n: 9.5 }, false],
    ['LESS_THAN numbers', cond('n', 'LESS_THAN', 10), { n: -3 }, true],
    ['LESS_THAN equal numbers', cond('n', 'LESS_THAN', 10), { n: 10 }, false],
    ['LESS_THAN_OR_EQUAL equal numbers', cond('n', 'LESS_THAN_OR_EQUAL', 10), { n: 10 }, true],
    ['LESS_THAN_OR_EQUAL a larger number', cond('n', 'LESS_THAN_OR_EQUAL', 10), { n: 10.01 }, false],
    // Strings compare by UTF-16 code units, so '9' > '10' as strings.
    ['GREATER_THAN strings', cond('s', 'GREATER_THAN', '10'), { s: '9' }, true],
    ['LESS_THAN strings', cond('s', 'LESS_THAN', 'beta'), { s: 'alpha' }, true],
    ['LESS_THAN_OR_EQUAL equal strings', cond('s', 'LESS_THAN_OR_EQUAL', 'beta'), { s: 'beta' }, true],
    ['GREATER_THAN_OR_EQUAL equal strings', cond('s', 'GREATER_THAN_OR_EQUAL', 'beta'), { s: 'beta' }, true],
    ['GREATER_THAN a string against a number does not match', cond('n', 'GREATER_THAN', 1), { n: '5' }, false],
    ['LESS_THAN a number against a string does not match', cond('n', 'LESS_THAN', 'z'), { n: 5 }, false],
    ['GREATER_THAN_OR_EQUAL booleans do not match', cond('b', 'GREATER_THAN_OR_EQUAL', false), { b: true }, false],
    ['LESS_THAN_OR_EQUAL on a missing dimension', cond('n', 'LESS_THAN_OR_EQUAL', 10), {}, false],
    ['CONTAINS a substring', cond('route', 'CONTAINS', 'chat'), { route: '/v1/chat/x' }, true],
    ['CONTAINS without the substring', cond('route', 'CONTAINS', 'chat'), { route: '/v1/search' }, false],
    ['CONTAINS on a number does not match', cond('n', 'CONTAINS', '0'), { n: 200 }, false],
    ['CONTAINS on a missing dimension', cond('route', 'CONTAINS', 'chat'), {}, false],
    ['STARTS_WITH a prefix', cond('route', 'STARTS_WITH', '/v1/'), { route: '/v1/chat' }, true],
    ['STARTS_WITH another prefix', cond('route', 'STARTS_WITH', '/v1/'), { route: '/v2/chat' }, false],
    ['STARTS_WITH on a missing dimension', cond('route', 'STARTS_WITH', '/v1/'), {}, false],
    ['ENDS_WITH a suffix', cond('file', 'ENDS_WITH', '.csv'), { file: 'a.csv' }, true],
    ['ENDS_WITH another suffix', cond('file', 'ENDS_WITH', '.csv'), { file: 'a.csv.gz' }, false],
    ['ENDS_WITH on a boolean does not match', cond('b', 'ENDS_WITH', 'e'), { b: true }, false],
    ['IS_NULL on a missing dimension', cond('region', 'IS_NULL'), {}, true],
    ['IS_NULL on a present dimension', cond('region', 'IS_NULL'), { region: 'eu' }, false],
    ['IS_NULL on a present falsy dimension (0 is a value)', cond('n', 'IS_NULL'), { n: 0 }, false],
    ['IS_NOT_NULL on a present dimension', cond('region', 'IS_NOT_NULL'), { region: '' }, true],
    ['IS_NOT_NULL on a missing dimension', cond('region', 'IS_NOT_NULL'), {}, false],
    // A dimension is an own property of the event: Object.prototype members are not dimensions.
    ['IS_NULL for a dimension named like an Object.prototype member', cond('constructor', 'IS_NULL'), {}, true],
  ];

  it.each(cases)('%s', (_name, c, dims, holds) => {
    expect(conditionHolds(c, dims)).toBe(holds);
  });
});

describe('meterMatches', () => {
  const dims = { plan: 'pro', region: 'eu', status: 200 };

  it('takes only events of its name', () => {
    expect(meterMatches(meter('COUNT'), 'api_request', dims)).toBe(true);
    expect(meterMatches(meter('COUNT'), 'api_response', dims)).toBe(false);
  });

  it('without filters (absent or empty) takes every event of the name', () => {
    expect(meterMatches(meter('COUNT'), 'api_request', {})).toBe(true);
    expect(meterMatches(meter('COUNT', undefined, []), 'api_request', {})).toBe(true);
  });

  it('ANDs the conditions of one filter', () => {
    const m = meter('COUNT', undefined, [{ conditions: [cond('plan', 'EQUALS', 'pro'), cond('region', 'EQUALS', 'eu')] }]);
    expect(meterMatches(m, 'api_request', dims)).toBe(true);
    expect(meterMatches(m, 'api_request', { ...dims, region: 'us' })).toBe(false);
    expect(meterMatches(m, 'api_request', { region: 'eu' })).toBe(false);
  });

  it('ORs the filters', () => {
    const m = meter('COUNT', undefined, [{ conditions: [cond('plan', 'EQUALS', 'team')] }, { conditions: [cond('status', 'GREATER_THAN_OR_EQUAL', 500)] }]);
    expect(meterMatches(m, 'api_request', { plan: 'team', status: 200 })).toBe(true);
    expect(meterMatches(m, 'api_request', { plan: 'free', status: 503 })).toBe(true);
    expect(meterMatches(m, 'api_request', { plan: 'team', status: 503 })).toBe(true);
    expect(meterMatches(m, 'api_request', { plan: 'free', status: 200 })).toBe(false);
  });
});

describe('meterInput', () => {
  it('COUNT takes every event as 1, with or without a field', () => {
    expect(meterInput(meter('COUNT'), {})).toBe(1);
    expect(meterInput(meter('COUNT', 'tokens'), { tokens: 'many' })).toBe(1);
  });

  it.each(['SUM', 'MAX', 'MIN', 'AVG', 'LATEST'] as const)('%s takes a finite number in its field and nothing else', (type) => {
    const m = meter(type, 'tokens');
    expect(meterInput(m, { tokens: 812 })).toBe(812);
    expect(meterInput(m, { tokens: -2.5 })).toBe(-2.5);
    expect(meterInput(m, { tokens: 0 })).toBe(0);
    expect(meterInput(m, { tokens: '812' })).toBeUndefined();
    expect(meterInput(m, { tokens: true })).toBeUndefined();
    expect(meterInput(m, { other: 1 })).toBeUndefined();
  });

  it('UNIQUE_COUNT takes any value, keeping its type so "1", 1 and true are three values', () => {
    const m = meter('UNIQUE_COUNT', 'user');
    const inputs = [meterInput(m, { user: '1' }), meterInput(m, { user: 1 }), meterInput(m, { user: true }), meterInput(m, { user: 'true' })];
    expect(inputs.every((x) => x !== undefined)).toBe(true);
    expect(new Set(inputs).size).toBe(4);
    expect(meterInput(m, { user: 'ann' })).toBe(meterInput(m, { user: 'ann' }));
    expect(meterInput(m, {})).toBeUndefined();
  });

  it('a field named like an Object.prototype member is missing unless the event has it', () => {
    // Dimensions are the event's own properties (conditionHolds agrees): an event without
    // `constructor` lacks the field, so it must not count a value inherited from Object.prototype.
    expect(meterInput(meter('UNIQUE_COUNT', 'constructor'), {})).toBeUndefined();
    expect(meterInput(meter('UNIQUE_COUNT', 'toString'), { user: 'ann' })).toBeUndefined();
    expect(meterInput(meter('UNIQUE_COUNT', 'constructor'), { constructor: 'x' })).toBeDefined();
    expect(meterInput(meter('SUM', 'valueOf'), {})).toBeUndefined();
  });
});

describe('foldEvent', () => {
  // Inputs 812, 90, 100, 198 at increasing timestamps.
  const series = [
    [812, 1],
    [90, 2],
    [100, 3],
    [198, 4],
  ] as const;

  it('COUNT counts the events', () => {
    expect(fold(meter('COUNT'), series)).toEqual([1, 2, 3, 4]);
  });

  it('SUM adds the field: 812 + 90 + 100 + 198 = 1200', () => {
    expect(fold(meter('SUM', 'tokens'), series)).toEqual([812, 902, 1002, 1200]);
  });

  it('MAX and MIN keep the largest and smallest, also with negatives', () => {
    expect(fold(meter('MAX', 'tokens'), series)).toEqual([812, 812, 812, 812]);
    expect(fold(meter('MIN', 'tokens'), series)).toEqual([812, 90, 90, 90]);
    expect(fold(meter('MAX', 'delta'), [[-5, 1], [-7, 2], [-1, 3]])).toEqual([-5, -5, -1]);
    expect(fold(meter('MIN', 'delta'), [[-5, 1], [-7, 2], [-1, 3]])).toEqual([-5, -7, -7]);
  });

  it('AVG is sum / count: 812, 902/2 = 451, 1002/3 = 334, 1200/4 = 300', () => {
    expect(fold(meter('AVG', 'tokens'), series)).toEqual([812, 451, 334, 300]);
  });

  it('UNIQUE_COUNT counts the values the caller marks as new', () => {
    expect(fold(meter('UNIQUE_COUNT', 'user'), [['s:ann', 1], ['s:bob', 2], ['s:ann', 3], ['number:1', 4], ['s:1', 5]])).toEqual([1, 2, 2, 3, 4]);
  });

  it('LATEST keeps the value of the latest timestamp; an older event arriving later does not replace it', () => {
    expect(fold(meter('LATEST', 'depth'), [[7, 10], [4, 30], [99, 20]])).toEqual([7, 4, 4]);
  });

  it('LATEST on a timestamp tie keeps the larger value, whatever the arrival order', () => {
    expect(fold(meter('LATEST', 'depth'), [[4, 30], [2, 30], [9, 30]])).toEqual([4, 4, 9]);
    expect(fold(meter('LATEST', 'depth'), [[9, 30], [4, 30], [2, 30]])).toEqual([9, 9, 9]);
    expect(fold(meter('LATEST', 'depth'), [[-3, 30], [-8, 30]])).toEqual([-3, -3]);
  });

  it('keeps count, sum, min, max and the latest pair in the cell', () => {
    const rec = emptyCell();
    const m = meter('SUM', 'tokens');
    foldEvent(rec, m, 5, 100);
    foldEvent(rec, m, 3, 200);
    expect(rec).toMatchObject({ value: 8, count: 2, sum: 8 });
  });
});

/**
 * Usage history as chart series: `getUsageHistory`'s windows summed into UTC hour, day or month
 * buckets by the start of each window (so the finest resolution is the feature's reset period),
 * one series per dimension value, per entity, or one for the total. Pure: no DOM, unit-tested.
 */

/** One window of `getUsageHistory` as the wire carries it. */
export interface Period {
  start: string | null;
  end: string | null;
  value: number;
  groups?: { value: string | number | boolean | null; usage: number }[];
  entities?: { entityId: string; usage: number }[];
}

export type Bucket = 'hour' | 'day' | 'month';

/** The start of the UTC bucket holding `ms`, in ms. */
export function bucketStart(ms: number, bucket: Bucket): number {
  const d = new Date(ms);
  if (bucket === 'month') return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
  if (bucket === 'day') return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), d.getUTCHours());
}

/**
 * Periods summed per bucket: `xs` are bucket starts in seconds (uPlot's unit), and each series has
 * a value per x (0 where it had no usage). Windows without a start (never-reset features) are left out.
 */
export function toSeries(periods: Period[], bucket: Bucket, split: 'none' | 'dimension' | 'entity'): { xs: number[]; series: { label: string; values: number[] }[] } {
  const sums = new Map<string, Map<number, number>>();
  const add = (label: string, at: number, v: number) => {
    const m = sums.get(label) ?? new Map<number, number>();
    m.set(at, (m.get(at) ?? 0) + v);
    sums.set(label, m);
  };
  const xs = new Set<number>();
  for (const p of periods) {
    if (p.start === null) continue;
    const at = bucketStart(Date.parse(p.start), bucket);
    xs.add(at);
    if (split === 'dimension' && p.groups) for (const g of p.groups) add(String(g.value), at, g.usage);
    else if (split === 'entity' && p.entities) for (const e of p.entities) add(e.entityId, at, e.usage);
    else add('usage', at, p.value);
  }
  const sorted = [...xs].sort((a, b) => a - b);
  return {
    xs: sorted.map((x) => x / 1000),
    series: [...sums.entries()].map(([label, m]) => ({ label, values: sorted.map((x) => m.get(x) ?? 0) })),
  };
}

/**
 * Usage over time: `getUsageHistory` for one customer and metered feature, summed into hour, day
 * or month buckets (by the start of each usage window: the finest resolution is the feature's
 * reset period), optionally one series per dimension value or per entity; drawn with uPlot.
 */
import { html } from 'htm/preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import uPlot from 'uplot';
import { call } from '../api.js';
import { num, status, useLoad } from '../util.js';
import { toSeries, type Bucket, type Period } from '../series.js';

const COLORS = ['#2450b8', '#c2410c', '#15803d', '#7e22ce', '#be123c', '#0e7490'];

function Chart({ data, bucket }: { data: ReturnType<typeof toSeries>; bucket: Bucket }) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!box.current) return;
    const width = Math.max(320, box.current.clientWidth || 800);
    const plot = new uPlot(
      {
        width,
        height: 320,
        // The engine's time is UTC; usage is drawn from zero so that differences are not exaggerated.
        tzDate: (ts: number) => uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC'),
        scales: { x: { time: true }, y: { range: (_u: uPlot, _min: number, max: number) => [0, Math.max(1, max * 1.1)] as [number, number] } },
        axes: [{}, { label: 'usage', size: 60 }],
        series: [
          { label: bucket },
          ...data.series.map((s, i) => ({ label: s.label, stroke: COLORS[i % COLORS.length], width: 2, points: { show: true, size: 6 } })),
        ],
      },
      [data.xs, ...data.series.map((s) => s.values)],
      box.current,
    );
    box.current.dataset.points = String(data.xs.length);
    return () => plot.destroy();
  }, [data, bucket]);
  return html`<div class="chart" id="usage-chart" ref=${box} role="img" aria-label=${`Usage per ${bucket}: ${data.series.map((s) => `${s.label} ${num(s.values.reduce((a, b) => a + b, 0))}`).join(', ')}`}></div>`;
}

const iso = (d: Date) => d.toISOString().slice(0, 10);

export function UsagePage({ query }: { query: URLSearchParams }) {
  const [form, setForm] = useState(() => ({
    customer: query.get('customer') ?? '',
    feature: query.get('feature') ?? '',
    from: query.get('from') ?? iso(new Date(Date.now() - 90 * 86_400_000)),
    to: query.get('to') ?? iso(new Date(Date.now() + 86_400_000)),
    bucket: (query.get('bucket') as Bucket) ?? 'day',
    split: (query.get('split') as 'none' | 'dimension' | 'entity') ?? 'none',
    dimension: query.get('dimension') ?? '',
  }));
  const [asked, setAsked] = useState(form);
  const features = useLoad(async () => {
    const paywall = await call<{ products: { plans: { entitlements: { featureId: string; feature: { type: string; displayName: string } }[] }[] }[] }>('getPaywall', { includeHiddenPlans: true });
    const found = new Map<string, string>();
    for (const p of paywall.products) for (const plan of p.plans) for (const e of plan.entitlements) if (e.feature.type === 'METERED') found.set(e.featureId, e.feature.displayName);
    return [...found.entries()];
  }, []);
  const history = useLoad(async () => {
    if (!asked.customer || !asked.feature) return undefined;
    const params: Record<string, unknown> = { customerId: asked.customer, featureId: asked.feature, start: asked.from, end: asked.to };
    if (asked.split === 'dimension' && asked.dimension) params.groupBy = asked.dimension;
    if (asked.split === 'entity') params.groupByEntity = true;
    return call<{ periods: Period[] }>('getUsageHistory', params);
  }, [asked]);
  const set = (k: keyof typeof form) => (e: Event) => setForm({ ...form, [k]: (e.target as HTMLInputElement).value });
  const submit = (e: Event) => {
    e.preventDefault();
    setAsked(form);
    location.hash = `#/usage?${new URLSearchParams(form as unknown as Record<string, string>)}`;
  };
  const series = history.data ? toSeries(history.data.periods, asked.bucket, asked.split) : undefined;
  return html`
    <h1>Usage</h1>
    <form class="toolbar wrap" id="usage-form" onSubmit=${submit}>
      <label>Customer <input name="customer" required value=${form.customer} onInput=${set('customer')} /></label>
      <label>Feature <select name="feature" required value=${form.feature} onChange=${set('feature')}>
        <option value="">choose…</option>
        ${(features.data ?? []).map(([id, name]) => html`<option value=${id}>${name} (${id})</option>`)}
      </select></label>
      <label>From <input type="date" name="from" value=${form.from} onInput=${set('from')} /></label>
      <label>To <input type="date" name="to" value=${form.to} onInput=${set('to')} /></label>
      <label>Buckets <select name="bucket" value=${form.bucket} onChange=${set('bucket')}><option value="hour">hour</option><option value="day">day</option><option value="month">month</option></select></label>
      <label>Split <select name="split" value=${form.split} onChange=${set('split')}><option value="none">none</option><option value="dimension">by dimension</option><option value="entity">by entity</option></select></label>
      ${form.split === 'dimension' ? html`<label>Dimension <input name="dimension" value=${form.dimension} onInput=${set('dimension')} /></label>` : ''}
      <button type="submit">Show</button>
    </form>
    ${!asked.customer || !asked.feature
      ? html`<p class="muted">Choose a customer and a metered feature.</p>`
      : !series
        ? status(history)
        : series.xs.length === 0
          ? html`<p class="muted">No usage in this range.</p>`
          : html`<${Chart} data=${series} bucket=${asked.bucket} />
            <table class="grid" id="usage-table">
              <caption>Usage per ${asked.bucket}</caption>
              <thead><tr><th scope="col">${asked.bucket} (UTC)</th>${series.series.map((s) => html`<th scope="col">${s.label}</th>`)}</tr></thead>
              <tbody>${series.xs.map((x, i) => html`<tr><td>${new Date(x * 1000).toISOString().slice(0, asked.bucket === 'hour' ? 13 : asked.bucket === 'day' ? 10 : 7).replace('T', ' ')}</td>${series.series.map((s) => html`<td>${num(s.values[i])}</td>`)}</tr>`)}</tbody>
            </table>`}
  `;
}

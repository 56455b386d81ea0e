/** Live: the change feed as it commits (server-sent events), optionally for one customer. */
import { html } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';
import { call, followChanges, type Change } from '../api.js';
import { href, when } from '../util.js';

const KEEP = 200;

export function LivePage({ query }: { query: URLSearchParams }) {
  const customer = query.get('customer') ?? '';
  const [filter, setFilter] = useState(customer);
  const [changes, setChanges] = useState<Change[]>([]);
  const [state, setState] = useState('connecting');
  useEffect(() => {
    setChanges([]);
    let stop = () => {};
    let cancelled = false;
    // Start from the newest change: the page shows what happens from now on, plus the last few.
    void call<number>('lastChangeSeq').then((last) => {
      if (cancelled) return;
      stop = followChanges({ after: Math.max(0, last - 20), ...(customer ? { customerId: customer } : {}) }, (c) => setChanges((list) => [c, ...list].slice(0, KEEP)), setState);
    }, (e: Error) => setState(`failed: ${e.message}`));
    return () => {
      cancelled = true;
      stop();
    };
  }, [customer]);
  const apply = (e: Event) => {
    e.preventDefault();
    location.hash = `${href('live')}${filter ? `?${new URLSearchParams({ customer: filter })}` : ''}`;
  };
  return html`
    <h1>Live changes</h1>
    <form class="toolbar" onSubmit=${apply}>
      <label for="live-customer">Customer</label>
      <input id="live-customer" value=${filter} placeholder="all customers" onInput=${(e: Event) => setFilter((e.target as HTMLInputElement).value)} />
      <button type="submit">Filter</button>
      <span class="muted" role="status" id="live-state">${state}</span>
    </form>
    <table class="grid" id="live">
      <thead><tr><th scope="col">Seq</th><th scope="col">When</th><th scope="col">Kind</th><th scope="col">Customer</th><th scope="col">Entity</th><th scope="col">Payload</th></tr></thead>
      <tbody>${changes.map(
        (c) => html`<tr data-kind=${c.kind}>
          <td>${c.seq}</td><td>${when(c.at)}</td><td>${c.kind}</td>
          <td>${c.customerId ? html`<a href=${href('customer', c.customerId)}>${c.customerId}</a>` : '—'}</td>
          <td>${c.entityId ?? '—'}</td><td><code>${c.payload === null ? '' : JSON.stringify(c.payload)}</code></td>
        </tr>`,
      )}</tbody>
    </table>
  `;
}

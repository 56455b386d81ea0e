/** Customers: search by id, name or email, paged; archived customers on their own tab. */
import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import { get } from '../api.js';
import { day, href, status, useLoad } from '../util.js';

interface Row {
  customerId: string;
  name: string | null;
  email: string | null;
  archived: boolean;
  planIds: string[];
  createdAt: string | null;
}
interface Page {
  data: Row[];
  total: number;
  offset: number;
  limit: number;
}

const PAGE = 25;

export function CustomersPage({ query }: { query: URLSearchParams }) {
  const [q, setQ] = useState(query.get('q') ?? '');
  const [applied, setApplied] = useState(q);
  const [offset, setOffset] = useState(0);
  const [archived, setArchived] = useState(false);
  const page = useLoad(
    () => get<Page>(`/ui/api/customers?${new URLSearchParams({ q: applied, offset: String(offset), limit: String(PAGE), archived: String(archived) })}`),
    [applied, offset, archived],
  );
  const search = (e: Event) => {
    e.preventDefault();
    setOffset(0);
    setApplied(q);
  };
  const p = page.data;
  return html`
    <h1>Customers</h1>
    <form class="toolbar" role="search" onSubmit=${search}>
      <label for="customer-search">Search by id, name or email</label>
      <input id="customer-search" type="search" value=${q} onInput=${(e: Event) => setQ((e.target as HTMLInputElement).value)} />
      <button type="submit">Search</button>
    </form>
    <div class="tabs" role="group" aria-label="Which customers">
      <button type="button" aria-pressed=${!archived} onClick=${() => (setArchived(false), setOffset(0))}>Active</button>
      <button type="button" aria-pressed=${archived} onClick=${() => (setArchived(true), setOffset(0))}>Archived</button>
    </div>
    ${!p
      ? status(page)
      : html`
          <table class="grid" id="customers">
            <caption>${p.total} ${archived ? 'archived ' : ''}customer${p.total === 1 ? '' : 's'}${applied ? ` matching “${applied}”` : ''}</caption>
            <thead><tr><th scope="col">Customer</th><th scope="col">Name</th><th scope="col">Email</th><th scope="col">Plans</th><th scope="col">Since</th></tr></thead>
            <tbody>
              ${p.data.map(
                (r) => html`<tr>
                  <td>${archived ? r.customerId : html`<a href=${href('customer', r.customerId)}>${r.customerId}</a>`}</td>
                  <td>${r.name ?? '—'}</td>
                  <td>${r.email ?? '—'}</td>
                  <td>${r.planIds.join(', ') || '—'}</td>
                  <td>${day(r.createdAt)}</td>
                </tr>`,
              )}
            </tbody>
          </table>
          <nav class="pager" aria-label="Pages">
            <button type="button" disabled=${offset === 0} onClick=${() => setOffset(Math.max(0, offset - PAGE))}>Previous</button>
            <span>${p.total === 0 ? 0 : offset + 1}–${Math.min(offset + PAGE, p.total)} of ${p.total}</span>
            <button type="button" disabled=${offset + PAGE >= p.total} onClick=${() => setOffset(offset + PAGE)}>Next</button>
          </nav>
        `}
  `;
}

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
  createdAt: string;
}
interface Page {
  data: Row[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
}

const PAGE = 25;

export function CustomersPage({ query }: { query: URLSearchParams }) {
  const [q, setQ] = useState(query.get('q') ?? '');
  const [applied, setApplied] = useState(q);
  // The cursors of the pages before this one ('' for the first): Previous pops one, Next pushes.
  const [cursors, setCursors] = useState<string[]>([]);
  const after = cursors[cursors.length - 1] ?? '';
  const [archived, setArchived] = useState(false);
  const page = useLoad(
    () => get<Page>(`/ui/api/customers?${new URLSearchParams({ q: applied, limit: String(PAGE), archived: String(archived), ...(after ? { after } : {}) })}`),
    [applied, after, archived],
  );
  const search = (e: Event) => {
    e.preventDefault();
    setCursors([]);
    setApplied(q);
  };
  const first = cursors.length * PAGE;
  const p = page.data;
  return html`
    <h1>Customers</h1>
    <form class="toolbar" role="search" onSubmit=${search}>
      <label for="customer-search">Search by id, name or email</label>
      <input id="customer-search" type="search" value=${q} onInput=${(e: Event) => setQ((e.target as HTMLInputElement).value)} />
      <button type="submit">Search</button>
    </form>
    <div class="tabs" role="group" aria-label="Which customers">
      <button type="button" aria-pressed=${!archived} onClick=${() => (setArchived(false), setCursors([]))}>Active</button>
      <button type="button" aria-pressed=${archived} onClick=${() => (setArchived(true), setCursors([]))}>Archived</button>
    </div>
    ${!p
      ? status(page)
      : html`
          <table class="grid" id="customers">
            <caption>${archived ? 'Archived' : 'Active'} customers${applied ? ` matching “${applied}”` : ''}, oldest first</caption>
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
            <button type="button" disabled=${cursors.length === 0} onClick=${() => setCursors(cursors.slice(0, -1))}>Previous</button>
            <span>${p.data.length === 0 ? 'none' : `${first + 1}–${first + p.data.length}`}</span>
            <button type="button" disabled=${!p.pageInfo.hasNextPage} onClick=${() => setCursors([...cursors, p.pageInfo.endCursor ?? ''])}>Next</button>
          </nav>
        `}
  `;
}

/**
 * The dashboard's entry: the login shell (src/ui/shell.ts) imports this bundle with the key and
 * calls `start`. Pages: customers, a customer, usage, catalog, live (README.md#dashboard).
 */
import 'uplot/dist/uPlot.min.css';
import './style.css';
import { render } from 'preact';
import { html } from 'htm/preact';
import { useKey } from './api.js';
import { useRoute, href } from './util.js';
import { CustomersPage } from './pages/customers.js';
import { CustomerPage } from './pages/customer.js';
import { UsagePage } from './pages/usage.js';
import { CatalogPage } from './pages/catalog.js';
import { LivePage } from './pages/live.js';

/** What the key may do (`GET /ui/api/session`). */
export interface Session {
  access: 'full' | 'read';
  catalogVersion: number;
}

const NAV = [
  ['customers', 'Customers'],
  ['usage', 'Usage'],
  ['catalog', 'Catalog'],
  ['live', 'Live'],
] as const;

function App({ session, signOut }: { session: Session; signOut: () => void }) {
  const { path, query } = useRoute();
  const section = path[0] ?? 'customers';
  let body;
  if (section === 'customer' && path[1]) body = html`<${CustomerPage} customerId=${path[1]} canWrite=${session.access === 'full'} />`;
  else if (section === 'usage') body = html`<${UsagePage} query=${query} />`;
  else if (section === 'catalog') body = html`<${CatalogPage} />`;
  else if (section === 'live') body = html`<${LivePage} query=${query} />`;
  else body = html`<${CustomersPage} query=${query} />`;
  const current = section === 'customer' ? 'customers' : section;
  return html`
    <header class="top">
      <span class="brand">Tessera</span>
      <nav aria-label="Sections">
        ${NAV.map(([id, label]) => html`<a href=${href(id)} aria-current=${current === id ? 'page' : undefined}>${label}</a>`)}
      </nav>
      <span class="who">${session.access === 'full' ? 'full access' : 'read-only'} · catalog v${session.catalogVersion}</span>
      <button type="button" class="link" onClick=${signOut}>Sign out</button>
    </header>
    <main id="main">${body}</main>
  `;
}

/** Renders the dashboard into `root`; every call carries `key`. */
export function start(options: { key: string; session: Session; root: HTMLElement; signOut: () => void }): void {
  useKey(options.key);
  document.title = 'Tessera dashboard';
  render(html`<${App} session=${options.session} signOut=${options.signOut} />`, options.root);
}

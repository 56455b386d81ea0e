/**
 * One customer: subscriptions, entitlements with usage bars, promotions and overrides, credits,
 * invoices; with a full-access key, granting a promotion and cancelling a subscription.
 */
import { html } from 'htm/preact';
import { call } from '../api.js';
import { day, href, num, status, useLoad, when } from '../util.js';
import { Actions, CancelButton } from './customer-actions.js';

interface Limit {
  usageLimit: number | null;
  currentUsage: number;
  resetPeriod: string | null;
  usagePeriodEnd?: string;
}
interface Entitlement extends Partial<Limit> {
  featureId: string;
  type: 'BOOLEAN' | 'NUMERIC' | 'METERED' | 'ENUM';
  hasAccess: boolean;
  feature: { displayName: string; unitsPlural: string | null };
  value?: number;
  isUnlimited?: boolean;
  hasSoftLimit?: boolean;
  enumValues?: string[];
  limits?: Limit[];
}
interface Subscription {
  id: string;
  planId: string;
  planVersion: number;
  status: string;
  billingPeriod: string | null;
  currentBillingPeriodStart: string | null;
  currentBillingPeriodEnd: string | null;
  trialEndDate: string | null;
  cancellationDate: string | null;
  scheduledUpdates: { kind: string; status: string; scheduledAt: string; planId?: string; billingPeriod?: string }[];
}
interface Invoice {
  id: string;
  kind: string;
  status: string;
  currency: string;
  periodStart: string;
  periodEnd: string;
  total: string;
  createdAt: string;
  lines: { kind: string; description: string; amount: string; currency: string }[];
}
interface Customer {
  customerId: string;
  name: string | null;
  email: string | null;
  createdAt: string;
  promotionalEntitlements: { id: string; featureId: string; usageLimit?: number; value?: number; isUnlimited?: boolean; endDate: string | null; status: string }[];
}

/** Everything the page shows, read in parallel through the /v1 methods. */
async function loadCustomer(customerId: string) {
  const [customer, subs, entitlements, overrides, grants, invoices] = await Promise.all([
    call<Customer>('getCustomer', { customerId }),
    call<{ data: Subscription[] }>('getSubscriptions', { filter: { customerId: { eq: customerId } }, first: 100 }),
    call<Entitlement[]>('getEntitlements', { customerId }),
    call<{ id: string; featureId: string; entitlement: Record<string, unknown>; endDate?: string | null }[]>('getEntitlementOverrides', { customerId }),
    call<{ currencyId: string }[]>('getCreditGrants', { customerId }),
    call<Invoice[]>('getInvoices', { customerId }),
  ]);
  const payments = await Promise.all(subs.data.map((s) => call<{ paymentCollection: string }>('getSubscription', { subscriptionId: s.id }).then((d) => d.paymentCollection, () => '—')));
  const currencies = [...new Set(grants.map((g) => g.currencyId))];
  const credits = await Promise.all(
    currencies.map(async (currencyId) => ({
      currencyId,
      balance: (await call<{ balance: string }>('getCreditBalance', { customerId, currencyId })).balance,
      ledger: (await call<{ data: { seq: number; amount: string; kind: string; at: string; reference: string | null }[] }>('getCreditLedger', { customerId, currencyId, first: 20 })).data,
    })),
  );
  return { customer, subs: subs.data, payments, entitlements, overrides, invoices, credits };
}

/** A usage bar: used against the limit, with the numbers in text for readers of the page. */
export function UsageBar({ label, used, limit, soft }: { label: string; used: number; limit: number | null; soft?: boolean }) {
  const pct = limit === null || limit === 0 ? 0 : Math.min(100, (used / limit) * 100);
  const text = limit === null ? `${num(used)} used (unlimited)` : `${num(used)} of ${num(limit)}${soft ? ' (soft limit)' : ''}`;
  return html`<div class="usage">
    <div class="bar" role="progressbar" aria-label=${label} aria-valuemin="0" aria-valuemax=${limit ?? undefined} aria-valuenow=${used} aria-valuetext=${text}>
      <span class=${pct >= 100 ? 'full' : pct >= 80 ? 'high' : ''} style=${`width:${pct}%`}></span>
    </div>
    <span class="usage-text">${text}</span>
  </div>`;
}

function EntitlementRow({ e, customerId }: { e: Entitlement; customerId: string }) {
  let standing;
  if (e.type === 'METERED') {
    const limits: Limit[] = e.limits ?? [{ usageLimit: e.isUnlimited ? null : (e.usageLimit ?? null), currentUsage: e.currentUsage ?? 0, resetPeriod: e.resetPeriod ?? null, usagePeriodEnd: e.usagePeriodEnd }];
    standing = limits.map(
      (l) => html`<div class="limit">
        <${UsageBar} label=${`${e.feature.displayName} usage${l.resetPeriod ? ` per ${l.resetPeriod.toLowerCase()}` : ''}`} used=${l.currentUsage} limit=${l.usageLimit} soft=${e.hasSoftLimit} />
        <span class="muted">${l.resetPeriod ? `resets ${when(l.usagePeriodEnd)}` : 'never resets'}</span>
      </div>`,
    );
  } else if (e.type === 'NUMERIC') standing = e.isUnlimited ? 'unlimited' : num(e.value);
  else if (e.type === 'ENUM') standing = (e.enumValues ?? []).join(', ') || '—';
  else standing = e.hasAccess ? 'on' : 'off';
  return html`<tr data-feature=${e.featureId}>
    <th scope="row">${e.feature.displayName}<div class="muted">${e.featureId}</div></th>
    <td>${e.type.toLowerCase()}</td>
    <td>${e.hasAccess ? 'yes' : 'no'}</td>
    <td>${standing}</td>
    <td>${e.type === 'METERED' ? html`<a href=${`${href('usage')}?${new URLSearchParams({ customer: customerId, feature: e.featureId })}`}>Chart</a>` : ''}</td>
  </tr>`;
}

export function CustomerPage({ customerId, canWrite }: { customerId: string; canWrite: boolean }) {
  const s = useLoad(() => loadCustomer(customerId), [customerId]);
  if (!s.data) return html`<h1>${customerId}</h1>${status(s)}`;
  const { customer, subs, payments, entitlements, overrides, invoices, credits } = s.data;
  return html`
    <p class="crumbs"><a href=${href('customers')}>Customers</a> / ${customerId}</p>
    <h1>${customer.name ?? customer.customerId}</h1>
    <p class="muted">${customer.customerId}${customer.email ? ` · ${customer.email}` : ''} · since ${day(customer.createdAt)} ·
      <a href=${`${href('live')}?${new URLSearchParams({ customer: customerId })}`}>live changes</a></p>

    <section aria-labelledby="h-subs">
      <h2 id="h-subs">Subscriptions</h2>
      ${subs.length === 0
        ? html`<p class="muted">No subscriptions.</p>`
        : html`<table class="grid" id="subscriptions">
            <thead><tr><th scope="col">Plan</th><th scope="col">Status</th><th scope="col">Billing</th><th scope="col">Current period</th><th scope="col">Trial ends</th><th scope="col">Scheduled</th><th scope="col">Payment</th>${canWrite ? html`<th scope="col"><span class="sr-only">Actions</span></th>` : ''}</tr></thead>
            <tbody>${subs.map(
              (sub, i) => html`<tr>
                <td>${sub.planId} <span class="muted">v${sub.planVersion}</span></td>
                <td><span class=${`pill ${sub.status.toLowerCase()}`}>${sub.status}</span>${sub.cancellationDate ? html`<div class="muted">cancels ${day(sub.cancellationDate)}</div>` : ''}</td>
                <td>${sub.billingPeriod ?? '—'}</td>
                <td>${day(sub.currentBillingPeriodStart)} → ${day(sub.currentBillingPeriodEnd)}</td>
                <td>${day(sub.trialEndDate)}</td>
                <td>${sub.scheduledUpdates.length === 0 ? '—' : sub.scheduledUpdates.map((u) => html`<div>${u.kind.toLowerCase().replace(/_/g, ' ')}${u.planId ? ` to ${u.planId}` : ''}${u.billingPeriod ? ` (${u.billingPeriod.toLowerCase()})` : ''} on ${day(u.scheduledAt)}${u.status === 'PENDING_PAYMENT' ? ', awaiting payment' : ''}</div>`)}</td>
                <td>${payments[i]}</td>
                ${canWrite ? html`<td>${['ACTIVE', 'IN_TRIAL', 'PAYMENT_PENDING'].includes(sub.status) ? html`<${CancelButton} sub=${sub} done=${s.reload} />` : ''}</td>` : ''}
              </tr>`,
            )}</tbody>
          </table>`}
    </section>

    <section aria-labelledby="h-ent">
      <h2 id="h-ent">Entitlements</h2>
      <table class="grid" id="entitlements">
        <thead><tr><th scope="col">Feature</th><th scope="col">Type</th><th scope="col">Access</th><th scope="col">Standing</th><th scope="col"><span class="sr-only">Chart</span></th></tr></thead>
        <tbody>${entitlements.map((e) => html`<${EntitlementRow} e=${e} customerId=${customerId} />`)}</tbody>
      </table>
    </section>

    <section aria-labelledby="h-promo">
      <h2 id="h-promo">Promotions and overrides</h2>
      ${customer.promotionalEntitlements.length + overrides.length === 0
        ? html`<p class="muted">None.</p>`
        : html`<ul class="plain" id="promotions">
            ${customer.promotionalEntitlements.map((p) => html`<li>Promotion: <strong>${p.featureId}</strong> ${p.isUnlimited ? 'unlimited' : num(p.usageLimit ?? p.value)} until ${day(p.endDate)} <span class="muted">(${p.status})</span></li>`)}
            ${overrides.map((o) => html`<li>Override: <strong>${o.featureId}</strong> ${JSON.stringify(o.entitlement)}${o.endDate ? ` until ${day(o.endDate)}` : ''}</li>`)}
          </ul>`}
      ${canWrite ? html`<${Actions} customerId=${customerId} features=${entitlements.map((e) => ({ id: e.featureId, type: e.type }))} done=${s.reload} />` : ''}
    </section>

    <section aria-labelledby="h-credits">
      <h2 id="h-credits">Credits</h2>
      ${credits.length === 0
        ? html`<p class="muted">No credit grants.</p>`
        : credits.map(
            (c) => html`<h3>${c.currencyId}: balance ${c.balance}</h3>
              <table class="grid">
                <thead><tr><th scope="col">When</th><th scope="col">Entry</th><th scope="col">Amount</th></tr></thead>
                <tbody>${c.ledger.map((l) => html`<tr><td>${when(l.at)}</td><td>${l.kind.toLowerCase()}${l.reference ? html` <span class="muted">${l.reference}</span>` : ''}</td><td>${l.amount}</td></tr>`)}</tbody>
              </table>`,
          )}
    </section>

    <section aria-labelledby="h-inv">
      <h2 id="h-inv">Invoices</h2>
      ${invoices.length === 0
        ? html`<p class="muted">No invoices.</p>`
        : html`<div id="invoices">${invoices.map(
            (inv) => html`<details>
              <summary>${day(inv.createdAt)} · ${inv.kind.toLowerCase()} · ${inv.status} · <strong>${inv.total} ${inv.currency}</strong> <span class="muted">${day(inv.periodStart)} → ${day(inv.periodEnd)}</span></summary>
              <table class="grid"><thead><tr><th scope="col">Line</th><th scope="col">Kind</th><th scope="col">Amount</th></tr></thead>
                <tbody>${inv.lines.map((l) => html`<tr><td>${l.description}</td><td>${l.kind}</td><td>${l.amount} ${l.currency}</td></tr>`)}</tbody>
              </table>
            </details>`,
          )}</div>`}
    </section>
  `;
}

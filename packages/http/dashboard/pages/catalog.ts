/** The catalog: products, their plans in order with versions and prices by country, and the paywall. */
import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import { call } from '../api.js';
import { status, useLoad } from '../util.js';

interface Price {
  billingCountryCode?: string | null;
  billingPeriod: string;
  billingModel: string;
  currency: string;
  amount?: string;
  countryOverrides?: Record<string, { currency: string; amount?: string }>;
}
interface Plan {
  id: string;
  displayName: string;
  pricingType: string;
  version: number;
  parentPlanId?: string;
  prices?: Price[];
  trial?: { days: number } | null;
}
interface Product {
  id: string;
  displayName: string;
  plans: Plan[];
}
interface PaywallPlan {
  id: string;
  displayName: string;
  order: number;
  prices: Price[];
  entitlements: { featureId: string; usageLimit?: number; value?: number; isUnlimited?: boolean; enumValues?: string[]; feature: { displayName: string } }[];
}

const priceText = (p: Price) => `${p.amount ?? p.billingModel.toLowerCase()} ${p.currency} / ${p.billingPeriod.toLowerCase()}`;

function Prices({ prices }: { prices: Price[] }) {
  if (prices.length === 0) return html`<span class="muted">free</span>`;
  const byCountry = new Map<string, Price[]>();
  const add = (country: string, p: Price) => byCountry.set(country, [...(byCountry.get(country) ?? []), p]);
  for (const p of prices) {
    add(p.billingCountryCode ?? 'default', p);
    for (const [country, o] of Object.entries(p.countryOverrides ?? {})) add(country, { ...p, ...o });
  }
  return html`<ul class="plain">${[...byCountry.entries()].map(([country, list]) => html`<li><strong>${country}</strong>: ${list.map(priceText).join(' · ')}</li>`)}</ul>`;
}

export function CatalogPage() {
  const [country, setCountry] = useState('');
  const products = useLoad(() => call<Product[]>('getProducts'), []);
  const paywall = useLoad(
    () => call<{ products: { id: string; displayName: string; plans: PaywallPlan[] }[] }>('getPaywall', country ? { billingCountryCode: country } : {}),
    [country],
  );
  return html`
    <h1>Catalog</h1>
    <section aria-labelledby="h-products">
      <h2 id="h-products">Products and plans</h2>
      ${!products.data
        ? status(products)
        : products.data.map(
            (p) => html`<h3>${p.displayName} <span class="muted">(${p.id})</span></h3>
              <table class="grid catalog">
                <thead><tr><th scope="col">#</th><th scope="col">Plan</th><th scope="col">Version</th><th scope="col">Type</th><th scope="col">Parent</th><th scope="col">Prices by country</th></tr></thead>
                <tbody>${p.plans.map(
                  (plan, i) => html`<tr><td>${i + 1}</td><td>${plan.displayName} <span class="muted">${plan.id}</span>${plan.trial ? html`<div class="muted">${plan.trial.days}-day trial</div>` : ''}</td><td>v${plan.version}</td><td>${plan.pricingType}</td><td>${plan.parentPlanId ?? '—'}</td><td><${Prices} prices=${plan.prices ?? []} /></td></tr>`,
                )}</tbody>
              </table>`,
          )}
    </section>
    <section aria-labelledby="h-paywall">
      <h2 id="h-paywall">Paywall</h2>
      <form class="toolbar" onSubmit=${(e: Event) => e.preventDefault()}>
        <label for="paywall-country">Billing country</label>
        <input id="paywall-country" maxlength="2" placeholder="US" value=${country} onChange=${(e: Event) => setCountry((e.target as HTMLInputElement).value.toUpperCase())} />
      </form>
      ${!paywall.data
        ? status(paywall)
        : paywall.data.products.map(
            (p) => html`<div class="paywall" id=${`paywall-${p.id}`}>${p.plans.map(
              (plan) => html`<article class="card">
                <h3>${plan.displayName}</h3>
                <p class="price">${plan.prices.length ? plan.prices.map(priceText).join(' · ') : 'Free'}</p>
                <ul>${plan.entitlements.map((e) => html`<li>${e.feature.displayName}${e.isUnlimited ? ': unlimited' : e.usageLimit !== undefined ? `: ${e.usageLimit}` : e.value !== undefined ? `: ${e.value}` : e.enumValues ? `: ${e.enumValues.join(', ')}` : ''}</li>`)}</ul>
              </article>`,
            )}</div>`,
          )}
    </section>
  `;
}

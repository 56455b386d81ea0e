/** The customer page's writes (full-access keys only), each confirmed before it is sent. */
import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import { call } from '../api.js';

const PERIODS = ['ONE_WEEK', 'ONE_MONTH', 'SIX_MONTHS', 'ONE_YEAR', 'LIFETIME'];

/** Cancels a subscription after the browser's confirmation dialog. */
export function CancelButton({ sub, done }: { sub: { id: string; planId: string }; done: () => void }) {
  const [error, setError] = useState('');
  const cancel = async () => {
    if (!confirm(`Cancel the ${sub.planId} subscription ${sub.id}? The product's cancellation rule decides when it ends.`)) return;
    try {
      await call('cancelSubscription', { subscriptionId: sub.id });
      done();
    } catch (e) {
      setError((e as Error).message);
    }
  };
  return html`<button type="button" class="danger" onClick=${cancel}>Cancel</button>${error ? html`<div class="error" role="alert">${error}</div>` : ''}`;
}

/** Grants a promotional entitlement (a usage limit, or unlimited) for a period. */
export function Actions({ customerId, features, done }: { customerId: string; features: { id: string; type: string }[]; done: () => void }) {
  const [featureId, setFeature] = useState(features[0]?.id ?? '');
  const [period, setPeriod] = useState('ONE_MONTH');
  const [limit, setLimit] = useState('');
  const [message, setMessage] = useState('');
  const grant = async (e: Event) => {
    e.preventDefault();
    const type = features.find((f) => f.id === featureId)?.type;
    const amount = limit.trim() === '' ? undefined : Number(limit);
    // What a promotion grants is the feature type's: a usage limit (metered), a value (numeric), access (boolean).
    const fields = type === 'BOOLEAN' || type === 'ENUM' ? {} : amount === undefined ? { isUnlimited: true } : type === 'METERED' ? { usageLimit: amount } : { value: amount };
    const what = type === 'BOOLEAN' || type === 'ENUM' ? 'access' : amount === undefined ? 'unlimited' : `${amount}`;
    if (!confirm(`Grant ${customerId} ${featureId} with ${what} for ${period.toLowerCase().replace('_', ' ')}?`)) return;
    try {
      await call('grantPromotionalEntitlements', {
        customerId,
        promotionalEntitlements: [{ featureId, period, ...fields }],
      });
      setMessage(`Granted ${featureId}.`);
      done();
    } catch (err) {
      setMessage((err as Error).message);
    }
  };
  return html`<form class="action" id="grant-form" onSubmit=${grant}>
    <h3>Grant a promotion</h3>
    <label>Feature <select value=${featureId} onChange=${(e: Event) => setFeature((e.target as HTMLSelectElement).value)}>${features.map((f) => html`<option value=${f.id}>${f.id}</option>`)}</select></label>
    <label>Period <select value=${period} onChange=${(e: Event) => setPeriod((e.target as HTMLSelectElement).value)}>${PERIODS.map((p) => html`<option value=${p}>${p}</option>`)}</select></label>
    <label>Limit (empty: unlimited or on) <input type="number" min="0" value=${limit} onInput=${(e: Event) => setLimit((e.target as HTMLInputElement).value)} /></label>
    <button type="submit">Grant…</button>
    <p role="status">${message}</p>
  </form>`;
}

/** Small pieces shared by the pages: formatting, the hash router, loading state. */
import { html } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';

/** An instant as `2026-01-31 14:05 UTC` (the engine's time is UTC), or a dash. */
export function when(value: string | number | null | undefined): string {
  if (value === null || value === undefined) return '—';
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) return String(value);
  return `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** A date as `2026-01-31`, or a dash. */
export function day(value: string | number | null | undefined): string {
  return value === null || value === undefined ? '—' : new Date(value).toISOString().slice(0, 10);
}

export const num = (n: number | null | undefined): string => (n === null || n === undefined ? '—' : n.toLocaleString('en-US'));

/** The current route: `#/customer/acme?tab=x` → { path: ['customer', 'acme'], query }. */
export function useRoute(): { path: string[]; query: URLSearchParams } {
  const read = () => {
    const [p = '', q = ''] = location.hash.replace(/^#\/?/, '').split('?');
    return { path: p.split('/').filter(Boolean).map(decodeURIComponent), query: new URLSearchParams(q) };
  };
  const [route, setRoute] = useState(read);
  useEffect(() => {
    const on = () => setRoute(read());
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return route;
}

/** A link to a route. */
export const href = (...parts: string[]): string => `#/${parts.map(encodeURIComponent).join('/')}`;

/** Loads `load()` whenever `deps` change; `reload` runs it again. */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[]): { data: T | undefined; error: Error | undefined; loading: boolean; reload: () => void } {
  const [state, setState] = useState<{ data?: T; error?: Error; loading: boolean }>({ loading: true });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    setState((s) => ({ ...s, loading: true }));
    load().then(
      (data) => live && setState({ data, loading: false }),
      (error: Error) => live && setState({ error, loading: false }),
    );
    return () => {
      live = false;
    };
  }, [...deps, tick]);
  return { data: state.data, error: state.error, loading: state.loading, reload: () => setTick((t) => t + 1) };
}

/** What a page shows while loading or after a failure. */
export function status(s: { error: Error | undefined; loading: boolean }) {
  if (s.error) return html`<p class="error" role="alert">${s.error.message}</p>`;
  return html`<p class="muted">Loading…</p>`;
}

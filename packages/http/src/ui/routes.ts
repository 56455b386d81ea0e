import type { Context, Env as HonoEnv, Hono } from 'hono';
import type { Engine } from '@tessera/core';
import type { KeyAccess } from '../server/keys.js';
import { dashboardAssets } from './bundle.js';
import { customerPage, MAX_CUSTOMER_PAGE } from './customers.js';
import { LOGIN_JS, SHELL_HTML } from './shell.js';

/** What the dashboard's routes need from the sidecar. */
export interface UiRouteOptions<E extends HonoEnv> {
  engine: Engine;
  /** The access of the key a request presents (null: none or unknown). */
  accessOf(c: Context<E>): KeyAccess | null;
}

// Pages load scripts and styles from this origin only (the app itself through a blob: URL, since it
// is fetched with the key); uPlot sets inline styles.
const CSP = "default-src 'none'; script-src 'self' blob:; style-src 'self' 'unsafe-inline'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const page = (body: string, type: string, extra: Record<string, string> = {}) =>
  new Response(body, { status: 200, headers: { 'content-type': type, 'cache-control': 'no-store', 'x-content-type-options': 'nosniff', ...extra } });

const refuse = (status: 401 | 403 | 400, message: string, field = 'authorization') =>
  new Response(JSON.stringify({ error: { code: status === 400 ? 'INVALID_ARGUMENT' : 'UNAUTHORIZED', message, details: { field } } }), {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', ...(status === 401 ? { 'www-authenticate': 'Bearer' } : {}) },
  });

/**
 * Adds the dashboard under /ui: the login shell (`GET /ui`, `GET /ui/login.js`, no key) and, with
 * a read-only or full-access key, the application (`GET /ui/assets/dashboard.{js,css}`), the
 * session (`GET /ui/api/session`: what the key may do) and the customer list
 * (`GET /ui/api/customers`). Everything else the pages show comes from the `/v1` methods.
 */
export function addUiRoutes<E extends HonoEnv>(app: Hono<E>, options: UiRouteOptions<E>): void {
  /** The key's access, or the refusal to answer with. */
  const gate = (c: Context<E>): KeyAccess | Response => {
    const access = options.accessOf(c);
    if (access === null) return refuse(401, 'missing or unknown API key: sign in at /ui, or send `Authorization: Bearer <key>`');
    if (access === 'metrics') return refuse(403, 'this key opens GET /metrics only; the dashboard needs a read-only or full-access key');
    return access;
  };

  const shell = () => page(SHELL_HTML, 'text/html; charset=utf-8', { 'content-security-policy': CSP, 'referrer-policy': 'no-referrer' });
  app.get('/ui', shell);
  app.get('/ui/', shell);
  app.get('/ui/login.js', () => page(LOGIN_JS, 'text/javascript; charset=utf-8'));

  app.get('/ui/assets/:file', async (c) => {
    const access = gate(c);
    if (access instanceof Response) return access;
    const file = c.req.param('file');
    if (file !== 'dashboard.js' && file !== 'dashboard.css') return refuse(400, `no asset "${file}"; there are dashboard.js and dashboard.css`, 'file');
    const assets = await dashboardAssets();
    return file === 'dashboard.js' ? page(assets.js, 'text/javascript; charset=utf-8') : page(assets.css, 'text/css; charset=utf-8');
  });

  app.get('/ui/api/session', (c) => {
    const access = gate(c);
    if (access instanceof Response) return access;
    return page(JSON.stringify({ access, catalogVersion: options.engine.catalogVersion }), 'application/json; charset=utf-8');
  });

  app.get('/ui/api/customers', async (c) => {
    const access = gate(c);
    if (access instanceof Response) return access;
    const limitRaw = c.req.query('limit');
    if (limitRaw !== undefined && limitRaw !== '' && !/^\d{1,9}$/.test(limitRaw)) return refuse(400, 'limit: must be a positive integer', 'limit');
    const limit = limitRaw === undefined || limitRaw === '' ? 25 : Math.max(1, Math.min(Number(limitRaw), MAX_CUSTOMER_PAGE));
    const q = c.req.query('q') ?? '';
    if (q.length > 200) return refuse(400, 'q: at most 200 characters', 'q');
    const archived = c.req.query('archived');
    if (archived !== undefined && archived !== 'true' && archived !== 'false') return refuse(400, 'archived: must be true or false', 'archived');
    // The engine validates q (as `search`) and `after` and throws INVALID_ARGUMENT, which the sidecar answers with 400.
    const after = c.req.query('after');
    const result = await customerPage(options.engine, { q, archived: archived === 'true', limit, ...(after ? { after } : {}) });
    return page(JSON.stringify(result), 'application/json; charset=utf-8');
  });
}

/**
 * The dashboard's login shell: the only part of /ui served without a key. It holds no data and no
 * application code: it asks for a key, keeps it in sessionStorage (this tab only), checks it with
 * `GET /ui/api/session`, then fetches the application with the key and starts it
 * (packages/http/README.md#dashboard).
 */
export const SHELL_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Tessera</title>
<link rel="icon" href="data:,">
<style>
body{margin:0;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d2330;background:#f5f6f8}
#login{max-width:380px;margin:12vh auto;padding:28px;background:#fff;border-radius:10px;box-shadow:0 1px 4px rgba(0,0,0,.12)}
#login h1{margin:0 0 4px;font-size:22px}#login p{margin:0 0 16px;color:#4a5263}
#login label{display:block;font-weight:600;margin-bottom:6px}
#login input{box-sizing:border-box;width:100%;padding:9px 10px;border:1px solid #8a93a5;border-radius:6px;font:inherit}
#login button{margin-top:14px;padding:9px 16px;border:0;border-radius:6px;background:#2450b8;color:#fff;font:inherit;font-weight:600;cursor:pointer}
#login-error{color:#a8201a;min-height:1.4em;margin-top:10px}
</style>
</head>
<body>
<main id="login" hidden>
<h1>Tessera</h1>
<p>Enter a read-only or full-access API key. It is kept for this tab only.</p>
<form id="login-form">
<label for="login-key">API key</label>
<input id="login-key" name="key" type="password" autocomplete="off" required minlength="16">
<button type="submit">Sign in</button>
<div id="login-error" role="alert"></div>
</form>
</main>
<div id="app"></div>
<script type="module" src="/ui/login.js"></script>
</body>
</html>
`;

/** The shell's script (served as /ui/login.js, so the page needs no inline script). */
export const LOGIN_JS = `const KEY = 'tessera.key';
const form = document.getElementById('login-form');
const box = document.getElementById('login');
const error = document.getElementById('login-error');
const headers = (key) => ({ authorization: 'Bearer ' + key });
async function start(key) {
  const session = await fetch('/ui/api/session', { headers: headers(key) });
  if (!session.ok) {
    sessionStorage.removeItem(KEY);
    const body = await session.json().catch(() => null);
    throw new Error(body && body.error ? body.error.message : 'the sidecar refused the key (' + session.status + ')');
  }
  const [js, css] = await Promise.all(['/ui/assets/dashboard.js', '/ui/assets/dashboard.css'].map(async (path) => {
    const res = await fetch(path, { headers: headers(key) });
    if (!res.ok) throw new Error('could not load ' + path + ' (' + res.status + ')');
    return res.text();
  }));
  const style = document.createElement('style');
  style.textContent = css;
  document.head.appendChild(style);
  box.remove();
  const url = URL.createObjectURL(new Blob([js], { type: 'text/javascript' }));
  const app = await import(url);
  app.start({ key, session: await session.json(), root: document.getElementById('app'), signOut() { sessionStorage.removeItem(KEY); location.reload(); } });
}
function showLogin(message) {
  box.hidden = false;
  error.textContent = message || '';
  document.getElementById('login-key').focus();
}
form.addEventListener('submit', (event) => {
  event.preventDefault();
  const key = form.elements.key.value.trim();
  sessionStorage.setItem(KEY, key);
  start(key).catch((e) => showLogin(e.message));
});
const saved = sessionStorage.getItem(KEY);
if (saved) start(saved).catch((e) => showLogin(e.message)); else showLogin();
`;

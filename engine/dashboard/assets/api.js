// The hub's public HTTP API, with the operator's token on every call. A 401 asks for a token
// (the dialog in index.html) and the call fails; the next refresh uses the new token.
const KEY = 'orbitmesh.token';
let asking = null;

export class ApiError extends Error {
  constructor(status, kind, message) {
    super(message);
    this.status = status;
    this.kind = kind;
  }
}

export function token() {
  return localStorage.getItem(KEY) || '';
}

export function setToken(value) {
  if (value) localStorage.setItem(KEY, value);
  else localStorage.removeItem(KEY);
}

/// Shows the token dialog once, however many calls were refused; resolves when one is saved.
export function askForToken(reason) {
  if (asking) return asking;
  const dialog = document.getElementById('login');
  const input = document.getElementById('token-input');
  document.getElementById('login-error').textContent = token() ? reason || 'The token was refused.' : '';
  asking = new Promise((resolve) => {
    document.getElementById('login-form').onsubmit = (ev) => {
      ev.preventDefault();
      setToken(input.value.trim());
      dialog.close();
      asking = null;
      resolve();
    };
  });
  if (!dialog.open) dialog.showModal();
  input.focus();
  return asking;
}

export async function api(method, path, body, signal) {
  // While the dialog waits for a token, nothing is sent: each refused call counts against the
  // hub's --max-auth-failures for this address, and polling would soon be rate limited.
  if (asking) throw new ApiError(401, 'unauthorized', 'waiting for a token');
  const headers = { Accept: 'application/json' };
  if (token()) headers.Authorization = 'Bearer ' + token();
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(path, {
    method, headers, signal, cache: 'no-store',
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = { message: text }; }
  if (res.status === 401) {
    askForToken(data && data.message);
    throw new ApiError(401, 'unauthorized', (data && data.message) || 'a token is needed');
  }
  if (!res.ok) throw new ApiError(res.status, data && data.error, (data && data.message) || `HTTP ${res.status}`);
  return data;
}

export const get = (path, signal) => api('GET', path, undefined, signal);
export const post = (path, body) => api('POST', path, body === undefined ? {} : body);
export const patch = (path, body) => api('PATCH', path, body);

/// `{a: 1, b: ''}` -> `?a=1` (empty values left out).
export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== '' && v !== undefined && v !== null) q.set(k, v);
  const s = q.toString();
  return s ? '?' + s : '';
}

// The UI's only way to talk to the server: the same JSON API scripts use, with the session
// cookie (sent by the browser) and the anti-CSRF header (src/ui/csrf.rs).

const csrfMeta = document.querySelector('meta[name="csrf-token"]');

export class ApiError extends Error {
  constructor(status, body, text) {
    super(ApiError.describe(status, body, text));
    this.status = status;
    this.body = body;
    this.text = text;
  }

  // Field messages of a 400, flattened: {"user":{"email":"…"}} gives {"user.email":"…"}.
  get fieldErrors() {
    const out = {};
    const walk = (obj, prefix) => {
      for (const [k, v] of Object.entries(obj || {})) {
        const key = prefix ? `${prefix}.${k}` : k;
        if (v && typeof v === 'object' && !Array.isArray(v)) walk(v, key);
        else out[key] = String(v);
      }
    };
    if (this.body && typeof this.body === 'object' && this.body.errors) walk(this.body.errors, '');
    return out;
  }

  static describe(status, body, text) {
    if (body && typeof body === 'object') {
      if (typeof body.message === 'string') return body.message;
      if (body.errors) {
        const first = Object.values(body.errors)[0];
        if (typeof first === 'string') return first;
      }
    }
    if (typeof text === 'string' && text && text.length < 300 && !text.trimStart().startsWith('<')) return text;
    if (status === 0) return 'Could not reach the server. Check your connection and try again.';
    return `The server answered ${status}.`;
  }
}

// Calls the API. `body` (an object) is sent as JSON. Resolves to the parsed JSON (or the text,
// or null for an empty body); rejects with ApiError. A 401 means the session ended: the page
// goes to the sign-in page unless `signInOn401` is false.
export async function api(method, path, body, { signInOn401 = true } = {}) {
  const headers = { Accept: 'application/json' };
  if (csrfMeta && csrfMeta.content) headers['X-Ferrobase-CSRF'] = csrfMeta.content;
  const init = { method, headers, credentials: 'same-origin' };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch {
    throw new ApiError(0, null, '');
  }
  const text = await response.text();
  let data = null;
  if (text && (response.headers.get('content-type') || '').includes('json')) {
    try { data = JSON.parse(text); } catch { data = null; }
  }
  if (!response.ok) {
    if (response.status === 401 && signInOn401) {
      const here = location.pathname + location.search;
      location.assign(`/auth/login?redirect=${encodeURIComponent(here)}`);
    }
    throw new ApiError(response.status, data, text);
  }
  return data !== null ? data : (text || null);
}

export const get = (path, opts) => api('GET', path, undefined, opts);
export const post = (path, body, opts) => api('POST', path, body, opts);
export const put = (path, body, opts) => api('PUT', path, body, opts);
export const del = (path, opts) => api('DELETE', path, undefined, opts);

// The server's API as the dashboard uses it: the session endpoints under
// /dashboard/api/ and the stats API, which accepts the session cookie, a
// share link's secret (share=), or nothing for a public site.
export class ApiError extends Error {
  constructor(status, code, retryAfter) {
    super(`${status} ${code}`);
    this.status = status;
    this.code = code;
    this.retryAfter = retryAfter;
  }
}

async function call(path, options = {}) {
  let response;
  try {
    response = await fetch(path, { credentials: 'same-origin', ...options });
  } catch {
    throw new ApiError(0, 'network');
  }
  if (response.status === 204) return null;
  const text = await response.text();
  let body = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {}
  if (!response.ok) {
    throw new ApiError(response.status, (body && body.code) || 'error', Number(response.headers.get('Retry-After')) || null);
  }
  return body;
}

// The signed-in user ({ user, sites, csrf }) or null.
export async function session() {
  try {
    return await call('/dashboard/api/session');
  } catch (error) {
    if (error.status === 401) return null;
    throw error;
  }
}

export const login = (user, password, code) =>
  call('/dashboard/api/login', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(code ? { user, password, code } : { user, password }),
  });

export const logout = (csrf) => call('/dashboard/api/logout', { method: 'POST', headers: { 'X-CSRF-Token': csrf } });

// /api/v1/stats/<endpoint>?… with the parameters in a stable order.
export function statsUrl(endpoint, params) {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value !== null && value !== undefined && value !== '') query.set(name, value);
  }
  return `/api/v1/stats/${endpoint}?${query}`;
}

export const stats = (endpoint, params) => call(statsUrl(endpoint, params));

// The site's time zone, from its privacy page's JSON (public for every
// configured site); Europe/Amsterdam, the default, when it cannot be read.
const zones = new Map();
export async function siteTimeZone(site) {
  if (!zones.has(site)) {
    zones.set(
      site,
      call(`/privacy/${encodeURIComponent(site)}.json`)
        .then((body) => findKey(body, 'salt_rotation_time_zone') || 'Europe/Amsterdam')
        .catch(() => 'Europe/Amsterdam'),
    );
  }
  return zones.get(site);
}

function findKey(value, key) {
  if (!value || typeof value !== 'object') return null;
  if (typeof value[key] === 'string') return value[key];
  for (const child of Object.values(value)) {
    const found = findKey(child, key);
    if (found) return found;
  }
  return null;
}

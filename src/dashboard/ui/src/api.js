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

// A site's time zone, whether it is public, and its k (rows with fewer
// visitors are folded for readers without a session): from the session
// when the user has the site, else from its privacy page's JSON (public
// for every configured site). When neither answers: Europe/Amsterdam, the
// default zone, and k unknown (null).
const settings = new Map();
export function siteSettings(site, session) {
  const mine = session && session.sites.find((entry) => entry.site === site);
  if (mine && mine.time_zone) {
    return Promise.resolve({ timeZone: mine.time_zone, public: !!mine.public, k: mine.k_anonymity ?? null });
  }
  if (!settings.has(site)) {
    settings.set(
      site,
      call(`/privacy/${encodeURIComponent(site)}.json`)
        .then((body) => {
          const found = (body && body.settings) || {};
          return {
            timeZone: found.salt_rotation_time_zone || 'Europe/Amsterdam',
            public: !!found.public_statistics,
            k: Number.isInteger(found.k_anonymity) ? found.k_anonymity : null,
          };
        })
        .catch(() => ({ timeZone: 'Europe/Amsterdam', public: false, k: null })),
    );
  }
  return settings.get(site);
}

// A site's share links, for its administrators. Changes carry the
// session's CSRF token; a new link's secret is in the answer to its POST
// and nowhere else.
const shareLinksPath = (site) => `/dashboard/api/sites/${encodeURIComponent(site)}/share-links`;

export const shareLinks = (site) => call(shareLinksPath(site)).then((body) => body.share_links);

export const createShareLink = (site, name, csrf) =>
  call(shareLinksPath(site), {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf },
    body: JSON.stringify({ name }),
  });

export const revokeShareLink = (site, id, csrf) =>
  call(`${shareLinksPath(site)}/${encodeURIComponent(id)}`, { method: 'DELETE', headers: { 'X-CSRF-Token': csrf } });

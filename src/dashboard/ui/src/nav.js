// Moving between views without reloading the page, and the few things
// every view shares: the session, links that keep ?lang= and ?share=, a
// polite live region, and timers to stop when the view changes.
import * as api from './api.js';

let renderer = null;
let cleanup = [];
let sessionPromise = null;

export const setRenderer = (render) => (renderer = render);
export const takeCleanup = () => cleanup.splice(0);

// Session, cached per page load; reset at sign-in and sign-out.
export function currentSession(refresh = false) {
  if (refresh || !sessionPromise) sessionPromise = api.session().catch(() => null);
  return sessionPromise;
}

// A dashboard URL that keeps the language and share secret of this one.
export function href(path, params = {}) {
  const here = new URLSearchParams(location.search);
  const query = new URLSearchParams();
  for (const keep of ['lang', 'share']) if (here.get(keep)) query.set(keep, here.get(keep));
  for (const [name, value] of Object.entries(params)) {
    if (value === null || value === undefined || value === '') query.delete(name);
    else query.set(name, value);
  }
  const text = query.toString();
  return text ? `${path}?${text}` : path;
}

export function navigate(url, { replace = false, focus = 'heading' } = {}) {
  if (replace) history.replaceState(null, '', url);
  else history.pushState(null, '', url);
  return renderer({ focus });
}

export function announce(text) {
  const status = document.getElementById('status');
  status.textContent = '';
  // Set after a moment, so the same words are read again.
  setTimeout(() => (status.textContent = text), 50);
}

// Work to undo when the view changes (timers).
export const onLeave = (undo) => cleanup.push(undo);

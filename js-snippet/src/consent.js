// Consent: what the visitor chose, where it is kept, and what it unlocks.
//
// The server says what to ask (GET /api/consent/notice) and keeps the proof
// (POST /api/consent, a receipt with an append-only history). The browser
// keeps one first-party technical cookie: receipt id, policy version,
// granted categories and when. Nothing optional loads before a choice.
import { showNotice } from './notice.js';
import { blockedContent } from './blocked.js';

const COOKIE = 'kruimel_consent';
const DAY = 86400;
const now = () => Math.floor(Date.now() / 1000);

// "1|<receipt or ->|<policy version>|<granted ids joined by +>|<unix seconds>"
function readCookie() {
  const match = document.cookie.match(/(?:^|;\s*)kruimel_consent=([^;]*)/);
  if (!match) return null;
  const [format, receipt, policy, granted, at] = decodeURIComponent(match[1]).split('|');
  if (format != '1') return null;
  return { receipt: receipt == '-' ? null : receipt, policy, granted: granted ? granted.split('+') : [], at: +at };
}

function writeCookie(choice, days) {
  const value = ['1', choice.receipt || '-', choice.policy, choice.granted.join('+'), choice.at].join('|');
  document.cookie =
    COOKIE + '=' + encodeURIComponent(value) + '; Path=/; Max-Age=' + days * DAY + '; SameSite=Lax' +
    (location.protocol == 'https:' ? '; Secure' : '');
}

export function startConsent({ api, site, attr }) {
  const language = attr('lang') || document.documentElement.lang.split('-')[0];
  let config; // the server's notice document
  let choice = readCookie();
  let update = () => {}; // blocked content, once the texts are known
  let closeNotice = null; // while the notice is open

  const domReady = new Promise((resolve) =>
    document.readyState == 'loading' ? document.addEventListener('DOMContentLoaded', resolve) : resolve(),
  );
  const noticeUrl =
    api + '/api/consent/notice?site=' + encodeURIComponent(site) + (language ? '&lang=' + encodeURIComponent(language) : '');
  // Without the server's answer nothing optional loads: failing closed.
  const ready = Promise.all([fetch(noticeUrl).then((response) => (response.ok ? response.json() : null)), domReady])
    .then(([notice]) => notice && start(notice))
    .catch(() => {});

  // A stored choice counts while the policy is the same and it is younger
  // than the site's re-ask period.
  const stillValid = () =>
    choice && choice.policy == config.policy_version && now() - choice.at < config.reask_days * DAY;

  function start(notice) {
    config = notice;
    if (config.mode == 'none') return;
    // "Always allow" in a placeholder: the stored choice plus that category.
    update = blockedContent(config, (category) => record(granted().concat(category), 'custom'));
    document.addEventListener('click', onSettingsLink);
    for (const link of settingsLinks()) if (!link.textContent.trim()) link.textContent = config.texts.settings_link;

    if (config.mode == 'info') {
      if (!stillValid()) open('info');
    } else if (stillValid()) {
      update(granted());
      announce('stored');
    } else if (navigator.globalPrivacyControl === true) {
      // The browser already said no for its user: record that, ask nothing.
      record([], 'privacy_signal');
    } else {
      update([]);
      open('first');
    }
    return true;
  }

  // The stored choice's categories that the site still has.
  const granted = () =>
    stillValid() ? config.categories.map((c) => c.id).filter((id) => choice.granted.includes(id)) : [];

  function open(layer) {
    if (closeNotice) return;
    const done = (then) => (...args) => {
      closeNotice = null;
      then(...args);
    };
    closeNotice = showNotice(config, {
      layer,
      granted: granted(),
      receiptUrl: choice && choice.receipt && api + '/api/consent/' + choice.receipt,
      closable: layer != 'info' && config.mode == 'consent' && stillValid(),
      onChoice: done((chosen, method) => (method == 'info' ? dismissInfo() : record(chosen, method))),
      onClose: done(() => {}),
    });
  }

  function dismissInfo() {
    choice = { receipt: choice && choice.receipt, policy: config.policy_version, granted: [], at: now() };
    writeCookie(choice, config.reask_days);
  }

  // Sends the choice to the server, then keeps it in the cookie, applies it
  // and announces it. When the server cannot be reached the choice still
  // holds in this browser, under the receipt it had.
  async function record(chosen, method) {
    if (closeNotice) {
      closeNotice();
      closeNotice = null;
    }
    const ids = config.categories.map((c) => c.id);
    const grantedIds = ids.filter((id) => chosen.includes(id));
    let receipt = choice ? choice.receipt : null;
    try {
      const response = await fetch(api + '/api/consent', {
        method: 'POST',
        keepalive: true,
        // text/plain: a "simple" request, no CORS preflight.
        headers: { 'Content-Type': 'text/plain' },
        body: JSON.stringify({
          site,
          receipt: receipt || undefined,
          policy_version: config.policy_version,
          banner_version: config.banner_version,
          language: config.language,
          granted: grantedIds,
          denied: ids.filter((id) => !grantedIds.includes(id)),
          method,
        }),
      });
      if (response.ok) receipt = (await response.json()).receipt;
    } catch {}
    choice = { receipt, policy: config.policy_version, granted: grantedIds, at: now() };
    writeCookie(choice, config.reask_days);
    update(grantedIds);
    announce(method);
  }

  // For tag managers: document.addEventListener('kruimel:consent', …).
  function announce(method) {
    const grantedIds = granted();
    document.dispatchEvent(
      new CustomEvent('kruimel:consent', {
        detail: {
          granted: grantedIds,
          denied: config.categories.map((c) => c.id).filter((id) => !grantedIds.includes(id)),
          method,
          receipt: choice.receipt,
          policy_version: config.policy_version,
        },
      }),
    );
  }

  const SETTINGS = '[data-kruimel-settings], a[href="#kruimel-settings"]';
  const settingsLinks = () => document.querySelectorAll(SETTINGS);

  function onSettingsLink(event) {
    const link = event.target.closest && event.target.closest(SETTINGS);
    if (!link) return;
    event.preventDefault();
    openSettings();
  }

  const openSettings = () => open(config.mode == 'info' ? 'info' : 'settings');

  // kruimel('consent') opens the settings; kruimel('consent', 'withdraw')
  // withdraws every optional category.
  return function command(action) {
    ready.then((started) => {
      if (!started) return;
      if (action == 'withdraw') {
        if (config.mode == 'consent') record([], 'withdraw');
      } else {
        openSettings();
      }
    });
  };
}

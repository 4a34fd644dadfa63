// Consent: what the visitor chose, where it is kept, and what it unlocks.
//
// The server says what to ask (GET /api/consent/notice) and keeps the proof
// (POST /api/consent, a receipt with an append-only history). The browser
// keeps one first-party technical cookie: receipt id, policy version,
// granted categories and when. Nothing optional loads before a choice.
//
// A receipt can be erased on Kruimel's side (its page, DELETE), where this
// site's cookie cannot be reached. So once per visit the script asks
// whether its receipt is still kept (GET /api/consent/<id>/status), and
// remembers the answer for the visit in sessionStorage; a receipt that is
// gone takes the cookie with it, and the notice asks again.
import { showNotice } from './notice.js';
import { blockedContent, servicesByCategory } from './blocked.js';

const COOKIE = 'kruimel_consent';
const CHECKED = 'kruimel_consent_checked';
const DAY = 86400;
// A visit ends after 30 minutes without a page view, as the statistics
// count visits.
const VISIT = 1800;
const now = () => Math.floor(Date.now() / 1000);

// "1|<receipt or ->|<policy version>|<granted ids joined by +>|<unix seconds>"
function readCookie() {
  const match = document.cookie.match(/(?:^|;\s*)kruimel_consent=([^;]*)/);
  if (!match) return null;
  const [format, receipt, policy, granted, at] = decodeURIComponent(match[1]).split('|');
  if (format != '1') return null;
  // Only a well-formed receipt id goes into a request path.
  return { receipt: /^[0-9a-f]{32}$/.test(receipt) ? receipt : null, policy, granted: granted ? granted.split('+') : [], at: +at };
}

// Without a choice: deletes the cookie.
function writeCookie(choice, days) {
  const value = choice ? ['1', choice.receipt || '-', choice.policy, choice.granted.join('+'), choice.at].join('|') : '';
  document.cookie =
    COOKIE + '=' + encodeURIComponent(value) + '; Path=/; Max-Age=' + (choice ? days * DAY : 0) + '; SameSite=Lax' +
    (location.protocol == 'https:' ? '; Secure' : '');
}

// sessionStorage "<receipt>|<unix seconds of the last page view>": this
// visit already knows that the receipt is kept. Storage may be refused;
// then every page view checks.
function checkedThisVisit(receipt) {
  try {
    const [checked, at] = (sessionStorage.getItem(CHECKED) || '').split('|');
    return checked == receipt && now() - at < VISIT;
  } catch {
    return false;
  }
}

// Marks `receipt` as checked at this page view; without one, forgets.
function markChecked(receipt) {
  try {
    if (receipt) sessionStorage.setItem(CHECKED, receipt + '|' + now());
    else sessionStorage.removeItem(CHECKED);
  } catch {}
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
  // Without the server's answer nothing optional loads: failing closed. The
  // receipt check runs beside the notice request, so it adds no wait of
  // its own.
  const ready = Promise.all([
    fetch(noticeUrl).then((response) => (response.ok ? response.json() : null)),
    receiptStatus(),
    domReady,
  ])
    .then(([notice, status]) => notice && start(notice, status))
    .catch(() => {});
  // Back to a page the browser kept (back/forward cache): it ran no script
  // since, so it checks as a new page view would.
  addEventListener('pageshow', (event) => {
    if (event.persisted && config && config.mode == 'consent') receiptStatus().then(afterCheck);
  });

  // 'kept' (or nothing to check), 'gone', or 'unknown' when the server
  // could not say: one request per visit, the first page view's.
  function receiptStatus() {
    const receipt = choice && choice.receipt;
    if (!receipt || checkedThisVisit(receipt)) return Promise.resolve('kept');
    return fetch(api + '/api/consent/' + receipt + '/status').then(
      (response) => (response.status == 204 ? 'kept' : response.status == 404 ? 'gone' : 'unknown'),
      () => 'unknown',
    );
  }

  // The check's answer for a page already started: only a changed answer
  // changes the page.
  function afterCheck(status) {
    if (status == 'kept') {
      markChecked(choice && choice.receipt);
    } else if (stillValid()) {
      if (status == 'gone') forget();
      update([]);
      if (status == 'gone') {
        announce('erased');
        open('first');
      }
    }
  }

  // The receipt was erased or expired: so is the choice it proved.
  function forget() {
    choice = null;
    writeCookie(null);
    markChecked(null);
  }

  // A stored choice counts while the policy is the same and it is younger
  // than the site's re-ask period.
  const stillValid = () =>
    choice && choice.policy == config.policy_version && now() - choice.at < config.reask_days * DAY;

  function start(notice, status) {
    config = notice;
    if (config.mode == 'none') return;
    if (status == 'gone') forget();
    // Kept: this visit need not ask again (and its last page view is now).
    if (status == 'kept') markChecked(choice && choice.receipt);
    // "Always allow" in a placeholder: the stored choice plus that category.
    update = blockedContent(config, (category) => record(granted().concat(category), 'custom'));
    document.addEventListener('click', onSettingsLink);
    for (const link of settingsLinks()) if (!link.textContent.trim()) link.textContent = config.texts.settings_link;

    if (config.mode == 'info') {
      if (!stillValid()) open('info');
    } else if (stillValid() && status == 'unknown') {
      // A stored choice whose receipt could not be checked: nothing optional
      // on this page view, and the next one checks again.
      update([]);
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
      // The visitor may erase the receipt there: the next page view checks.
      onReceiptLink: () => markChecked(null),
      services: servicesByCategory(config),
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
      if (response.ok) {
        receipt = (await response.json()).receipt;
        // Just stored: this visit need not ask about it.
        markChecked(receipt);
      }
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
          receipt: choice ? choice.receipt : null,
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

// The dashboard's entry point: one page that routes by path.
//   /dashboard, /dashboard/        the signed-in user's sites (or sign-in)
//   /dashboard/login               sign-in
//   /dashboard/<site>              a site's overview (signed in, public or ?share=)
//   /dashboard/<site>/sharing      the site's share links (its administrators)
// State lives in the URL (period, date, filter, lang, share), so every view
// is a link; moving between views keeps the page and its focus.
import { h } from './dom.js';
import { currentLanguage, texts, formatters } from './i18n.js';
import * as api from './api.js';
import { currentSession, href, navigate, takeCleanup, setRenderer } from './nav.js';
import { renderLogin } from './login.js';
import { renderSites } from './sites.js';
import { renderOverview } from './overview.js';
import { renderSharing } from './sharing.js';

const main = document.getElementById('main');
const headerTools = document.getElementById('header-tools');
const footer = document.getElementById('footer');

let generation = 0;
// The path and query of the view last rendered, to tell a fragment jump from a new view.
let rendered = null;

function languageSwitch(t) {
  const other = t.switchLanguageLang;
  // The same view in the other language: every parameter kept.
  const query = new URLSearchParams(location.search);
  query.set('lang', other);
  const link = h('a', { href: `${location.pathname}?${query}`, lang: other, hreflang: other, class: 'language', 'data-nav': '', 'data-key': 'language' }, t.switchLanguage);
  link.setAttribute('aria-label', t.switchLanguageLabel);
  return link;
}

async function renderHeader(context) {
  const { t } = context;
  const session = await currentSession();
  const items = [languageSwitch(t)];
  if (session) {
    items.unshift(
      h('span', { class: 'user' }, t.signedInAs(session.user)),
      h(
        'button',
        {
          type: 'button',
          class: 'link-button',
          'data-key': 'logout',
          async onclick() {
            try {
              await api.logout(session.csrf);
            } catch {}
            await currentSession(true);
            navigate(href('/dashboard/login', { out: '1' }));
          },
        },
        t.signOut,
      ),
    );
  }
  headerTools.replaceChildren(...items);
  document.getElementById('brand').setAttribute('href', href('/dashboard'));
  document.getElementById('brand-tagline').textContent = t.appTagline;
  document.getElementById('skip-link').textContent = t.skip;
}

async function render({ focus = null } = {}) {
  const mine = ++generation;
  rendered = location.pathname + location.search;
  for (const undo of takeCleanup()) undo();
  const lang = currentLanguage();
  document.documentElement.lang = lang;
  const t = texts(lang);
  const context = { lang, t, format: formatters(lang), isCurrent: () => mine === generation };
  const activeKey = document.activeElement && document.activeElement.dataset ? document.activeElement.dataset.key : null;
  await renderHeader(context);
  footer.replaceChildren(h('p', {}, t.footer));

  const path = location.pathname.replace(/\/+$/, '');
  const segments = path.split('/').slice(2).map(decodeURIComponent);
  let view;
  if (segments.length === 0) view = renderSites;
  else if (segments[0] === 'login') view = renderLogin;
  else if (segments[1] === 'sharing') view = renderSharing;
  else view = renderOverview;
  main.setAttribute('aria-busy', 'true');
  await view(context, main, segments[0]);
  if (!context.isCurrent()) return;
  main.removeAttribute('aria-busy');
  restoreFocus(focus === 'keep' ? activeKey : focus);
}

// Focus after a view changes: the element with the wanted data-key, else
// the view's heading (so screen readers start at the new content).
function restoreFocus(key) {
  if (!key) return;
  const target = (key !== 'heading' && document.querySelector(`[data-key="${CSS.escape(key)}"]`)) || main.querySelector('h1');
  if (target) {
    if (target.tagName === 'H1') target.setAttribute('tabindex', '-1');
    target.focus();
  }
}

// Links marked data-nav move within the page.
setRenderer(render);

document.addEventListener('click', (event) => {
  const link = event.target.closest && event.target.closest('a[data-nav]');
  if (!link || event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  event.preventDefault();
  navigate(link.getAttribute('href'), { focus: link.dataset.focus || 'keep' });
});
// Back and forward re-render; a jump within the page (the skip link, #main)
// changes only the fragment and keeps the view and the focus it moved to.
window.addEventListener('popstate', () => {
  if (location.pathname + location.search !== rendered) render({ focus: 'heading' });
});

render();

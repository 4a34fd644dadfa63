// The signed-in user's sites; without a session, the sign-in form.
import { h, fill } from './dom.js';
import { currentSession, href, navigate } from './nav.js';

export async function renderSites(context, main) {
  const { t } = context;
  const session = await currentSession();
  if (!context.isCurrent()) return;
  if (!session) {
    navigate(href('/dashboard/login'), { replace: true });
    return;
  }
  document.title = `${t.sites} – Kruimel`;
  const sites = [...session.sites].sort((a, b) => a.site.localeCompare(b.site));
  fill(main, 
    h('h1', {}, t.sites),
    sites.length
      ? [
          h('p', {}, t.sitesIntro),
          h(
            'ul',
            { class: 'site-list' },
            sites.map(({ site, role }) =>
              h(
                'li',
                {},
                h('a', { href: href(`/dashboard/${encodeURIComponent(site)}`), 'data-nav': '', 'data-focus': 'heading' }, site),
                ' ',
                h('span', { class: 'role' }, `(${t.role[role] || role})`),
              ),
            ),
          ),
        ]
      : h('p', {}, t.noSites),
  );
}

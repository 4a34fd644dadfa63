// A site's share links, for its administrators: /dashboard/<site>/sharing,
// linked from the overview. Lists the links (never their secrets), makes
// one, and revokes one after a second, explicit press.
//
// A new link's secret is in the server's answer to its POST and nowhere
// else: the server keeps only its hash. So the full link is shown once,
// with a copy button and a note saying so, and is gone when the view
// changes. Viewers get a sentence, not the form; the server refuses them
// anyway (403 forbidden).
import { h, fill, uniqueId } from './dom.js';
import * as api from './api.js';
import { currentSession, href, navigate, announce } from './nav.js';

const NAME_MAX = 100;

export async function renderSharing(context, main, site) {
  const { t } = context;
  const say = t.sharing;
  const session = await currentSession();
  if (!context.isCurrent()) return;
  if (!session) {
    navigate(href('/dashboard/login', { next: location.pathname + location.search, why: 'private' }), { replace: true });
    return;
  }
  document.title = `${say.title(site)} – Kruimel`;
  const mine = session.sites.find((entry) => entry.site === site);
  const overview = `/dashboard/${encodeURIComponent(site)}`;
  const head = h(
    'div',
    { class: 'overview-head' },
    h('h1', {}, say.title(site)),
    h(
      'p',
      { class: 'back' },
      mine ? [h('a', { href: href(overview), 'data-nav': '', 'data-focus': 'heading' }, say.backToOverview), ' · '] : null,
      h('a', { href: href('/dashboard'), 'data-nav': '', 'data-focus': 'heading' }, t.allSites),
    ),
  );
  if (!mine || mine.role !== 'admin') {
    fill(main, head, h('p', { class: 'message message-error', role: 'alert' }, mine ? say.adminsOnly : t.noAccess));
    return;
  }
  const settings = await api.siteSettings(site, session);
  if (!context.isCurrent()) return;

  const list = linkList(context, site, settings);
  fill(
    main,
    head,
    h('p', { class: 'sharing-intro' }, say.intro(settings.k)),
    settings.public ? h('p', { class: 'message message-info' }, say.publicSite) : null,
    newLinkForm(context, site, () => list.reload()),
    list.element,
  );
  await list.reload();
}

// What a refused change says, by the server's code.
function failureText(context, failure) {
  const { t } = context;
  const say = t.sharing;
  if (failure.status === 401) return say.signedOut;
  switch (failure.code) {
    case 'forbidden':
      return say.forbidden;
    case 'csrf_refused':
      // A fresh session (and token) for the next try, if there is one.
      currentSession(true);
      return say.csrf;
    case 'invalid_request':
      return say.nameInvalid;
    case 'network':
      return t.networkError;
    default:
      return t.error;
  }
}

function newLinkForm(context, site, created) {
  const { t } = context;
  const say = t.sharing;
  const error = h('p', { class: 'message message-error', id: 'share-name-error', role: 'alert', hidden: true });
  const input = h('input', {
    type: 'text',
    id: 'share-name',
    name: 'name',
    required: true,
    maxlength: String(NAME_MAX),
    autocomplete: 'off',
    'aria-describedby': 'share-name-hint',
    'data-key': 'share-name',
  });
  const submit = h('button', { type: 'submit', class: 'button-primary', 'data-key': 'share-create' }, say.create);
  const result = h('div', { class: 'share-result-holder' });

  const showError = (text, invalidName) => {
    error.textContent = text;
    error.hidden = false;
    if (invalidName) {
      input.setAttribute('aria-invalid', 'true');
      input.setAttribute('aria-describedby', 'share-name-hint share-name-error');
    }
    input.focus();
  };
  const clearError = () => {
    error.hidden = true;
    input.removeAttribute('aria-invalid');
    input.setAttribute('aria-describedby', 'share-name-hint');
  };

  const form = h(
    'form',
    {
      class: 'share-form',
      novalidate: true,
      async onsubmit(event) {
        event.preventDefault();
        clearError();
        const name = input.value.trim();
        if (!name || [...name].length > NAME_MAX) return showError(say.nameInvalid, true);
        submit.disabled = true;
        try {
          const session = await currentSession();
          if (!session) return showError(say.signedOut, false);
          const link = await api.createShareLink(site, name, session.csrf);
          if (!context.isCurrent()) return;
          input.value = '';
          fill(result, shownOnce(context, link));
          const url = result.querySelector('textarea');
          url.focus();
          url.select();
          announce(say.created(link.name));
          created();
        } catch (failure) {
          if (context.isCurrent()) showError(failureText(context, failure), failure.code === 'invalid_request');
        } finally {
          submit.disabled = false;
        }
      },
    },
    h('div', { class: 'field' }, h('label', { for: 'share-name' }, say.name), h('p', { class: 'hint', id: 'share-name-hint' }, say.nameHint), input),
    error,
    submit,
  );
  return h('section', { class: 'share-new', 'aria-labelledby': 'share-new-heading' }, h('h2', { id: 'share-new-heading' }, say.newHeading), form, result);
}

// The new link, its note and its copy button: shown this once.
function shownOnce(context, link) {
  const say = context.t.sharing;
  const full = location.origin + link.url;
  const headingId = uniqueId('share-made');
  const noteId = uniqueId('share-once');
  const urlId = uniqueId('share-url');
  const feedback = h('p', { class: 'copy-feedback', 'data-copy-feedback': '' });
  const url = h('textarea', { id: urlId, class: 'share-url', readonly: true, rows: '3', spellcheck: 'false', 'aria-describedby': noteId, 'data-share-url': '' }, full);
  return h(
    'div',
    { class: 'share-result', role: 'group', 'aria-labelledby': headingId },
    h('h3', { id: headingId }, say.createdHeading(link.name)),
    h('p', { class: 'share-once', id: noteId }, h('strong', {}, say.onceNote)),
    h('div', { class: 'field' }, h('label', { for: urlId }, say.url), url),
    h(
      'button',
      {
        type: 'button',
        'data-key': 'share-copy',
        async onclick() {
          let words = say.copied;
          try {
            await navigator.clipboard.writeText(full);
          } catch {
            url.focus();
            url.select();
            words = say.copyFailed;
          }
          feedback.textContent = words;
          announce(words);
        },
      },
      say.copy,
    ),
    feedback,
  );
}

function linkList(context, site, settings) {
  const { t, format } = context;
  const say = t.sharing;
  const heading = h('h2', { id: 'share-list-heading', tabindex: '-1' }, say.listHeading);
  const error = h('p', { class: 'message message-error', role: 'alert', hidden: true });
  const holder = h('div', { class: 'share-list-holder' }, h('p', { class: 'muted' }, t.loading));
  const when = (seconds) => format.date(new Date(seconds * 1000), { timeZone: settings.timeZone, dateStyle: 'long', timeStyle: 'short' });

  const showError = (text) => {
    error.textContent = text;
    error.hidden = false;
  };

  const show = (links) => {
    if (!links.length) return fill(holder, h('p', { 'data-share-none': '' }, say.none));
    const items = [...links].sort((a, b) => b.created - a.created || a.name.localeCompare(b.name)).map(item);
    fill(holder, h('ul', { class: 'share-links', 'aria-labelledby': 'share-list-heading' }, items));
  };

  const removed = (element, words) => {
    const rest = element.parentElement;
    element.remove();
    if (rest && !rest.children.length) fill(holder, h('p', { 'data-share-none': '' }, say.none));
    heading.focus();
    announce(words);
  };

  function item(link) {
    // Named with the link, starting with the words on the button.
    const revokeButton = h('button', { type: 'button', class: 'button-danger-outline', 'data-revoke': link.id, 'aria-label': `${say.revoke}: ${link.name}` }, say.revoke);
    const actions = h('div', { class: 'share-actions' }, revokeButton);
    const element = h(
      'li',
      { class: 'share-link', 'data-share-link': link.id },
      h('div', { class: 'share-link-text' }, h('strong', { class: 'share-link-name' }, link.name), h('p', { class: 'muted' }, say.createdBy(when(link.created), link.created_by))),
      actions,
    );
    revokeButton.addEventListener('click', () => confirmStep(link, element, actions, revokeButton));
    return element;
  }

  // The second press: a question with its own two buttons, in place of
  // the first; Escape or "Cancel" puts the first back.
  function confirmStep(link, element, actions, revokeButton) {
    error.hidden = true;
    const questionId = uniqueId('share-confirm');
    const restore = () => {
      fill(actions, revokeButton);
      revokeButton.focus();
    };
    const yes = h(
      'button',
      {
        type: 'button',
        class: 'button-danger',
        'data-confirm-revoke': link.id,
        async onclick() {
          yes.disabled = true;
          no.disabled = true;
          try {
            const session = await currentSession();
            if (!session) throw Object.assign(new Error('signed out'), { status: 401 });
            await api.revokeShareLink(site, link.id, session.csrf);
            if (context.isCurrent()) removed(element, say.revoked(link.name));
          } catch (failure) {
            if (!context.isCurrent()) return;
            if (failure.status === 404) return removed(element, say.gone);
            restore();
            showError(failureText(context, failure));
          }
        },
      },
      say.confirmRevoke,
    );
    const no = h('button', { type: 'button', onclick: restore }, say.cancel);
    fill(
      actions,
      h(
        'div',
        {
          class: 'share-confirm',
          role: 'group',
          'aria-labelledby': questionId,
          onkeydown(event) {
            if (event.key === 'Escape') restore();
          },
        },
        h('p', { id: questionId }, say.confirmQuestion(link.name)),
        h('div', { class: 'share-confirm-buttons' }, yes, no),
      ),
    );
    yes.focus();
  }

  return {
    element: h('section', { class: 'share-list', 'aria-labelledby': 'share-list-heading' }, heading, error, holder),
    async reload() {
      try {
        const links = await api.shareLinks(site);
        if (context.isCurrent()) show(links);
      } catch (failure) {
        if (!context.isCurrent()) return;
        fill(holder);
        showError(failure.code === 'forbidden' ? say.forbidden : say.loadFailed);
      }
    },
  };
}

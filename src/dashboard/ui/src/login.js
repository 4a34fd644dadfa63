// Sign-in: name and password, then the six-digit code when the account has
// a second factor. Errors are said in words, next to the form, and read out.
import { h, fill } from './dom.js';
import * as api from './api.js';
import { currentSession, href, navigate } from './nav.js';

export async function renderLogin(context, main) {
  const { t } = context;
  const params = new URLSearchParams(location.search);
  const session = await currentSession();
  if (!context.isCurrent()) return;
  if (session) {
    navigate(nextUrl(params), { replace: true });
    return;
  }
  document.title = `${t.signIn} – Kruimel`;

  const error = h('div', { class: 'message message-error', id: 'login-error', role: 'alert', hidden: true });
  const field = (name, label, attributes) => {
    const input = h('input', { id: `login-${name}`, name, ...attributes });
    return { input, row: h('div', { class: 'field' }, h('label', { for: input.id }, label), attributes.hint || null, input) };
  };
  const user = field('user', t.user, { type: 'text', autocomplete: 'username', required: true, autocapitalize: 'none', spellcheck: 'false' });
  const password = field('password', t.password, { type: 'password', autocomplete: 'current-password', required: true });
  const codeHint = h('p', { class: 'hint', id: 'login-code-hint' }, t.codeHint);
  const code = field('code', t.code, {
    type: 'text',
    inputmode: 'numeric',
    autocomplete: 'one-time-code',
    pattern: '[0-9]{6}',
    maxlength: '6',
    'aria-describedby': 'login-code-hint',
    hint: codeHint,
  });
  code.row.hidden = true;
  const submit = h('button', { type: 'submit', class: 'button-primary' }, t.signIn);

  const showError = (text, focusInput) => {
    error.textContent = text;
    error.hidden = false;
    for (const input of [user.input, password.input, code.input]) input.removeAttribute('aria-invalid');
    if (focusInput) {
      focusInput.setAttribute('aria-invalid', 'true');
      focusInput.setAttribute('aria-describedby', [focusInput === code.input ? 'login-code-hint' : null, 'login-error'].filter(Boolean).join(' '));
      focusInput.focus();
    }
  };

  const form = h(
    'form',
    {
      class: 'login-form',
      novalidate: true,
      async onsubmit(event) {
        event.preventDefault();
        if (!user.input.value || !password.input.value) return showError(t.fieldsRequired, user.input.value ? password.input : user.input);
        if (!code.row.hidden && !/^\d{6}$/.test(code.input.value.trim())) return showError(t.codeNeeded, code.input);
        submit.disabled = true;
        try {
          await api.login(user.input.value, password.input.value, code.row.hidden ? null : code.input.value.trim());
          await currentSession(true);
          navigate(nextUrl(params), { focus: 'heading' });
        } catch (failure) {
          switch (failure.code) {
            case 'second_factor_needed':
              if (code.row.hidden) {
                code.row.hidden = false;
                error.hidden = true;
                code.input.focus();
              } else {
                showError(t.codeFailed, code.input);
              }
              break;
            case 'second_factor_missing':
              showError(t.secondFactorMissing, null);
              break;
            case 'too_many_requests':
              showError(t.tooMany(Math.max(1, Math.ceil((failure.retryAfter || 60) / 60))), null);
              break;
            case 'network':
              showError(t.networkError, null);
              break;
            default:
              // With a code sent, the code is the likelier mistake.
              if (!code.row.hidden) {
                code.input.value = '';
                showError(t.codeFailed, code.input);
              } else showError(t.loginFailed, password.input);
          }
        } finally {
          submit.disabled = false;
        }
      },
    },
    user.row,
    password.row,
    code.row,
    submit,
  );

  fill(main, 
    h(
      'div',
      { class: 'narrow' },
      h('h1', {}, t.signInTitle),
      params.get('out') ? h('p', { class: 'message message-info', role: 'status' }, t.signedOut) : null,
      params.get('why') === 'private' ? h('p', { class: 'message message-info' }, t.notFoundOrPrivate) : null,
      h('p', {}, t.signInIntro),
      error,
      form,
    ),
  );
}

// Where to go after signing in: ?next= when it is a dashboard page.
function nextUrl(params) {
  const next = params.get('next');
  if (next && next.startsWith('/dashboard/') && !next.startsWith('//')) return next;
  return href('/dashboard', { out: null, next: null, why: null });
}

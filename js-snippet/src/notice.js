// The notice: a non-modal dialog with two layers.
//
//   first     title, text, "accept all" and "refuse all" (equally prominent:
//             same style, same size), and "choose" for the second layer
//   settings  one checkbox per category (necessary shown on, not editable),
//             "save", and again "accept all" and "refuse all"
//   info      for sites with nothing to consent to: text and "close"
//
// It only shows and asks; what a choice means is consent.js's business.
import { h, shadowHost, focusedElement } from './dom.js';
import css from './controls.css';
import noticeCss from './notice.css';

// config: the server's notice document; layer: 'first' | 'settings' | 'info'
// granted: the categories to show checked; receiptUrl: link to the stored
// choices, if there are any; closable: a choice exists, so the visitor may
// leave without choosing again.
// onChoice(granted, method) or onClose() is called once the dialog is gone.
// Returns a function that removes the dialog, for a choice made elsewhere
// (a placeholder's "always allow") while it is open.
export function showNotice(config, { layer, granted, receiptUrl, closable, onChoice, onClose }) {
  const texts = config.texts;
  const categoryIds = config.categories.map((category) => category.id);
  // Where focus goes back to when the notice closes.
  const returnFocus = focusedElement();
  const { host, root } = shadowHost('kruimel-notice', css + noticeCss);
  const dialog = h('div', {
    class: 'notice',
    role: 'dialog',
    'aria-labelledby': 'title',
    'aria-describedby': 'intro',
    lang: config.language,
    tabindex: '-1',
    onkeydown: (event) => {
      if (event.key == 'Escape' && closable) finish(onClose);
    },
  });
  root.append(dialog);

  function finish(then, ...args) {
    host.remove();
    if (returnFocus && returnFocus.isConnected && returnFocus !== document.body) returnFocus.focus();
    then(...args);
  }

  const button = (text, style, onclick) => h('button', { type: 'button', class: style, onclick }, text);
  const acceptAll = () => button(texts.accept_all, 'primary choice', () => finish(onChoice, categoryIds, 'accept_all'));
  const rejectAll = () => button(texts.reject_all, 'primary choice', () => finish(onChoice, [], 'reject_all'));

  function checkbox(id, label, description, checked, disabled) {
    return h(
      'div',
      { class: 'category' },
      h('input', { type: 'checkbox', id: 'c-' + id, value: id, checked, disabled, 'aria-describedby': 'd-' + id }),
      h('label', { for: 'c-' + id }, label, disabled && h('span', { class: 'tag' }, ' (' + texts.always_on + ')')),
      h('p', { id: 'd-' + id }, description),
    );
  }

  function render(layer) {
    let buttons;
    let settings = null;
    if (layer == 'info') {
      buttons = [button(texts.close, 'primary', () => finish(onChoice, [], 'info'))];
    } else if (layer == 'first') {
      buttons = [acceptAll(), rejectAll(), button(texts.settings, 'secondary', () => render('settings'))];
    } else {
      settings = h(
        'fieldset',
        {},
        h('legend', {}, texts.dialog_label),
        checkbox('necessary', texts.necessary_label, texts.necessary_description, true, true),
        ...config.categories.map((category) =>
          checkbox(category.id, category.label, category.description, granted.includes(category.id), false),
        ),
      );
      const save = () => {
        const checked = [...settings.querySelectorAll('input:checked:not(:disabled)')].map((input) => input.value);
        finish(onChoice, checked, 'custom');
      };
      buttons = [button(texts.save, 'primary', save), acceptAll(), rejectAll()];
    }
    if (closable && layer != 'info') buttons.push(button(texts.close, 'secondary', () => finish(onClose)));

    const links = [];
    if (config.privacy_url) links.push(h('a', { href: config.privacy_url }, texts.privacy_link));
    if (receiptUrl) links.push(h('a', { href: receiptUrl }, texts.receipt_link));

    dialog.replaceChildren(
      ...[
        h('h2', { id: 'title' }, texts.title),
        h('p', { id: 'intro' }, layer == 'info' ? texts.info_intro : texts.intro),
        settings,
        h('div', { class: 'buttons' }, ...buttons),
        links.length && h('p', { class: 'links' }, ...links),
      ].filter(Boolean),
    );
    // Into the dialog, also when "choose" replaced the button that had it.
    dialog.focus();
  }

  // First in the document, so that it also comes first for screen readers
  // and for Tab, wherever the card is drawn.
  document.body.prepend(host);
  render(layer);
  return () => host.remove();
}

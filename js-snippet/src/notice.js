// The notice: a non-modal dialog with two layers.
//
//   first     title, text, one short line per category (naming the services
//             on this page that wait for it), "accept all" and "refuse all"
//             (equally prominent: same style, same size at every width), and
//             "choose" for the second layer
//   settings  one checkbox per category (necessary shown on, not editable),
//             "save", and again "accept all" and "refuse all"
//   info      for sites with nothing to consent to: text and "close"
//
// It only shows and asks; what a choice means is consent.js's business.
import { h, shadowHost, focusedElement } from './dom.js';
import { keepFocusInSight } from './unobscured.js';
import css from './controls.css';
import noticeCss from './notice.css';

// config: the server's notice document; layer: 'first' | 'settings' | 'info'
// granted: the categories to show checked; receiptUrl: link to the stored
// choices, if there are any, and onReceiptLink() called when it is
// followed; services: category id → names of services on this page;
// closable: a choice exists, so the visitor may leave without choosing again.
// onChoice(granted, method) or onClose() is called once the dialog is gone.
// Returns a function that removes the dialog, for a choice made elsewhere
// (a placeholder's "always allow") while it is open.
export function showNotice(config, { layer, granted, receiptUrl, onReceiptLink, services, closable, onChoice, onClose }) {
  const texts = config.texts;
  const categoryIds = config.categories.map((category) => category.id);
  // Where focus goes back to when the notice closes.
  const returnFocus = focusedElement();
  const { host, root } = shadowHost('kruimel-notice', css + noticeCss);
  const dialog = h('div', {
    class: 'notice',
    role: 'dialog',
    'aria-labelledby': 'title',
    lang: config.language,
    tabindex: '-1',
    onkeydown: (event) => {
      if (event.key == 'Escape' && closable) finish(onClose);
    },
  });
  root.append(dialog);

  function remove() {
    releasePage();
    host.remove();
  }

  function finish(then, ...args) {
    remove();
    if (returnFocus && returnFocus.isConnected && returnFocus !== document.body) returnFocus.focus();
    then(...args);
  }

  const button = (text, style, onclick) => h('button', { type: 'button', class: style, onclick }, text);
  // Accept and refuse: one style; notice.css gives every button one size.
  const acceptAll = () => button(texts.accept_all, 'primary', () => finish(onChoice, categoryIds, 'accept_all'));
  const rejectAll = () => button(texts.reject_all, 'primary', () => finish(onChoice, [], 'reject_all'));

  // "YouTube en Vimeo": names joined as the language joins them.
  const joined = (names) =>
    typeof Intl == 'object' && Intl.ListFormat
      ? new Intl.ListFormat(config.language, { type: 'conjunction' }).format(names)
      : names.join(', ');

  // What consent is asked for, one line per category.
  const purposes = () =>
    h(
      'ul',
      { id: 'purposes', class: 'purposes' },
      ...config.categories.map((category) => {
        const names = services[category.id];
        const onThisPage = names ? ' ' + texts.on_this_page.replace('{services}', joined(names)) : '';
        return h('li', {}, h('strong', {}, category.label), ': ' + category.summary + onThisPage);
      }),
    );

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
    let list = null;
    if (layer == 'info') {
      buttons = [button(texts.close, 'primary', () => finish(onChoice, [], 'info'))];
    } else if (layer == 'first') {
      list = purposes();
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
    if (receiptUrl) {
      links.push(h('a', { href: receiptUrl, onclick: onReceiptLink, onauxclick: onReceiptLink }, texts.receipt_link));
    }

    const asks = layer != 'info';
    dialog.setAttribute('aria-describedby', asks ? (list ? 'intro purposes note' : 'intro note') : 'intro');
    dialog.replaceChildren(
      ...[
        h('h2', { id: 'title' }, texts.title),
        h('p', { id: 'intro' }, asks ? texts.intro : texts.info_intro),
        list,
        settings,
        asks && h('p', { id: 'note' }, texts.change_note),
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
  const releasePage = keepFocusInSight(host, dialog);
  render(layer);
  return remove;
}

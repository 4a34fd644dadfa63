// Content that waits for consent: elements marked
//
//   <iframe data-kruimel-consent="media" data-src="https://…" title="…">
//   <script type="text/plain" data-kruimel-consent="media" data-src="…">
//   <script type="text/plain" data-kruimel-consent="media">inline code</script>
//
// have no src, so the browser loads nothing until a category is granted. A
// blocked iframe is hidden behind a placeholder that says what would load
// from where, and offers to load it once or always.
import { h, shadowHost } from './dom.js';
import css from './controls.css';
import placeholderCss from './placeholder.css';

const SELECTOR = 'iframe[data-kruimel-consent], script[data-kruimel-consent]';

// Services people know by name, from the host (and path) of what would load.
const KNOWN_SERVICES = [
  [/(^|\.)(youtube(-nocookie)?\.com|youtu\.be)$/, '', 'YouTube'],
  [/(^|\.)vimeo\.com$/, '', 'Vimeo'],
  [/(^|\.)google\.[a-z.]+$/, '/maps', 'Google Maps'],
];

// The service a marked element would load: its data-kruimel-service, a
// known name for its host, or the host itself. Null for inline scripts.
function serviceOf(element) {
  const named = element.getAttribute('data-kruimel-service');
  if (named) return named;
  const source = element.getAttribute('data-src');
  let url;
  try {
    url = source && new URL(source, location.href);
  } catch {}
  if (!url) return null;
  const host = url.hostname.replace(/^www\./, '');
  const known = KNOWN_SERVICES.find(([hosts, path]) => hosts.test(host) && url.pathname.startsWith(path));
  return known ? known[2] : host;
}

// Category id → the names of the services on this page that wait for it,
// for the notice's first layer.
export function servicesByCategory(config) {
  const services = {};
  for (const element of document.querySelectorAll(SELECTOR)) {
    const category = element.getAttribute('data-kruimel-consent');
    const service = serviceOf(element);
    if (!service || !config.categories.some((c) => c.id == category)) continue;
    services[category] = services[category] || [];
    if (!services[category].includes(service)) services[category].push(service);
  }
  return services;
}

// onAlways(category): the visitor chose "always allow" in a placeholder.
export function blockedContent(config, onAlways) {
  const texts = config.texts;
  const placeholders = new Map(); // iframe → its placeholder host
  const loaded = new WeakSet(); // iframes given their src, scripts run

  const categoryOf = (element) => element.getAttribute('data-kruimel-consent');
  const labelOf = (category) => (config.categories.find((c) => c.id == category) || { label: category }).label;

  function loadFrame(frame) {
    const placeholder = placeholders.get(frame);
    const hadFocus = placeholder && placeholder.shadowRoot.activeElement;
    if (!loaded.has(frame)) {
      loaded.add(frame);
      frame.src = frame.getAttribute('data-src');
    }
    frame.hidden = false;
    if (placeholder) {
      placeholder.remove();
      placeholders.delete(frame);
    }
    // The button that was pressed is gone; the content it loaded is next.
    if (hadFocus) frame.focus();
  }

  function blockFrame(frame) {
    if (loaded.has(frame)) {
      // Consent withdrawn after the frame loaded: a copy without src
      // replaces it, which unloads the other site's page.
      const fresh = frame.cloneNode(false);
      fresh.removeAttribute('src');
      frame.replaceWith(fresh);
      frame = fresh;
    }
    if (placeholders.has(frame)) return;
    frame.hidden = true;
    const placeholder = makePlaceholder(frame);
    placeholders.set(frame, placeholder);
    frame.before(placeholder);
  }

  function makePlaceholder(frame) {
    const category = categoryOf(frame);
    const source = frame.getAttribute('data-src') || '';
    let sourceHost = source;
    try {
      sourceHost = new URL(source, location.href).hostname;
    } catch {}
    const { host, root } = shadowHost('kruimel-placeholder', css + placeholderCss);
    // The iframe's size, so the page does not jump when it loads.
    const size = (value) => (/^\d+$/.test(value) ? value + 'px' : value);
    if (frame.getAttribute('width')) host.style.width = size(frame.getAttribute('width'));
    if (frame.getAttribute('height')) host.style.minHeight = size(frame.getAttribute('height'));
    const title = frame.getAttribute('title');
    root.append(
      h(
        'div',
        { class: 'placeholder', lang: config.language },
        title && h('p', { class: 'title' }, title),
        h('p', { id: 'text' }, texts.placeholder.replace('{host}', sourceHost).replace('{label}', labelOf(category))),
        h(
          'div',
          { class: 'buttons' },
          // Described by the text, so that "load once" says what it loads
          // when several placeholders are on one page.
          h('button', { type: 'button', class: 'secondary', 'aria-describedby': 'text', onclick: () => loadFrame(frame) }, texts.load_once),
          h('button', { type: 'button', class: 'primary', 'aria-describedby': 'text', onclick: () => onAlways(category) }, texts.load_always),
        ),
      ),
    );
    return host;
  }

  function runScript(blocked) {
    if (loaded.has(blocked)) return;
    loaded.add(blocked);
    const script = document.createElement('script');
    for (const { name, value } of blocked.attributes) {
      if (!/^(type|data-src|data-kruimel-consent)$/.test(name)) script.setAttribute(name, value);
    }
    // data-type restores a type such as "module".
    if (blocked.dataset.type) script.type = blocked.dataset.type;
    if (blocked.dataset.src) script.src = blocked.dataset.src;
    else script.text = blocked.text;
    blocked.after(script);
  }

  // Brings every marked element in line with the granted categories. A script
  // that ran cannot be undone; the page's next load will not run it.
  return function update(granted) {
    for (const element of document.querySelectorAll(SELECTOR)) {
      const category = categoryOf(element);
      const allowed = category == 'necessary' || granted.includes(category);
      if (element.tagName == 'SCRIPT') {
        if (allowed) runScript(element);
      } else if (allowed) {
        loadFrame(element);
      } else {
        blockFrame(element);
      }
    }
  };
}

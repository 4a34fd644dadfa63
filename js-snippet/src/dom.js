// Building the notice and the placeholders.
//
// Elements are made with createElement, never from HTML strings: the texts
// come from the server and must never be parsed as markup. Each widget lives
// in its own shadow root, so a site's CSS (button { … }) cannot break it,
// while CSS custom properties, which do cross into shadow roots, theme it.

export function h(tag, attributes, ...children) {
  const element = document.createElement(tag);
  for (const name in attributes) {
    const value = attributes[name];
    if (value == null || value === false) continue;
    if (name.startsWith('on')) element.addEventListener(name.slice(2), value);
    else element.setAttribute(name, value === true ? '' : value);
  }
  element.append(...children.filter((child) => child != null && child !== false));
  return element;
}

const sheets = new Map();

// A custom element name for the host: sites rarely style those, and only
// such names (or a few HTML elements) may carry a shadow root.
export function shadowHost(tag, css) {
  const host = document.createElement(tag);
  const root = host.attachShadow({ mode: 'open' });
  // A constructed style sheet is not inline style, so it also works on sites
  // whose Content-Security-Policy forbids 'unsafe-inline' styles.
  if ('adoptedStyleSheets' in root) {
    if (!sheets.has(css)) {
      const sheet = new CSSStyleSheet();
      sheet.replaceSync(css);
      sheets.set(css, sheet);
    }
    root.adoptedStyleSheets = [sheets.get(css)];
  } else {
    root.append(h('style', {}, css));
  }
  return { host, root };
}

// The focused element, looking inside shadow roots (ours included).
export function focusedElement() {
  let element = document.activeElement;
  while (element && element.shadowRoot && element.shadowRoot.activeElement) {
    element = element.shadowRoot.activeElement;
  }
  return element;
}

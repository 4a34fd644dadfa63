// A small element builder: h('a', { href, class: 'x', onclick }, 'text', child).
// Attributes whose value is null, undefined or false are left out; `on*`
// functions become listeners. Never sets HTML from strings, so a page path
// or a referrer host is always text.
export function h(tag, attributes = {}, ...children) {
  const element = tag.startsWith('svg:')
    ? document.createElementNS('http://www.w3.org/2000/svg', tag.slice(4))
    : document.createElement(tag);
  for (const [name, value] of Object.entries(attributes || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith('on') && typeof value === 'function') {
      element.addEventListener(name.slice(2), value);
    } else {
      element.setAttribute(name, value === true ? '' : String(value));
    }
  }
  append(element, children);
  return element;
}

// SVG elements: s('rect', { x: 0 }).
export const s = (tag, attributes, ...children) => h(`svg:${tag}`, attributes, ...children);

function append(element, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : String(child));
  }
}

// Text for screen readers only.
export const hidden = (text) => h('span', { class: 'visually-hidden' }, text);

let ids = 0;
export const uniqueId = (prefix) => `${prefix}-${++ids}`;

// Replaces an element's children (arrays flattened, null left out).
export function fill(element, ...children) {
  element.replaceChildren();
  append(element, children);
  return element;
}

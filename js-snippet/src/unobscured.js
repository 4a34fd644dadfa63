// Focus not obscured (WCAG 2.2 SC 2.4.11). The notice is a card over the
// bottom of the window, not a modal: the page stays usable, so a link the
// visitor tabs to may lie behind the card. While the card is shown
//
//   - the page's scroll-padding-bottom grows by the card's height, so what
//     the browser scrolls into view (focus, anchors, find in page) stops
//     above the card;
//   - its padding-bottom grows by the same, so that even the page's last
//     line can be scrolled above the card;
//   - after each focus change in the page, what is still under the card is
//     scrolled up (for browsers that ignore scroll-padding when focusing).
//
// Both styles are set on <html> through the CSSOM, which a
// Content-Security-Policy without 'unsafe-inline' allows, added to what
// the site's own CSS gives, and put back when the card goes.
import { focusedElement } from './dom.js';

// Room between the card and a focused control, for its focus ring.
const GAP = 8;

// host: the notice's shadow host; card: the element drawn over the page.
// Returns the function that undoes it all.
export function keepFocusInSight(host, card) {
  const page = document.documentElement;
  const inline = [page.style.scrollPaddingBottom, page.style.paddingBottom];
  const computed = getComputedStyle(page);
  const own = (value) => parseFloat(value) || 0; // 'auto' is none
  const ownScrollPadding = own(computed.scrollPaddingBottom);
  const ownPadding = own(computed.paddingBottom);

  // The window's bottom band the card takes. At 400% zoom that can be all
  // of it; scroll-padding leaves room for one line then, since a snapport
  // of nothing would scroll nowhere.
  const covered = () => Math.max(0, innerHeight - card.getBoundingClientRect().top) + GAP;
  function reserve() {
    const height = covered();
    page.style.scrollPaddingBottom = ownScrollPadding + Math.min(height, innerHeight - 48) + 'px';
    page.style.paddingBottom = ownPadding + height + 'px';
  }
  reserve();
  const resized = typeof ResizeObserver == 'function' && new ResizeObserver(reserve);
  if (resized) resized.observe(card);
  addEventListener('resize', reserve);

  function onFocus(event) {
    if (event.target === host) return;
    // After the browser's own scrolling for the focus change.
    requestAnimationFrame(() => {
      const focused = focusedElement();
      if (!focused || focused === document.body || !host.isConnected) return;
      const box = focused.getBoundingClientRect();
      const cardTop = card.getBoundingClientRect().top - GAP;
      if (box.bottom > cardTop && box.top < innerHeight) scrollBy(0, Math.min(box.bottom - cardTop, box.top));
    });
  }
  document.addEventListener('focusin', onFocus);

  return () => {
    if (resized) resized.disconnect();
    removeEventListener('resize', reserve);
    document.removeEventListener('focusin', onFocus);
    [page.style.scrollPaddingBottom, page.style.paddingBottom] = inline;
  };
}

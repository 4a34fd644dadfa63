// The script's own <script> tag carries the page's options as data-*
// attributes. Both the tracker and the consent notice read them here.

export function findScript() {
  // document.currentScript is set while a classic (also deferred) script
  // runs; the fallback covers loaders that evaluate the file some other way.
  // The whole script or the tracker-only build (/js/kruimel-tracker.js).
  return document.currentScript || document.querySelector('script[src*="/js/kruimel"]');
}

export function scriptOptions(script) {
  const attr = (name) => (script ? script.getAttribute('data-' + name) : null);
  return {
    attr,
    has: (name) => attr(name) !== null,
    // The server that served the script also takes its beacons and choices.
    api: attr('api') || (script && script.src ? new URL(script.src).origin : ''),
    // data-domain is Plausible's name for the same thing; accepting it lets a
    // site switch by changing only the src.
    site: attr('site') || attr('domain') || location.hostname,
  };
}

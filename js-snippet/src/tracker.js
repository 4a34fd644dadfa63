// The tracker: cookieless page-view and event beacons in the Plausible wire
// format. It writes no cookie and no storage, so it needs no consent; the
// server turns each beacon into counts and forgets it.
//
// Kept apart from the notice and held to 1,200 bytes gzipped (build.mjs
// checks it; 1 KB until engagement reports came), so every byte here pays
// for itself.

const DOWNLOADS = 'pdf,doc,docx,xls,xlsx,odt,ods,csv,zip';

export function startTracker({ api, site, attr, has }, commands) {
  const hashRouting = has('hash');
  const downloads = (DOWNLOADS + ',' + (attr('downloads') || '')).toLowerCase().split(',');
  // Development copies of a site should not count as visits. A file: page
  // has an empty hostname, which the pattern matches too.
  const ignored = !has('local') && /^(localhost|127\.0\.0\.1|\[::1\]|)$/.test(location.hostname);

  function send(name, props, url, extra) {
    // Global Privacy Control asks for no tracking; the server honours the
    // header too, but sending nothing at all is the stronger answer.
    if (ignored || navigator.globalPrivacyControl === true) return;
    const body = Object.assign({ n: name, u: url || location.href, d: site, r: document.referrer || null, w: innerWidth }, extra);
    if (props) body.p = props;
    if (hashRouting) body.h = 1;
    // text/plain keeps this a "simple" request: no CORS preflight, and
    // keepalive lets it finish while the browser follows a clicked link.
    fetch(api + '/api/event', {
      method: 'POST',
      keepalive: true,
      headers: { 'Content-Type': 'text/plain' },
      body: JSON.stringify(body),
    }).catch(() => {});
  }

  // Engagement, as Plausible's tracker reports it: how far down the page
  // was seen (sd, percent of its height) and how long it was visible (e, ms
  // since the page was shown or last reported), sent when the page is hidden
  // or left. Not a pageview or an event, so it ends no bounce.
  let viewed, deepest, since;
  const seen = () => (deepest = Math.max(deepest, scrollY + innerHeight));
  function report() {
    if (viewed) send('engagement', 0, viewed, { sd: Math.min(100, Math.round((seen() * 100) / document.documentElement.scrollHeight)), e: since && Date.now() - since });
    since = 0;
  }
  addEventListener('scroll', seen);
  document.addEventListener('visibilitychange', () => (document.hidden ? report() : (since = Date.now())));
  function pageview(url) {
    report();
    send('pageview', 0, url);
    viewed = url || location.href;
    deepest = 0;
    since = Date.now();
  }

  // Automatic pageviews: once on load, then whenever a single-page app moves
  // to another path (or fragment, with hash routing). Re-renders on the same
  // path, and replaceState, which apps use to tidy the address, are not visits.
  let lastPage;
  function autoPageview() {
    const page = location.pathname + (hashRouting ? location.hash : '');
    if (page !== lastPage) {
      lastPage = page;
      pageview();
    }
  }

  function onClick(event) {
    // auxclick with the middle button (1) opens the link in a new tab;
    // the right button (2) only opens a menu.
    const link = event.button < 2 && event.target.closest && event.target.closest('a[href]');
    // Only web links: mailto:, tel: and javascript: are not visits elsewhere.
    if (!link || !/^https?:$/.test(link.protocol)) return;
    const extension = /\.([^./]+)$/.exec(link.pathname);
    if (extension && downloads.includes(extension[1].toLowerCase())) {
      // Without query and fragment, which can carry personal data.
      send('File Download', { url: link.origin + link.pathname });
    } else if (link.host != location.host) {
      // The target's host name: where visitors go, not what they went for.
      send('Outbound Link: Click', { url: link.hostname });
    }
  }

  const notFound = () => send('404', { path: location.pathname });

  if (!has('manual')) {
    const pushState = history.pushState;
    history.pushState = function () {
      pushState.apply(this, arguments);
      autoPageview();
    };
    addEventListener('popstate', autoPageview);
    if (hashRouting) addEventListener('hashchange', autoPageview);
    autoPageview();
  }
  if (has('404')) notFound();
  addEventListener('click', onClick);
  addEventListener('auxclick', onClick);

  // window.kruimel(command, ...). A name that is no command is taken the way
  // Plausible's plausible(name, {props}) takes it, which eases migration.
  function run(command, a, b) {
    if (command == 'pageview') pageview(a && a.url);
    else if (command == 'event') send(a, b);
    else if (command == '404') notFound();
    else if (commands && commands[command]) commands[command](a, b);
    else send(command, a && a.props);
  }
  // Calls made before the script loaded wait in kruimel.q (see the queue
  // stub in the README); they run after the first pageview, in order.
  const queued = (window.kruimel && window.kruimel.q) || [];
  window.kruimel = run;
  for (const args of queued) run.apply(null, args);
}

// What the browser tests stand on: the real kruimel binary on free ports,
// a small server for the test pages, and Debian's Chromium.
//
// The page is served at http://www.gemeente.test:<port>/ and the script and
// API at http://stats.gemeente.test:<port>/: Chromium maps every *.test name
// to 127.0.0.1, so the browser sees a site and a statistics server on two
// hosts, as on a municipality's website.
import { execFileSync } from 'node:child_process';
import { createServer } from 'node:http';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { USER_AGENT, eventually, freePort, kruimelBinary, launchChromium, serveKruimel } from '../../tests/browser/harness.mjs';

export { USER_AGENT, eventually };

const here = dirname(fileURLToPath(import.meta.url));
export const SITE = 'gemeente.test';
export const POLICY = '2026-1';
const TOKEN = 'browser-test-token';

// Starts `kruimel serve` with its whole configuration in the environment.
export async function startKruimel({ consent = `{ policy_version = "${POLICY}", categories = ["media"], privacy_url = "http://www.gemeente.test/privacy" }` } = {}) {
  const bin = kruimelBinary(join(here, '..'));
  const tokenHash = execFileSync(bin, ['hash-token', TOKEN]).toString().trim();
  const { env, port, dataDir, local, stop } = await serveKruimel({
    bin,
    settings: {
      KRUIMEL_SITES: `[{ id = "${SITE}", hostnames = ["www.${SITE}"], tokens = ["${tokenHash}"], consent = ${consent} }]`,
    },
    embedded: ['kruimel.js', 'kruimel-tracker.js'].map((file) => [`/js/${file}`, join(here, '..', 'dist', file)]),
  });
  // The configuration is all in the environment; the file only names it.
  const configFile = join(dataDir, 'kruimel.toml');
  writeFileSync(configFile, '');
  const origin = `http://stats.${SITE}:${port}`;
  const stats = async (path) => {
    const response = await fetch(local + path, { headers: { Authorization: `Bearer ${TOKEN}` } });
    if (!response.ok) throw new Error(`${path}: ${response.status} ${await response.text()}`);
    return response.json();
  };
  return {
    port,
    // As the browser reaches it.
    origin,
    // The tag a site embeds, as `kruimel snippet` prints it: pinned version
    // and Subresource Integrity hash.
    snippet: execFileSync(bin, ['snippet', '--site', SITE, '--origin', origin]).toString().trim(),
    // The tag `kruimel snippet --config` prints: the build chosen from the
    // site's configuration (the tracker alone for a site without a notice).
    configuredSnippet: () => execFileSync(bin, ['snippet', '--site', SITE, '--origin', origin, '--config', configFile], { env }).toString().trim(),
    local,
    async aggregate() {
      const { results } = await stats(`/api/v1/stats/aggregate?site_id=${SITE}&period=day&metrics=pageviews,events`);
      return { pageviews: results.pageviews.value, events: results.events.value };
    },
    // property → { value: count } for the metric asked.
    async breakdown(property, metric) {
      const { results } = await stats(
        `/api/v1/stats/breakdown?site_id=${SITE}&period=day&metrics=${metric}&property=${encodeURIComponent(property)}`,
      );
      const field = property.startsWith('event:props:') ? property.slice('event:props:'.length) : property.split(':')[1];
      return Object.fromEntries(results.map((row) => [row[field], row[metric]]));
    },
    async receipt(id) {
      const response = await fetch(`${local}/api/consent/${id}`);
      if (!response.ok) throw new Error(`GET /api/consent/${id}: ${response.status}`);
      return response.json();
    },
    stop,
  };
}

// Serves test/pages/<name>.html for /<name> (the first path segment, so
// /spa/b is the single-page app; / and /p/… are index.html), filling in
// {{SNIPPET}} (the script tag from `kruimel snippet`), {{STATS}} (the
// server's origin as the browser sees it), {{MEDIA}} (another site's
// origin, for embeds), {{PAGEPORT}}, {{LANG}} (?lang=) and {{ATTRS}} (?attrs=,
// extra attributes for the script tag). Every request is remembered, so a
// test can show that blocked content was not fetched.
export async function startPages(kruimel) {
  const port = await freePort();
  const requests = [];
  const server = createServer((request, response) => {
    const url = new URL(request.url, `http://${request.headers.host}`);
    requests.push(url.host + url.pathname);
    if (url.pathname.startsWith('/files/')) {
      response.writeHead(200, { 'Content-Type': 'application/pdf', 'Content-Disposition': 'attachment' });
      response.end('%PDF-1.4\n');
      return;
    }
    // /p/<anything> is the ordinary page, under a path of the test's own.
    const segment = url.pathname.split('/')[1];
    const name = !segment || segment == 'p' ? 'index' : segment;
    const file = join(here, 'pages', `${name}.html`);
    if (!/^[a-z0-9-]+$/.test(name) || !existsSync(file)) {
      response.writeHead(404, { 'Content-Type': 'text/plain' });
      response.end('not found');
      return;
    }
    const lang = /^[a-z]{2}$/.test(url.searchParams.get('lang')) ? url.searchParams.get('lang') : 'nl';
    const attrs = url.searchParams.get('attrs') || '';
    if (!/^[a-z0-9 ="-]*$/.test(attrs)) throw new Error(`attrs ${attrs}`);
    const html = readFileSync(file, 'utf8')
      .replaceAll('{{SNIPPET}}', kruimel.snippet.replace('></script>', ` ${attrs}></script>`))
      .replaceAll('{{STATS}}', kruimel.origin)
      .replaceAll('{{MEDIA}}', `http://media.${SITE}:${port}`)
      .replaceAll('{{PAGEPORT}}', String(port))
      .replaceAll('{{LANG}}', lang)
      .replaceAll('{{ATTRS}}', attrs);
    response.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    response.end(html);
  });
  await new Promise((done) => server.listen(port, '127.0.0.1', done));
  return {
    port,
    url: (path = '/') => `http://www.${SITE}:${port}${path}`,
    requests,
    stop: () => new Promise((done) => server.close(done)),
  };
}

// Chromium resolves every *.test name to this machine.
export function launchBrowser() {
  return launchChromium(chromium, ['--host-resolver-rules=MAP *.test 127.0.0.1']);
}

// A fresh visitor: no cookies, a normal desktop browser.
export async function newVisitor(browser, options = {}) {
  const context = await browser.newContext({
    userAgent: USER_AGENT,
    viewport: { width: 1280, height: 800 },
    ...options,
  });
  // Every beacon the page sends, parsed: pageviews and events, and apart
  // from them the engagement reports sent as a page is hidden or left.
  const beacons = [];
  const engagements = [];
  context.on('request', (request) => {
    if (!request.url().endsWith('/api/event')) return;
    const beacon = JSON.parse(request.postData());
    (beacon.n == 'engagement' ? engagements : beacons).push(beacon);
  });
  return { context, beacons, engagements };
}

// The kruimel_consent cookie, decoded into its fields.
export async function consentCookie(context) {
  const cookie = (await context.cookies()).find((c) => c.name == 'kruimel_consent');
  if (!cookie) return null;
  const [format, receipt, policy, granted, at] = decodeURIComponent(cookie.value).split('|');
  return { format, receipt, policy, granted: granted ? granted.split('+') : [], at: +at, cookie };
}

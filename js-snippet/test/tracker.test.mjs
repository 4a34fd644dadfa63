// The tracker in a real browser against the real server: each test does
// what a visitor does, then reads the counts back through the stats API.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startKruimel, startPages, launchBrowser, newVisitor, eventually } from './harness.mjs';

let kruimel;
let pages;
let browser;

before(async () => {
  kruimel = await startKruimel();
  pages = await startPages(kruimel);
  browser = await launchBrowser();
});

after(async () => {
  if (browser) await browser.close();
  if (pages) await pages.stop();
  if (kruimel) await kruimel.stop();
});

// Waits until the stats API shows `expected` (a subset of the breakdown).
async function counted(property, metric, expected) {
  let seen;
  await eventually(`${property} ${JSON.stringify(expected)}`, async () => {
    seen = await kruimel.breakdown(property, metric);
    return Object.entries(expected).every(([value, count]) => seen[value] === count);
  }).catch((error) => {
    throw new Error(`${error.message}\nbreakdown: ${JSON.stringify(seen)}`);
  });
  return seen;
}

test('a page view is sent as a text/plain beacon and counted', async () => {
  const { context, beacons } = await newVisitor(browser);
  const page = await context.newPage();
  const request = page.waitForRequest((r) => r.url().endsWith('/api/event'));
  await page.goto(pages.url('/p/bezoek'));
  const sent = await request;
  // A "simple" request: no preflight, and no cookie of the page's own.
  assert.equal(sent.headers()['content-type'], 'text/plain');
  assert.deepEqual(beacons[0], { n: 'pageview', u: pages.url('/p/bezoek'), d: 'gemeente.test', r: null, w: 1280 });
  await counted('event:page', 'pageviews', { '/p/bezoek': 1 });
  const totals = await kruimel.aggregate();
  assert.ok(totals.pageviews >= 1, JSON.stringify(totals));
  await context.close();
});

test('single-page navigation with pushState and the back button is counted, replaceState is not', async () => {
  const { context, beacons } = await newVisitor(browser);
  const page = await context.newPage();
  await page.goto(pages.url('/spa/start'));
  await eventually('first pageview', () => beacons.length == 1);
  await page.click('#next'); // pushState to /spa/stap-2
  await page.click('#same'); // pushState, same path with a query: the same view
  await page.click('#tidy'); // replaceState: tidying the address
  await page.goBack(); // popstate to /spa/stap-2: the path of the last pageview
  await page.goBack(); // popstate to /spa/start
  await eventually('three pageviews', () => beacons.length == 3);
  assert.deepEqual(
    beacons.map((b) => new URL(b.u).pathname),
    ['/spa/start', '/spa/stap-2', '/spa/start'],
  );
  const seen = await counted('event:page', 'pageviews', { '/spa/start': 2, '/spa/stap-2': 1 });
  assert.equal(seen['/spa/netjes'], undefined);
  await context.close();
});

test('leaving a page reports how far down it was seen and how long, and the server counts it per page', async () => {
  const { context, beacons, engagements } = await newVisitor(browser);
  const page = await context.newPage();
  await page.goto(pages.url('/long'));
  await eventually('the pageview', () => beacons.length == 1);
  // Half way down the long page, then back up: the deepest point counts.
  const sd = await page.evaluate(async () => {
    const root = document.documentElement;
    scrollTo(0, (root.scrollHeight - innerHeight) / 2);
    await new Promise((done) => requestAnimationFrame(() => setTimeout(done, 50)));
    const deepest = Math.round(((scrollY + innerHeight) * 100) / root.scrollHeight);
    scrollTo(0, 0);
    return deepest;
  });
  assert.ok(sd > 10 && sd < 100, `half way is ${sd}%`);
  await page.waitForTimeout(1_200);
  // Single-page navigation leaves /long: its report goes first.
  await page.evaluate(() => history.pushState(null, '', '/p/verder'));
  await eventually('the report and the next pageview', () => engagements.length == 1 && beacons.length == 2);
  const [report] = engagements;
  assert.deepEqual(Object.keys(report), ['n', 'u', 'd', 'r', 'w', 'sd', 'e']);
  assert.equal(report.u, pages.url('/long'));
  assert.equal(report.sd, sd);
  assert.ok(report.e >= 1_200 && report.e < 60_000, `engaged ${report.e} ms`);
  assert.equal(new URL(beacons[1].u).pathname, '/p/verder');
  // Hidden (the tab left for another), the new page reports too.
  await page.evaluate(() => {
    Object.defineProperty(document, 'hidden', { value: true, configurable: true });
    document.dispatchEvent(new Event('visibilitychange'));
  });
  await eventually('the second report', () => engagements.length == 2);
  assert.equal(engagements[1].u, pages.url('/p/verder'));
  // The server took it as /long's engagement: no event, no pageview.
  const seen = await counted('event:page', 'scroll_depth', { '/long': sd });
  assert.equal(seen['/long'], sd);
  await counted('event:page', 'time_on_page', { '/long': Math.round(report.e / 1000) });
  await counted('event:page', 'pageviews', { '/long': 1 });
  const names = await kruimel.breakdown('event:name', 'events');
  assert.equal(names.engagement, undefined, JSON.stringify(names));
  await context.close();
});

test('hash routing counts fragment navigation when the tag asks for it', async () => {
  const { context, beacons } = await newVisitor(browser);
  const page = await context.newPage();
  await page.goto(pages.url('/spa/hash?attrs=data-hash'));
  await page.click('#hash');
  await eventually('two pageviews', () => beacons.length == 2);
  assert.deepEqual(beacons.map((b) => [b.u, b.h]), [
    [pages.url('/spa/hash?attrs=data-hash'), 1],
    [pages.url('/spa/hash?attrs=data-hash#/overzicht'), 1],
  ]);
  await counted('event:page', 'pageviews', { '/spa/hash': 1, '/spa/hash#/overzicht': 1 });
  await context.close();
});

test('file downloads and outbound links are counted, without query or fragment, and mailto is not', async () => {
  const { context, beacons } = await newVisitor(browser);
  const page = await context.newPage();
  await page.goto(pages.url('/p/klikken'));
  await eventually('pageview', () => beacons.length == 1);
  const download = page.waitForEvent('download');
  await page.click('#download');
  await download;
  await page.click('#mail');
  // Follows the link: the beacon must survive leaving the page.
  await Promise.all([page.waitForURL(/voorbeeld\.test/), page.click('#outbound')]);
  await eventually('two click beacons', () => beacons.length == 3);
  const fileUrl = pages.url('/files/afvalkalender-2026.pdf');
  assert.deepEqual(beacons.slice(1).map((b) => [b.n, b.p]), [
    ['File Download', { url: fileUrl }],
    ['Outbound Link: Click', { url: 'www.voorbeeld.test' }],
  ]);
  await counted('event:name', 'events', { 'File Download': 1, 'Outbound Link: Click': 1 });
  // The server keeps a download's host and path, an outbound link's host.
  await counted('event:props:url', 'events', {
    'www.gemeente.test/files/afvalkalender-2026.pdf': 1,
    'www.voorbeeld.test': 1,
  });
  await context.close();
});

test('custom events with properties are counted, also one queued before the script loaded', async () => {
  const { context, beacons } = await newVisitor(browser);
  const page = await context.newPage();
  await page.goto(pages.url('/events'));
  await page.click('#send');
  await eventually('three beacons', () => beacons.length == 3);
  // The queued call runs after the first pageview, so it does not open the visit.
  assert.deepEqual(beacons.map((b) => [b.n, b.p]), [
    ['pageview', undefined],
    ['Wachtrij', { bron: 'voor het laden' }],
    ['Melding verzonden', { soort: 'zwerfafval', stap: 3 }],
  ]);
  await counted('event:name', 'events', { Wachtrij: 1, 'Melding verzonden': 1 });
  await counted('event:props:bron', 'events', { 'voor het laden': 1 });
  await counted('event:props:soort', 'events', { zwerfafval: 1 });
  await context.close();
});

test('a 404 page sends a 404 event with its path', async () => {
  const { context, beacons } = await newVisitor(browser);
  const page = await context.newPage();
  await page.goto(pages.url('/spa/bestaat-niet?attrs=data-404'));
  await eventually('pageview and 404', () => beacons.length == 2);
  assert.deepEqual(beacons[1], {
    n: '404',
    u: pages.url('/spa/bestaat-niet?attrs=data-404'),
    d: 'gemeente.test',
    r: null,
    w: 1280,
    p: { path: '/spa/bestaat-niet' },
  });
  await counted('event:props:path', 'events', { '/spa/bestaat-niet': 1 });
  await context.close();
});

test('manual mode sends no pageview until the page asks, with the URL it gives', async () => {
  const { context, beacons } = await newVisitor(browser);
  const page = await context.newPage();
  await page.goto(pages.url('/spa/handmatig?attrs=data-manual'));
  await page.waitForFunction(() => !window.kruimel.q && typeof window.kruimel == 'function');
  await page.click('#next');
  await page.evaluate((url) => window.kruimel('pageview', { url }), pages.url('/spa/zelf-gekozen'));
  await eventually('one pageview', () => beacons.length == 1);
  await new Promise((done) => setTimeout(done, 300));
  assert.deepEqual(beacons.map((b) => b.u), [pages.url('/spa/zelf-gekozen')]);
  await counted('event:page', 'pageviews', { '/spa/zelf-gekozen': 1 });
  await context.close();
});

test('the tracker ignores localhost unless the tag says data-local', async () => {
  const local = (path) => `http://localhost:${pages.port}${path}`;
  for (const [path, expected] of [
    ['/spa/lokaal', 0],
    ['/spa/lokaal?attrs=data-local', 1],
  ]) {
    const { context, beacons } = await newVisitor(browser);
    const page = await context.newPage();
    await page.goto(local(path));
    await page.waitForFunction(() => typeof window.kruimel == 'function');
    await page.waitForTimeout(300);
    assert.equal(beacons.length, expected, `${path}: ${JSON.stringify(beacons)}`);
    await context.close();
  }
});

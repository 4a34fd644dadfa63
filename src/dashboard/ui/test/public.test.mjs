// Public sites and share links, read without signing in: the page shows
// what the server gives a public reader, with small numbers folded by the
// server (k = 3 here): a page seen by k visitors is listed, one seen by
// k − 1 is not, "(other)" reads as "(overige)", and the page names k. So
// with event property keys: one sent by k visitors is listed, one sent by
// a single visitor is not, and the small ones together read "(overige)".
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startKruimel, launchBrowser, SITE, PUBLIC_SITE, SHARE, K } from './harness.mjs';

let kruimel;
let browser;

before(async () => {
  kruimel = await startKruimel();
  for (const site of [PUBLIC_SITE, SITE]) {
    // K visitors read /afval and send a form, K − 1 read /klein (and each
    // also the home page); one of them searches.
    const form = [{ name: 'Formulier verzonden', props: { formulier: 'melding' } }];
    for (let visitor = 0; visitor < K; visitor++) await kruimel.visit(site, ['/', '/afval'], { events: form });
    const search = [{ name: 'Zoeken', props: { zoekterm: 'mijn-adres' } }];
    const language = [{ name: 'Taal', props: { taal: 'fy' } }];
    for (let visitor = 0; visitor < K - 1; visitor++) await kruimel.visit(site, ['/', '/klein'], { events: visitor === 0 ? search : language });
    // K more read the home page, each sending a key of their own: the
    // small keys together reach K, so "(overige)" is shown, and as every
    // visitor sent a key, the day's total minus the keys shown leaves no
    // small group.
    for (let visitor = 0; visitor < K; visitor++) await kruimel.visit(site, ['/'], { events: [{ name: 'Thema', props: { [`onderwerp${visitor}`]: 'ja' } }] });
  }
  await kruimel.settled(PUBLIC_SITE, 5 * K - 2);
  await kruimel.settled(SITE, 5 * K - 2);
  browser = await launchBrowser();
});

after(async () => {
  if (browser) await browser.close();
  if (kruimel) await kruimel.stop();
});

async function open(path) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (error) => errors.push(error.message));
  const requests = [];
  page.on('request', (request) => requests.push(request.url()));
  await page.goto(kruimel.origin + path);
  await page.waitForSelector('main:not([aria-busy]) h1');
  return { page, errors, requests };
}

const pagesShown = (page) => page.$$eval('[data-panel="pages"] tbody th', (cells) => cells.map((cell) => cell.textContent.trim()));

async function checkFolded(page, site, share) {
  const query = share ? `&share=${SHARE}` : '';
  const api = (await kruimel.stats(`/api/v1/stats/breakdown?site_id=${site}&period=day&property=event:page&metrics=visitors,pageviews${query}`, { token: null })).results;
  // The server folded /klein; the page shows exactly its rows.
  assert.ok(api.some((row) => row.page === '/afval' && row.visitors === K), JSON.stringify(api));
  assert.ok(!api.some((row) => row.page === '/klein'), JSON.stringify(api));
  const shown = await pagesShown(page);
  assert.ok(shown.some((text) => text.startsWith('/afval')), `shown: ${shown}`);
  assert.ok(!shown.some((text) => text.includes('/klein')), `shown: ${shown}`);
  assert.ok(!(await page.locator('main').textContent()).includes('/klein'));
  assert.equal(shown.length, api.length);
  if (api.some((row) => row.page === '(other)')) assert.ok(shown.some((text) => text.startsWith('(overige)')), `shown: ${shown}`);
  // Property keys fold the same way: the lone searcher's key is not named.
  const keys = await page.$$eval('[data-panel="props"] tbody th', (cells) => cells.map((cell) => cell.textContent.trim()));
  assert.ok(keys.some((text) => text.startsWith('formulier')), `keys: ${keys}`);
  assert.ok(keys.some((text) => text.startsWith('(overige)')), `keys: ${keys}`);
  assert.ok(!(await page.locator('main').textContent()).includes('zoekterm'));
  // The page says why.
  assert.match(await page.locator('main').textContent(), /Kleine aantallen worden niet getoond/);
  // And names k, from the privacy page's JSON.
  assert.match(await page.locator('main').textContent(), new RegExp(`rijen met minder dan ${K} bezoekers`));
  // No owner-only panel, and no sign-out.
  assert.equal(await page.locator('[data-panel="consent"]').count(), 0);
  assert.equal(await page.getByRole('button', { name: 'Uitloggen' }).count(), 0);
}

test('a public site shows its stats without signing in, small rows folded', async () => {
  const { page, errors } = await open(`/dashboard/${PUBLIC_SITE}?period=day`);
  await page.getByRole('heading', { level: 1, name: `Statistieken van ${PUBLIC_SITE}` }).waitFor();
  assert.match(await page.locator('main').textContent(), /Openbaar overzicht/);
  await checkFolded(page, PUBLIC_SITE, false);
  const visitors = (await kruimel.stats(`/api/v1/stats/aggregate?site_id=${PUBLIC_SITE}&period=day&metrics=visitors`, { token: null })).results.visitors.value;
  assert.equal(await page.locator('[data-metric="visitors"]').getAttribute('data-value'), String(visitors));
  // Its CSV folds the same way, read without a session.
  const csv = await (await fetch(new URL(await page.locator('[data-csv="pages"]').getAttribute('href'), kruimel.origin))).text();
  assert.match(csv, /\/afval/);
  assert.doesNotMatch(csv, /\/klein/);
  assert.deepEqual(errors, []);
  await page.context().close();
});

test('a share link shows a private site, passing share= to every call', async () => {
  const { page, errors, requests } = await open(`/dashboard/${SITE}?period=day&share=${SHARE}`);
  assert.match(await page.locator('main').textContent(), /Gedeeld overzicht/);
  await checkFolded(page, SITE, true);
  const apiCalls = requests.filter((url) => url.includes('/api/v1/stats/'));
  assert.ok(apiCalls.length > 10);
  for (const url of apiCalls) assert.equal(new URL(url).searchParams.get('share'), SHARE, url);
  // Links keep the secret: a period change and the CSV.
  assert.match(await page.getByRole('link', { name: '7 dagen' }).getAttribute('href'), new RegExp(`share=${SHARE}`));
  assert.match(await page.locator('[data-csv="pages"]').getAttribute('href'), new RegExp(`share=${SHARE}`));
  // A row filter works for share readers too.
  await page.locator('[data-panel="pages"] a.filter-link', { hasText: '/afval' }).click();
  await page.locator('button.chip').waitFor();
  assert.equal(new URL(page.url()).searchParams.get('share'), SHARE);
  assert.deepEqual(errors, []);
  await page.context().close();
});

test('a private site without a session asks to sign in; a wrong share secret says so', async () => {
  const { page } = await open(`/dashboard/${SITE}`);
  await page.getByLabel('Gebruikersnaam').waitFor();
  assert.equal(new URL(page.url()).pathname, '/dashboard/login');
  const { page: wrong } = await open(`/dashboard/${SITE}?share=not-the-secret`);
  await wrong.getByRole('alert').filter({ hasText: 'deellink werkt niet' }).waitFor();
  assert.equal(await wrong.locator('[data-metric]').count(), 0);
  await page.context().close();
  await wrong.context().close();
});

// Withdrawal that resets: once a receipt is erased, from its page or with
// DELETE /api/consent/<id>, the next page view on the site asks again and
// loads nothing optional first. The cookie lives on the site's domain, so
// the script asks the server (GET /api/consent/<id>/status) once per visit
// whether its receipt is still kept; on the first page view of a visit a
// stored choice waits for that answer.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startKruimel, startPages, launchBrowser, newVisitor, eventually, consentCookie, POLICY } from './harness.mjs';

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

const sleep = (ms) => new Promise((done) => setTimeout(done, ms));
const dialog = (page) => page.locator('kruimel-notice [role=dialog]');
const mediaRequests = () => pages.requests.filter((request) => request.startsWith('media.'));

// A visitor whose every receipt check is counted.
async function visitor() {
  const { context } = await newVisitor(browser);
  const checks = [];
  context.on('request', (request) => {
    if (/\/api\/consent\/[0-9a-f]{32}\/status$/.test(request.url())) checks.push(request.url());
  });
  return { context, checks };
}

// Accepts all on a first visit; the receipt id once the server has it.
async function acceptAll(context) {
  const page = await context.newPage();
  await page.goto(pages.url('/p/intrekken'));
  await page.getByRole('button', { name: 'Alles accepteren' }).click();
  const cookie = await eventually('the cookie', async () => {
    const cookie = await consentCookie(context);
    return cookie && cookie.granted.join() == 'media' && /^[0-9a-f]{32}$/.test(cookie.receipt) && cookie;
  });
  await eventually('the video', () => mediaRequests().length > 0);
  return { page, receipt: cookie.receipt };
}

// The page shows the notice, the video has no src, and nothing went to the
// other site.
async function asksAgain(page, context) {
  await dialog(page).waitFor();
  await page.waitForTimeout(300);
  assert.deepEqual(mediaRequests(), [], 'nothing optional loads before the new choice');
  assert.equal(await page.locator('#video').getAttribute('src'), null);
  assert.equal(await page.locator('kruimel-placeholder').count(), 1);
  assert.equal(await consentCookie(context), null, 'the cookie of the erased receipt is gone');
}

test('erased from its page, reached from the notice: back on the site the notice asks again and nothing loads', async () => {
  pages.requests.length = 0;
  const { context, checks } = await visitor();
  const { page, receipt } = await acceptAll(context);
  await page.reload();
  await eventually('the video loaded again', () => mediaRequests().length == 2);
  assert.equal(await dialog(page).count(), 0);
  assert.deepEqual(checks, [], 'a receipt made in this visit is not checked');

  // The visitor's own way: cookie settings, "see the choices we stored".
  await page.click('#settings');
  await dialog(page).getByRole('link', { name: 'Bekijk uw opgeslagen keuzes' }).click();
  await page.getByRole('heading', { name: 'Uw cookiekeuzes' }).waitFor();
  await page.getByRole('button', { name: 'Deze gegevens nu wissen' }).click();
  await page.getByRole('heading', { name: 'Weet u het zeker?' }).waitFor();
  assert.equal((await kruimel.receipt(receipt)).receipt, receipt, 'asking erases nothing');
  await page.getByRole('button', { name: 'Ja, wis mijn keuzes' }).click();
  await page.getByRole('heading', { name: 'Gewist' }).waitFor();
  assert.equal(await page.getAttribute('html', 'lang'), 'nl');
  assert.equal(await page.locator('[lang=en]').count(), 0, 'the answer stays Dutch');
  await assert.rejects(kruimel.receipt(receipt), /404/);

  // Back on the site, in the same tab.
  pages.requests.length = 0;
  await page.goto(pages.url('/p/intrekken'));
  await asksAgain(page, context);
  assert.equal(checks.length, 1, 'one check');

  // A new choice starts a new receipt.
  await page.getByRole('button', { name: 'Alles accepteren' }).click();
  const fresh = await eventually('a new cookie', () => consentCookie(context));
  assert.equal(fresh.policy, POLICY);
  assert.notEqual(fresh.receipt, receipt);
  assert.equal((await kruimel.receipt(fresh.receipt)).history.length, 1);
  await context.close();
});

test('erased from its page, then back with the browser\'s back button: the notice asks again and the video is unloaded', async () => {
  pages.requests.length = 0;
  const { context } = await visitor();
  const { page } = await acceptAll(context);
  await page.click('#settings');
  await dialog(page).getByRole('link', { name: 'Bekijk uw opgeslagen keuzes' }).click();
  await page.getByRole('button', { name: 'Deze gegevens nu wissen' }).click();
  await page.getByRole('button', { name: 'Ja, wis mijn keuzes' }).click();
  await page.getByRole('heading', { name: 'Gewist' }).waitFor();

  pages.requests.length = 0;
  for (let step = 0; step < 3; step++) await page.goBack();
  assert.equal(new URL(page.url()).pathname, '/p/intrekken');
  // Restored as it was (back/forward cache) or loaded again: either way.
  await dialog(page).waitFor();
  await page.locator('kruimel-placeholder').waitFor();
  assert.equal(await page.locator('#video').getAttribute('src'), null);
  assert.equal(await consentCookie(context), null);
  await context.close();
});

// Headless Chromium loads the page again on "back"; a browser that keeps
// it (back/forward cache) runs no script but fires pageshow, persisted.
test('a page restored from the back/forward cache checks like a new page view', async () => {
  pages.requests.length = 0;
  const { context, checks } = await visitor();
  const { page, receipt } = await acceptAll(context);
  await page.evaluate(() => {
    window.consentEvents = [];
    document.addEventListener('kruimel:consent', (event) => window.consentEvents.push(event.detail));
  });
  // Left through the receipt link (which forgets the visit's check), erased there.
  await page.click('#settings');
  await dialog(page).getByRole('link', { name: 'Bekijk uw opgeslagen keuzes' }).dispatchEvent('auxclick');
  await page.keyboard.press('Escape');
  assert.equal((await fetch(`${kruimel.local}/api/consent/${receipt}`, { method: 'DELETE' })).status, 204);

  await page.evaluate(() => window.dispatchEvent(new PageTransitionEvent('pageshow', { persisted: true })));
  await dialog(page).waitFor();
  await page.locator('kruimel-placeholder').waitFor();
  assert.equal(await page.locator('#video').getAttribute('src'), null, 'the video is unloaded');
  assert.equal(await consentCookie(context), null);
  assert.deepEqual(
    (await page.evaluate(() => window.consentEvents)).map((event) => [event.method, event.granted, event.receipt]),
    [['erased', [], null]],
    'tag managers hear it',
  );
  assert.equal(checks.length, 1);
  await context.close();
});

test('a kept receipt is checked once per visit, and a stored choice waits for the answer', async () => {
  pages.requests.length = 0;
  const { context, checks } = await visitor();
  await (await acceptAll(context)).page.close();

  // A new tab is a new visit. The server answers slowly: nothing optional
  // may load until it has.
  let answered = false;
  await context.route(/\/status$/, async (route) => {
    await sleep(800);
    answered = true;
    await route.continue();
  });
  pages.requests.length = 0;
  const page = await context.newPage();
  await page.goto(pages.url('/p/intrekken'));
  await page.waitForTimeout(400);
  assert.equal(answered, false);
  assert.deepEqual(mediaRequests(), [], 'the video waits for the check');
  assert.equal(await page.locator('#video').getAttribute('src'), null);
  await eventually('the video loaded after the check', () => mediaRequests().length == 1);
  assert.equal(answered, true);
  assert.equal(await dialog(page).count(), 0);
  await context.unroute(/\/status$/);

  for (const path of ['/p/intrekken/2', '/p/intrekken/3']) {
    await page.goto(pages.url(path));
    await page.waitForFunction(() => document.querySelector('#video').src);
  }
  assert.equal(checks.length, 1, 'one check for three page views');
  await context.close();
});

test('erased with DELETE: the next visit asks again', async () => {
  pages.requests.length = 0;
  const { context, checks } = await visitor();
  const { page: first, receipt } = await acceptAll(context);
  await first.close();
  const erased = await fetch(`${kruimel.local}/api/consent/${receipt}`, { method: 'DELETE' });
  assert.equal(erased.status, 204);

  pages.requests.length = 0;
  const page = await context.newPage();
  await page.goto(pages.url('/p/intrekken'));
  await asksAgain(page, context);
  assert.equal(checks.length, 1);
  await context.close();
});

test('when the check cannot be made, nothing optional loads, and the next page view checks again', async () => {
  pages.requests.length = 0;
  const { context, checks } = await visitor();
  await (await acceptAll(context)).page.close();
  await context.route(/\/status$/, (route) => route.abort());
  pages.requests.length = 0;
  const page = await context.newPage();
  await page.addInitScript(() => {
    window.consentEvents = [];
    document.addEventListener('kruimel:consent', (event) => window.consentEvents.push(event.detail));
  });
  await page.goto(pages.url('/p/intrekken'));
  await page.locator('kruimel-placeholder').waitFor();
  await page.waitForTimeout(300);
  assert.deepEqual(mediaRequests(), [], 'failing closed');
  assert.equal(await dialog(page).count(), 0, 'the choice may still stand: nothing to ask yet');
  assert.deepEqual(await page.evaluate(() => window.consentEvents), []);
  assert.notEqual(await consentCookie(context), null, 'the choice is kept');

  await context.unroute(/\/status$/);
  await page.reload();
  await eventually('the video loaded once the check worked', () => mediaRequests().length == 1);
  assert.equal(checks.length, 2);
  await context.close();
});

// Sites with nothing to consent to: Dutch law needs no consent for
// technical cookies and cookieless statistics, so the notice is
// information-only (notice = "info") or absent (no optional category).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { startKruimel, startPages, launchBrowser, newVisitor, eventually, consentCookie } from './harness.mjs';

const axePath = createRequire(import.meta.url).resolve('axe-core/axe.min.js');
let browser;
const running = [];

before(async () => {
  browser = await launchBrowser();
});

after(async () => {
  if (browser) await browser.close();
  for (const stop of running) await stop();
});

async function site(consent) {
  const kruimel = await startKruimel({ consent });
  const pages = await startPages(kruimel);
  running.push(pages.stop, kruimel.stop);
  return pages;
}

test('an information-only notice closes, is remembered without a receipt, and reopens from cookie settings', async () => {
  const pages = await site('{ policy_version = "3", notice = "info", privacy_url = "http://www.gemeente.test/privacy" }');
  const { context } = await newVisitor(browser);
  const posted = [];
  context.on('request', (request) => request.method() == 'POST' && request.url().includes('/api/consent') && posted.push(request.url()));
  const page = await context.newPage();
  await page.goto(pages.url('/p/info'));
  const dialog = page.locator('kruimel-notice [role=dialog]');
  await dialog.getByText('Deze website gebruikt alleen cookies die nodig zijn').waitFor();
  assert.equal(await dialog.getByRole('button').count(), 1, 'only "close": there is nothing to choose');
  await page.addScriptTag({ path: axePath });
  const { violations } = await page.evaluate(() =>
    window.axe.run({ include: [['kruimel-notice']] }, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21aa'] } }),
  );
  assert.deepEqual(violations.map((v) => v.id), []);

  await dialog.getByRole('button', { name: 'Sluiten' }).click();
  await dialog.waitFor({ state: 'detached' });
  const cookie = await eventually('the cookie', () => consentCookie(context));
  assert.deepEqual([cookie.format, cookie.receipt, cookie.policy, cookie.granted], ['1', '-', '3', []]);
  assert.deepEqual(posted, [], 'a notice read is no consent: no receipt');

  await page.reload();
  await page.waitForFunction(() => typeof window.kruimel == 'function' && !window.kruimel.q);
  await page.waitForTimeout(300);
  assert.equal(await dialog.count(), 0);
  await page.click('#settings');
  await dialog.waitFor();
  await context.close();
});

test('a site without optional categories shows no notice and sets no cookie', async () => {
  const pages = await site('{ policy_version = "1" }');
  const { context, beacons } = await newVisitor(browser);
  const page = await context.newPage();
  const notice = page.waitForResponse((response) => response.url().includes('/api/consent/notice'));
  await page.goto(pages.url('/p/geen'));
  assert.equal((await (await notice).json()).mode, 'none');
  await eventually('the pageview', () => beacons.length == 1);
  await page.waitForTimeout(200);
  assert.equal(await page.locator('kruimel-notice').count(), 0);
  assert.equal(await consentCookie(context), null);
  await context.close();
});

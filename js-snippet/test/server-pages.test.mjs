// The pages the server renders for visitors: the privacy page
// (/privacy/<site>) and a consent receipt's page (the notice's "see the
// choices we stored" link). axe-core finds nothing in Dutch and English at
// 1280 and 320 px; the receipt page erases its record with the keyboard,
// after asking.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { SITE, POLICY, startKruimel, launchBrowser, newVisitor } from './harness.mjs';

const axePath = createRequire(import.meta.url).resolve('axe-core/axe.min.js');

let kruimel;
let browser;

before(async () => {
  kruimel = await startKruimel();
  browser = await launchBrowser();
});

after(async () => {
  if (browser) await browser.close();
  if (kruimel) await kruimel.stop();
});

async function violations(page) {
  await page.addScriptTag({ path: axePath });
  const results = await page.evaluate(() =>
    window.axe.run(document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] },
    }),
  );
  const passed = results.passes.map((rule) => rule.id);
  for (const rule of ['color-contrast', 'html-has-lang', 'document-title']) {
    assert.ok(passed.includes(rule), `axe rule ${rule} did not pass (passed: ${passed})`);
  }
  return results.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

async function noSidewaysScroll(page) {
  const widths = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, window: innerWidth }));
  assert.ok(widths.scroll <= widths.window, `the page scrolls sideways: ${JSON.stringify(widths)}`);
}

// A choice recorded as the script would, in `language`; its receipt id.
async function receiptIn(language) {
  const notice = await (await fetch(`${kruimel.local}/api/consent/notice?site=${SITE}&lang=${language}`)).json();
  const response = await fetch(`${kruimel.local}/api/consent`, {
    method: 'POST',
    headers: { 'Content-Type': 'text/plain' },
    body: JSON.stringify({
      site: SITE,
      policy_version: POLICY,
      banner_version: notice.banner_version,
      language,
      granted: [],
      denied: ['media'],
      method: 'reject_all',
    }),
  });
  assert.equal(response.status, 201);
  return (await response.json()).receipt;
}

for (const lang of ['nl', 'en']) {
  for (const width of [1280, 320]) {
    test(`the privacy page has no axe violations: ${lang}, ${width} px`, async () => {
      // The page's policy forbids all script, axe's too: let it in for the check.
      const { context } = await newVisitor(browser, { viewport: { width, height: 800 }, bypassCSP: true });
      const page = await context.newPage();
      await page.goto(`${kruimel.origin}/privacy/${SITE}?lang=${lang}`);
      await page.getByRole('heading', { level: 1 }).waitFor();
      assert.equal(await page.getAttribute('html', 'lang'), lang);
      assert.deepEqual(await violations(page), []);
      await noSidewaysScroll(page);
      await context.close();
    });

    test(`a receipt's page has no axe violations: ${lang}, ${width} px`, async () => {
      const id = await receiptIn(lang);
      const { context } = await newVisitor(browser, { viewport: { width, height: 800 }, bypassCSP: true });
      const page = await context.newPage();
      await page.goto(`${kruimel.origin}/api/consent/${id}`);
      await page.getByRole('table').waitFor();
      assert.equal(await page.getAttribute('html', 'lang'), lang);
      assert.deepEqual(await violations(page), []);
      await noSidewaysScroll(page);
      // Its second step, "are you sure?", in the same language.
      await page.goto(`${kruimel.origin}/api/consent/${id}?step=erase`);
      await page.getByRole('heading', { level: 1 }).waitFor();
      assert.equal(await page.getAttribute('html', 'lang'), lang);
      assert.deepEqual(await violations(page), []);
      await noSidewaysScroll(page);
      await context.close();
    });
  }
}

test('the pages run no script: their policy blocks an injected one', async () => {
  const { context } = await newVisitor(browser);
  const page = await context.newPage();
  await page.goto(`${kruimel.origin}/privacy/${SITE}`);
  await assert.rejects(page.addScriptTag({ content: 'window.ran = true' }), /Content Security Policy/);
  assert.equal(await page.evaluate(() => window.ran), undefined);
  await context.close();
});

test('a receipt page erases its record with the keyboard alone', async () => {
  const id = await receiptIn('nl');
  const { context } = await newVisitor(browser);
  const page = await context.newPage();
  await page.goto(`${kruimel.origin}/api/consent/${id}`);
  const erase = page.getByRole('button', { name: 'Deze gegevens nu wissen' });
  for (let presses = 0; presses < 10 && !(await erase.evaluate((button) => button === document.activeElement)); presses++) {
    await page.keyboard.press('Tab');
  }
  assert.ok(await erase.evaluate((button) => button === document.activeElement), 'Tab reaches the erase button');
  await page.keyboard.press('Enter');
  // A second step asks first; Tab reaches its button too.
  await page.getByRole('heading', { name: 'Weet u het zeker?' }).waitFor();
  assert.equal((await fetch(`${kruimel.local}/api/consent/${id}`)).status, 200, 'asking erases nothing');
  const confirm = page.getByRole('button', { name: 'Ja, wis mijn keuzes' });
  for (let presses = 0; presses < 10 && !(await confirm.evaluate((button) => button === document.activeElement)); presses++) {
    await page.keyboard.press('Tab');
  }
  await page.keyboard.press('Enter');
  await page.getByRole('heading', { name: 'Gewist' }).waitFor();
  const gone = await fetch(`${kruimel.local}/api/consent/${id}`);
  assert.equal(gone.status, 404);
  await context.close();
});

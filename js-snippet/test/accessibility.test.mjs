// WCAG 2.1 AA for the notice and the placeholder: axe-core finds nothing,
// in Dutch and English, on a desktop and a 320 px wide screen; and at 400%
// zoom (a 1280×800 window is then 320×200 CSS pixels) nothing scrolls
// sideways and every button can be reached.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { startKruimel, startPages, launchBrowser, newVisitor } from './harness.mjs';

const axePath = createRequire(import.meta.url).resolve('axe-core/axe.min.js');
const TEXTS = {
  nl: { title: 'Cookies op deze website', settings: 'Zelf kiezen', reject: 'Alles weigeren' },
  en: { title: 'Cookies on this website', settings: 'Choose', reject: 'Refuse all' },
};

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

async function open(lang, viewport) {
  const { context } = await newVisitor(browser, { viewport });
  const page = await context.newPage();
  await page.goto(pages.url(`/p/toegankelijk?lang=${lang}`));
  await page.locator('kruimel-notice [role=dialog]').waitFor();
  await page.locator('kruimel-placeholder').waitFor();
  return { context, page };
}

// axe-core over the notice and the placeholder (shadow roots included).
async function violations(page, what) {
  if (!(await page.evaluate(() => 'axe' in window))) await page.addScriptTag({ path: axePath });
  const results = await page.evaluate(() =>
    window.axe.run(
      { include: [['kruimel-notice'], ['kruimel-placeholder']] },
      { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] } },
    ),
  );
  // Proof that it looked: the contrast and name rules ran and passed.
  const passed = results.passes.map((rule) => rule.id);
  for (const rule of ['color-contrast', 'button-name', 'aria-dialog-name']) {
    assert.ok(passed.includes(rule), `${what}: axe rule ${rule} did not pass (passed: ${passed})`);
  }
  return results.violations.map((v) => `${what}: ${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

// Nothing wider than the window, and each of the notice's buttons inside it
// once scrolled to.
async function fitsWidth(page, what) {
  const layout = await page.evaluate(() => {
    const root = document.querySelector('kruimel-notice').shadowRoot;
    const buttons = [...root.querySelectorAll('button')].map((button) => {
      button.scrollIntoView({ block: 'nearest' });
      const box = button.getBoundingClientRect();
      return { text: button.textContent, left: box.left, right: box.right, top: box.top, bottom: box.bottom };
    });
    return {
      scrollWidth: document.documentElement.scrollWidth,
      noticeScrollWidth: root.querySelector('[role=dialog]').scrollWidth,
      noticeWidth: root.querySelector('[role=dialog]').clientWidth,
      width: innerWidth,
      height: innerHeight,
      buttons,
    };
  });
  assert.ok(layout.scrollWidth <= layout.width, `${what}: page scrolls sideways: ${JSON.stringify(layout)}`);
  assert.ok(layout.noticeScrollWidth <= layout.noticeWidth, `${what}: notice scrolls sideways: ${JSON.stringify(layout)}`);
  for (const button of layout.buttons) {
    const inside = button.left >= 0 && button.right <= layout.width && button.top >= 0 && button.bottom <= layout.height;
    assert.ok(inside, `${what}: button out of reach: ${JSON.stringify(button)} in ${layout.width}×${layout.height}`);
  }
}

for (const lang of ['nl', 'en']) {
  for (const width of [1280, 320]) {
    test(`axe finds no violations in the notice (both layers) and the placeholder: ${lang}, ${width} px`, async () => {
      const { context, page } = await open(lang, { width, height: 800 });
      const texts = TEXTS[lang];
      await page.getByRole('heading', { name: texts.title }).waitFor();
      const found = await violations(page, 'first layer');
      await fitsWidth(page, 'first layer');
      await page.getByRole('button', { name: texts.settings }).click();
      await page.getByRole('checkbox').first().waitFor();
      found.push(...(await violations(page, 'settings layer')));
      await fitsWidth(page, 'settings layer');
      assert.deepEqual(found, []);
      await context.close();
    });
  }
}

test('at 400% zoom (320×200 CSS pixels) the notice scrolls within the window and every button works', async () => {
  const { context, page } = await open('nl', { width: 320, height: 200 });
  const box = await page.locator('kruimel-notice [role=dialog]').boundingBox();
  assert.ok(box.y >= 0 && box.y + box.height <= 200 + 0.5, `notice outside the window: ${JSON.stringify(box)}`);
  await fitsWidth(page, 'first layer');
  await page.getByRole('button', { name: 'Zelf kiezen' }).click();
  await fitsWidth(page, 'settings layer');
  await page.getByRole('button', { name: 'Alles weigeren' }).click();
  await page.locator('kruimel-notice').waitFor({ state: 'detached' });
  await context.close();
});

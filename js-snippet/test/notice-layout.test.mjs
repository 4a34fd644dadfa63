// The notice's first layer as a visitor meets it: it says what consent is
// for (each category in a line, and the services on the page that wait
// for it); "accept all" and "refuse all" are equally large and look the
// same at every width (the Dutch DPA's condition); and tabbing through a
// long page with the notice open never leaves the focused control behind
// the card (WCAG 2.2 SC 2.4.11).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startKruimel, startPages, launchBrowser, newVisitor } from './harness.mjs';

let kruimel;
let pages;
let browser;

before(async () => {
  kruimel = await startKruimel({ consent: '{ policy_version = "1", categories = ["media", "marketing"] }' });
  pages = await startPages(kruimel);
  browser = await launchBrowser();
});

after(async () => {
  if (browser) await browser.close();
  if (pages) await pages.stop();
  if (kruimel) await kruimel.stop();
});

const TEXTS = {
  nl: { accept: 'Alles accepteren', reject: 'Alles weigeren', settings: 'Zelf kiezen' },
  en: { accept: 'Accept all', reject: 'Refuse all', settings: 'Choose' },
};

async function open(path, viewport) {
  const { context } = await newVisitor(browser, { viewport });
  const page = await context.newPage();
  await page.goto(pages.url(path));
  await page.locator('kruimel-notice [role=dialog]').waitFor();
  return { context, page };
}

const purposes = (page) =>
  page.locator('kruimel-notice [role=dialog] #purposes li').evaluateAll((items) => items.map((item) => item.innerText));

test('the first layer names each category in a line, and the services on the page that wait for it', async () => {
  const { context, page } = await open('/long?lang=nl', { width: 1280, height: 800 });
  assert.deepEqual(await purposes(page), [
    "Externe media: Video's, kaarten en andere inhoud van andere websites. Die websites kunnen uw bezoek volgen. Op deze pagina: YouTube.",
    'Marketing: Cookies van andere bedrijven die uw bezoek volgen voor advertenties.',
  ]);
  const described = await page.locator('kruimel-notice [role=dialog]').getAttribute('aria-describedby');
  assert.equal(described, 'intro purposes note', 'a screen reader reads the list with the dialog');

  await page.goto(pages.url('/long?lang=en'));
  assert.deepEqual(await purposes(page), [
    'External media: Videos, maps and other content from other websites. Those websites may follow your visit. On this page: YouTube.',
    'Marketing: Cookies of other companies that follow your visit for advertising.',
  ]);
  await context.close();
});

// Accept and refuse in the open layer: their boxes and what they look like.
async function choiceButtons(page, texts) {
  const measure = (button) =>
    button.evaluate((element) => {
      element.scrollIntoView({ block: 'nearest' });
      const box = element.getBoundingClientRect();
      const style = getComputedStyle(element);
      return {
        box: { width: box.width, height: box.height },
        inside: box.left >= 0 && box.top >= 0 && box.right <= innerWidth && box.bottom <= innerHeight,
        look: ['background-color', 'color', 'border', 'font-size', 'font-weight', 'padding'].map((name) => style.getPropertyValue(name)),
      };
    });
  const dialog = page.locator('kruimel-notice [role=dialog]');
  return {
    accept: await measure(dialog.getByRole('button', { name: texts.accept })),
    reject: await measure(dialog.getByRole('button', { name: texts.reject })),
  };
}

for (const lang of ['nl', 'en']) {
  for (const width of [320, 360, 1280]) {
    test(`accept and refuse are equally large and look the same: ${lang}, ${width} px`, async () => {
      const texts = TEXTS[lang];
      const { context, page } = await open(`/p/knoppen?lang=${lang}`, { width, height: 740 });
      for (const layer of ['first', 'settings']) {
        if (layer == 'settings') await page.getByRole('button', { name: texts.settings }).click();
        await page.mouse.move(0, 0); // no hover on either
        const { accept, reject } = await choiceButtons(page, texts);
        const what = `${layer} layer at ${width} px: ${JSON.stringify({ accept, reject })}`;
        assert.ok(Math.abs(accept.box.width - reject.box.width) < 0.5, `widths differ: ${what}`);
        assert.ok(Math.abs(accept.box.height - reject.box.height) < 0.5, `heights differ: ${what}`);
        assert.deepEqual(accept.look, reject.look, `styles differ: ${what}`);
        assert.ok(accept.inside && reject.inside, `not inside the window: ${what}`);
        assert.ok(accept.box.height >= 44, `a target a finger can hit: ${what}`);
      }
      await context.close();
    });
  }
}

for (const lang of ['nl', 'en']) {
  test(`accept and refuse keep one size at every width from 300 to 1300 px: ${lang}`, async () => {
    const texts = TEXTS[lang];
    const { context, page } = await open(`/p/knoppen?lang=${lang}`, { width: 300, height: 740 });
    await page.mouse.move(0, 0);
    const unequal = [];
    for (let width = 300; width <= 1300; width += 20) {
      await page.setViewportSize({ width, height: 740 });
      const { accept, reject } = await choiceButtons(page, texts);
      const same = Math.abs(accept.box.width - reject.box.width) < 0.5 && Math.abs(accept.box.height - reject.box.height) < 0.5;
      if (!same) unequal.push(`${width} px: ${accept.box.width}×${accept.box.height} and ${reject.box.width}×${reject.box.height}`);
    }
    assert.deepEqual(unequal, []);
    await context.close();
  });
}

// The focused element (looking into shadow roots) and whether it is in the
// notice, with its box and the card's, once the page has settled.
const focusState = (page) =>
  page.evaluate(async () => {
    await new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)));
    let element = document.activeElement;
    const inNotice = element && element.tagName == 'KRUIMEL-NOTICE';
    while (element && element.shadowRoot && element.shadowRoot.activeElement) element = element.shadowRoot.activeElement;
    if (!element || element === document.body) return null;
    const box = element.getBoundingClientRect();
    const card = document.querySelector('kruimel-notice').shadowRoot.querySelector('[role=dialog]').getBoundingClientRect();
    const name = element.id || element.textContent.trim();
    return { name, inNotice, box: { top: box.top, bottom: box.bottom, left: box.left, right: box.right }, cardTop: card.top };
  });

for (const viewport of [
  { width: 360, height: 740 },
  { width: 1280, height: 800 },
]) {
  test(`tabbing through a long page with the notice open never hides the focused control behind it: ${viewport.width} px`, async () => {
    const { context, page } = await open('/long', viewport);
    const seen = [];
    for (let presses = 0; presses < 120 && !seen.includes('settings'); presses++) {
      await page.keyboard.press('Tab');
      const state = await focusState(page);
      if (!state || state.inNotice) continue;
      seen.push(state.name);
      const { box, cardTop } = state;
      const where = `${state.name} at ${JSON.stringify(box)}, card from ${cardTop}, window ${viewport.height}`;
      assert.ok(box.bottom <= cardTop, `behind the notice: ${where}`);
      assert.ok(box.top >= 0, `above the window: ${where}`);
    }
    // Every link of the page, the placeholder's buttons, and the last line.
    assert.ok(seen.includes('Eenmalig laden') && seen.includes('Altijd toestaan'), seen.join());
    assert.ok(seen.includes('l15') && seen.includes('v15') && seen.includes('privacy'), seen.join());
    assert.equal(seen.at(-1), 'settings', 'the page\'s very last link too');
    assert.equal(seen.length, 39, 'every control once: 5 in the menu, 30 in the text, 2 in the placeholder, 2 at the foot');

    // A page script that focuses without scrolling (preventScroll), a link
    // under the card: the notice scrolls it up all the same.
    const moved = await page.evaluate(async () => {
      const link = document.getElementById('l5');
      scrollBy(0, link.getBoundingClientRect().bottom - innerHeight + 12);
      link.focus({ preventScroll: true });
      await new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)));
      const card = document.querySelector('kruimel-notice').shadowRoot.querySelector('[role=dialog]');
      return { bottom: link.getBoundingClientRect().bottom, cardTop: card.getBoundingClientRect().top };
    });
    assert.ok(moved.bottom <= moved.cardTop, `focused without scrolling, still behind: ${JSON.stringify(moved)}`);

    // Closing the notice gives the page its own padding back.
    await page.getByRole('button', { name: 'Alles weigeren' }).click();
    await page.locator('kruimel-notice').waitFor({ state: 'detached' });
    const padding = await page.evaluate(() => [document.documentElement.style.paddingBottom, document.documentElement.style.scrollPaddingBottom]);
    assert.deepEqual(padding, ['', '']);
    await context.close();
  });
}

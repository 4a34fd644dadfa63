// The chart and the panels in Chromium against the real server: the chart
// near the top on a phone (360 px) and beside the figures at 1280 px, each
// with a screenshot in docs/screenshots/; days on every tick for a week,
// hours on request; the previous period as a faint line; nothing drawn
// for hours still to come; the tooltip by keyboard and by touch. Panels:
// "meer" with search and pages, sorting by any column, paths that wrap
// only between words, durations that keep their unit.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startKruimel, launchBrowser, SITE, PASSWORD, PHONE_USER_AGENT } from './harness.mjs';

const screenshots = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..', 'docs', 'screenshots');
let kruimel;
let browser;
// 30 pages, so a panel has more than its top ten; page n is seen by n % 4 + 1 visitors.
const PAGES = Array.from({ length: 30 }, (_, n) => `/wonen/afval/ophaaldagen-en-afvalkalender-${String(n).padStart(2, '0')}-per-wijk`);
let pageviews = 0;

before(async () => {
  kruimel = await startKruimel();
  kruimel.addUser('anna', [`${SITE}=viewer`]);
  for (const [n, path] of PAGES.entries()) {
    for (let visitor = 0; visitor <= n % 4; visitor++) {
      await kruimel.visit(SITE, ['/', path], { referrer: visitor % 2 ? 'https://www.google.nl/' : undefined, userAgent: n % 3 ? undefined : PHONE_USER_AGENT, width: n % 3 ? 1280 : 390 });
      pageviews += 2;
    }
  }
  await kruimel.settled(SITE, pageviews);
  browser = await launchBrowser();
});

after(async () => {
  if (browser) await browser.close();
  if (kruimel) await kruimel.stop();
});

async function open(path, { width = 1280, height = 900, touch = false } = {}) {
  const context = await browser.newContext({ viewport: { width, height }, hasTouch: touch, isMobile: touch });
  const page = await context.newPage();
  page.errors = [];
  page.on('pageerror', (error) => page.errors.push(error.message));
  const login = await context.request.post(`${kruimel.origin}/dashboard/api/login`, { data: { user: 'anna', password: PASSWORD } });
  assert.equal(login.status(), 200);
  await page.goto(`${kruimel.origin}/dashboard/${SITE}${path}`);
  await page.waitForSelector('main:not([aria-busy]) h1');
  await page.waitForSelector('.chart-frame svg path.line', { state: 'attached' });
  return page;
}

const hourNow = () => Number(new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Amsterdam', hour: '2-digit', hourCycle: 'h23' }).format(new Date()));
const tip = (page) => page.locator('.chart-tip');

for (const width of [360, 1280]) {
  test(`at ${width} px the chart is near the top, drawn up to now, with the previous period faint`, async () => {
    const page = await open('?period=day', { width, touch: width < 500 });
    const layout = await page.evaluate(() => ({
      chart: document.querySelector('.chart-section').getBoundingClientRect().top + scrollY,
      figures: document.querySelector('.figures').getBoundingClientRect().top + scrollY,
      scrollWidth: document.documentElement.scrollWidth,
    }));
    assert.ok(layout.chart < 520, `the chart starts ${layout.chart} px down`);
    if (width < 500) assert.ok(layout.chart < layout.figures, 'on a phone the chart comes before the figures');
    else assert.ok(layout.figures < layout.chart, 'on a wide screen the figures come first');
    assert.ok(layout.scrollWidth <= width, 'nothing scrolls sideways');
    // Hours still to come are neither listed nor drawn: the line ends at
    // the current hour, and the previous day is its own faint line.
    assert.equal(await page.locator('.chart-table tbody tr').count(), hourNow() + 1);
    const ends = await page.$$eval('.chart-svg path.series-visitors.line', (paths) => paths.map((path) => path.getBBox().x + path.getBBox().width));
    const hourX = await page.evaluate((hour) => {
      const svg = document.querySelector('.chart-svg');
      const ticks = [...svg.querySelectorAll('text.axis')].filter((text) => /^\d\d:00$/.test(text.textContent));
      // In the day's first hour there is one point, with one tick under it.
      if (ticks.length === 1) return Number(ticks[0].getAttribute('x'));
      const first = ticks[0];
      const second = ticks[1];
      const perHour = (second.getAttribute('x') - first.getAttribute('x')) / (Number(second.textContent.slice(0, 2)) - Number(first.textContent.slice(0, 2)));
      return Number(first.getAttribute('x')) + perHour * hour;
    }, hourNow());
    assert.ok(Math.max(...ends) <= hourX + 1, `the line ends at ${Math.max(...ends)}, now is at ${hourX}`);
    assert.equal(await page.locator('.chart-svg path.series-previous').count(), 1, 'the previous period is drawn');
    assert.match(await page.locator('.legend').textContent(), /Bezoekers, vorige periode/);
    mkdirSync(screenshots, { recursive: true });
    // With the tooltip of the current hour shown.
    await page.locator('.chart-frame').focus();
    await tip(page).waitFor();
    await page.screenshot({ path: join(screenshots, `dashboard-chart-${width}.png`) });
    assert.deepEqual(page.errors, []);
    await page.context().close();
  });
}

test('a week is drawn by day with a day on every tick, and by the hour on request', async () => {
  const page = await open('?period=7d');
  assert.equal(await page.locator('.chart-table tbody tr').count(), 7);
  const ticks = await page.$$eval('.chart-svg text.axis[text-anchor]', (texts) => texts.map((text) => text.textContent).filter((text) => /[a-z]/.test(text)));
  assert.equal(ticks.length, 7, `ticks: ${ticks}`);
  for (const tick of ticks) assert.match(tick, /^(ma|di|wo|do|vr|za|zo) \d{1,2} [a-z]{3}\.?$/, tick);
  assert.equal(await page.locator('[data-key="steps-day"]').getAttribute('aria-current'), 'true');

  await page.locator('[data-key="steps-hour"]').click();
  await page.waitForFunction(() => new URL(location.href).searchParams.get('interval') === 'hour');
  await page.waitForSelector('main:not([aria-busy]) h1');
  await page.waitForSelector('.chart-frame svg path.line', { state: 'attached' });
  assert.equal(await page.locator('.chart-table tbody tr').count(), 6 * 24 + hourNow() + 1);
  // By the hour a tick is still a day: one at each midnight.
  const hourly = await page.$$eval('.chart-svg text.axis[text-anchor]', (texts) => texts.map((text) => text.textContent).filter((text) => /[a-z]/.test(text)));
  assert.ok(hourly.length >= 4 && hourly.length <= 7, `ticks: ${hourly}`);
  for (const tick of hourly) assert.match(tick, /^(ma|di|wo|do|vr|za|zo) \d{1,2} [a-z]{3}\.?$/, tick);
  assert.equal(await page.locator('[data-key="steps-hour"]').getAttribute('aria-current'), 'true');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('the tooltip follows the keyboard: Tab to the chart, arrows, Home and End', async () => {
  const page = await open('?period=7d');
  // Reached by Tab, from the step links just before it.
  await page.locator('[data-key="steps-hour"]').focus();
  await page.keyboard.press('Tab');
  const chart = page.locator('.chart-frame');
  assert.ok(await chart.evaluate((frame) => frame === document.activeElement), 'Tab reaches the chart');
  assert.equal(await chart.getAttribute('role'), 'slider');
  assert.notEqual(await chart.evaluate((frame) => getComputedStyle(frame).outlineStyle), 'none', 'the focus is visible');
  // Focus shows the last point (today) with its figures.
  await tip(page).waitFor();
  const today = await page.$$eval('.chart-table tbody tr', (rows) => [...rows[rows.length - 1].children].map((cell) => cell.textContent));
  assert.match(await tip(page).textContent(), new RegExp(`^${today[0]}Bezoekers: ${today[1]}Paginaweergaven: ${today[3]}`));
  assert.equal(await chart.getAttribute('aria-valuenow'), '7');
  assert.match(await chart.getAttribute('aria-valuetext'), new RegExp(`^${today[0]}: Bezoekers: ${today[1]}, Paginaweergaven: ${today[3]}, Vorige periode: `));
  await page.keyboard.press('ArrowLeft');
  const yesterday = await page.$$eval('.chart-table tbody tr', (rows) => rows[rows.length - 2].children[0].textContent);
  assert.match(await tip(page).textContent(), new RegExp(`^${yesterday}`));
  assert.equal(await chart.getAttribute('aria-valuenow'), '6');
  await page.keyboard.press('Home');
  const first = await page.$$eval('.chart-table tbody tr', (rows) => rows[0].children[0].textContent);
  assert.match(await tip(page).textContent(), new RegExp(`^${first}`));
  assert.equal(await chart.getAttribute('aria-valuenow'), '1');
  await page.keyboard.press('ArrowLeft');
  assert.equal(await chart.getAttribute('aria-valuenow'), '1', 'the first point is the end');
  await page.keyboard.press('End');
  assert.equal(await chart.getAttribute('aria-valuenow'), '7');
  // The marker stands on the chosen point.
  assert.equal(await page.locator('.chart-svg line.guide').getAttribute('visibility'), 'visible');
  await page.keyboard.press('Escape');
  assert.ok(await tip(page).isHidden());
  await page.keyboard.press('Tab');
  assert.ok(await tip(page).isHidden(), 'the tooltip goes with the focus');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('the tooltip answers a tap on a phone', async () => {
  const page = await open('?period=7d', { width: 360, touch: true });
  const box = await page.locator('.chart-frame').boundingBox();
  await page.touchscreen.tap(box.x + box.width - 4, box.y + box.height / 2);
  await tip(page).waitFor();
  const today = await page.$$eval('.chart-table tbody tr', (rows) => rows[rows.length - 1].children[0].textContent);
  assert.match(await tip(page).textContent(), new RegExp(`^${today}`));
  const tipBox = await tip(page).boundingBox();
  assert.ok(tipBox.x >= 0 && tipBox.x + tipBox.width <= 360, `the tooltip stays on screen: ${JSON.stringify(tipBox)}`);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

// The cells of a panel's rows as seen (without the words for screen readers).
const rowsOf = (page, panel) =>
  page.$$eval(`[data-panel="${panel}"] tbody tr`, (rows) =>
    rows.map((row) =>
      [...row.children].map((cell) => {
        const copy = cell.cloneNode(true);
        for (const hidden of copy.querySelectorAll('.visually-hidden')) hidden.remove();
        return copy.textContent.trim();
      }),
    ),
  );

test('"meer" opens the whole list in pages, a search narrows it, and any column sorts it', async () => {
  const page = await open('?period=day');
  const api = (await kruimel.stats(`/api/v1/stats/breakdown?site_id=${SITE}&period=day&property=event:page&metrics=visitors,pageviews&limit=1000`)).results;
  assert.equal(api.length, 31);
  assert.equal((await rowsOf(page, 'pages')).length, 10, 'the top ten first');
  await page.locator('[data-key="more-pages"]').click();
  const search = page.locator('[data-panel="pages"] input[type="search"]');
  await search.waitFor();
  assert.ok(await search.evaluate((input) => input === document.activeElement), 'the keyboard lands in the search box');
  assert.equal(await page.getByLabel('Zoeken in Pagina’s').count(), 1);
  // 31 rows, 25 a page.
  assert.deepEqual((await rowsOf(page, 'pages')).map((row) => row[0]), api.slice(0, 25).map((row) => row.page));
  assert.match(await page.locator('[data-panel="pages"] .pager').textContent(), /Pagina 1 van 2 \(31 rijen\)/);
  await page.locator('[data-key="next-pages"]').click();
  assert.deepEqual((await rowsOf(page, 'pages')).map((row) => row[0]), api.slice(25).map((row) => row.page));
  assert.ok(await page.evaluate(() => document.activeElement.dataset.key === 'previous-pages'), 'the keyboard stays in the pager');

  // A search finds rows beyond the top ten.
  await search.fill('-2');
  const found = api.filter((row) => row.page.includes('-2'));
  assert.ok(found.length > 5);
  assert.deepEqual((await rowsOf(page, 'pages')).map((row) => row[0]), found.map((row) => row.page));
  assert.ok(await search.evaluate((input) => input === document.activeElement), 'typing keeps the focus');
  await search.fill('bestaat-niet');
  assert.match(await page.locator('[data-panel="pages"] .panel-results').textContent(), /Niets gevonden/);
  await search.fill('');

  // Sorting by a column, by keyboard: the page column A→Z, then Z→A.
  await page.locator('[data-key="sort-pages-page"]').focus();
  await page.keyboard.press('Enter');
  const sorted = [...api].sort((a, b) => a.page.localeCompare(b.page, 'nl', { numeric: true }));
  assert.deepEqual((await rowsOf(page, 'pages')).map((row) => row[0]), sorted.slice(0, 25).map((row) => row.page));
  assert.equal(await page.locator('[data-panel="pages"] th[aria-sort]').getAttribute('aria-sort'), 'ascending');
  assert.ok(await page.evaluate(() => document.activeElement.dataset.key === 'sort-pages-page'), 'the focus stays on the column');
  await page.keyboard.press('Enter');
  assert.equal((await rowsOf(page, 'pages'))[0][0], sorted[sorted.length - 1].page);
  assert.equal(await page.locator('[data-panel="pages"] th[aria-sort]').getAttribute('aria-sort'), 'descending');
  // Fewest visitors first: the whole list is sorted, not its top ten.
  await page.locator('[data-key="sort-pages-visitors"]').click();
  await page.locator('[data-key="sort-pages-visitors"]').click();
  const fewest = Math.min(...api.map((row) => row.visitors));
  assert.ok((await rowsOf(page, 'pages')).slice(0, 5).every((row) => row[1] === String(fewest)));

  // A panel that was not opened sorts its whole list too.
  await page.locator('[data-key="sort-sources-visitors"]').click();
  await page.locator('[data-key="sort-sources-visitors"]').click();
  const sources = (await kruimel.stats(`/api/v1/stats/breakdown?site_id=${SITE}&period=day&property=visit:source&metrics=visitors,visits`)).results;
  assert.deepEqual((await rowsOf(page, 'sources')).map((row) => row[1]), sources.map((row) => String(row.visitors)).sort((a, b) => a - b));

  // "Minder tonen" closes the list again.
  await page.locator('[data-key="less-pages"]').click();
  assert.equal((await rowsOf(page, 'pages')).length, 10);
  assert.ok(await search.isHidden());
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

// Runs of letters and digits in a panel's page cells that lie on more
// than one line, and the most lines a cell takes.
function pathBreaks(page, panels) {
  const selector = panels.map((panel) => `[data-panel="${panel}"] tbody .label-text`).join(', ');
  return page.$$eval(selector, (cells) => {
    const found = [];
    for (const cell of cells) {
      const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
      for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        if (node.parentElement.closest('.visually-hidden')) continue;
        for (const match of node.textContent.matchAll(/[\p{L}\p{N}]+/gu)) {
          const range = document.createRange();
          range.setStart(node, match.index);
          range.setEnd(node, match.index + match[0].length);
          const tops = new Set([...range.getClientRects()].map((rect) => Math.round(rect.top)));
          if (tops.size > 1) found.push(`${match[0]} in ${node.textContent}`);
        }
      }
    }
    const lines = Math.max(...cells.map((cell) => Math.round(cell.getBoundingClientRect().height / parseFloat(getComputedStyle(cell).lineHeight || 20))));
    return { broken: found, lines };
  });
}

test('at 1280 px a path wraps only between its words, and a duration keeps its unit', async () => {
  // Unfiltered, the pages panel has scroll depth and time on page and the
  // whole width; filtered on a source it has two figures and half of it.
  const page = await open('?period=day');
  assert.deepEqual((await pathBreaks(page, ['pages', 'entry'])).broken, []);
  // A duration's number and unit are joined by no-break spaces.
  const duration = await page.locator('[data-metric="visit_duration"] .metric-value').textContent();
  assert.match(duration, /^\d+\u00a0s$|^\d+\u00a0min\u00a0\d+\u00a0s$/);
  assert.deepEqual(page.errors, []);
  await page.context().close();
  const narrow = await open(`?period=day&filter=${encodeURIComponent('visit:source==Google')}`);
  const { broken, lines } = await pathBreaks(narrow, ['pages']);
  assert.deepEqual(broken, []);
  // The long paths did wrap (between words), so the test saw real wrapping.
  assert.ok(lines >= 2, 'a long path takes more than one line');
  assert.deepEqual(narrow.errors, []);
  await narrow.context().close();
});

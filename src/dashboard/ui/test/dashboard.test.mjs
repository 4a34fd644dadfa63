// The dashboard in Chromium against the real server: sign-in (a failed one,
// and one with a second factor), the overview's numbers against the stats
// API's, filtering by a row and removing the chip by keyboard, the event
// property keys and their values, changing the period, a panel's CSV,
// sign-out, and the Content-Security-Policy.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startKruimel, launchBrowser, totpCode, SITE, PASSWORD, USER_AGENT, PHONE_USER_AGENT } from './harness.mjs';

let kruimel;
let browser;
const METRICS = 'visitors,visits,pageviews,views_per_visit,bounce_rate,visit_duration';

before(async () => {
  kruimel = await startKruimel();
  kruimel.addUser('anna', [`${SITE}=viewer`]);
  kruimel.addUser('bram', [`${SITE}=admin`]);
  const bramSecret = kruimel.enableTotp('bram');
  kruimel.bramSecret = bramSecret;
  // Two visitors from Google, one from a newsletter campaign, one direct on
  // a phone; custom events, a download, an outbound link and a 404.
  await kruimel.visit(SITE, ['/', '/afval', '/afval/kalender'], { referrer: 'https://www.google.nl/' });
  await kruimel.visit(SITE, ['/afval'], { referrer: 'https://www.google.com/', engagement: { sd: 75, e: 42_000 }, events: [{ name: 'Formulier verzonden', props: { formulier: 'melding' } }] });
  await kruimel.visit(SITE, ['/parkeren?utm_source=nieuwsbrief&utm_medium=email&utm_campaign=parkeren-2026', '/parkeren/vergunning'], {
    events: [{ name: 'File Download', props: { url: 'https://gemeente.test/files/tarieven.pdf' } }],
  });
  await kruimel.visit(SITE, ['/', '/bestaat-niet'], { width: 390, userAgent: PHONE_USER_AGENT, events: [{ name: '404', props: { path: '/bestaat-niet' } }, { name: 'Outbound Link: Click', props: { url: 'https://www.rijksoverheid.nl/onderwerpen' } }] });
  await kruimel.settled(SITE, 8);
  browser = await launchBrowser();
});

after(async () => {
  if (browser) await browser.close();
  if (kruimel) await kruimel.stop();
});

async function newPage() {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (error) => errors.push(error.message));
  page.errors = errors;
  return page;
}

// Until the view has finished loading (the page clears aria-busy).
const settled = (page) => page.waitForSelector('main:not([aria-busy]) h1');

async function signIn(page, user = 'anna', password = PASSWORD) {
  await page.goto(`${kruimel.origin}/dashboard`);
  await page.getByLabel('Gebruikersnaam').fill(user);
  await page.getByLabel('Wachtwoord').fill(password);
  await page.getByRole('button', { name: 'Inloggen' }).click();
  if (password === PASSWORD && user === 'anna') await page.getByRole('heading', { level: 1, name: 'Je websites' }).waitFor();
}

// The hour now in the sites' time zone (Europe/Amsterdam).
const hourNow = () => Number(new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Amsterdam', hour: '2-digit', hourCycle: 'h23' }).format(new Date()));

async function panelRows(page, panel) {
  return page.$$eval(`[data-panel="${panel}"] tbody tr`, (rows) =>
    rows.map((row) =>
      [...row.children].map((cell) => {
        // What is seen: without the words for screen readers only.
        const copy = cell.cloneNode(true);
        for (const hidden of copy.querySelectorAll('.visually-hidden')) hidden.remove();
        return copy.textContent.trim();
      }),
    ),
  );
}

test('a wrong password is refused with a message, and the form stays', async () => {
  const page = await newPage();
  await signIn(page, 'anna', 'not the password at all');
  const alert = page.getByRole('alert');
  await alert.waitFor();
  assert.match(await alert.textContent(), /naam of het wachtwoord klopt niet/);
  assert.equal(await page.getByLabel('Wachtwoord').getAttribute('aria-invalid'), 'true');
  assert.ok(await page.evaluate(() => document.activeElement.id === 'login-password'));
  assert.equal((await page.context().request.get(`${kruimel.origin}/dashboard/api/session`)).status(), 401);
  await page.context().close();
});

test('signing in shows the user’s sites, and a site opens from the list', async () => {
  const page = await newPage();
  await signIn(page);
  await page.getByRole('heading', { level: 1, name: 'Je websites' }).waitFor();
  assert.equal(new URL(page.url()).pathname, '/dashboard');
  assert.match(await page.locator('header').textContent(), /Ingelogd als anna/);
  await page.getByRole('link', { name: SITE }).click();
  await page.getByRole('heading', { level: 1, name: `Statistieken van ${SITE}` }).waitFor();
  assert.equal(new URL(page.url()).pathname, `/dashboard/${SITE}`);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('an account with a second factor is asked for the six-digit code', async () => {
  const page = await newPage();
  await signIn(page, 'bram');
  const code = page.getByLabel('Code uit je authenticator-app');
  await code.waitFor();
  assert.ok(await code.evaluate((input) => input === document.activeElement));
  await code.fill('000000' === totpCode(kruimel.bramSecret) ? '111111' : '000000');
  await page.getByRole('button', { name: 'Inloggen' }).click();
  await page.getByRole('alert').filter({ hasText: 'De code klopt niet' }).waitFor();
  await code.fill(totpCode(kruimel.bramSecret));
  await page.getByRole('button', { name: 'Inloggen' }).click();
  await page.getByRole('heading', { level: 1, name: 'Je websites' }).waitFor();
  await page.context().close();
});

test('the overview shows the stats API’s numbers, in every figure and panel', async () => {
  const page = await newPage();
  await signIn(page);
  await page.goto(`${kruimel.origin}/dashboard/${SITE}?period=day`);
  await settled(page);
  const api = (await kruimel.stats(`/api/v1/stats/aggregate?site_id=${SITE}&period=day&metrics=${METRICS}&compare=previous_period`)).results;
  const shown = await page.$$eval('[data-metric]', (cards) =>
    Object.fromEntries(
      cards.map((card) => [
        card.dataset.metric,
        { value: card.dataset.value, text: card.querySelector('.metric-value').textContent, change: card.querySelector('.metric-change').dataset.change, changeText: card.querySelector('.metric-change').textContent },
      ]),
    ),
  );
  const nl = new Intl.NumberFormat('nl-NL');
  for (const [metric, { value }] of Object.entries(api)) {
    assert.equal(shown[metric].value, String(value), metric);
    // Yesterday had no visitors: against nothing a figure is new (or, at
    // zero, a dash), never "+100%".
    assert.equal(shown[metric].change, '', `${metric} change`);
    assert.doesNotMatch(shown[metric].changeText, /%/, metric);
    // In the first hour of a local day no whole hour has passed: the API
    // gives no change yet, and the figure says so instead of "nieuw".
    if (!('change' in api[metric])) {
      assert.doesNotMatch(shown[metric].changeText, /nieuw/, metric);
      continue;
    }
    assert.match(shown[metric].changeText, value > 0 ? /^nieuw – niets in de vorige periode om mee te vergelijken$/ : /^–niets in de vorige periode om mee te vergelijken$/, metric);
    assert.doesNotMatch(shown[metric].changeText, /%/, metric);
  }
  assert.equal(shown.visitors.text, nl.format(api.visitors.value));
  assert.equal(shown.pageviews.text, nl.format(api.pageviews.value));
  assert.equal(shown.views_per_visit.text, new Intl.NumberFormat('nl-NL', { minimumFractionDigits: 2 }).format(api.views_per_visit.value));
  assert.equal(shown.bounce_rate.text, `${api.bounce_rate.value}%`);
  assert.equal(api.visitors.value, 4);

  const pages = (await kruimel.stats(`/api/v1/stats/breakdown?site_id=${SITE}&period=day&property=event:page&metrics=visitors,pageviews,scroll_depth,time_on_page`)).results;
  // Scroll depth and time on page from the one engagement report, on /afval;
  // a page without one shows a dash.
  const measured = (value, shown) => (value === null ? '—' : shown);
  assert.deepEqual(
    await panelRows(page, 'pages'),
    pages.map((row) => [row.page, String(row.visitors), String(row.pageviews), measured(row.scroll_depth, `${row.scroll_depth}%`), measured(row.time_on_page, `${row.time_on_page}\u00a0s`)]),
  );
  assert.deepEqual(
    pages.filter((row) => row.scroll_depth !== null).map((row) => [row.page, row.scroll_depth, row.time_on_page]),
    [['/afval', 75, 42]],
  );
  assert.deepEqual(
    await page.$$eval('[data-panel="pages"] thead th', (cells) => cells.map((cell) => cell.querySelector('button').firstChild.textContent)),
    ['Pagina', 'Bezoekers', 'Weergaven', 'Scrolldiepte', 'Tijd op pagina'],
  );
  const sources = (await kruimel.stats(`/api/v1/stats/breakdown?site_id=${SITE}&period=day&property=visit:source&metrics=visitors,visits`)).results;
  assert.deepEqual(
    (await panelRows(page, 'sources')).map((row) => row[1]),
    sources.map((row) => String(row.visitors)),
  );
  // Built-in events have their own panels; a download has a '/', a link none.
  assert.deepEqual((await panelRows(page, 'goals')).map((row) => row[0]), ['Formulier verzonden']);
  assert.deepEqual((await panelRows(page, 'downloads')).map((row) => row[0]), ['gemeente.test/files/tarieven.pdf']);
  assert.deepEqual((await panelRows(page, 'outbound')).map((row) => row[0]), ['www.rijksoverheid.nl']);
  assert.deepEqual((await panelRows(page, 'notfound')).map((row) => row[0]), ['/bestaat-niet']);
  assert.deepEqual((await panelRows(page, 'utm_campaign')).map((row) => row[0]), ['parkeren-2026']);
  // The chart has its table, with the day's hours up to now (the rest is
  // still to come, and neither drawn nor listed).
  const tableRows = await page.locator('.chart-table tbody tr').count();
  assert.equal(tableRows, hourNow() + 1);
  await page.locator('.chart-table summary').click();
  const total = await page.$$eval('.chart-table tbody tr', (rows) => rows.reduce((sum, row) => sum + Number(row.children[3].textContent), 0));
  assert.equal(total, api.pageviews.value);
  assert.ok(await page.locator('svg.chart-svg path.line').count() >= 2, 'the chart draws its lines');
  // Realtime visitors: the API's number.
  const realtime = await kruimel.stats(`/api/v1/stats/realtime/visitors?site_id=${SITE}`);
  await page.waitForFunction((n) => document.querySelector('[data-realtime]').textContent === String(n), realtime);
  // The owner sees the consent panel.
  await page.locator('[data-panel="consent"]').waitFor();
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('following a row filters every panel, and the chip removes the filter by keyboard', async () => {
  const page = await newPage();
  await signIn(page);
  await page.goto(`${kruimel.origin}/dashboard/${SITE}?period=day`);
  await settled(page);
  await page.locator('[data-panel="sources"] a.filter-link', { hasText: 'Google' }).click();
  const chip = page.locator('button.chip');
  await chip.waitFor();
  await settled(page);
  assert.equal(new URL(page.url()).searchParams.get('filter'), 'visit:source==Google');
  assert.equal(await chip.getAttribute('data-filter'), 'visit:source==Google');
  assert.match(await chip.textContent(), /Bronnen: Google/);
  assert.ok(await chip.evaluate((button) => button === document.activeElement), 'focus moves to the chip');

  // Every panel is re-scoped: the figures and the pages are the API's with the filter.
  const filtered = (await kruimel.stats(`/api/v1/stats/aggregate?site_id=${SITE}&period=day&metrics=visitors,pageviews&filters=${encodeURIComponent('visit:source==Google')}`)).results;
  assert.equal(filtered.visitors.value, 2);
  assert.equal(await page.locator('[data-metric="visitors"]').getAttribute('data-value'), '2');
  assert.equal(await page.locator('[data-metric="pageviews"]').getAttribute('data-value'), String(filtered.pageviews.value));
  const pages = (await kruimel.stats(`/api/v1/stats/breakdown?site_id=${SITE}&period=day&property=event:page&metrics=visitors,pageviews&filters=${encodeURIComponent('visit:source==Google')}`)).results;
  assert.deepEqual((await panelRows(page, 'pages')).map((row) => row[0]), pages.map((row) => row.page));
  assert.ok(!(await panelRows(page, 'pages')).some((row) => row[0].startsWith('/parkeren')), 'pages of other sources are gone');
  assert.deepEqual((await panelRows(page, 'sources')).map((row) => row[0]), ['Google']);
  // The CSV and zip links carry the filter too.
  assert.match(await page.locator('[data-csv="pages"]').getAttribute('href'), /filters=visit%3Asource%3D%3DGoogle/);
  assert.match(await page.locator('[data-zip]').getAttribute('href'), /filters=visit%3Asource%3D%3DGoogle/);

  // Removed with the keyboard alone.
  await chip.focus();
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => !document.querySelector('button.chip'));
  await settled(page);
  assert.equal(new URL(page.url()).searchParams.get('filter'), null);
  assert.equal(await page.locator('[data-metric="visitors"]').getAttribute('data-value'), '4');
  // A filter link works from the keyboard too, and Back returns.
  await page.locator('[data-panel="devices"] a.filter-link', { hasText: 'Mobiel' }).focus();
  await page.keyboard.press('Enter');
  await chip.waitFor();
  await settled(page);
  assert.equal(await page.locator('[data-metric="visitors"]').getAttribute('data-value'), '1');
  await page.goBack();
  await page.waitForFunction(() => !document.querySelector('button.chip'));
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('filtered on a page, every figure says whose it is and none divides one group by another', async () => {
  const page = await newPage();
  await signIn(page);
  const filter = 'event:page==/parkeren';
  await page.goto(`${kruimel.origin}/dashboard/${SITE}?period=day&filter=${encodeURIComponent(filter)}`);
  await settled(page);
  const entered = 'visitors,pageviews,visits,bounce_rate,visit_duration';
  const api = (await kruimel.stats(`/api/v1/stats/aggregate?site_id=${SITE}&period=day&metrics=${entered}&filters=${encodeURIComponent(filter)}`)).results;
  const cards = await page.$$eval('[data-metric]', (all) => all.map((card) => [card.dataset.metric, card.dataset.value, card.querySelector('dt').textContent]));
  assert.deepEqual(
    cards,
    [
      ['visitors', String(api.visitors.value), 'Bezoekers van deze pagina'],
      ['pageviews', String(api.pageviews.value), 'Weergaven van deze pagina'],
      ['visits', String(api.visits.value), 'Bezoeken die hier begonnen'],
      ['bounce_rate', String(api.bounce_rate.value), 'Bouncepercentage van die bezoeken'],
      ['visit_duration', String(api.visit_duration.value), 'Bezoekduur van die bezoeken'],
    ],
    'no pages per visit: the page’s views over the visits begun there would mix two groups',
  );
  assert.match(await page.locator('.page-notice').textContent(), /begonnen/);
  // A panel's visits are those begun on the page, and say so.
  const headings = await page.$$eval('[data-panel="sources"] thead th', (cells) => cells.map((cell) => cell.textContent));
  assert.ok(headings.some((text) => text.startsWith('Hier begonnen')), headings.join(' | '));
  // The changes say what they compare, as the API does.
  const compared = (await kruimel.stats(`/api/v1/stats/aggregate?site_id=${SITE}&period=day&metrics=visitors&compare=previous_period`)).comparison;
  assert.match(await page.locator('[data-compared]').textContent(), compared.current.from === compared.current.until ? /Nog geen heel uur/ : /vergeleken met/);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('the properties panel lists the keys events carried, and a key shows its values, by mouse or keyboard', async () => {
  const page = await newPage();
  await signIn(page);
  await page.goto(`${kruimel.origin}/dashboard/${SITE}?period=day`);
  await settled(page);
  const keys = (await kruimel.stats(`/api/v1/stats/breakdown?site_id=${SITE}&period=day&property=event:props`)).results;
  assert.deepEqual(keys.map((row) => row.prop_key), ['url', 'formulier', 'path']);
  assert.deepEqual(await panelRows(page, 'props'), keys.map((row) => [row.prop_key, String(row.events)]));
  assert.equal(await page.locator('[data-panel="prop-values"]').count(), 0, 'no values before a key is chosen');
  assert.equal(await page.locator('[data-panel="props"] input:visible').count(), 0, 'no key to type');

  // A click shows the key's values, and marks the key.
  await page.locator('[data-panel="props"] a.row-link', { hasText: 'formulier' }).click();
  await page.waitForFunction(() => new URL(location.href).searchParams.get('prop') === 'formulier');
  await settled(page);
  const values = (await kruimel.stats(`/api/v1/stats/breakdown?site_id=${SITE}&period=day&property=event:props:formulier&metrics=visitors,events`)).results;
  assert.deepEqual(await panelRows(page, 'prop-values'), values.map((row) => [row.formulier, String(row.visitors), String(row.events)]));
  assert.deepEqual(await panelRows(page, 'prop-values'), [['melding', '1', '1']]);
  assert.match(await page.locator('[data-panel="prop-values"] h3').textContent(), /Waarden van “formulier”/);
  const current = page.locator('[data-panel="props"] a[aria-current="true"]');
  assert.equal(await current.getAttribute('data-value'), 'formulier');
  assert.ok(await current.evaluate((link) => link === document.activeElement), 'focus stays on the key');

  // The list exports like every panel.
  const csv = await page.context().request.get(new URL(await page.locator('[data-csv="props"]').getAttribute('href'), kruimel.origin).href);
  assert.equal(csv.status(), 200);
  // In Dutch: the form Dutch Excel opens, with the panel's own headers.
  assert.equal(await csv.text(), `\ufeffEigenschap;Aantal\r\n${keys.map((row) => `${row.prop_key};${row.events}`).join('\r\n')}\r\n`);

  // By keyboard alone: another key, then closing its values.
  await page.locator('[data-panel="props"] a.row-link', { hasText: 'path' }).focus();
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => new URL(location.href).searchParams.get('prop') === 'path');
  await settled(page);
  assert.deepEqual(await panelRows(page, 'prop-values'), [['/bestaat-niet', '1', '1']]);
  await page.locator('[data-key="prop-close"]').focus();
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => !new URL(location.href).searchParams.has('prop'));
  await settled(page);
  assert.equal(await page.locator('[data-panel="prop-values"]').count(), 0);
  assert.equal(await page.evaluate(() => document.activeElement.dataset.value), 'path', 'focus returns to the key');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('changing the period asks the server for that period and keeps it in the URL', async () => {
  const page = await newPage();
  await signIn(page);
  await page.goto(`${kruimel.origin}/dashboard/${SITE}`);
  await settled(page);
  // 30 days by default, counted daily.
  assert.equal(await page.locator('.period-list a[aria-current="true"]').textContent(), '30 dagen');
  assert.equal(await page.locator('.chart-table tbody tr').count(), 30);

  await page.getByRole('link', { name: 'Gisteren' }).click();
  await page.waitForFunction(() => new URL(location.href).searchParams.get('period') === 'day');
  await settled(page);
  const date = new URL(page.url()).searchParams.get('date');
  assert.match(date, /^\d{4}-\d{2}-\d{2}$/);
  assert.equal(await page.locator('.period-list a[aria-current="true"]').textContent(), 'Gisteren');
  const yesterday = (await kruimel.stats(`/api/v1/stats/aggregate?site_id=${SITE}&period=day&date=${date}&metrics=visitors`)).results;
  assert.equal(await page.locator('[data-metric="visitors"]').getAttribute('data-value'), String(yesterday.visitors.value));
  assert.equal(yesterday.visitors.value, 0);
  assert.ok(await page.evaluate(() => document.activeElement.dataset.key === 'period-yesterday'), 'focus stays on the period');

  await page.getByRole('link', { name: '12 maanden' }).click();
  await page.waitForFunction(() => new URL(location.href).searchParams.get('period') === '12mo');
  await settled(page);
  assert.equal(await page.locator('.chart-table tbody tr').count(), 12);
  assert.equal(await page.locator('[data-metric="visitors"]').getAttribute('data-value'), '4');

  // A custom range, by keyboard: today alone.
  await page.locator('.custom > summary').focus();
  await page.keyboard.press('Enter');
  const today = await page.locator('#custom-to').inputValue();
  await page.locator('#custom-from').fill(today);
  await page.locator('#custom-to').focus();
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => new URL(location.href).searchParams.get('period') === 'custom');
  await settled(page);
  assert.equal(new URL(page.url()).searchParams.get('date'), `${today},${today}`);
  assert.equal(await page.locator('[data-metric="pageviews"]').getAttribute('data-value'), '8');
  assert.equal(await page.locator('.chart-table tbody tr').count(), hourNow() + 1);
  // The link is the view: reloading shows the same.
  await page.reload();
  await settled(page);
  assert.equal(await page.locator('.custom > summary').getAttribute('aria-current'), 'true');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('a panel’s CSV opens in Dutch Excel with the panel’s columns, and the zip link gives a zip', async () => {
  const page = await newPage();
  await signIn(page);
  await page.goto(`${kruimel.origin}/dashboard/${SITE}?period=day`);
  await settled(page);
  const today = new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Amsterdam' }).format(new Date());
  for (const [panel, word] of [['pages', 'paginas'], ['sources', 'bronnen'], ['countries', 'landen']]) {
    const href = await page.locator(`[data-csv="${panel}"]`).getAttribute('href');
    const response = await page.context().request.get(new URL(href, kruimel.origin).href);
    assert.equal(response.status(), 200, panel);
    assert.match(response.headers()['content-type'], /text\/csv/);
    assert.equal(response.headers()['content-disposition'], `attachment; filename="${SITE}-${word}-${today}.csv"`);
    const bytes = await response.body();
    assert.deepEqual([...bytes.subarray(0, 3)], [0xef, 0xbb, 0xbf], `${panel}: UTF-8 with a byte order mark`);
    const [header, ...lines] = parseCsv(bytes.subarray(3).toString('utf8'), ';');
    // The headers are the panel's, in its order; where the panel shows a
    // formatted figure (75%, 1 min 3 s) the file's plain number names its unit.
    const columns = await page.$$eval(`[data-panel="${panel}"] thead th`, (cells) => cells.map((cell) => cell.querySelector('.sort-button').firstChild.textContent));
    const units = { Scrolldiepte: 'Scrolldiepte (%)', 'Tijd op pagina': 'Tijd op pagina (s)' };
    assert.deepEqual(header, columns.map((column) => units[column] || column), `${panel}: the panel's headers`);
    const rows = await panelRows(page, panel);
    assert.equal(lines.length, rows.length, `${panel}: one CSV line per row`);
    for (const [index, cells] of lines.entries()) {
      // Sources and countries show words and names; the CSV has the
      // server's values, which their filter links carry.
      const value = panel === 'pages' ? rows[index][0] : await page.locator(`[data-panel="${panel}"] tbody tr >> nth=${index}`).locator('a').getAttribute('data-value');
      assert.equal(cells[0], value, `${panel} row ${index}`);
      // A scroll depth (75%) and a time on page (42 s) are plain numbers in
      // the file, and a page not measured (—) an empty cell.
      const plain = (text) => (text === '—' ? '' : text.replace(/%$|\u00a0s$/, ''));
      assert.deepEqual(cells.slice(1), rows[index].slice(1).map(plain), `${panel} row ${index}`);
    }
  }
  // The API's own form is RFC 4180, as before.
  const api = await kruimel.stats(`/api/v1/stats/breakdown?site_id=${SITE}&period=day&property=event:page&metrics=visitors,pageviews`);
  const plain = await (await page.context().request.get(`${kruimel.origin}/api/v1/stats/breakdown?site_id=${SITE}&period=day&property=event:page&metrics=visitors,pageviews&format=csv`)).text();
  assert.equal(plain, `page,pageviews,visitors\n${api.results.map((row) => `${row.page},${row.pageviews},${row.visitors}`).join('\n')}\n`);
  const zip = await page.context().request.get(new URL(await page.locator('[data-zip]').getAttribute('href'), kruimel.origin).href);
  assert.equal(zip.status(), 200);
  assert.equal((await zip.body()).subarray(0, 2).toString(), 'PK');
  assert.equal(zip.headers()['content-disposition'], `attachment; filename="${SITE}-${today}.zip"`);
  assert.match(await page.locator('[data-zip]').getAttribute('href'), /lang=nl/);
  // Without the session cookie the same link answers nothing.
  assert.equal((await fetch(new URL(await page.locator('[data-csv="pages"]').getAttribute('href'), kruimel.origin))).status, 401);
  await page.context().close();
});

test('the goals panel shows conversions and their rate, and a goal filters the whole page to its visitors', async () => {
  const page = await newPage();
  await signIn(page);
  await page.goto(`${kruimel.origin}/dashboard/${SITE}?period=day`);
  await settled(page);
  const goals = (await kruimel.stats(`/api/v1/stats/breakdown?site_id=${SITE}&period=day&property=event:name&metrics=visitors,events,conversion_rate`)).results;
  const form = goals.find((row) => row.name === 'Formulier verzonden');
  assert.equal(form.visitors, 1);
  assert.equal(form.conversion_rate, 25);
  assert.deepEqual(await panelRows(page, 'goals'), [['Formulier verzonden', '1', '1', '25,0%']]);
  assert.deepEqual(await page.$$eval('[data-panel="goals"] thead th', (cells) => cells.map((cell) => cell.querySelector('.sort-button').firstChild.textContent)), ['Doel', 'Bezoekers', 'Aantal', 'Conversie']);

  await page.locator('[data-panel="goals"] a.filter-link', { hasText: 'Formulier verzonden' }).click();
  const chip = page.locator('button.chip');
  await chip.waitFor();
  await settled(page);
  assert.equal(new URL(page.url()).searchParams.get('filter'), 'event:goal==Formulier verzonden');
  assert.match(await chip.textContent(), /Doel: Formulier verzonden/);
  assert.ok(await chip.evaluate((button) => button === document.activeElement), 'focus moves to the chip');
  // The figures are the goal's: its visitors, events and rate.
  const goal = encodeURIComponent('event:goal==Formulier verzonden');
  const totals = (await kruimel.stats(`/api/v1/stats/aggregate?site_id=${SITE}&period=day&metrics=visitors,events,conversion_rate&filters=${goal}`)).results;
  assert.deepEqual(await page.$$eval('[data-metric]', (cards) => cards.map((card) => [card.dataset.metric, card.querySelector('dt').textContent, card.dataset.value])), [
    ['visitors', 'Conversies', String(totals.visitors.value)],
    ['events', 'Aantal keer', String(totals.events.value)],
    ['conversion_rate', 'Conversiepercentage', String(totals.conversion_rate.value)],
  ]);
  // Every other panel shows where those visitors came from.
  for (const [panel, property, field] of [['sources', 'visit:source', 'source'], ['pages', 'event:page', 'page'], ['devices', 'visit:device', 'device']]) {
    const rows = (await kruimel.stats(`/api/v1/stats/breakdown?site_id=${SITE}&period=day&property=${property}&metrics=visitors,events,conversion_rate&filters=${goal}`)).results;
    assert.ok(rows.length > 0, panel);
    const shown = await panelRows(page, panel);
    assert.deepEqual(shown.map((row) => row.slice(1, 3)), rows.map((row) => [String(row.visitors), String(row.events)]), panel);
    if (panel === 'sources') assert.deepEqual(shown.map((row) => row[0]), ['Google']);
    if (panel === 'pages') assert.deepEqual(shown.map((row) => row[0]), rows.map((row) => row[field]));
  }
  // Exit pages have no goal part, so the panel is not there.
  assert.equal(await page.locator('[data-panel="exit"]').count(), 0);
  assert.match(await page.locator('#chart-heading').textContent(), /Conversies in de tijd/);
  // The chip takes the goal away again.
  await chip.click();
  await page.waitForFunction(() => !document.querySelector('button.chip'));
  await settled(page);
  assert.equal(await page.locator('[data-metric="visits"]').count(), 1);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('English by the switch, remembered in the URL, with en-GB numbers and dates', async () => {
  const page = await newPage();
  await signIn(page);
  await page.goto(`${kruimel.origin}/dashboard/${SITE}?period=day`);
  await settled(page);
  await page.getByRole('link', { name: 'Switch to English' }).click();
  await page.getByRole('heading', { level: 1, name: `Statistics of ${SITE}` }).waitFor();
  await settled(page);
  assert.equal(await page.evaluate(() => document.documentElement.lang), 'en');
  assert.equal(new URL(page.url()).searchParams.get('lang'), 'en');
  assert.equal(new URL(page.url()).searchParams.get('period'), 'day');
  assert.equal(await page.locator('.period-list a[aria-current="true"]').textContent(), 'Today');
  assert.equal(await page.locator('.range').textContent(), 'Period: today up to now');
  // Links keep the language.
  assert.match(await page.getByRole('link', { name: '7 days' }).getAttribute('href'), /lang=en/);
  await page.context().close();
});

test('signing out ends the session; the site then asks to sign in', async () => {
  const page = await newPage();
  await signIn(page);
  await page.getByRole('heading', { level: 1, name: 'Je websites' }).waitFor();
  const logout = page.waitForRequest((request) => request.url().endsWith('/dashboard/api/logout'));
  await page.getByRole('button', { name: 'Uitloggen' }).click();
  const request = await logout;
  assert.match(request.headers()['x-csrf-token'], /^[0-9a-f]{16,}$/);
  await page.getByText('Je bent uitgelogd.').waitFor();
  assert.equal(new URL(page.url()).pathname, '/dashboard/login');
  assert.equal((await page.context().request.get(`${kruimel.origin}/dashboard/api/session`)).status(), 401);
  await page.goto(`${kruimel.origin}/dashboard/${SITE}`);
  await page.getByLabel('Gebruikersnaam').waitFor();
  assert.match(await page.locator('main').textContent(), /niet openbaar/);
  assert.equal(new URL(page.url()).searchParams.get('next'), `/dashboard/${SITE}`);
  // Signing in again returns to the site.
  await page.getByLabel('Gebruikersnaam').fill('anna');
  await page.getByLabel('Wachtwoord').fill(PASSWORD);
  await page.getByRole('button', { name: 'Inloggen' }).click();
  await page.getByRole('heading', { level: 1, name: `Statistieken van ${SITE}` }).waitFor();
  await page.context().close();
});

test('the Content-Security-Policy blocks inline script on the dashboard', async () => {
  const context = await browser.newContext({ userAgent: USER_AGENT });
  const page = await context.newPage();
  const response = await page.goto(`${kruimel.origin}/dashboard/login`);
  assert.match(response.headers()['content-security-policy'], /script-src 'self'/);
  await page.getByLabel('Gebruikersnaam').waitFor();
  const violations = [];
  await page.exposeFunction('reportViolation', (directive) => violations.push(directive));
  await page.evaluate(() => document.addEventListener('securitypolicyviolation', (event) => window.reportViolation(event.effectiveDirective)));
  await page.addScriptTag({ content: 'window.injected = true;' }).catch(() => {});
  await page.evaluate(() => {
    const div = document.createElement('div');
    div.innerHTML = '<img src="x" onerror="window.injectedHandler = true">';
    document.body.append(div);
  });
  await page.waitForTimeout(300);
  assert.equal(await page.evaluate(() => window.injected), undefined);
  assert.equal(await page.evaluate(() => window.injectedHandler), undefined);
  assert.ok(violations.some((directive) => directive.startsWith('script-src')), `violations: ${violations}`);
  await context.close();
});

// A CSV text as rows of cells (quotes as in RFC 4180), on `delimiter`.
function parseCsv(text, delimiter) {
  const rows = [];
  let row = [];
  let cell = '';
  let quoted = false;
  for (let at = 0; at < text.length; at++) {
    const char = text[at];
    if (quoted) {
      if (char === '"' && text[at + 1] === '"') {
        cell += '"';
        at++;
      } else if (char === '"') quoted = false;
      else cell += char;
    } else if (char === '"' && cell === '') quoted = true;
    else if (char === delimiter) {
      row.push(cell);
      cell = '';
    } else if (char === '\r' && text[at + 1] === '\n') {
      // The line ends at the \n.
    } else if (char === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
    } else cell += char;
  }
  if (cell !== '' || row.length) rows.push([...row, cell]);
  return rows;
}

// Share links from the dashboard: a site's administrator makes one (its
// full link shown once), a fresh browser without a session opens it and
// sees the overview with small numbers folded (k = 3: a page of k − 1
// visitors absent), the administrator revokes it after confirming, and the
// link then says it does not work. A viewer gets no sharing section, and
// axe-core finds nothing on it in Dutch and English at 1280 and 320 px.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startKruimel, launchBrowser, axePath, SITE, SHARE, PASSWORD, K } from './harness.mjs';

let kruimel;
let browser;

before(async () => {
  kruimel = await startKruimel();
  kruimel.addUser('beheerder', [`${SITE}=admin`]);
  kruimel.addUser('lezer', [`${SITE}=viewer`]);
  // K visitors read /afval, K − 1 read /klein (and each also the home page).
  for (let visitor = 0; visitor < K; visitor++) await kruimel.visit(SITE, ['/', '/afval']);
  for (let visitor = 0; visitor < K - 1; visitor++) await kruimel.visit(SITE, ['/', '/klein']);
  await kruimel.settled(SITE, 4 * K - 2);
  browser = await launchBrowser();
});

after(async () => {
  if (browser) await browser.close();
  if (kruimel) await kruimel.stop();
});

const settled = (page) => page.waitForSelector('main:not([aria-busy]) h1');

async function signedInPage(user, options = {}) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, ...options });
  const response = await context.request.post(`${kruimel.origin}/dashboard/api/login`, { data: { user, password: PASSWORD } });
  assert.equal(response.status(), 200);
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (error) => errors.push(error.message));
  page.errors = errors;
  return page;
}

async function freshPage() {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const requests = [];
  page.on('request', (request) => requests.push(request.url()));
  page.requests = requests;
  return page;
}

const focused = (page) => page.evaluate(() => ({ tag: document.activeElement.tagName, text: document.activeElement.textContent, data: { ...document.activeElement.dataset } }));
const liveRegion = (page, text) => page.waitForFunction((words) => document.getElementById('status').textContent.includes(words), text);

test('an administrator makes a share link, a reader without a session opens it, and revoking it stops it', async () => {
  const page = await signedInPage('beheerder', { permissions: ['clipboard-read', 'clipboard-write'] });
  const requests = [];
  page.on('request', (request) => requests.push(request.url()));
  await page.goto(`${kruimel.origin}/dashboard/${SITE}?period=day`);
  await settled(page);
  // Signed in, the site's time zone comes from the session.
  assert.ok(!requests.some((url) => url.includes('/privacy/')), requests.join('\n'));
  await page.getByRole('link', { name: 'Delen' }).click();
  await page.getByRole('heading', { level: 1, name: `Delen: ${SITE}` }).waitFor();
  assert.equal(new URL(page.url()).pathname, `/dashboard/${SITE}/sharing`);
  assert.match(await page.locator('main').textContent(), new RegExp(`minder dan ${K} bezoekers`));
  await page.locator('[data-share-none]').waitFor();

  // An empty name is refused in words, next to the field.
  await page.getByRole('button', { name: 'Deellink maken' }).click();
  await page.getByRole('alert').filter({ hasText: '1 tot 100 tekens' }).waitFor();
  assert.equal(await page.getByLabel('Naam van de link').getAttribute('aria-invalid'), 'true');
  assert.equal((await focused(page)).data.key, 'share-name');

  await page.getByLabel('Naam van de link').fill('Raadsleden');
  await page.getByRole('button', { name: 'Deellink maken' }).click();
  await page.getByRole('heading', { level: 3, name: 'Deellink “Raadsleden” gemaakt' }).waitFor();
  await liveRegion(page, 'Deellink “Raadsleden” gemaakt');
  // The full link, focused, with the note that it is shown only now.
  const url = await page.getByLabel('De volledige deellink', { exact: true }).inputValue();
  assert.match(url, new RegExp(`^${kruimel.origin.replace(/\./g, '\\.')}/dashboard/${SITE.replace('.', '\\.')}\\?share=[0-9a-f]{64}$`));
  assert.equal(await page.evaluate(() => document.activeElement.dataset.shareUrl), '');
  assert.match(await page.locator('.share-result').textContent(), /niet nog een keer getoond/);
  await page.getByRole('button', { name: 'Link kopiëren' }).click();
  await liveRegion(page, 'De link is gekopieerd.');
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), url);
  // The list names it, and no secret.
  const item = page.locator('[data-share-link]', { hasText: 'Raadsleden' });
  await item.waitFor();
  assert.match(await item.textContent(), /door beheerder/);
  const secret = new URL(url).searchParams.get('share');
  assert.ok(!(await page.locator('.share-list').textContent()).includes(secret));

  // A reader without a session sees the folded overview.
  const reader = await freshPage();
  await reader.goto(url);
  await settled(reader);
  const readerText = await reader.locator('main').textContent();
  assert.match(readerText, /Gedeeld overzicht/);
  assert.match(readerText, new RegExp(`minder dan ${K} bezoekers`));
  const shown = await reader.$$eval('[data-panel="pages"] tbody th', (cells) => cells.map((cell) => cell.textContent.trim()));
  assert.ok(shown.some((text) => text.startsWith('/afval')), `shown: ${shown}`);
  assert.ok(!readerText.includes('/klein'), `shown: ${shown}`);
  assert.equal(await reader.locator('[data-metric="visitors"]').getAttribute('data-value'), String(2 * K - 1));

  // Revoking takes a second press; Escape backs out of the first.
  await item.getByRole('button', { name: 'Intrekken: Raadsleden' }).click();
  assert.equal((await focused(page)).text, 'Ja, intrekken');
  assert.match(await item.getByRole('group').textContent(), /Deellink “Raadsleden” intrekken\?/);
  await page.keyboard.press('Escape');
  assert.equal(await item.getByRole('button', { name: 'Ja, intrekken' }).count(), 0);
  assert.equal((await focused(page)).data.revoke, (await item.getAttribute('data-share-link')));
  await page.keyboard.press('Enter');
  await item.getByRole('button', { name: 'Ja, intrekken' }).click();
  await liveRegion(page, 'Deellink “Raadsleden” is ingetrokken.');
  await page.locator('[data-share-none]').waitFor();
  assert.equal(await page.evaluate(() => document.activeElement.id), 'share-list-heading');

  // The link now says it does not work.
  await reader.reload();
  await reader.getByRole('alert').filter({ hasText: 'deellink werkt niet' }).waitFor();
  assert.equal(await reader.locator('[data-metric]').count(), 0);
  assert.deepEqual(page.errors, []);
  await reader.context().close();
  await page.context().close();
});

test('a public reader is told k, from the privacy JSON', async () => {
  const page = await freshPage();
  const response = await fetch(`${kruimel.origin}/privacy/${SITE}.json`);
  assert.equal((await response.json()).settings.k_anonymity, K);
  // Through the share link configured in the harness.
  await page.goto(`${kruimel.origin}/dashboard/${SITE}?period=day&share=${SHARE}&lang=en`);
  await settled(page);
  assert.match(await page.locator('main').textContent(), new RegExp(`fewer than ${K} visitors`));
  assert.ok(page.requests.some((url) => url.includes(`/privacy/${SITE}.json`)));
  await page.context().close();
});

test('a viewer sees no sharing section, and the server refuses a viewer too', async () => {
  const page = await signedInPage('lezer');
  await page.goto(`${kruimel.origin}/dashboard/${SITE}?period=day`);
  await settled(page);
  assert.equal(await page.getByRole('link', { name: 'Delen' }).count(), 0);
  await page.goto(`${kruimel.origin}/dashboard/${SITE}/sharing`);
  await settled(page);
  await page.getByRole('alert').filter({ hasText: 'Alleen beheerders' }).waitFor();
  assert.equal(await page.getByLabel('Naam van de link').count(), 0);
  assert.equal(await page.locator('.share-list').count(), 0);
  const session = await (await page.context().request.get(`${kruimel.origin}/dashboard/api/session`)).json();
  const refused = await page.context().request.post(`${kruimel.origin}/dashboard/api/sites/${SITE}/share-links`, {
    data: { name: 'stiekem' },
    headers: { 'X-CSRF-Token': session.csrf },
  });
  assert.equal(refused.status(), 403);
  assert.equal((await refused.json()).code, 'forbidden');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('a signed-out reader of the sharing page is asked to sign in', async () => {
  const page = await freshPage();
  await page.goto(`${kruimel.origin}/dashboard/${SITE}/sharing`);
  await page.getByLabel('Gebruikersnaam').waitFor();
  assert.equal(new URL(page.url()).searchParams.get('next'), `/dashboard/${SITE}/sharing`);
  await page.context().close();
});

// The CSP rightly refuses an injected axe, so only these contexts bypass it.
for (const lang of ['nl', 'en']) {
  for (const width of [1280, 320]) {
    test(`axe finds no violations on the sharing section, ${lang} at ${width} px`, async () => {
      const page = await signedInPage('beheerder', { bypassCSP: true, viewport: { width, height: 900 } });
      await page.goto(`${kruimel.origin}/dashboard/${SITE}/sharing?lang=${lang}`);
      await settled(page);
      const say = lang === 'nl' ? { name: 'Naam van de link', create: 'Deellink maken', revoke: 'Intrekken' } : { name: 'Name of the link', create: 'Make share link', revoke: 'Revoke' };
      // With a link made (the once-shown box), an error shown, and a
      // confirm step open: every state of the section.
      await page.getByRole('button', { name: say.create }).click();
      await page.locator('#share-name-error:not([hidden])').waitFor();
      await page.getByLabel(say.name).fill(`axe ${lang} ${width}`);
      await page.getByRole('button', { name: say.create }).click();
      await page.locator('.share-result').waitFor();
      await page.locator('[data-share-link]', { hasText: `axe ${lang} ${width}` }).waitFor();
      await page.locator('[data-share-link]', { hasText: `axe ${lang} ${width}` }).getByRole('button', { name: say.revoke }).click();
      await page.locator('.share-confirm').waitFor();
      await page.addScriptTag({ path: axePath });
      const results = await page.evaluate(() =>
        window.axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] } }),
      );
      const passed = results.passes.map((rule) => rule.id);
      for (const rule of ['color-contrast', 'label', 'landmark-one-main', 'page-has-heading-one']) assert.ok(passed.includes(rule), `axe rule ${rule} did not pass`);
      const found = results.violations.map((v) => `${v.id} (${v.help}): ${v.nodes.slice(0, 5).map((n) => n.target.join(' ')).join(', ')}`);
      assert.deepEqual(found, []);
      const layout = await page.evaluate(() => ({ scrollWidth: document.documentElement.scrollWidth, width: innerWidth }));
      assert.ok(layout.scrollWidth <= layout.width, `the page scrolls sideways: ${JSON.stringify(layout)}`);
      await page.context().close();
    });
  }
}

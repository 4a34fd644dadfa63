// The consent notice in a real browser against the real server: every
// choice must end up in the visitor's cookie and in the receipt's history
// on the server, and blocked content must wait for it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startKruimel,
  startPages,
  launchBrowser,
  newVisitor,
  eventually,
  consentCookie,
  POLICY,
} from './harness.mjs';

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

const dialog = (page) => page.locator('kruimel-notice [role=dialog]');
const placeholder = (page) => page.locator('kruimel-placeholder');
const mediaRequests = () => pages.requests.filter((request) => request.startsWith('media.'));

// The focused element, looking into shadow roots: a short description.
const focused = (page) =>
  page.evaluate(() => {
    let element = document.activeElement;
    while (element && element.shadowRoot && element.shadowRoot.activeElement) element = element.shadowRoot.activeElement;
    return element ? element.id || element.getAttribute('role') || element.textContent.trim() : null;
  });

// A visitor on a fresh page, with every kruimel:consent event kept.
async function visit(path = '/p/toestemming', options) {
  pages.requests.length = 0;
  const visitor = await newVisitor(browser, options);
  await visitor.context.addInitScript(() => {
    window.consentEvents = [];
    document.addEventListener('kruimel:consent', (event) => window.consentEvents.push(event.detail));
  });
  visitor.page = await visitor.context.newPage();
  await visitor.page.goto(pages.url(path));
  return visitor;
}

// Waits for the cookie to hold `granted` after a choice, and returns it with
// the receipt as the server keeps it.
async function recorded(context, granted, historyLength) {
  const cookie = await eventually(`a cookie granting ${granted}`, async () => {
    const cookie = await consentCookie(context);
    return cookie && cookie.policy == POLICY && cookie.granted.join() == granted.join() && cookie;
  });
  assert.equal(cookie.format, '1');
  assert.match(cookie.receipt, /^[0-9a-f]{32}$/);
  assert.ok(Math.abs(cookie.at - Date.now() / 1000) < 60, `cookie time ${cookie.at}`);
  // Six months (reask_days 182) unless configured otherwise; a technical
  // first-party cookie for this site only.
  assert.equal(cookie.cookie.sameSite, 'Lax');
  assert.ok(cookie.cookie.expires - Date.now() / 1000 > 180 * 86400, `expires ${cookie.cookie.expires}`);
  const receipt = await eventually('the receipt history', async () => {
    const receipt = await kruimel.receipt(cookie.receipt);
    return receipt.history.length == historyLength && receipt;
  });
  assert.equal(receipt.site, 'gemeente.test');
  return { cookie, receipt, history: receipt.history.map((entry) => [entry.method, entry.granted, entry.denied]) };
}

test('accept all: recorded in the cookie and the receipt, media loads, and a return visit asks nothing', async () => {
  const { context, page } = await visit();
  await dialog(page).waitFor();
  assert.equal(await focused(page), 'dialog', 'focus moves into the notice');
  // What the visitor reads and can do, in order.
  const [title, intro, purposes, ...rest] = await dialog(page).evaluate((element) =>
    [...element.children].map((child) => child.innerText.trim()),
  );
  assert.equal(title, 'Cookies op deze website');
  assert.match(intro, /^Deze website gebruikt alleen cookies .* Voor deze onderdelen vragen wij uw toestemming:$/);
  // What consent is for: the category, in a line, with the service on this page.
  assert.equal(
    purposes,
    `Externe media: Video's, kaarten en andere inhoud van andere websites. Die websites kunnen uw bezoek volgen. Op deze pagina: media.gemeente.test.`,
  );
  assert.deepEqual(rest, [
    'U kunt uw keuze altijd wijzigen via ‘Cookie-instellingen’.',
    'Alles accepteren\nAlles weigeren\nZelf kiezen',
    'Privacyverklaring',
  ]);
  await page.waitForTimeout(200);
  assert.deepEqual(mediaRequests(), [], 'nothing optional loads before a choice');
  assert.equal(await page.evaluate(() => window.mediaScriptRan), undefined);

  await page.getByRole('button', { name: 'Alles accepteren' }).click();
  const { cookie, receipt, history } = await recorded(context, ['media'], 1);
  assert.deepEqual(history, [['accept_all', ['media'], []]]);
  assert.equal(receipt.history[0].policy_version, POLICY);
  assert.equal(receipt.history[0].language, 'nl');
  assert.match(receipt.history[0].banner_version, /^[0-9a-f]{16}$/);
  await dialog(page).waitFor({ state: 'detached' });
  await eventually('the video loaded', () => mediaRequests().length == 1);
  assert.equal(await page.locator('#video').getAttribute('src'), `http://media.gemeente.test:${pages.port}/embed`);
  assert.equal(await page.evaluate(() => window.mediaScriptRan), 1);
  assert.equal(await placeholder(page).count(), 0);
  assert.deepEqual(await page.evaluate(() => window.consentEvents), [
    { granted: ['media'], denied: [], method: 'accept_all', receipt: cookie.receipt, policy_version: POLICY },
  ]);

  await page.reload();
  await eventually('the video loaded again', () => mediaRequests().length == 2);
  assert.equal(await dialog(page).count(), 0);
  assert.deepEqual(await page.evaluate(() => window.consentEvents), [
    { granted: ['media'], denied: [], method: 'stored', receipt: cookie.receipt, policy_version: POLICY },
  ]);
  assert.equal((await kruimel.receipt(cookie.receipt)).history.length, 1, 'a stored choice is not sent again');
  await context.close();
});

test('refuse all: recorded in the cookie and the receipt, media stays blocked behind its placeholder', async () => {
  const { context, page } = await visit();
  await page.getByRole('button', { name: 'Alles weigeren' }).click();
  const { history } = await recorded(context, [], 1);
  assert.deepEqual(history, [['reject_all', [], ['media']]]);
  await dialog(page).waitFor({ state: 'detached' });
  await page.waitForTimeout(200);
  assert.deepEqual(mediaRequests(), []);
  assert.equal(await page.locator('#video').getAttribute('src'), null);
  assert.equal(await page.locator('#video').isHidden(), true);
  assert.equal(await page.evaluate(() => window.mediaScriptRan), undefined);
  await placeholder(page).getByText('media.gemeente.test').waitFor();
  await placeholder(page).getByText('Externe media').waitFor();
  assert.equal((await page.evaluate(() => window.consentEvents))[0].method, 'reject_all');
  await context.close();
});

test('change: the settings layer appends a custom choice to the same receipt and unloads media', async () => {
  const { context, page } = await visit();
  await page.getByRole('button', { name: 'Alles accepteren' }).click();
  const first = await recorded(context, ['media'], 1);
  await eventually('the video loaded', () => mediaRequests().length == 1);

  await page.click('#settings');
  await dialog(page).waitFor();
  const media = page.getByRole('checkbox', { name: 'Externe media' });
  assert.equal(await media.isChecked(), true, 'the settings show the stored choice');
  assert.equal(await page.getByRole('checkbox', { name: /Noodzakelijk/ }).isDisabled(), true);
  await media.uncheck();
  await page.getByRole('button', { name: 'Keuze opslaan' }).click();

  const second = await recorded(context, [], 2);
  assert.equal(second.cookie.receipt, first.cookie.receipt, 'one receipt, a longer history');
  assert.deepEqual(second.history, [
    ['accept_all', ['media'], []],
    ['custom', [], ['media']],
  ]);
  await placeholder(page).waitFor();
  assert.equal(await page.locator('#video').getAttribute('src'), null);
  await context.close();
});

test('withdraw: kruimel("consent", "withdraw") appends a withdrawal and blocks media again', async () => {
  const { context, page } = await visit();
  await page.getByRole('button', { name: 'Alles accepteren' }).click();
  const first = await recorded(context, ['media'], 1);
  await page.evaluate(() => window.kruimel('consent', 'withdraw'));
  const second = await recorded(context, [], 2);
  assert.equal(second.cookie.receipt, first.cookie.receipt);
  assert.deepEqual(second.history, [
    ['accept_all', ['media'], []],
    ['withdraw', [], ['media']],
  ]);
  await placeholder(page).waitFor();
  assert.deepEqual(
    (await page.evaluate(() => window.consentEvents)).map((event) => [event.method, event.granted]),
    [['accept_all', ['media']], ['withdraw', []]],
  );
  await context.close();
});

test('a blocked iframe loads only after consent: once from its placeholder, or always', async () => {
  const { context, page } = await visit();
  await placeholder(page).waitFor();
  await page.waitForTimeout(200);
  assert.deepEqual(mediaRequests(), []);

  // Load once: this page view only, and nothing recorded.
  await placeholder(page).getByRole('button', { name: 'Eenmalig laden' }).click();
  await eventually('the video loaded once', () => mediaRequests().length == 1);
  assert.equal(await placeholder(page).count(), 0);
  assert.equal(await focused(page), 'video', 'focus goes to the content that replaced the button');
  assert.equal(await consentCookie(context), null);
  assert.equal(await dialog(page).count(), 1, 'the notice still asks');

  await page.reload();
  await placeholder(page).waitFor();
  await page.waitForTimeout(200);
  assert.equal(mediaRequests().length, 1, 'blocked again on the next page view');

  // Always allow: a custom choice granting the category, which also answers
  // the notice. The visitor scrolls the placeholder out from under it.
  await placeholder(page).evaluate((element) => element.scrollIntoView({ block: 'start' }));
  await placeholder(page).getByRole('button', { name: 'Altijd toestaan' }).click();
  const { history } = await recorded(context, ['media'], 1);
  assert.deepEqual(history, [['custom', ['media'], []]]);
  await eventually('the video loaded', () => mediaRequests().length == 2);
  assert.equal(await dialog(page).count(), 0);
  await context.close();
});

test('the cookie settings link reopens the notice with the keyboard alone, and focus returns', async () => {
  const { context, page } = await visit();
  await page.getByRole('button', { name: 'Alles accepteren' }).click();
  await recorded(context, ['media'], 1);
  await page.reload();
  await page.waitForFunction(() => window.consentEvents.length == 1);

  // Tab from the top of the page to the link in the footer.
  for (let step = 0; step < 30 && (await focused(page)) != 'settings'; step++) await page.keyboard.press('Tab');
  assert.equal(await focused(page), 'settings');
  await page.keyboard.press('Enter');
  await dialog(page).waitFor();
  assert.equal(await focused(page), 'dialog', 'focus moves into the notice');

  // Escape closes a reopened notice without a new choice.
  await page.keyboard.press('Escape');
  await dialog(page).waitFor({ state: 'detached' });
  assert.equal(await focused(page), 'settings', 'focus returns to the link');

  await page.keyboard.press('Enter');
  await dialog(page).waitFor();
  await page.keyboard.press('Tab'); // the necessary checkbox is disabled: the media one is next
  assert.equal(await focused(page), 'c-media');
  await page.keyboard.press('Space');
  assert.equal(await page.getByRole('checkbox', { name: 'Externe media' }).isChecked(), false);
  await page.keyboard.press('Tab');
  assert.equal(await focused(page), 'Keuze opslaan');
  await page.keyboard.press('Enter');
  await dialog(page).waitFor({ state: 'detached' });
  assert.equal(await focused(page), 'settings', 'focus returns to the link');
  const { history } = await recorded(context, [], 2);
  assert.deepEqual(history.map(([method]) => method), ['accept_all', 'custom']);
  await context.close();
});

test('the notice asks again when the policy version changed, or the choice is older than reask_days', async () => {
  const { context, page } = await visit();
  await page.getByRole('button', { name: 'Alles weigeren' }).click();
  const { cookie } = await recorded(context, [], 1);
  // The cookie as an earlier choice granting media left it.
  const replaceCookie = (fields) =>
    context.addCookies([
      { ...cookie.cookie, value: encodeURIComponent(['1', cookie.receipt, fields.policy, 'media', fields.at].join('|')) },
    ]);

  await replaceCookie({ policy: '2025-1', at: cookie.at });
  await page.reload();
  await dialog(page).waitFor();
  assert.equal(await page.locator('#video').getAttribute('src'), null, 'a choice under another policy grants nothing');
  await page.getByRole('button', { name: 'Alles accepteren' }).click();
  const second = await recorded(context, ['media'], 2);
  assert.equal(second.cookie.receipt, cookie.receipt, 'the choice under the new policy joins the same receipt');

  await replaceCookie({ policy: POLICY, at: Math.floor(Date.now() / 1000) - 183 * 86400 });
  await page.reload();
  await dialog(page).waitFor();
  await page.waitForTimeout(200);
  assert.equal(await page.locator('#video').getAttribute('src'), null, 'an expired choice grants nothing');
  await context.close();
});

test('Global Privacy Control: refusal recorded as privacy_signal, no notice, no beacon', async () => {
  pages.requests.length = 0;
  const { context, beacons } = await newVisitor(browser);
  await context.addInitScript(() =>
    Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', { get: () => true }),
  );
  const page = await context.newPage();
  await page.goto(pages.url('/p/gpc'));
  const { history } = await recorded(context, [], 1);
  assert.deepEqual(history, [['privacy_signal', [], ['media']]]);
  assert.equal(await dialog(page).count(), 0);
  await page.evaluate(() => window.kruimel('event', 'Niet verstuurd'));
  await page.click('#download');
  await page.waitForTimeout(300);
  assert.deepEqual(beacons, []);
  assert.deepEqual(mediaRequests(), []);
  await context.close();
});

// Writes the README's screenshots from the real server, with a morning's
// worth of made-up visits to a municipality's website:
//   docs/screenshots/dashboard-overview-nl.png  1280×900, the overview of today
//   docs/screenshots/privacy-page-nl.png        1280×900, the privacy page
// Visits are counted when they arrive, so the chart shows them in the
// current hour; the rest of the numbers look as they would at noon.
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startKruimel, launchBrowser, SITE, PASSWORD } from './harness.mjs';

const out = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..', 'docs', 'screenshots');
mkdirSync(out, { recursive: true });

// A fixed pseudo-random sequence, so every run seeds the same visits.
let state = 20261130;
const random = () => ((state = (state * 1103515245 + 12345) % 2147483648) / 2147483648);
const pick = (weighted) => {
  const total = weighted.reduce((sum, [, weight]) => sum + weight, 0);
  let at = random() * total;
  for (const [value, weight] of weighted) if ((at -= weight) < 0) return value;
  return weighted[0][0];
};

const PAGES = [
  [['/'], 30],
  [['/', '/afval', '/afval/afvalkalender'], 22],
  [['/afval/afvalkalender'], 14],
  [['/', '/parkeren', '/parkeren/vergunning-aanvragen'], 10],
  [['/paspoort-en-id-kaart', '/afspraak-maken'], 12],
  [['/', '/verhuizen'], 8],
  [['/evenementen/koningsdag-2026'], 6],
  [['/vacatures', '/vacatures/beleidsmedewerker-wonen'], 5],
  [['/', '/contact'], 6],
];
const REFERRERS = [
  [undefined, 30],
  ['https://www.google.nl/', 40],
  ['https://www.bing.com/', 6],
  ['https://duckduckgo.com/', 5],
  ['https://www.facebook.com/', 6],
  ['https://www.linkedin.com/', 3],
  ['https://www.rijksoverheid.nl/', 4],
];
const AGENTS = [
  ['Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36', 30],
  ['Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36 Edg/126.0.0.0', 12],
  ['Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0', 8],
  ['Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15', 8],
  ['Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1', 20],
  ['Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36', 18],
  ['Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1', 4],
];
// Networks the CC0 country database places in these countries.
const NETWORKS = [
  ['145.97', 30],
  ['84.24', 25],
  ['82.161', 20],
  ['62.195', 15],
  ['81.240', 5],
  ['217.0', 4],
  ['86.192', 1],
];

const kruimel = await startKruimel();
kruimel.addUser('anna', [`${SITE}=admin`]);
let pageviews = 0;
for (let visitor = 0; visitor < 240; visitor++) {
  const pages = pick(PAGES);
  const campaign = random() < 0.08;
  const first = campaign ? `${pages[0]}?utm_source=nieuwsbrief&utm_medium=email&utm_campaign=nieuwsbrief-november` : pages[0];
  const events = [];
  if (pages.includes('/afval/afvalkalender') && random() < 0.4) events.push({ name: 'File Download', props: { url: 'https://gemeente.test/files/afvalkalender-2026.pdf' } });
  if (pages.includes('/parkeren/vergunning-aanvragen') && random() < 0.5) events.push({ name: 'Formulier verzonden', props: { formulier: 'parkeervergunning' } });
  if (random() < 0.05) events.push({ name: 'Outbound Link: Click', props: { url: 'https://www.rijksoverheid.nl/' } });
  await kruimel.visit(SITE, [first, ...pages.slice(1)], {
    referrer: campaign ? undefined : pick(REFERRERS),
    userAgent: pick(AGENTS),
    ip: `${pick(NETWORKS)}.${visitor}.9`,
    events,
  });
  pageviews += pages.length;
}
await kruimel.settled(SITE, pageviews);

const browser = await launchBrowser();
try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, deviceScaleFactor: 1 });
  await context.request.post(`${kruimel.origin}/dashboard/api/login`, { data: { user: 'anna', password: PASSWORD } });
  const page = await context.newPage();
  await page.goto(`${kruimel.origin}/dashboard/${SITE}?period=day`);
  await page.waitForSelector('main:not([aria-busy]) h1');
  await page.waitForTimeout(300);
  await page.screenshot({ path: join(out, 'dashboard-overview-nl.png') });
  console.log('wrote docs/screenshots/dashboard-overview-nl.png');
  await page.goto(`${kruimel.origin}/privacy/${SITE}`);
  await page.waitForSelector('h1');
  await page.screenshot({ path: join(out, 'privacy-page-nl.png') });
  console.log('wrote docs/screenshots/privacy-page-nl.png');
} finally {
  await browser.close();
  await kruimel.stop();
}

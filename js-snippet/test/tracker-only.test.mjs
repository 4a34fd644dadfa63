// The tracker-only build: for a site without optional categories,
// `kruimel snippet --config` prints a tag for /js/kruimel-tracker.js, which
// is at most 1,200 bytes gzipped as served, counts a visit like the whole script
// and shows no notice. A site with categories keeps the whole script.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { startKruimel, startPages, launchBrowser, newVisitor, eventually } from './harness.mjs';

const running = [];
after(async () => {
  for (const stop of running.reverse()) await stop();
});

// The bytes as sent to a browser that accepts gzip (fetch would decode them).
function gzippedSize(url) {
  return new Promise((done, fail) => {
    request(url, { headers: { 'Accept-Encoding': 'gzip' } }, (response) => {
      let size = 0;
      response.on('data', (chunk) => (size += chunk.length));
      response.on('end', () => done({ size, encoding: response.headers['content-encoding'], vary: response.headers.vary }));
    })
      .on('error', fail)
      .end();
  });
}

test('a site without a notice gets the tracker alone: within 1,200 bytes gzipped, counting, no notice', async () => {
  const kruimel = await startKruimel({ consent: '{ policy_version = "1" }' });
  running.push(() => kruimel.stop());
  const tag = kruimel.configuredSnippet();
  assert.match(tag, /src="[^"]+\/js\/kruimel-tracker\.js\?v=[0-9a-f]{16}"/);
  assert.match(tag, /integrity="sha384-[A-Za-z0-9+/=]+"/);
  const served = await gzippedSize(`${kruimel.local}/js/kruimel-tracker.js`);
  assert.equal(served.encoding, 'gzip');
  assert.equal(served.vary, 'Accept-Encoding');
  assert.ok(served.size <= 1200, `the tracker is ${served.size} bytes gzipped`);

  kruimel.snippet = tag;
  const pages = await startPages(kruimel);
  running.push(() => pages.stop());
  const browser = await launchBrowser();
  running.push(() => browser.close());
  const { context, beacons } = await newVisitor(browser);
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (error) => errors.push(error.message));
  // The integrity check passes (the browser would refuse the script otherwise).
  await page.goto(pages.url('/p/alleen-tellen'));
  await eventually('a pageview', () => beacons.length == 1);
  assert.equal(beacons[0].n, 'pageview');
  await eventually('counted', async () => (await kruimel.breakdown('event:page', 'pageviews'))['/p/alleen-tellen'] === 1);
  assert.equal(await page.locator('kruimel-notice').count(), 0, 'no notice');
  assert.deepEqual(await context.cookies(), [], 'no cookie');
  assert.deepEqual(errors, []);
  await context.close();
});

test('a site with optional categories keeps the whole script', async () => {
  const kruimel = await startKruimel();
  running.push(() => kruimel.stop());
  assert.match(kruimel.configuredSnippet(), /src="[^"]+\/js\/kruimel\.js\?v=[0-9a-f]{16}"/);
});

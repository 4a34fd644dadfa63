// Writes the README's screenshots of the Dutch notice, as a visitor sees it
// on a first visit, from the real server:
//   docs/screenshots/notice-nl-desktop.png  1280×800
//   docs/screenshots/notice-nl-mobile.png   360×740
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startKruimel, startPages, launchBrowser, newVisitor } from './harness.mjs';

const out = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'docs', 'screenshots');
mkdirSync(out, { recursive: true });

const kruimel = await startKruimel();
const pages = await startPages(kruimel);
const browser = await launchBrowser();
try {
  for (const [name, viewport, isMobile] of [
    ['notice-nl-desktop.png', { width: 1280, height: 800 }, false],
    ['notice-nl-mobile.png', { width: 360, height: 740 }, true],
  ]) {
    const { context } = await newVisitor(browser, { viewport, isMobile, deviceScaleFactor: 1 });
    const page = await context.newPage();
    await page.goto(pages.url('/p/afval'));
    await page.locator('kruimel-notice [role=dialog]').waitFor();
    await page.locator('kruimel-placeholder').waitFor();
    await page.screenshot({ path: join(out, name) });
    console.log(`wrote docs/screenshots/${name}`);
    await context.close();
  }
} finally {
  await browser.close();
  await pages.stop();
  await kruimel.stop();
}

// What the dashboard's browser tests stand on: the real kruimel binary on
// free ports with its whole configuration in the environment, users made
// with `kruimel user add`, counts seeded through POST /api/event, and
// Debian's Chromium.
//
// Sites (all in Europe/Amsterdam):
//   gemeente.test  private; a stats token and a share link (k = 3)
//   open.test      public, k = 3 (and the same token, for exact numbers)
import { execFileSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { ROOT, USER_AGENT, eventually, kruimelBinary, launchChromium, serveKruimel } from '../../../../tests/browser/harness.mjs';

export { USER_AGENT, eventually };

const here = dirname(fileURLToPath(import.meta.url));
const ui = join(here, '..');
export const SITE = 'gemeente.test';
export const PUBLIC_SITE = 'open.test';
export const TOKEN = 'dashboard-test-token';
export const SHARE = 'deel-dit-geheim-0123456789';
export const PASSWORD = 'correct horse battery staple';
export const K = 3;
export const PHONE_USER_AGENT =
  'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36';
export const axePath = join(ui, 'node_modules', 'axe-core', 'axe.min.js');

export async function startKruimel() {
  const bin = kruimelBinary(ui);
  const tokenHash = execFileSync(bin, ['hash-token', TOKEN]).toString().trim();
  const shareHash = execFileSync(bin, ['hash-token', SHARE]).toString().trim();
  const settings = {
    KRUIMEL_SITES:
      `[{ id = "${SITE}", tokens = ["${tokenHash}"], share_links = ["${shareHash}"], k_anonymity = ${K},` +
      ` consent = { policy_version = "2026-1", categories = ["media"] } },` +
      ` { id = "${PUBLIC_SITE}", tokens = ["${tokenHash}"], public = true, k_anonymity = ${K} }]`,
  };
  const countries = join(ROOT, '.ci', 'cache', 'country.mmdb');
  if (existsSync(countries)) settings.KRUIMEL_GEOIP__DATABASE = countries;
  const { env, dataDir, local: origin, stop } = await serveKruimel({
    bin,
    settings,
    embedded: [['/dashboard/', 'index.html'], ['/dashboard/assets/app.js', 'app.js'], ['/dashboard/assets/app.css', 'app.css']].map(
      ([path, file]) => [path, join(ui, 'dist', file)],
    ),
    dataDirPrefix: 'kruimel-dashboard-',
  });

  const stats = async (path, { token = TOKEN } = {}) => {
    const headers = token ? { Authorization: `Bearer ${token}` } : {};
    const response = await fetch(origin + path, { headers });
    if (!response.ok) throw new Error(`${path}: ${response.status} ${await response.text()}`);
    return response.json();
  };
  let visitorNumber = 0;
  return {
    origin,
    dataDir,
    stats,
    // A user made the way an operator makes one.
    addUser(name, sites, password = PASSWORD) {
      execFileSync(bin, ['user', 'add', name, ...sites.flatMap((grant) => ['--site', grant]), '--password-stdin'], {
        env,
        input: `${password}\n`,
        stdio: ['pipe', 'ignore', 'pipe'],
      });
    },
    // Turns on the user's second factor; returns its base32 secret.
    enableTotp(name) {
      const uri = execFileSync(bin, ['user', 'totp', name], { env, stdio: ['ignore', 'pipe', 'pipe'] }).toString().trim();
      return new URL(uri).searchParams.get('secret');
    },
    // One visitor (a distinct address) viewing `pages` in order, with the
    // first view's referrer and campaign; `engagement` ({ sd, e }) is the
    // report of scroll depth and engaged time sent from the last page.
    async visit(site, pages, { referrer, ip, width = 1280, userAgent = USER_AGENT, events = [], engagement = null } = {}) {
      visitorNumber += 1;
      // Distinct /24 networks: the server truncates addresses before hashing.
      const address = ip || `10.${(visitorNumber >> 8) & 255}.${visitorNumber & 255}.7`;
      const send = async (body) => {
        const response = await fetch(`${origin}/api/event`, {
          method: 'POST',
          headers: { 'Content-Type': 'text/plain', 'User-Agent': userAgent, 'X-Forwarded-For': address },
          body: JSON.stringify(body),
        });
        if (response.status != 202) throw new Error(`POST /api/event: ${response.status} ${await response.text()}`);
        const dropped = response.headers.get('kruimel-drop') || response.headers.get('x-kruimel-drop');
        if (dropped) throw new Error(`beacon dropped: ${dropped}`);
      };
      for (const [index, page] of pages.entries()) {
        await send({ n: 'pageview', u: `https://${site}${page}`, d: site, r: index == 0 ? referrer : undefined, w: width });
      }
      if (engagement) {
        await send({ n: 'engagement', sd: engagement.sd, d: site, u: `https://${site}${pages[pages.length - 1]}`, e: engagement.e, v: 36 });
      }
      for (const { name, props, page = pages[pages.length - 1] } of events) {
        await send({ n: name, u: `https://${site}${page}`, d: site, w: width, p: props });
      }
    },
    // Waits until the aggregate shows `pageviews` for the day.
    async settled(site, pageviews) {
      await eventually(`${pageviews} pageviews on ${site}`, async () => {
        const { results } = await stats(`/api/v1/stats/aggregate?site_id=${site}&period=day&metrics=pageviews`);
        return results.pageviews.value == pageviews;
      });
    },
    stop,
  };
}

// The current six-digit code of a base32 TOTP secret (RFC 6238, SHA-1, 30 s).
export function totpCode(secret, at = Date.now()) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const char of secret.replace(/=+$/, '').toUpperCase()) bits += alphabet.indexOf(char).toString(2).padStart(5, '0');
  const key = Buffer.from(bits.match(/.{8}/g).map((byte) => parseInt(byte, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(at / 1000 / 30)));
  const digest = createHmac('sha1', key).update(counter).digest();
  const offset = digest[digest.length - 1] & 15;
  return String((digest.readUInt32BE(offset) & 0x7fffffff) % 1000000).padStart(6, '0');
}

export function launchBrowser() {
  return launchChromium(chromium);
}

// What the dashboard's browser tests stand on: the real kruimel binary on
// free ports with its whole configuration in the environment, users made
// with `kruimel user add`, counts seeded through POST /api/event, and
// Debian's Chromium.
//
// Sites (all in Europe/Amsterdam):
//   gemeente.test  private; a stats token and a share link (k = 3)
//   open.test      public, k = 3 (and the same token, for exact numbers)
import { spawn, execFileSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { createServer as createNetServer } from 'node:net';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
const ui = join(here, '..');
export const SITE = 'gemeente.test';
export const PUBLIC_SITE = 'open.test';
export const TOKEN = 'dashboard-test-token';
export const SHARE = 'deel-dit-geheim-0123456789';
export const PASSWORD = 'correct horse battery staple';
export const K = 3;
// The server drops bots, and HeadlessChrome's own user agent is one.
export const USER_AGENT =
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36';
export const PHONE_USER_AGENT =
  'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36';
export const axePath = join(ui, 'node_modules', 'axe-core', 'axe.min.js');

export function freePort() {
  return new Promise((resolvePort, reject) => {
    const server = createNetServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolvePort(port));
    });
  });
}

export const sleep = (ms) => new Promise((done) => setTimeout(done, ms));

// Polls `probe` until it returns something truthy.
export async function eventually(what, probe, timeoutMs = 10000) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      last = await probe();
      if (last) return last;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(last && last.message ? last.message : last)}`);
    await sleep(100);
  }
}

function binary() {
  const bin = resolve(ui, process.env.KRUIMEL_BIN || '../../../target/debug/kruimel');
  if (!existsSync(bin)) {
    throw new Error(`no kruimel binary at ${bin}: run \`cargo build --locked --bin kruimel\` or set KRUIMEL_BIN`);
  }
  return bin;
}

export async function startKruimel() {
  const bin = binary();
  const [port, adminPort] = await Promise.all([freePort(), freePort()]);
  const dataDir = mkdtempSync(join(tmpdir(), 'kruimel-dashboard-'));
  const tokenHash = execFileSync(bin, ['hash-token', TOKEN]).toString().trim();
  const shareHash = execFileSync(bin, ['hash-token', SHARE]).toString().trim();
  // Only the settings below: a KRUIMEL_* variable of the caller's would be
  // an unknown setting to the server.
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('KRUIMEL_')));
  Object.assign(env, {
    KRUIMEL_SERVER__LISTEN: `127.0.0.1:${port}`,
    KRUIMEL_SERVER__ADMIN_LISTEN: `127.0.0.1:${adminPort}`,
    KRUIMEL_SERVER__DATA_DIR: dataDir,
    KRUIMEL_SERVER__TRUSTED_PROXIES: '["127.0.0.1/32"]',
    KRUIMEL_AGGREGATE__FLUSH_INTERVAL_MS: '50',
    KRUIMEL_LOG__LEVEL: 'warn',
    KRUIMEL_SITES:
      `[{ id = "${SITE}", tokens = ["${tokenHash}"], share_links = ["${shareHash}"], k_anonymity = ${K},` +
      ` consent = { policy_version = "2026-1", categories = ["media"] } },` +
      ` { id = "${PUBLIC_SITE}", tokens = ["${tokenHash}"], public = true, k_anonymity = ${K} }]`,
  });
  const countries = resolve(ui, '../../../.ci/cache/country.mmdb');
  if (existsSync(countries)) env.KRUIMEL_GEOIP__DATABASE = countries;
  const child = spawn(bin, ['serve'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr.on('data', (chunk) => (log += chunk));
  let exited = null;
  child.on('exit', (code) => (exited = code));
  // A script that fails before stop() leaves no server behind.
  process.on('exit', () => exited === null && child.kill());
  await eventually('kruimel /readyz', async () => {
    if (exited !== null) throw new Error(`kruimel exited with ${exited}:\n${log}`);
    return (await fetch(`http://127.0.0.1:${adminPort}/readyz`)).status == 200;
  }).catch((error) => {
    child.kill();
    throw new Error(`${error.message}\n${log}`);
  });

  const origin = `http://127.0.0.1:${port}`;
  // The binary embeds the build at compile time: after `npm run build`,
  // `cargo build` must follow, or these tests would test an older build.
  for (const [path, file] of [['/dashboard/', 'index.html'], ['/dashboard/assets/app.js', 'app.js'], ['/dashboard/assets/app.css', 'app.css']]) {
    const served = await (await fetch(origin + path)).text();
    if (served !== readFileSync(join(ui, 'dist', file), 'utf8')) {
      child.kill();
      throw new Error(`${bin} serves another ${file} than src/dashboard/ui/dist/: run \`cargo build --locked --bin kruimel\``);
    }
  }

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
    async stop() {
      if (exited === null) {
        const gone = new Promise((done) => child.on('exit', done));
        child.kill('SIGTERM');
        await gone;
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
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

// Debian's Chromium; the tests fail, never skip, without it.
export async function launchBrowser() {
  const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';
  if (!existsSync(executablePath)) {
    throw new Error(`no Chromium at ${executablePath}: apt-get install chromium, or set CHROMIUM`);
  }
  return chromium.launch({ executablePath, args: ['--no-sandbox'] });
}

// What the browser tests of the script (js-snippet/test/) and of the
// dashboard (src/dashboard/ui/test/) stand on: the real kruimel binary on
// free ports with its whole configuration in the environment, and Debian's
// Chromium. Each package's test/harness.mjs adds its sites and helpers.
//
// This file imports only Node's own modules: Playwright is each package's
// dependency, so a package hands its `chromium` to `launchChromium`.
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

// The repository's root.
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

// The server drops bots, and HeadlessChrome's own user agent is one.
export const USER_AGENT =
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36';

export function freePort() {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolvePort(port));
    });
  });
}

export const sleep = (ms) => new Promise((done) => setTimeout(done, ms));

// Polls `probe` until it returns something truthy; fails with `what` and
// the last value seen.
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

// The binary under test: $KRUIMEL_BIN (relative to `base`, the package's
// folder), else the debug build.
export function kruimelBinary(base) {
  const bin = process.env.KRUIMEL_BIN ? resolve(base, process.env.KRUIMEL_BIN) : join(ROOT, 'target', 'debug', 'kruimel');
  if (!existsSync(bin)) {
    throw new Error(`no kruimel binary at ${bin}: run \`cargo build --locked --bin kruimel\` or set KRUIMEL_BIN`);
  }
  return bin;
}

// Starts `kruimel serve` on free ports with `settings` (KRUIMEL_* variables)
// on top of fast flushes, quiet logs and a trusted local proxy, and waits
// until it is ready. `embedded` lists [path, file] pairs: what the binary
// must serve at `path` is `file` as committed, since the binary embeds the
// front end at compile time (after `npm run build`, `cargo build` must
// follow, or these tests would test an older build).
export async function serveKruimel({ bin, settings, embedded = [], dataDirPrefix = 'kruimel-browser-' }) {
  const [port, adminPort] = await Promise.all([freePort(), freePort()]);
  const dataDir = mkdtempSync(join(tmpdir(), dataDirPrefix));
  // Only the settings below: a KRUIMEL_* variable of the caller's (such as
  // KRUIMEL_BIN) would be an unknown setting to the server.
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('KRUIMEL_')));
  Object.assign(env, {
    KRUIMEL_SERVER__LISTEN: `127.0.0.1:${port}`,
    KRUIMEL_SERVER__ADMIN_LISTEN: `127.0.0.1:${adminPort}`,
    KRUIMEL_SERVER__DATA_DIR: dataDir,
    KRUIMEL_SERVER__TRUSTED_PROXIES: '["127.0.0.1/32"]',
    KRUIMEL_AGGREGATE__FLUSH_INTERVAL_MS: '50',
    KRUIMEL_LOG__LEVEL: 'warn',
    ...settings,
  });
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

  const local = `http://127.0.0.1:${port}`;
  for (const [path, file] of embedded) {
    const served = await (await fetch(local + path)).text();
    if (served !== readFileSync(file, 'utf8')) {
      child.kill();
      throw new Error(`${bin} serves another ${path} than ${file}: run \`cargo build --locked --bin kruimel\``);
    }
  }
  return {
    env,
    port,
    dataDir,
    local,
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

// Debian's Chromium, launched through the package's Playwright; the tests
// fail, never skip, without it.
export async function launchChromium(chromium, args = []) {
  const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';
  if (!existsSync(executablePath)) {
    throw new Error(`no Chromium at ${executablePath}: apt-get install chromium, or set CHROMIUM`);
  }
  return chromium.launch({ executablePath, args: [...args, '--no-sandbox'] });
}

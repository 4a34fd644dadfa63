// Builds the dashboard the server embeds (src/dashboard/mod.rs):
//   dist/index.html  served for /dashboard and every path under it
//   dist/app.js      /dashboard/assets/app.js (one ES module, minified)
//   dist/app.css     /dashboard/assets/app.css (minified)
//
//   node build.mjs          write dist/ and print the sizes
//   node build.mjs --check  build in memory; fail when dist/ is not the
//                           build of src/
//
// The output is deterministic (same source and esbuild version, same
// bytes), which is what lets CI compare the committed files with a fresh
// build. After a build, `cargo build` embeds it.
import { build, transform } from 'esbuild';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { gzipped as gz, writeOrCheck } from '../../../.ci/dist.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, 'dist');
const banner = '/*! Kruimel dashboard. EUPL-1.2. Source: src/dashboard/ui/src */\n';

const script = await build({
  entryPoints: ['src/app.js'],
  bundle: true,
  minify: true,
  format: 'esm',
  target: 'es2020',
  write: false,
  legalComments: 'none',
  absWorkingDir: here,
  logLevel: 'error',
});
const css = await transform(readFileSync(join(here, 'src', 'app.css'), 'utf8'), { loader: 'css', minify: true, target: ['chrome100', 'firefox100', 'safari15'] });
// The page itself is kept as written: the Content-Security-Policy forbids
// inline script and style, so there is nothing to inline.
const html = readFileSync(join(here, 'src', 'index.html'), 'utf8');
for (const forbidden of [/<script(?![^>]*\bsrc=)[^>]*>/i, /<style/i, /\sstyle=/i, /\son[a-z]+=/i]) {
  if (forbidden.test(html)) {
    console.error(`src/index.html: ${forbidden} would break the Content-Security-Policy`);
    process.exit(1);
  }
}

const files = {
  'index.html': html,
  'app.js': banner + script.outputFiles[0].text,
  'app.css': banner + css.code,
};

for (const [name, text] of Object.entries(files)) {
  console.log(`dist/${name.padEnd(10)} ${String(Buffer.byteLength(text)).padStart(6)} bytes, ${String(gz(text)).padStart(6)} gzipped`);
}

writeOrCheck(dist, files);

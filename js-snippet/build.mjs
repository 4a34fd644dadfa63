// Builds dist/kruimel.js, the file the server embeds and serves at
// /js/kruimel.js.
//
//   node build.mjs          write dist/kruimel.js and print the sizes
//   node build.mjs --check  build in memory; fail when dist/kruimel.js is not
//                           the build of src/, or the tracker is over budget
//
// The output is deterministic (same source and esbuild version, same bytes),
// which is what lets CI compare the committed file with a fresh build.
import { build, transform } from 'esbuild';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const here = dirname(fileURLToPath(import.meta.url));
const distFile = join(here, 'dist', 'kruimel.js');
const TRACKER_BUDGET = 1024; // bytes, gzipped: the promise in the README

const common = {
  bundle: true,
  minify: true,
  format: 'iife',
  target: 'es2017',
  write: false,
  legalComments: 'none',
  absWorkingDir: here,
  logLevel: 'error',
};

// CSS files are imported as strings, minified on the way in.
const minifiedCss = {
  name: 'minified-css',
  setup(builder) {
    builder.onLoad({ filter: /\.css$/ }, async ({ path }) => {
      const { code } = await transform(readFileSync(path, 'utf8'), { loader: 'css', minify: true });
      return { contents: code.trim(), loader: 'text' };
    });
  },
};
common.plugins = [minifiedCss];

async function bundle(options) {
  const result = await build({ ...common, ...options });
  return result.outputFiles[0].text;
}

const banner = '/*! Kruimel: cookieless statistics and consent notice. EUPL-1.2. Source: js-snippet/src */\n';
const full = banner + (await bundle({ entryPoints: ['src/index.js'] }));
// The tracker on its own, as a page with data-consent="off" effectively
// runs it: what the 1 KB budget is about.
const trackerOnly = await bundle({
  stdin: {
    contents:
      "import { findScript, scriptOptions } from './src/script.js';\n" +
      "import { startTracker } from './src/tracker.js';\n" +
      'startTracker(scriptOptions(findScript()));\n',
    resolveDir: here,
    sourcefile: 'tracker-only.js',
  },
});

const gz = (text) => gzipSync(Buffer.from(text), { level: 9 }).length;
const trackerGz = gz(trackerOnly);
console.log(`dist/kruimel.js   ${full.length} bytes, ${gz(full)} gzipped`);
console.log(`tracker alone     ${trackerOnly.length} bytes, ${trackerGz} gzipped (budget ${TRACKER_BUDGET})`);

let failed = false;
if (trackerGz > TRACKER_BUDGET) {
  console.error(`tracker is ${trackerGz - TRACKER_BUDGET} bytes over its gzipped budget`);
  failed = true;
}
if (process.argv.includes('--check')) {
  let committed = '';
  try {
    committed = readFileSync(distFile, 'utf8');
  } catch {}
  if (committed !== full) {
    console.error('dist/kruimel.js is not the build of src/: run `npm run build` and commit it');
    failed = true;
  } else {
    console.log('dist/kruimel.js matches the source');
  }
} else {
  mkdirSync(dirname(distFile), { recursive: true });
  writeFileSync(distFile, full);
}
process.exit(failed ? 1 : 0);

// The last step of both front ends' builds (js-snippet/build.mjs and
// src/dashboard/ui/build.mjs), which commit their dist/ for the binary to
// embed: write the fresh build into dist/, or, with --check (as CI runs
// `npm run check`), fail when dist/ is not the build of the source.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

// Bytes of `text` gzipped as a server would send it.
export const gzipped = (text) => gzipSync(Buffer.from(text), { level: 9 }).length;

// Writes or checks `files` (name → text) in `dist`, then exits: 1 when
// `failed` already or when the check finds a difference.
export function writeOrCheck(dist, files, failed = false) {
  if (process.argv.includes('--check')) {
    for (const [name, text] of Object.entries(files)) {
      let committed = '';
      try {
        committed = readFileSync(join(dist, name), 'utf8');
      } catch {}
      if (committed !== text) {
        console.error(`dist/${name} is not the build of src/: run \`npm run build\` and commit it`);
        failed = true;
      }
    }
    if (!failed) console.log('dist/ matches the source');
  } else {
    mkdirSync(dist, { recursive: true });
    for (const [name, text] of Object.entries(files)) writeFileSync(join(dist, name), text);
  }
  process.exit(failed ? 1 : 0);
}

/**
 * Writes the JavaScript cache of this repository's TypeScript (bin/js-cache.js says why): every .ts file of the
 * folders below, stripped of its types as Node strips them (`module.stripTypeScriptTypes`, the same parser in the
 * same mode). Entries already made from a file's current bytes are kept, so a second run strips nothing. Run by
 * npm install (`prepare`) and before `npm start`, `npm test` and `npm run bench`; a file edited since is simply
 * stripped by Node when loaded, until the next run.
 *
 *   node scripts/js-cache.ts
 */
import { readdirSync, readFileSync } from 'node:fs';
import { stripTypeScriptTypes } from 'node:module';
import { join } from 'node:path';
import { CACHE_DIR, cachedJs, ROOT, writeEntry } from '../bin/js-cache.js';

/** What tweetpipe's processes load: the CLI's modules, and bench/'s preloaded into them (memory-sampler.ts). */
const FOLDERS = ['src', 'bench'];

let written = 0;
let current = 0;
for (const folder of FOLDERS) {
  const files = readdirSync(join(ROOT, folder), { recursive: true, encoding: 'utf8' });
  for (const file of files) {
    if (!file.endsWith('.ts') || file.endsWith('.d.ts')) continue;
    const path = join(ROOT, folder, file);
    const source = readFileSync(path);
    if (cachedJs(path, source) !== undefined) {
      current++;
      continue;
    }
    try {
      writeEntry(path, source, stripTypeScriptTypes(source.toString('utf8'), { mode: 'strip' }));
      written++;
    } catch (err) {
      // Never a reason to fail an install or a test run: Node strips such a module itself when it is loaded.
      process.stderr.write(`js-cache: ${path} left to Node's own stripping: ${(err as Error).message}\n`);
    }
  }
}
if (written > 0)
  process.stdout.write(`js-cache: ${written} modules stripped into ${CACHE_DIR}, ${current} current\n`);

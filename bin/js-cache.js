// The JavaScript of this repository's TypeScript modules, stripped of their types ahead of time, for processes
// that should not strip them at start-up. Node's own type stripping loads a WebAssembly TypeScript parser into
// every thread that loads a .ts module: ~17 MiB of resident memory per process, more with worker threads
// (docs/benchmarks.md, "Eleventh round"). scripts/js-cache.ts writes the cache (npm install's `prepare`, and
// before `npm start`, `npm test` and `npm run bench`); js-cache-hooks.js serves it to tweetpipe's processes.
//
// An entry is used only while it is the stripping of the source as it is now: it ends with a comment holding the
// SHA-256 of the source it was made from, and a source edited since (a hash that differs) or without an entry is
// left to Node, which strips it as before. Stripping replaces types with whitespace, so lines and columns, and
// with them stack traces, are the source's own.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository. */
export const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** Where entries live, one per module, by the module's path in the repository; it goes with node_modules. */
export const CACHE_DIR = join(ROOT, 'node_modules', '.cache', 'tweetpipe-js');

const SEAL = '\n//# tweetpipe-js-cache sha256=';

/** The entry's path for a .ts file of the repository (outside node_modules), else undefined. */
export function entryPath(sourcePath) {
  const rel = relative(ROOT, sourcePath);
  if (!sourcePath.endsWith('.ts') || rel.startsWith('..') || rel.split(sep).includes('node_modules')) return;
  return join(CACHE_DIR, `${rel}.js`);
}

const hashOf = (source) => createHash('sha256').update(source).digest('hex');

/** The cached JavaScript of `source` (the bytes of the file at `sourcePath`), when an entry was made from them. */
export function cachedJs(sourcePath, source) {
  const path = entryPath(sourcePath);
  if (!path) return;
  let entry;
  try {
    entry = readFileSync(path, 'utf8');
  } catch {
    return;
  }
  const seal = entry.lastIndexOf(SEAL);
  if (seal < 0 || entry.slice(seal + SEAL.length).trimEnd() !== hashOf(source)) return;
  return entry.slice(0, seal);
}

/** Writes the entry of `source` (the file at `sourcePath`), `js` its stripping; atomically, for concurrent writers. */
export function writeEntry(sourcePath, source, js) {
  const path = entryPath(sourcePath);
  if (!path) throw new Error(`${sourcePath} is not a .ts file of ${ROOT} outside node_modules`);
  mkdirSync(dirname(path), { recursive: true });
  const temp = `${path}.${process.pid}.tmp`;
  writeFileSync(temp, `${js}${SEAL}${hashOf(source)}\n`);
  renameSync(temp, path);
}

/**
 * Every repository path the docs name (`src/...`, `test/...`, `bench/...`, `harness/...`, `docs/...`, `spec/...`,
 * `scripts/...`, globs included) exists: a renamed or deleted file leaves no stale pointer behind.
 */
import assert from 'node:assert/strict';
import { existsSync, globSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const PATH = /(?<![\w./-])((?:src|test|bench|harness|docs|spec|scripts)\/[\w./*-]*[\w*])/g;

test('the paths named in README.md and docs/*.md exist', () => {
  const docs = ['README.md', ...readdirSync(join(ROOT, 'docs')).map((f) => `docs/${f}`)].filter((f) =>
    f.endsWith('.md'),
  );
  const stale = docs.flatMap((doc) =>
    readFileSync(join(ROOT, doc), 'utf8')
      .split('\n')
      .flatMap((line, i) =>
        [...line.matchAll(PATH)]
          .map((m) => m[1] as string)
          .filter((path) =>
            path.includes('*') ? globSync(path, { cwd: ROOT }).length === 0 : !existsSync(join(ROOT, path)),
          )
          .map((path) => `${doc}:${i + 1}: ${path}`),
      ),
  );
  assert.deepEqual(stale, []);
});

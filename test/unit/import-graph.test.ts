/**
 * The import graph of src/, harness/ and bench/ (type-only imports included: they tie modules together for a reader
 * just the same): no cycle, and no import across the layer lines docs/architecture.md draws.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const READ = ['src', 'harness', 'bench'];
/** `import ... from '…'` / `export ... from '…'`, `import('…')`, and a bare `import '…'` (for its side effects). */
const IMPORT =
  /(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+'(\.{1,2}\/[^']+)'|\bimport\(\s*'(\.{1,2}\/[^']+)'\s*\)|(?:^|\n)\s*import\s+'(\.{1,2}\/[^']+)'/g;

/** Each .ts file under READ (relative to the repository) with the relative files it imports. */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const dir of READ) {
    const files = readdirSync(join(ROOT, dir), { recursive: true, encoding: 'utf8' }).filter((f) =>
      f.endsWith('.ts'),
    );
    for (const file of files) {
      const path = join(ROOT, dir, file);
      const imports = [...readFileSync(path, 'utf8').matchAll(IMPORT)].map((m) =>
        relative(ROOT, resolve(dirname(path), (m[1] ?? m[2] ?? m[3]) as string)),
      );
      graph.set(relative(ROOT, path), imports);
    }
  }
  return graph;
}

/** The files every layer may import: errors, logging, shared types, deadlines, libzstd and the settings. */
const BASE = [
  'src/errors.ts',
  'src/log.ts',
  'src/types.ts',
  'src/deadline.ts',
  'src/libzstd.ts',
  'src/config.ts',
  'src/config/',
];

/**
 * What each folder of src/ may import besides itself, bottom layer first: json/ (the JSON grammar over bytes),
 * config/, retry/ and kerberos/ are leaves;
 * hdfs/ and kafka/ are the transports; sources/, sink/ and what builds on the sink (table/, hive/, compact/) know
 * no Kafka; pipeline/ and stack/ assemble the parts; cli/ may import anything. A new folder needs its line here.
 */
const MAY_IMPORT: Record<string, readonly string[]> = {
  'src/json/': [],
  'src/config/': ['src/errors.ts'],
  'src/retry/': ['src/errors.ts', 'src/log.ts'],
  'src/kerberos/': ['src/errors.ts', 'src/log.ts'],
  'src/hdfs/': [...BASE, 'src/kerberos/', 'src/retry/'],
  'src/kafka/': [...BASE, 'src/kerberos/', 'src/retry/'],
  'src/sources/': [...BASE, 'src/retry/', 'src/json/'],
  'src/sink/': [...BASE, 'src/hdfs/', 'src/sources/', 'src/json/'],
  'src/table/': [...BASE, 'src/sink/'],
  'src/hive/': [...BASE, 'src/hdfs/', 'src/retry/', 'src/table/'],
  // compact/ keeps a table's catalog readers on a snapshot while it rewrites (catalog-swap.ts).
  'src/compact/': [...BASE, 'src/hdfs/', 'src/sink/', 'src/retry/', 'src/hive/'],
  'src/observe/': [...BASE, 'src/sources/'],
  'src/x-emulator/': [...BASE, 'src/sources/'],
  'src/stack/': [...BASE, 'src/hive/', 'src/kafka/', 'src/kerberos/'],
  'src/pipeline/': ['src/'],
  'src/cli/': ['src/'],
};

/** One cycle per strongly connected group found by depth-first search, as the path that closes it. */
function cycles(graph: Map<string, string[]>): string[][] {
  const found: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (file: string): void => {
    state.set(file, 'open');
    stack.push(file);
    for (const next of graph.get(file) ?? []) {
      if (state.get(next) === 'open') found.push([...stack.slice(stack.indexOf(next)), next]);
      else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(file, 'done');
  };
  for (const file of [...graph.keys()].sort()) if (!state.has(file)) visit(file);
  return found;
}

describe('the import graph of src/, harness/ and bench/', () => {
  const graph = importGraph();

  test('has no cycle', () => {
    assert.deepEqual(
      cycles(graph).map((c) => c.join(' -> ')),
      [],
    );
  });

  test('keeps its layers: nothing in src/ imports tests or benchmarks, each folder only the layers below it', () => {
    const leaks = [...graph]
      .filter(([file]) => file.startsWith('src/'))
      .flatMap(([file, imports]) => {
        const folder = Object.keys(MAY_IMPORT).find((f) => file.startsWith(f));
        const allowed = folder ? [folder, ...(MAY_IMPORT[folder] ?? [])] : ['src/'];
        return imports
          .filter((target) => !allowed.some((a) => (a.endsWith('/') ? target.startsWith(a) : target === a)))
          .map((target) => `${file} -> ${target}`);
      });
    assert.deepEqual(leaks, []);
  });

  test('every folder of src/ has a layer rule', () => {
    const folders = new Set(
      [...graph.keys()]
        .filter((f) => f.startsWith('src/') && f.split('/').length > 2)
        .map((f) => `src/${f.split('/')[1]}/`),
    );
    assert.deepEqual(
      [...folders].filter((f) => !(f in MAY_IMPORT)),
      [],
    );
  });

  test('harness/ and bench/ do not import tests (what they share with the tests lives in harness/)', () => {
    const leaks = [...graph]
      .filter(([file]) => file.startsWith('harness/') || file.startsWith('bench/'))
      .flatMap(([file, imports]) =>
        imports.filter((t) => t.startsWith('test/')).map((t) => `${file} -> ${t}`),
      );
    assert.deepEqual(leaks, []);
  });

  test('the walker sees the imports (it finds the sink task importing its partition writer)', () => {
    assert.ok(graph.get('src/sink/sink-task.ts')?.includes('src/sink/partition-writer.ts'));
  });
});

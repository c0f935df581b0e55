/**
 * The import graph of src/ (type-only imports included: they tie modules together for a reader just the same):
 * no cycle, and no import across the layer lines docs/architecture.md draws.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SRC = join(ROOT, 'src');
const IMPORT =
  /(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+'(\.{1,2}\/[^']+)'|\bimport\(\s*'(\.{1,2}\/[^']+)'\s*\)/g;

/** Each .ts file under src/ (relative to the repository) with the relative files it imports. */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  const files = readdirSync(SRC, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'));
  for (const file of files) {
    const path = join(SRC, file);
    const imports = [...readFileSync(path, 'utf8').matchAll(IMPORT)].map((m) =>
      relative(ROOT, resolve(dirname(path), (m[1] ?? m[2]) as string)),
    );
    graph.set(relative(ROOT, path), imports);
  }
  return graph;
}

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

describe('the import graph of src/', () => {
  const graph = importGraph();

  test('has no cycle', () => {
    assert.deepEqual(
      cycles(graph).map((c) => c.join(' -> ')),
      [],
    );
  });

  test('keeps its layers: nothing in src/ imports tests or benchmarks, kafka/ does not import sources/', () => {
    const leaks = [...graph].flatMap(([file, imports]) =>
      imports
        .filter(
          (target) =>
            !target.startsWith('src/') ||
            (file.startsWith('src/kafka/') && target.startsWith('src/sources/')),
        )
        .map((target) => `${file} -> ${target}`),
    );
    assert.deepEqual(leaks, []);
  });

  test('src/retry/ is a leaf: it imports only itself, errors.ts and log.ts (every layer may use it)', () => {
    const allowed = (target: string) =>
      target.startsWith('src/retry/') || target === 'src/errors.ts' || target === 'src/log.ts';
    const leaks = [...graph]
      .filter(([file]) => file.startsWith('src/retry/'))
      .flatMap(([file, imports]) => imports.filter((t) => !allowed(t)).map((t) => `${file} -> ${t}`));
    assert.deepEqual(leaks, []);
  });

  test('the walker sees the imports (it finds the sink task importing its partition writer)', () => {
    assert.ok(graph.get('src/sink/sink-task.ts')?.includes('src/sink/partition-writer.ts'));
  });
});

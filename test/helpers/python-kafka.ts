/**
 * Confluent's Python Kafka client as an independent reader of a secured topic: installed from PyPI into a venv in
 * the cache directory on first use (test/python/requirements.txt), then run on test/python/read_keys.py.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { stackPaths } from '../../src/stack/paths.ts';
import type { ClientSettings } from '../../src/stack/secure-broker.ts';
import { testConfig } from './topics.ts';

const run = promisify(execFile);
const PYTHON_DIR = fileURLToPath(new URL('../python/', import.meta.url));

async function venvPython(): Promise<string> {
  const venv = join(stackPaths(testConfig()).cache, 'python-kafka-client');
  const python = join(venv, 'bin', 'python');
  if (!existsSync(join(venv, '.installed'))) {
    await run('python3', ['-m', 'venv', venv], { timeout: 120_000 });
    await run(python, ['-m', 'pip', 'install', '-q', '-r', join(PYTHON_DIR, 'requirements.txt')], {
      timeout: 600_000,
    });
    await run('touch', [join(venv, '.installed')]);
  }
  return python;
}

/** The keys of `topic` as confluent-kafka reads them with `settings` (until `count` or 60 s). */
export async function pythonReadKeys(
  settings: ClientSettings,
  topic: string,
  count: number,
): Promise<string[]> {
  const python = await venvPython();
  const { stdout } = await run(
    python,
    [join(PYTHON_DIR, 'read_keys.py'), JSON.stringify(settings), topic, String(count)],
    {
      timeout: 120_000,
    },
  );
  return stdout.split('\n').filter((line) => line.length > 0);
}

/**
 * Confluent's Python Kafka client as an independent reader of a secured topic: installed from PyPI into a venv in
 * the cache directory on first use (python-venv.ts, test/python/requirements.txt), then run on
 * test/python/read_keys.py.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { ClientSettings } from '../../src/stack/secure-broker.ts';
import { ensureVenv } from './python-venv.ts';

const run = promisify(execFile);
const PYTHON_DIR = fileURLToPath(new URL('../python/', import.meta.url));
/** The pip specifiers of test/python/requirements.txt (its comment lines dropped). */
const REQUIREMENTS = readFileSync(join(PYTHON_DIR, 'requirements.txt'), 'utf8')
  .split('\n')
  .map((line) => line.trim())
  .filter((line) => line !== '' && !line.startsWith('#'));

/** The keys of `topic` as confluent-kafka reads them with `settings` (until `count` or 60 s). */
export async function pythonReadKeys(
  settings: ClientSettings,
  topic: string,
  count: number,
): Promise<string[]> {
  const python = await ensureVenv('python-kafka-client', REQUIREMENTS, (line) =>
    process.stderr.write(`# ${line}\n`),
  );
  const { stdout } = await run(
    python,
    [join(PYTHON_DIR, 'read_keys.py'), JSON.stringify(settings), topic, String(count)],
    {
      timeout: 120_000,
    },
  );
  return stdout.split('\n').filter((line) => line.length > 0);
}

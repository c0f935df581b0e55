/**
 * A Python venv under the stack cache (`<stack.cacheDir>/<name>`, default ~/.cache/tweetpipe/<name>) holding
 * pinned packages from PyPI and nothing else, created on first use so the external-reader tests run the same on a
 * fresh machine. The pinned list is recorded in the venv; a venv holding another list is rebuilt.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { stackPaths } from '../../src/stack/paths.ts';
import { testConfig } from './topics.ts';

const run = promisify(execFile);

/** The venv's python, after creating `name` with exactly `requirements` (pip specifiers) when missing or stale. */
export async function ensureVenv(
  name: string,
  requirements: string[],
  say: (line: string) => void,
): Promise<string> {
  const dir = join(stackPaths(testConfig()).cache, name);
  const python = join(dir, 'bin', 'python');
  const marker = join(dir, '.requirements');
  const wanted = requirements.join('\n');
  if (existsSync(python) && (await readFile(marker, 'utf8').catch(() => null)) === wanted) return python;
  say(`creating ${dir} with ${requirements.join(' ')} from PyPI (once per machine)`);
  await rm(dir, { recursive: true, force: true });
  try {
    await run('python3', ['-m', 'venv', dir], { timeout: 120_000 });
    await run(
      join(dir, 'bin', 'pip'),
      ['install', '--quiet', '--disable-pip-version-check', ...requirements],
      {
        timeout: 900_000,
        maxBuffer: 64 * 1024 * 1024,
      },
    );
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(
      `could not create the venv at ${dir} (needs python3 with venv, e.g. Debian's python3-venv, and PyPI): ${e.stderr?.trim() || e.message}`,
    );
  }
  await writeFile(marker, wanted);
  return python;
}

/**
 * Benchmark 3, the naive Python baseline tweetpipe replaces (bench/python/naive_sink.py: kafka-python with
 * auto-commit, the `hdfs` package, one file per 50 tweets named by the second), run in a venv the bench creates under
 * .tweetpipe/bench-venv. It is a comparison, not a gate: any failure to install or run it is reported and the bench
 * goes on.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { BenchContext } from './context.ts';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const VENV = `${ROOT}.tweetpipe/bench-venv`;
const SCRIPT = `${ROOT}bench/python/naive_sink.py`;
const REQUIREMENTS = `${ROOT}bench/python/requirements.txt`;

export interface PythonLimits {
  records: number;
  seconds: number;
}

export type PythonBench =
  | {
      ok: true;
      limits: PythonLimits;
      consumed: number;
      written: number;
      seconds: number;
      tweetsPerS: number;
      files: number;
      /** Batches whose file a later batch of the same second replaced (lost data, by the original design). */
      batchesOverwritten: number;
    }
  | { ok: false; limits: PythonLimits; reason: string };

interface NaiveSinkOutput {
  consumed: number;
  written: number;
  files: number;
  batchesOverwritten: number;
  seconds: number;
}

export async function benchPython(
  ctx: BenchContext,
  topic: string,
  limits: PythonLimits,
): Promise<PythonBench> {
  let python: string;
  try {
    python = await ensureVenv(ctx);
  } catch (err) {
    return { ok: false, limits, reason: `could not set up the Python venv: ${describe(err)}` };
  }
  ctx.say(`python: naive_sink.py on ${topic} (at most ${limits.records} records or ${limits.seconds} s)`);
  try {
    const { stdout } = await run(
      python,
      [
        SCRIPT,
        '--brokers',
        ctx.config.kafka.brokers.join(','),
        '--topic',
        topic,
        '--group',
        `bench-${ctx.runId}-python`,
        '--webhdfs',
        ctx.config.hdfs.webhdfs[0] ?? '',
        '--user',
        ctx.config.hdfs.user,
        '--dir',
        `${ctx.hdfsRoot}/python`,
        '--max-records',
        String(limits.records),
        '--max-seconds',
        String(limits.seconds),
      ],
      { timeout: (limits.seconds + 120) * 1000, maxBuffer: 16 * 1024 * 1024 },
    );
    const out = JSON.parse(stdout.trim().split('\n').at(-1) ?? '') as NaiveSinkOutput;
    if (out.written === 0 || out.seconds <= 0)
      return { ok: false, limits, reason: `naive_sink.py wrote nothing: ${stdout.trim()}` };
    return { ok: true, limits, ...out, tweetsPerS: out.written / out.seconds };
  } catch (err) {
    return { ok: false, limits, reason: `naive_sink.py failed: ${describe(err)}` };
  }
}

async function ensureVenv(ctx: BenchContext): Promise<string> {
  const python = `${VENV}/bin/python`;
  if (!existsSync(python)) {
    ctx.say(`python: creating ${VENV}`);
    await run('python3', ['-m', 'venv', VENV], { timeout: 120_000 });
  }
  ctx.say('python: pip install -r bench/python/requirements.txt');
  await run(`${VENV}/bin/pip`, ['install', '-q', '--disable-pip-version-check', '-r', REQUIREMENTS], {
    timeout: 600_000,
  });
  return python;
}

function describe(err: unknown): string {
  const e = err as { message?: string; stderr?: string };
  return `${e.message ?? String(err)}${e.stderr ? `\n${e.stderr.slice(-1500)}` : ''}`;
}

/**
 * Runs the real `tweetpipe` CLI (the process users run) for a benchmark: JSON logs collected, the peak resident set
 * sampled from /proc (VmHWM is a high-water mark, so the last sample before exit is the peak up to ~100 ms before
 * the end), and optionally a V8 CPU profile of the child.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type LogLine, startCli } from '../harness/cli-process.ts';
import { TweetpipeError } from '../src/errors.ts';
import type { BenchContext } from './context.ts';

export interface CliRun {
  /** What the run is called in the CPU figures and profile names. */
  label: string;
  logs: LogLine[];
  wallS: number;
  /** VmHWM of the child in bytes; null where /proc is not there. */
  peakRssBytes: number | null;
  /** Path of the CPU profile, when profiling was asked for. */
  cpuProfile?: string;
}

const SAMPLE_MS = 100;

export async function runTweetpipe(
  ctx: BenchContext,
  label: string,
  args: string[],
  timeoutMs: number,
): Promise<CliRun> {
  const env: Record<string, string | undefined> = { ...ctx.env, TWEETPIPE_LOG_LEVEL: 'info' };
  const cpuProfile = ctx.cpuProfDir ? join(ctx.cpuProfDir, `${label}.cpuprofile`) : undefined;
  if (ctx.cpuProfDir)
    env.NODE_OPTIONS = `--cpu-prof --cpu-prof-dir=${ctx.cpuProfDir} --cpu-prof-name=${label}.cpuprofile`;
  const t0 = performance.now();
  const run = startCli([...args, '--log-format', 'json'], env);
  if (run.child.pid !== undefined) ctx.cpu?.track(label, run.child.pid);
  let peakRssBytes: number | null = null;
  const sampler = setInterval(async () => {
    const hwm = await readHighWaterMark(run.child.pid);
    if (hwm !== null) peakRssBytes = Math.max(peakRssBytes ?? 0, hwm);
  }, SAMPLE_MS);
  const killer = setTimeout(() => run.child.kill('SIGKILL'), timeoutMs);
  const exit = await run.exited.finally(() => {
    clearInterval(sampler);
    clearTimeout(killer);
  });
  if (exit.code !== 0)
    throw new TweetpipeError(
      exit.signal === 'SIGKILL' ? 'TIMEOUT' : 'INTERNAL',
      `tweetpipe ${args.join(' ')} ${exit.signal === 'SIGKILL' ? `ran longer than ${timeoutMs} ms` : `exited with ${exit.code ?? exit.signal}`}:\n${run.stderr().slice(-3000)}`,
    );
  return {
    label,
    logs: run.logs,
    wallS: (performance.now() - t0) / 1000,
    peakRssBytes,
    ...(cpuProfile ? { cpuProfile } : {}),
  };
}

/** VmHWM (peak resident set) of a process in bytes, or null when it is gone or /proc is not there. */
export async function readHighWaterMark(pid: number | undefined): Promise<number | null> {
  if (pid === undefined) return null;
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const kb = /^VmHWM:\s+(\d+) kB/m.exec(status)?.[1];
    return kb === undefined ? null : Number(kb) * 1024;
  } catch {
    return null;
  }
}

/** The `time` (ms since the epoch) of the first or last log line with this message. */
export function logTime(logs: LogLine[], msg: string, which: 'first' | 'last'): number {
  const matching = logs.filter((l) => l.msg === msg);
  const line = which === 'first' ? matching[0] : matching.at(-1);
  if (!line || typeof line.time !== 'number')
    throw new TweetpipeError('INTERNAL', `no "${msg}" log line with a time in the tweetpipe output`);
  return line.time;
}

/** The tweetpipe run's CPU between two times, for `tweets` tweets. */
export const runCpu = (ctx: BenchContext, run: CliRun, fromMs: number, toMs: number, tweets: number) =>
  ctx.cpu?.measure(run.label, 'tweetpipe', fromMs, toMs, tweets) ?? null;

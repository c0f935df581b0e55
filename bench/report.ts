/**
 * The bench's output: one table of figures beside their ceiling or baseline, the ratio and whether the goal from
 * the issues is met, then the details behind it; and the same as JSON (test-artifacts/bench.json) for tooling.
 * Goals are reported, never asserted: a benchmark that misses one still exits 0.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { MB } from './context.ts';
import type { ProfileSummary } from './cpu-profile.ts';
import type { RunCpu } from './cpu-usage.ts';
import type { FlumeBench, FlumeRun } from './flume.ts';
import type { ProduceBench, ProduceRun } from './produce.ts';
import type { PythonBench } from './python-baseline.ts';
import type { FormatBench, SinkBench } from './sink.ts';

export interface BenchResults {
  date: string;
  machine: { cpus: number; cpuModel: string; memoryGb: number; kernel: string; node: string };
  load: { before: number[]; after?: number[] };
  options: Record<string, unknown>;
  sample?: { records: number; avgValueBytes: number };
  produce?: ProduceBench;
  sinkFill?: ProduceRun;
  sink?: SinkBench;
  python?: PythonBench;
  flume?: FlumeBench;
  profiles?: ProfileSummary[];
  rows?: Row[];
}

export interface Row {
  benchmark: string;
  figure: string;
  against: string;
  ratio: number | null;
  goal: string;
  met: boolean | null;
  peakRssMb: number | null;
  /** Cores busy on the whole machine while the figure was measured, of how many. */
  busy: { cores: number; busyCores: number } | null;
}

const num = (n: number, digits = 0) =>
  n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
const rate = (tweetsPerS: number, mbPerS: number) => `${num(tweetsPerS)} tweets/s, ${num(mbPerS, 1)} MB/s`;
const rssMb = (bytes: number | null) => (bytes === null ? null : bytes / MB);
const busyOf = (cpu: RunCpu | null | undefined) =>
  cpu ? { cores: cpu.cores, busyCores: cpu.busyCores } : null;

export function buildRows(r: BenchResults): Row[] {
  const rows: Row[] = [];
  if (r.produce) {
    const p = r.produce;
    rows.push({
      benchmark: 'produce',
      figure: rate(p.tweetpipe.tweetsPerS, p.tweetpipe.mbPerS),
      against: `ProducerPerformance ${rate(p.ceiling.tweetsPerS, p.ceiling.mbPerS)}`,
      ratio: p.ratio,
      goal: '>= 0.7 of ProducerPerformance',
      met: p.ratio >= 0.7,
      peakRssMb: rssMb(p.tweetpipe.peakRssBytes),
      busy: busyOf(p.tweetpipe.cpu),
    });
    rows.push({
      benchmark: 'produce replay',
      figure: rate(p.replay.tweetsPerS, p.replay.mbPerS),
      against: `ProducerPerformance ${rate(p.ceiling.tweetsPerS, p.ceiling.mbPerS)}`,
      ratio: p.replayRatio,
      goal: '>= 0.7 of ProducerPerformance',
      met: p.replayRatio >= 0.7,
      peakRssMb: rssMb(p.replay.peakRssBytes),
      busy: busyOf(p.replay.cpu),
    });
    const a = p.syntheticAlone;
    rows.push({
      benchmark: 'synthetic source alone',
      figure: `${num(a.tweetsPerS)} tweets/s`,
      against: '(no Kafka; generator + mapping)',
      ratio: null,
      goal: '>= 50,000 tweets/s',
      met: a.tweetsPerS >= 50_000,
      peakRssMb: null,
      busy: null,
    });
  }
  for (const f of r.sink?.formats ?? []) {
    if ('failed' in f) {
      rows.push({
        benchmark: `sink ${f.format}`,
        figure: 'failed (see below)',
        against: '-',
        ratio: null,
        goal: '-',
        met: false,
        peakRssMb: null,
        busy: null,
      });
      continue;
    }
    const t = f.tweetpipe;
    const goal =
      t.format === 'jsonl'
        ? { goal: '>= 50,000 tweets/s', met: t.tweetsPerS >= 50_000 }
        : t.format === 'jsonl.gz'
          ? { goal: '>= 0.8 of the lower ceiling', met: f.ratio >= 0.8 }
          : { goal: '(none)', met: null };
    rows.push({
      benchmark: `sink ${t.format}`,
      figure: rate(t.tweetsPerS, t.mbPerS),
      against: `${f.ceiling.which} ${num(f.ceiling.tweetsPerS)} tweets/s`,
      ratio: f.ratio,
      ...goal,
      peakRssMb: rssMb(t.peakRssBytes),
      busy: busyOf(t.cpu),
    });
  }
  if (r.python) {
    const jsonl = r.sink?.formats.find(
      (f): f is FormatBench => 'tweetpipe' in f && f.tweetpipe.format === 'jsonl',
    )?.tweetpipe;
    const py = r.python;
    rows.push({
      benchmark: 'naive python sink',
      figure: py.ok ? `${num(py.tweetsPerS)} tweets/s` : 'failed (see below)',
      against: jsonl ? `tweetpipe sink jsonl ${num(jsonl.tweetsPerS)} tweets/s` : '(no jsonl figure)',
      ratio: py.ok && jsonl ? jsonl.tweetsPerS / py.tweetsPerS : null,
      goal: '(ratio = tweetpipe / python)',
      met: null,
      peakRssMb: null,
      busy: null,
    });
  }
  for (const f of r.flume?.runs ?? []) rows.push(flumeRow(f, r.sink));
  return rows;
}

/**
 * Flume beside tweetpipe's sink of the same format in the same run: the ratio is tweetpipe's tweets/s over
 * Flume's, and the goal (issue 13) also wants at most a quarter of Flume's CPU per tweet.
 */
function flumeRow(f: FlumeRun | { format: string; failed: string }, sink: SinkBench | undefined): Row {
  const benchmark = `flume ${f.format}`;
  if ('failed' in f)
    return {
      benchmark,
      figure: 'failed (see below)',
      against: '-',
      ratio: null,
      goal: '-',
      met: false,
      peakRssMb: null,
      busy: null,
    };
  const ours = sink?.formats.find(
    (s): s is FormatBench => 'tweetpipe' in s && s.tweetpipe.format === f.format,
  )?.tweetpipe;
  const cpuRatio = ours?.cpu && f.cpu ? ours.cpu.usPerRecord / f.cpu.usPerRecord : null;
  const speedRatio = ours ? ours.tweetsPerS / f.tweetsPerS : null;
  return {
    benchmark,
    figure: `${num(f.tweetsPerS)} tweets/s, ${f.cpu ? num(f.cpu.usPerRecord) : '?'} us CPU/tweet, ${num(f.linesWritten)} lines of ${num(f.records)}`,
    against: ours
      ? `tweetpipe sink ${f.format} ${num(ours.tweetsPerS)} tweets/s, ${ours.cpu ? num(ours.cpu.usPerRecord) : '?'} us CPU/tweet`
      : '(no tweetpipe figure)',
    ratio: speedRatio,
    goal: 'tweetpipe >= 4x tweets/s, <= 1/4 CPU/tweet',
    met: speedRatio === null || cpuRatio === null ? null : speedRatio >= 4 && cpuRatio <= 0.25,
    peakRssMb: rssMb(f.peakRssBytes),
    busy: busyOf(f.cpu),
  };
}

export function formatTable(rows: Row[]): string {
  const header = [
    'benchmark',
    'figure',
    'ceiling / baseline',
    'ratio',
    'goal',
    'met',
    'peak RSS',
    'busy cores',
  ];
  const cells = rows.map((row) => [
    row.benchmark,
    row.figure,
    row.against,
    row.ratio === null ? '-' : num(row.ratio, 2),
    row.goal,
    row.met === null ? '-' : row.met ? 'yes' : 'NO',
    row.peakRssMb === null ? '-' : `${num(row.peakRssMb)} MB`,
    row.busy === null ? '-' : `${num(row.busy.busyCores, 2)} of ${row.busy.cores}`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]?.length ?? 0)));
  const line = (c: string[]) =>
    c
      .map((v, i) => v.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n');
}

/** The measurements behind the table, for the record (times, bytes, ceilings' own figures). */
export function formatDetails(r: BenchResults): string {
  const out: string[] = [];
  const s = (n: number) => `${num(n, 1)} s`;
  if (r.sample)
    out.push(
      `synthetic values: ${num(r.sample.avgValueBytes)} bytes on average (first ${num(r.sample.records)} tweets, seed 1)`,
    );
  if (r.produce) {
    const p = r.produce;
    out.push(
      `synthetic source alone: ${num(p.syntheticAlone.records)} tweets in ${s(p.syntheticAlone.seconds)}, ${num(p.syntheticAlone.usPerTweet)} us CPU per tweet (generating and mapping, all threads)`,
    );
    out.push(
      `produce: ${num(p.records)} tweets; tweetpipe ${s(p.tweetpipe.seconds)} (produce loop; process ${s(p.tweetpipe.wallS)}), replay ${s(p.replay.seconds)} (archive ${num(p.replay.archiveBytes / MB)} MB; process ${s(p.replay.wallS)}), ProducerPerformance ${s(p.ceiling.seconds)} with ${p.ceiling.props.slice(1).join(' ')}`,
    );
  }
  if (r.sinkFill)
    out.push(
      `sink topic fill: ${num(r.sinkFill.produced)} tweets in ${s(r.sinkFill.seconds)} = ${num(r.sinkFill.produced / r.sinkFill.seconds)} tweets/s (tweetpipe produce)`,
    );
  if (r.sink) {
    const c = r.sink.consumerPerf;
    out.push(
      `ConsumerPerformance: ${num(c.records)} messages in ${s(c.seconds)} = ${rate(c.tweetsPerS, c.mbPerS)} (key + value bytes)`,
    );
    for (const f of r.sink.formats) {
      if ('failed' in f) {
        out.push(`sink ${f.format}: failed: ${f.failed.split('\n')[0]}`);
        continue;
      }
      const t = f.tweetpipe;
      out.push(
        `sink ${t.format}: ${num(t.records)} tweets, ${num(t.bytesWritten / MB)} MB in ${s(t.seconds)} (process ${s(t.wallS)}); raw WebHDFS write of the same bytes ${s(f.raw.seconds)} = ${num(f.raw.mbPerS)} MB/s = ${num(f.raw.tweetsPerS)} tweets/s`,
      );
    }
  }
  const cpuLines: [string, RunCpu | null | undefined][] = [
    ['produce', r.produce?.tweetpipe.cpu],
    ['produce replay', r.produce?.replay.cpu],
    ['ProducerPerformance', r.produce?.ceiling.cpu],
    ['sink topic fill', r.sinkFill?.cpu],
    ...(r.sink?.formats ?? []).flatMap((f): [string, RunCpu | null][] =>
      'tweetpipe' in f ? [[`sink ${f.tweetpipe.format}`, f.tweetpipe.cpu]] : [],
    ),
    ...(r.flume?.runs ?? []).flatMap((f): [string, RunCpu | null][] =>
      'cpu' in f ? [[`flume ${f.format}`, f.cpu]] : [],
    ),
  ];
  for (const [what, cpu] of cpuLines) if (cpu) out.push(`CPU during ${what}: ${formatCpu(cpu)}`);
  for (const f of r.flume?.runs ?? [])
    out.push(
      'failed' in f
        ? `flume ${f.format}: failed: ${f.failed.split('\n')[0]}`
        : `flume ${r.flume?.version} ${f.format}: ${num(f.records)} records, ${num(f.linesWritten)} lines written (${f.linesWritten >= f.records ? `${num(f.linesWritten - f.records)} duplicates` : `${num(f.records - f.linesWritten)} LOST`}) in ${num(f.files)} files, ${num(f.bytesWritten / MB)} MB, ${s(f.seconds)}; java ${r.flume?.javaOptions.join(' ')}`,
    );
  if (r.python) {
    const py = r.python;
    out.push(
      py.ok
        ? `naive python sink: ${num(py.written)} tweets written in ${s(py.seconds)} as ${num(py.files)} files; ${num(py.batchesOverwritten)} batches of 50 overwritten by a later batch of the same second (lost)`
        : `naive python sink: not measured: ${py.reason}`,
    );
  }
  return out.join('\n');
}

/** "1.93 of 2 cores busy: tweetpipe 1.21 (30 us CPU per record), kafka 0.08, ..." */
export function formatCpu(cpu: RunCpu): string {
  const parts = Object.entries(cpu.processes).map(([name, cores]) =>
    name === cpu.process
      ? `${name} ${num(cores, 2)} (${num(cpu.usPerRecord)} us CPU per record)`
      : `${name} ${num(cores, 2)}`,
  );
  return `${num(cpu.busyCores, 2)} of ${cpu.cores} cores busy: ${parts.join(', ')}`;
}

export async function writeResults(file: string, results: BenchResults): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, `${JSON.stringify(results, null, 2)}\n`);
}

/**
 * The dashboard's model. The pipeline reports what the metrics registry cannot hold (the tweets' hashtags and
 * languages, which files were committed, why records went to the dead-letter topic); `tick()` folds that and the
 * registry into one JSON snapshot per second and keeps a short history, so a page opened mid-run draws its curves
 * at once.
 *
 * Hashtag and language counts: tweet-window.ts; latency quantiles from the registry's histogram:
 * histogram-quantile.ts.
 */
import type { Counter } from 'prom-client';
import { maskSecrets } from '../log.ts';
import type { SourceState } from '../sources/source.ts';
import { type HistogramBucket, type HistogramReading, histogramQuantile } from './histogram-quantile.ts';
import type { Metrics } from './metrics.ts';
import { type TopCounts, TweetWindow } from './tweet-window.ts';

export interface StageRates {
  /** Tweets per second read from the source. */
  received: number;
  /** Tweets per second acknowledged by Kafka. */
  produced: number;
  /** Records per second fetched from Kafka by the sink. */
  consumed: number;
  /** Records per second in files committed to HDFS (moves in steps: a window counts when it commits). */
  written: number;
}

export interface Totals {
  received: number;
  duplicates: number;
  produced: number;
  producedBytes: number;
  consumed: number;
  written: number;
  writtenBytes: number;
  filesCommitted: number;
  reconnects: number;
  errors: number;
}

/** End-to-end latency (tweet created_at to its file committed) over the last `windowS` seconds, in seconds. */
export interface LatencySummary {
  windowS: number;
  /** Observations in the window; the estimates are null when there are none. */
  count: number;
  p50: number | null;
  p95: number | null;
  mean: number | null;
}

export interface PartitionLag {
  topic: string;
  partition: number;
  lag: number;
}

export interface CommittedFile {
  path: string;
  bytes: number;
  records: number;
  /** Epoch ms. */
  at: number;
}

export interface DeadLetterNote {
  stage: string;
  reason: string;
  /** Epoch ms. */
  at: number;
}

/** One point of the charts' history, taken at each tick. */
export interface HistoryPoint extends StageRates {
  /** Epoch ms. */
  time: number;
  lag: number;
  latencyP50: number | null;
  latencyP95: number | null;
}

export interface DashboardSnapshot {
  /** Epoch ms. */
  time: number;
  rates: StageRates;
  totals: Totals;
  latency: LatencySummary;
  lag: { total: number; partitions: PartitionLag[] };
  files: { committed: number; recent: CommittedFile[] };
  deadLetters: { count: number; recent: DeadLetterNote[] };
  top: TopCounts;
  source: SourceState;
  /** The newest history point (null before the first tick). */
  point: HistoryPoint | null;
}

export interface LiveStateOptions {
  metrics: Metrics;
  sourceState: () => SourceState;
  /** Window of the hashtag and language counts, in seconds. */
  windowS?: number;
  /** Epoch ms; injected by tests. */
  now?: () => number;
  /** At most this many tweet values are parsed per second; above it, every n-th value is. */
  maxParsePerSecond?: number;
  /** Window of the latency estimates, in seconds. */
  latencyWindowS?: number;
  /** Points kept for the charts (one per tick). */
  historyLength?: number;
}

const RECENT_FILES = 20;
const RECENT_DEAD_LETTERS = 10;
const TOP_K = 10;
const MAX_REASON_CHARS = 300;

export class LiveState {
  private readonly metrics: Metrics;
  private readonly sourceState: () => SourceState;
  private readonly now: () => number;
  private readonly latencyWindowS: number;
  private readonly historyLength: number;
  private readonly tweets: TweetWindow;
  private readonly recentFiles: CommittedFile[] = [];
  private readonly recentDeadLetters: DeadLetterNote[] = [];
  private deadLetterCount = 0;
  private readonly points: HistoryPoint[] = [];
  /** Cumulative latency histograms taken at each tick within the latency window, oldest first. */
  private readonly latencyMarks: { time: number; histogram: HistogramReading }[] = [];
  private lastTick: { time: number; totals: Totals; rates: StageRates } | null = null;

  constructor(opts: LiveStateOptions) {
    this.metrics = opts.metrics;
    this.sourceState = opts.sourceState;
    this.now = opts.now ?? Date.now;
    this.latencyWindowS = opts.latencyWindowS ?? 60;
    this.historyLength = opts.historyLength ?? 120;
    this.tweets = new TweetWindow(opts.windowS ?? 300, opts.maxParsePerSecond ?? 2000);
  }

  /** The JSON values of tweets Kafka acknowledged. Cheap: only a sample is parsed. */
  onTweets(values: Buffer[]): void {
    this.tweets.add(values, Math.floor(this.now() / 1000));
  }

  onCommit(file: { path: string; bytes: number; records: number }): void {
    this.recentFiles.unshift({ path: file.path, bytes: file.bytes, records: file.records, at: this.now() });
    this.recentFiles.length = Math.min(this.recentFiles.length, RECENT_FILES);
  }

  onDeadLetter(stage: string, reason: string): void {
    this.deadLetterCount++;
    this.recentDeadLetters.unshift({ stage, reason: shorten(maskSecrets(reason)), at: this.now() });
    this.recentDeadLetters.length = Math.min(this.recentDeadLetters.length, RECENT_DEAD_LETTERS);
  }

  /** Totals, the latency histogram and consumer lag, read from the registry together. */
  private readRegistry() {
    return Promise.all([this.readTotals(), this.readLatency(), this.readLag()]);
  }

  /** Takes one history point (rates since the previous tick) and returns the snapshot it belongs to. */
  async tick(): Promise<DashboardSnapshot> {
    const time = this.now();
    const [totals, histogram, lag] = await this.readRegistry();
    const rates = this.lastTick ? ratesBetween(this.lastTick, { time, totals }) : zeroRates();
    const latency = this.latencyOver(time, histogram);
    this.latencyMarks.push({ time, histogram });
    const point: HistoryPoint = {
      time,
      ...rates,
      lag: lag.total,
      latencyP50: latency.p50,
      latencyP95: latency.p95,
    };
    this.points.push(point);
    if (this.points.length > this.historyLength) this.points.shift();
    this.lastTick = { time, totals, rates };
    return this.compose(time, totals, rates, latency, lag, point);
  }

  /** Current totals, lag and windows; rates are those of the last tick (zero before it). */
  async snapshot(): Promise<DashboardSnapshot> {
    const time = this.now();
    const [totals, histogram, lag] = await this.readRegistry();
    return this.compose(
      time,
      totals,
      this.lastTick?.rates ?? zeroRates(),
      this.latencyOver(time, histogram),
      lag,
      this.points.at(-1) ?? null,
    );
  }

  /** The charts' history, oldest first. */
  history(): HistoryPoint[] {
    return [...this.points];
  }

  private compose(
    time: number,
    totals: Totals,
    rates: StageRates,
    latency: LatencySummary,
    lag: DashboardSnapshot['lag'],
    point: HistoryPoint | null,
  ): DashboardSnapshot {
    const top = this.tweets.top(Math.floor(time / 1000), TOP_K);
    const source = this.sourceState();
    return {
      time,
      rates,
      totals,
      latency,
      lag,
      files: { committed: totals.filesCommitted, recent: [...this.recentFiles] },
      deadLetters: { count: this.deadLetterCount, recent: [...this.recentDeadLetters] },
      top,
      source: source.reason === undefined ? source : { ...source, reason: maskSecrets(source.reason) },
      point,
    };
  }

  private async readTotals(): Promise<Totals> {
    const m = this.metrics;
    const counters: Record<keyof Totals, Counter> = {
      received: m.received,
      duplicates: m.duplicates,
      produced: m.produced,
      producedBytes: m.producedBytes,
      consumed: m.consumed,
      written: m.written,
      writtenBytes: m.writtenBytes,
      filesCommitted: m.filesCommitted,
      reconnects: m.reconnects,
      errors: m.errors,
    };
    const entries = await Promise.all(
      Object.entries(counters).map(async ([key, counter]) => [key, await m.total(counter)] as const),
    );
    return Object.fromEntries(entries) as unknown as Totals;
  }

  private async readLatency(): Promise<HistogramReading> {
    const { values } = await this.metrics.endToEndLatency.get();
    const buckets: HistogramBucket[] = [];
    let sum = 0;
    for (const v of values) {
      if (v.metricName?.endsWith('_bucket')) {
        const le = v.labels.le;
        buckets.push({ le: le === '+Inf' ? Number.POSITIVE_INFINITY : Number(le), count: v.value });
      } else if (v.metricName?.endsWith('_sum')) sum = v.value;
    }
    return { buckets, sum };
  }

  private async readLag(): Promise<DashboardSnapshot['lag']> {
    const { values } = await this.metrics.lag.get();
    const partitions = values
      .map((v) => ({ topic: String(v.labels.topic), partition: Number(v.labels.partition), lag: v.value }))
      .sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition);
    return { total: partitions.reduce((sum, p) => sum + p.lag, 0), partitions };
  }

  /**
   * Latency of the observations made since the last tick at or before the window's start (since the first tick
   * while the process is younger than the window; since start before any tick).
   */
  private latencyOver(time: number, current: HistogramReading): LatencySummary {
    const since = time - this.latencyWindowS * 1000;
    while (this.latencyMarks.length > 1 && this.latencyMarks[1]!.time <= since) this.latencyMarks.shift();
    const base = this.latencyMarks[0]?.histogram;
    const buckets = current.buckets.map((b, i) => ({
      le: b.le,
      count: b.count - (base?.buckets[i]?.count ?? 0),
    }));
    const count = buckets.at(-1)?.count ?? 0;
    const sum = current.sum - (base?.sum ?? 0);
    return {
      windowS: this.latencyWindowS,
      count,
      p50: histogramQuantile(buckets, 0.5),
      p95: histogramQuantile(buckets, 0.95),
      mean: count > 0 ? sum / count : null,
    };
  }
}

function ratesBetween(
  from: { time: number; totals: Totals },
  to: { time: number; totals: Totals },
): StageRates {
  const seconds = (to.time - from.time) / 1000;
  const rate = (key: keyof StageRates) =>
    seconds > 0 ? Math.max(0, (to.totals[key] - from.totals[key]) / seconds) : 0;
  return {
    received: rate('received'),
    produced: rate('produced'),
    consumed: rate('consumed'),
    written: rate('written'),
  };
}

const zeroRates = (): StageRates => ({ received: 0, produced: 0, consumed: 0, written: 0 });

function shorten(text: string): string {
  return text.length > MAX_REASON_CHARS ? `${text.slice(0, MAX_REASON_CHARS - 1)}…` : text;
}

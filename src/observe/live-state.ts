/**
 * The dashboard's model. The pipeline reports what the metrics registry cannot hold (the tweets' hashtags and
 * languages, which files were committed, why records went to the dead-letter topic); `tick()` folds that and the
 * registry into one JSON snapshot per second and keeps a short history, so a page opened mid-run draws its curves
 * at once.
 *
 * Hashtag and language counts are a hand-written sliding window (per-second buckets, systematic sampling): no
 * installed package counts top-k over time, and parsing every value at 50k tweets/s would cost a core.
 */
import type { Counter } from 'prom-client';
import { maskSecrets } from '../log.ts';
import type { SourceState } from '../sources/source.ts';
import type { Metrics } from './metrics.ts';

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

export interface Ranked {
  name: string;
  /** Estimated tweets in the window (each sampled tweet counts as many as it stands for). */
  count: number;
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
  top: {
    windowS: number;
    /** Tweets seen in the window, and how many of them were parsed to count hashtags and languages. */
    tweets: number;
    sampled: number;
    hashtags: Ranked[];
    languages: Ranked[];
  };
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

  /** Takes one history point (rates since the previous tick) and returns the snapshot it belongs to. */
  async tick(): Promise<DashboardSnapshot> {
    const time = this.now();
    const [totals, histogram, lag] = await Promise.all([
      this.readTotals(),
      this.readLatency(),
      this.readLag(),
    ]);
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
    const [totals, histogram, lag] = await Promise.all([
      this.readTotals(),
      this.readLatency(),
      this.readLag(),
    ]);
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

export interface HistogramBucket {
  /** Upper bound (Infinity for the last bucket). */
  le: number;
  /** Cumulative count of observations <= le. */
  count: number;
}

interface HistogramReading {
  buckets: HistogramBucket[];
  sum: number;
}

/**
 * Estimates a quantile from cumulative buckets the way Prometheus' histogram_quantile does: linear interpolation
 * inside the bucket the rank falls in; a rank in the +Inf bucket answers the highest finite bound.
 */
export function histogramQuantile(buckets: HistogramBucket[], q: number): number | null {
  const total = buckets.at(-1)?.count ?? 0;
  if (total <= 0) return null;
  const rank = q * total;
  let lowerBound = 0;
  let lowerCount = 0;
  for (const bucket of buckets) {
    if (bucket.count >= rank) {
      if (!Number.isFinite(bucket.le)) return lowerBound;
      const inBucket = bucket.count - lowerCount;
      return inBucket > 0
        ? lowerBound + ((bucket.le - lowerBound) * (rank - lowerCount)) / inBucket
        : lowerBound;
    }
    lowerBound = bucket.le;
    lowerCount = bucket.count;
  }
  return lowerBound;
}

interface Bucket {
  second: number;
  seen: number;
  parsed: number;
  hashtags: Map<string, number>;
  languages: Map<string, number>;
}

/**
 * Hashtag and language counts over the last `windowS` seconds. Each second is a bucket; the window's totals are
 * kept incrementally (a bucket is added on arrival and subtracted when it leaves), so reading them costs one pass
 * over the distinct names, not over the buckets. When a second brings more than `maxParsePerSecond` values, each
 * value is parsed with probability 1/n (n from the rate of this second or the previous one, whichever is higher)
 * and counts as n tweets. Random rather than every n-th, so a source that cycles through languages or hashtags
 * cannot alias with the stride; the generator is seeded, so tests are deterministic. The first second of a sudden
 * burst is undercounted (parsing stops at the budget before the rate is known): one second of the window.
 */
class TweetWindow {
  private readonly windowS: number;
  private readonly maxParsePerSecond: number;
  private readonly buckets: Bucket[] = [];
  private readonly hashtags = new Map<string, number>();
  private readonly languages = new Map<string, number>();
  private readonly random = seededRandom(0x7a11);
  private seen = 0;
  private parsed = 0;

  constructor(windowS: number, maxParsePerSecond: number) {
    this.windowS = windowS;
    this.maxParsePerSecond = maxParsePerSecond;
  }

  add(values: Buffer[], second: number): void {
    this.evict(second);
    const bucket = this.bucketAt(second);
    const previous = this.buckets.at(-2);
    const previousRate = previous?.second === second - 1 ? previous.seen : 0;
    const rate = Math.max(previousRate, bucket.seen + values.length);
    const n = Math.max(1, Math.ceil(rate / this.maxParsePerSecond));
    for (const value of values) {
      if (bucket.parsed >= this.maxParsePerSecond) break;
      if (n > 1 && this.random() * n >= 1) continue;
      bucket.parsed++;
      this.parsed++;
      this.count(bucket, value, n);
    }
    bucket.seen += values.length;
    this.seen += values.length;
  }

  top(second: number, k: number): DashboardSnapshot['top'] {
    this.evict(second);
    return {
      windowS: this.windowS,
      tweets: this.seen,
      sampled: this.parsed,
      hashtags: topK(this.hashtags, k),
      languages: topK(this.languages, k),
    };
  }

  private count(bucket: Bucket, value: Buffer, weight: number): void {
    let tweet: { lang?: unknown; entities?: { hashtags?: unknown } };
    try {
      tweet = JSON.parse(value.toString('utf8'));
    } catch {
      return; // the producer only sends valid records; a stray value is not worth failing the pipeline for
    }
    if (typeof tweet !== 'object' || tweet === null) return;
    if (typeof tweet.lang === 'string') {
      increment(bucket.languages, tweet.lang, weight);
      increment(this.languages, tweet.lang, weight);
    }
    const tags = tweet.entities?.hashtags;
    if (!Array.isArray(tags)) return;
    const distinct = new Set<string>();
    for (const h of tags) if (typeof h?.tag === 'string') distinct.add(h.tag);
    for (const tag of distinct) {
      increment(bucket.hashtags, tag, weight);
      increment(this.hashtags, tag, weight);
    }
  }

  private bucketAt(second: number): Bucket {
    const last = this.buckets.at(-1);
    if (last && last.second >= second) return last; // a clock step back counts into the newest bucket
    const bucket: Bucket = { second, seen: 0, parsed: 0, hashtags: new Map(), languages: new Map() };
    this.buckets.push(bucket);
    return bucket;
  }

  private evict(second: number): void {
    while (this.buckets.length > 0 && this.buckets[0]!.second <= second - this.windowS) {
      const old = this.buckets.shift()!;
      this.seen -= old.seen;
      this.parsed -= old.parsed;
      for (const [name, n] of old.hashtags) increment(this.hashtags, name, -n);
      for (const [name, n] of old.languages) increment(this.languages, name, -n);
    }
  }
}

function increment(map: Map<string, number>, key: string, by: number): void {
  const next = (map.get(key) ?? 0) + by;
  if (next > 0) map.set(key, next);
  else map.delete(key);
}

/** The k largest counts, ties by name; one pass with a small sorted array (the map can hold many names). */
function topK(counts: Map<string, number>, k: number): Ranked[] {
  const best: Ranked[] = [];
  for (const [name, count] of counts) {
    if (best.length === k && !before({ name, count }, best[k - 1]!)) continue;
    let i = best.length;
    while (i > 0 && before({ name, count }, best[i - 1]!)) i--;
    best.splice(i, 0, { name, count });
    if (best.length > k) best.pop();
  }
  return best;
}

const before = (a: Ranked, b: Ranked): boolean =>
  a.count > b.count || (a.count === b.count && a.name < b.name);

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

/** mulberry32: a tiny, fast PRNG; quality is ample for sampling. */
function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const zeroRates = (): StageRates => ({ received: 0, produced: 0, consumed: 0, written: 0 });

function shorten(text: string): string {
  return text.length > MAX_REASON_CHARS ? `${text.slice(0, MAX_REASON_CHARS - 1)}…` : text;
}

/**
 * Hashtag and language counts over a sliding window, for the dashboard: a hand-written window (per-second buckets,
 * sampling): no installed package counts top-k over time, and parsing every value at 50k tweets/s would cost a core.
 */

export interface Ranked {
  name: string;
  /** Estimated tweets in the window (each sampled tweet counts as many as it stands for). */
  count: number;
}

/** The window's top hashtags and languages. */
export interface TopCounts {
  windowS: number;
  /** Tweets seen in the window, and how many of them were parsed to count hashtags and languages. */
  tweets: number;
  sampled: number;
  hashtags: Ranked[];
  languages: Ranked[];
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
export class TweetWindow {
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

  top(second: number, k: number): TopCounts {
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

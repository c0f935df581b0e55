/** One batch of synthetic tweets mapped to records, and its compact form for crossing a thread boundary. */
import type { DeadLetter, TweetRecord } from '../types.ts';
import type { SyntheticTweets } from './synthetic-payloads.ts';
import { toTweetRecords } from './tweet-record.ts';

const RULES = [{ id: '1', tag: 'synthetic' }];

/** Mean virtual gap between synthetic tweets (the generator's default: 50 tweets/s of virtual time). */
const MEAN_GAP_MS = 20;

/**
 * Where the virtual clock starts: far enough back that `count` tweets end near now (at most an hour back), so a
 * run's tweets fall in the last hours' partitions.
 */
export function syntheticStartMs(count: number, nowMs = Date.now()): number {
  return nowMs - Math.min(count, 180_000) * MEAN_GAP_MS;
}

export interface MappedBatch {
  records: TweetRecord[];
  deadLetters: DeadLetter[];
}

/**
 * `atMs` pins created_at (real-time pacing); undefined uses the generator's virtual clock, which never runs past
 * the real one: Kafka rejects record timestamps more than an hour ahead (log.message.timestamp.after.max.ms).
 */
export function generateBatch(
  tweets: SyntheticTweets,
  n: number,
  atMs: number | undefined,
  source: string,
): MappedBatch {
  const records: TweetRecord[] = [];
  const deadLetters: DeadLetter[] = [];
  const now = Date.now();
  const ctx = { source, ingestedAtMs: now };
  for (let i = 0; i < n; i++) {
    const { data, includes } = tweets.nextTweet(atMs, now);
    const mapped = toTweetRecords({ data, includes, matching_rules: RULES }, ctx);
    for (const r of mapped.records) records.push(r);
    for (const d of mapped.deadLetters) deadLetters.push(d);
  }
  return { records, deadLetters };
}

/** Records as one byte buffer plus per-record ids, times and lengths (synthetic tweets never dead-letter). */
export interface PackedBatch {
  ids: string[];
  createdAtMs: number[];
  lengths: number[];
  bytes: Uint8Array;
}

export function packBatch(batch: MappedBatch): PackedBatch {
  const lengths = batch.records.map((r) => r.value.length);
  const bytes = new Uint8Array(lengths.reduce((a, b) => a + b, 0));
  let at = 0;
  for (const r of batch.records) {
    bytes.set(r.value, at);
    at += r.value.length;
  }
  return {
    ids: batch.records.map((r) => r.id),
    createdAtMs: batch.records.map((r) => r.createdAtMs),
    lengths,
    bytes,
  };
}

export function unpackBatch(packed: PackedBatch): TweetRecord[] {
  const buf = Buffer.from(packed.bytes.buffer, packed.bytes.byteOffset, packed.bytes.byteLength);
  const out: TweetRecord[] = new Array(packed.ids.length);
  let at = 0;
  for (let i = 0; i < packed.ids.length; i++) {
    const len = packed.lengths[i]!;
    out[i] = { id: packed.ids[i]!, createdAtMs: packed.createdAtMs[i]!, value: buf.subarray(at, at + len) };
    at += len;
  }
  return out;
}

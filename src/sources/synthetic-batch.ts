/** One batch of synthetic tweets as records, written as one byte buffer that can cross a thread boundary. */
import type { DeadLetter, TweetRecord } from '../types.ts';
import type { SyntheticTweets } from './synthetic-payloads.ts';
import { type PackedBatch, SyntheticRecordWriter, unpackBatch } from './synthetic-record-writer.ts';

/** The rules every synthetic tweet matched: the one the source stands for. */
export const SYNTHETIC_RULES = [{ id: '1', tag: 'synthetic' }];

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
 * The records of the next `n` tweets, packed (into `spare` when it is large enough). `atMs` pins created_at
 * (real-time pacing); undefined uses the generator's virtual clock, which never runs past the real one: Kafka
 * rejects record timestamps more than an hour ahead (log.message.timestamp.after.max.ms).
 */
export function writeBatch(
  tweets: SyntheticTweets,
  writer: SyntheticRecordWriter,
  n: number,
  atMs: number | undefined,
  source: string,
  spare?: ArrayBuffer,
): PackedBatch {
  const now = Date.now();
  writer.begin(n, source, now, spare);
  for (let i = 0; i < n; i++) writer.write(tweets.nextTweet(atMs, now));
  return writer.end();
}

/** writeBatch's records, unpacked in this thread (synthetic tweets never dead-letter). */
export function generateBatch(
  tweets: SyntheticTweets,
  n: number,
  atMs: number | undefined,
  source: string,
  writer = new SyntheticRecordWriter(SYNTHETIC_RULES),
): MappedBatch {
  return { records: unpackBatch(writeBatch(tweets, writer, n, atMs, source)), deadLetters: [] };
}

/**
 * A sample of the synthetic tweets the benchmarks produce (the same generator and seed as
 * `tweetpipe produce --source synthetic`): their average value size, and a payload file of real values for Kafka's
 * ProducerPerformance, so the ceiling sends records of the same size and the same compressibility under zstd
 * (its --record-size would send random letters, which compress far worse than JSON).
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { EndOfInput } from '../src/sources/source.ts';
import { SyntheticSource } from '../src/sources/synthetic.ts';
import type { TweetRecord } from '../src/types.ts';

export const SYNTHETIC_SEED = 1;

export interface SyntheticSample {
  records: number;
  avgValueBytes: number;
  /** Values one per line (JSON.stringify escapes newlines, so none is inside a value). */
  payloadFile: string;
  /** The sample as JSON Lines, the content the raw WebHDFS ceiling streams. */
  jsonl: Buffer;
}

/**
 * Reads `records` tweets of the benchmarks' synthetic stream (seed 1) as fast as the source gives them, handing
 * each batch's records to `onTweets`.
 */
export async function readSynthetic(
  records: number,
  onTweets: (tweets: TweetRecord[]) => void,
): Promise<void> {
  const source = new SyntheticSource({ seed: SYNTHETIC_SEED, maxTweets: records });
  await source.connect();
  const signal = new AbortController().signal;
  try {
    for (;;) onTweets((await source.read(signal)).tweets);
  } catch (err) {
    if (!(err instanceof EndOfInput)) throw err;
  } finally {
    await source.close();
  }
}

export async function sampleSynthetic(workDir: string, records: number): Promise<SyntheticSample> {
  const lines: Buffer[] = [];
  const newline = Buffer.from('\n');
  let valueBytes = 0;
  await readSynthetic(records, (tweets) => {
    for (const t of tweets) {
      valueBytes += t.value.length;
      lines.push(t.value, newline);
    }
  });
  const values = lines.length / 2;
  const jsonl = Buffer.concat(lines);
  const payloadFile = join(workDir, 'payloads.txt');
  await writeFile(payloadFile, jsonl);
  return { records: values, avgValueBytes: valueBytes / values, payloadFile, jsonl };
}

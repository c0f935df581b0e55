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

export const SYNTHETIC_SEED = 1;

export interface SyntheticSample {
  records: number;
  avgValueBytes: number;
  /** Values one per line (JSON.stringify escapes newlines, so none is inside a value). */
  payloadFile: string;
  /** The sample as JSON Lines, the content the raw WebHDFS ceiling streams. */
  jsonl: Buffer;
}

export async function sampleSynthetic(workDir: string, records: number): Promise<SyntheticSample> {
  const source = new SyntheticSource({ seed: SYNTHETIC_SEED, maxTweets: records });
  await source.connect();
  const lines: Buffer[] = [];
  const newline = Buffer.from('\n');
  let valueBytes = 0;
  const signal = new AbortController().signal;
  for (;;) {
    let batch: Awaited<ReturnType<SyntheticSource['read']>>;
    try {
      batch = await source.read(signal);
    } catch (err) {
      if (err instanceof EndOfInput) break;
      throw err;
    }
    for (const t of batch.tweets) {
      valueBytes += t.value.length;
      lines.push(t.value, newline);
    }
  }
  await source.close();
  const values = lines.length / 2;
  const jsonl = Buffer.concat(lines);
  const payloadFile = join(workDir, 'payloads.txt');
  await writeFile(payloadFile, jsonl);
  return { records: values, avgValueBytes: valueBytes / values, payloadFile, jsonl };
}

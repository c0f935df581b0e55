/**
 * Worker thread of the synthetic source at full speed: generating and mapping realistic tweets costs as much CPU as
 * publishing them, so it runs on the second core. Batches go back as one transferred buffer (no copy, no
 * per-tweet structured clone).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { generateBatch, packBatch } from './synthetic-batch.ts';
import { SyntheticTweets } from './synthetic-payloads.ts';

const port = parentPort;
if (!port) throw new Error('synthetic-worker.ts runs as a worker thread');
const { seed, startTimeMs } = workerData as { seed: number; startTimeMs: number };
const tweets = new SyntheticTweets({ seed, startTimeMs });
port.on('message', (msg: { n: number; source: string }) => {
  const packed = packBatch(generateBatch(tweets, msg.n, undefined, msg.source));
  port.postMessage(packed, [packed.bytes.buffer as ArrayBuffer]);
});

/**
 * A worker thread of the synthetic source at full speed: generating realistic tweets and writing their records is
 * a large share of their CPU, so it runs beside the main thread, on as many threads as synthetic.ts starts, each making
 * the stream segments it is asked for (SyntheticTweets.startSegment). Records are written as bytes into one buffer
 * per batch (synthetic-record-writer.ts), which goes back transferred (no copy, no per-tweet structured clone).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { SYNTHETIC_RULES, writeBatch } from './synthetic-batch.ts';
import { SyntheticTweets } from './synthetic-payloads.ts';
import { SyntheticRecordWriter } from './synthetic-record-writer.ts';

export interface SyntheticWorkerData {
  seed: number;
  startTimeMs: number;
  /** Tweets per stream segment (the source's batch size). */
  segmentSize: number;
  thread: number;
}

export interface SegmentRequest {
  segment: number;
  n: number;
  source: string;
}

const port = parentPort;
if (!port) throw new Error('synthetic-worker.ts runs as a worker thread');
const { seed, startTimeMs, segmentSize, thread } = workerData as SyntheticWorkerData;
const tweets = new SyntheticTweets({ seed, startTimeMs });
const writer = new SyntheticRecordWriter(SYNTHETIC_RULES);
port.on('message', (msg: SegmentRequest) => {
  tweets.startSegment(msg.segment, segmentSize, thread);
  const packed = writeBatch(tweets, writer, msg.n, undefined, msg.source);
  port.postMessage(packed, [packed.bytes.buffer as ArrayBuffer]);
});

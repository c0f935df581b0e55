/**
 * A worker thread of the synthetic source at full speed: generating realistic tweets and writing their records is
 * a large share of their CPU, so it runs beside the main thread, on as many threads as synthetic.ts starts, each making
 * the stream segments it is asked for (SyntheticTweets.startSegment). Records are written as bytes into one buffer
 * per batch (synthetic-record-writer.ts), which goes back transferred (no copy, no per-tweet structured clone) and
 * comes back once the produce loop is done with its records (acked), to be written over: a new buffer per batch was
 * ~2.6 KB of new external memory per tweet in each thread, which started V8's full collections early
 * (docs/benchmarks.md, "Seventh round: synthetic produce").
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

/** The memory of a batch whose records are no longer read, given back to the thread that wrote it. */
export interface SpareBatch {
  spare: ArrayBuffer;
}

const port = parentPort;
if (!port) throw new Error('synthetic-worker.ts runs as a worker thread');
const { seed, startTimeMs, segmentSize, thread } = workerData as SyntheticWorkerData;
const tweets = new SyntheticTweets({ seed, startTimeMs });
const writer = new SyntheticRecordWriter(SYNTHETIC_RULES);
const spares: ArrayBuffer[] = [];
port.on('message', (msg: SegmentRequest | SpareBatch) => {
  if ('spare' in msg) {
    spares.push(msg.spare);
    return;
  }
  tweets.startSegment(msg.segment, segmentSize, thread);
  const packed = writeBatch(tweets, writer, msg.n, undefined, msg.source, spares.pop());
  port.postMessage(packed, [packed.bytes.buffer as ArrayBuffer]);
});

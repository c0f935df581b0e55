import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { TweetpipeError } from '../../../src/errors.ts';
import type { TweetProducer } from '../../../src/kafka/tweet-producer.ts';
import { silentLogger } from '../../../src/log.ts';
import { Metrics } from '../../../src/observe/metrics.ts';
import { runProduceLoop } from '../../../src/pipeline/produce.ts';
import { TopicTailCheck } from '../../../src/pipeline/topic-tail-check.ts';
import { DedupWindow } from '../../../src/sources/dedup.ts';
import { ReplaySource } from '../../../src/sources/replay.ts';
import { EndOfInput, type Source, type SourceBatch } from '../../../src/sources/source.ts';
import type { TweetRecord } from '../../../src/types.ts';

const tweet = (id: string): TweetRecord =>
  ({ id, createdAtMs: Date.now(), value: Buffer.from(`{"id":"${id}"}`) }) as unknown as TweetRecord;

/** One batch whose ack fails (the cursor cannot be saved), then a quiet source: read() waits until aborted. */
function quietSourceWithFailingAck(ackError: Error): Source {
  let served = false;
  return {
    name: 'quiet',
    connect: async () => {},
    read: (signal: AbortSignal): Promise<SourceBatch> => {
      if (!served) {
        served = true;
        return Promise.resolve({
          tweets: [tweet('1')],
          deadLetters: [],
          ack: () => Promise.reject(ackError),
        });
      }
      return new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason)));
    },
    close: async () => {},
    state: () => ({ state: 'connected', reconnects: 0 }),
  } as Source;
}

test('a failed ack stops the produce loop at once, even while the source has nothing to read', async () => {
  const ackError = new Error('cannot save the source cursor to /state/source-cursors.json: ENOSPC');
  const producer = {
    topic: 't',
    send: async () => {},
    sendDeadLetters: async () => {},
  } as unknown as TweetProducer;
  const never = new AbortController();
  const loop = runProduceLoop({
    source: quietSourceWithFailingAck(ackError),
    producer,
    dedup: { add: () => true },
    metrics: new Metrics(),
    log: silentLogger,
    maxInFlight: 1000,
    tailCheck: new TopicTailCheck(async () => []),
    signal: never.signal,
  });
  const outcome = await Promise.race([
    loop.then(
      () => 'returned',
      (err: Error) => err,
    ),
    new Promise((resolve) => setTimeout(() => resolve('still reading'), 5000).unref()),
  ]);
  assert.equal(outcome, ackError);
});

/** Three batches, then the end of input. */
function batches(ids: string[][]): Source {
  const queue = [...ids];
  return {
    name: 'batches',
    connect: async () => {},
    read: async (): Promise<SourceBatch> => {
      const next = queue.shift();
      if (!next) throw new EndOfInput();
      return { tweets: next.map(tweet), deadLetters: [], ack: async () => {} };
    },
    close: async () => {},
    state: () => ({ state: 'connected', reconnects: 0 }),
  } as Source;
}

test('a batch sent again after a failure leaves out what already reached the topic', async () => {
  const topic: string[] = [];
  let failNext = true;
  const producer = {
    topic: 't',
    // The first send of the second batch reaches the log with half its records, then the broker dies and the ack
    // is lost (what a kill -9 of the broker does to the producer's last request).
    send: async (records: TweetRecord[]) => {
      if (records[0]?.id === '4' && failNext) {
        failNext = false;
        topic.push(...records.slice(0, 2).map((r) => r.id));
        throw new TweetpipeError('KAFKA', 'connection closed', { retryable: true });
      }
      topic.push(...records.map((r) => r.id));
    },
    sendDeadLetters: async () => {},
  } as unknown as TweetProducer;
  await runProduceLoop({
    source: batches([
      ['1', '2', '3'],
      ['4', '5', '6', '7'],
      ['8', '9'],
    ]),
    producer,
    dedup: { add: () => true },
    metrics: new Metrics(),
    log: silentLogger,
    maxInFlight: 1000,
    tailCheck: new TopicTailCheck(async () => [...topic]),
    signal: new AbortController().signal,
  });
  assert.deepEqual([...topic].sort(), ['1', '2', '3', '4', '5', '6', '7', '8', '9']);
});

test('a tweet a source hands out twice is produced once and counted once as a duplicate', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tweetpipe-produce-dedup-'));
  try {
    const file = join(dir, 'repeats.ndjson');
    const line = (id: string) =>
      JSON.stringify({ data: { id, text: `t${id}`, created_at: '2026-11-25T06:00:00.000Z' } });
    // 1 repeats within a batch of 3, 2 across batches: the produce loop's one window sees both.
    await writeFile(file, ['1', '2', '1', '3', '2'].map(line).join('\n'));
    const sent: string[] = [];
    const metrics = new Metrics();
    const summary = await runProduceLoop({
      source: new ReplaySource({ files: [file], pace: 'max', batchMaxTweets: 3 }),
      producer: {
        topic: 't',
        send: async (records: TweetRecord[]) => void sent.push(...records.map((r) => r.id)),
        sendDeadLetters: async () => {},
      } as unknown as TweetProducer,
      dedup: new DedupWindow(100),
      metrics,
      log: silentLogger,
      maxInFlight: 1000,
      tailCheck: new TopicTailCheck(async () => []),
      signal: new AbortController().signal,
    });
    assert.deepEqual(sent, ['1', '2', '3']);
    assert.equal(summary.duplicates, 2);
    const counted = (await metrics.duplicates.get()).values.find((v) => v.labels.source === 'replay');
    assert.equal(counted?.value, 2);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a batch is acked last: on ack a source may take back the memory of its records (the synthetic source does)', async () => {
  const ids = ['11', '12', '13'];
  const values = ids.map((id) => `{"id":"${id}","text":"café"}`);
  const expectedBytes = values.reduce((n, v) => n + Buffer.byteLength(v), 0);
  // The records are views of one buffer, which the ack detaches, as a transfer to another thread does.
  const memory = Buffer.from(new TextEncoder().encode(values.join('')).buffer);
  let at = 0;
  const tweets = ids.map((id, i): TweetRecord => {
    const length = Buffer.byteLength(values[i]!);
    const value = memory.subarray(at, at + length);
    at += length;
    return { id, createdAtMs: Date.now(), value } as unknown as TweetRecord;
  });
  let served = false;
  const source = {
    name: 'reusing',
    connect: async () => {},
    read: async (): Promise<SourceBatch> => {
      if (served) throw new EndOfInput();
      served = true;
      return {
        tweets,
        deadLetters: [],
        ack: async () => {
          structuredClone(memory.buffer, { transfer: [memory.buffer] });
        },
      };
    },
    close: async () => {},
    state: () => ({ state: 'connected', reconnects: 0 }),
  } as Source;
  const metrics = new Metrics();
  const seen: string[] = [];
  await runProduceLoop({
    source,
    producer: {
      topic: 't',
      send: async () => {},
      sendDeadLetters: async () => {},
    } as unknown as TweetProducer,
    dedup: { add: () => true },
    metrics,
    log: silentLogger,
    maxInFlight: 1000,
    tailCheck: new TopicTailCheck(async () => []),
    signal: new AbortController().signal,
    onProduced: (produced) => {
      for (const t of produced) seen.push(t.value.toString());
    },
  });
  assert.equal(memory.buffer.byteLength, 0, 'the source took its memory back');
  assert.deepEqual(seen, values, 'onProduced read the records before the ack');
  const bytes = (await metrics.producedBytes.get()).values.find((v) => v.labels.topic === 't');
  assert.equal(bytes?.value, expectedBytes, 'the produced bytes were counted before the ack');
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { TweetProducer } from '../../src/kafka/tweet-producer.ts';
import { silentLogger } from '../../src/log.ts';
import { Metrics } from '../../src/observe/metrics.ts';
import { runProduceLoop } from '../../src/pipeline/produce.ts';
import type { Source, SourceBatch } from '../../src/sources/source.ts';
import type { TweetRecord } from '../../src/types.ts';

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

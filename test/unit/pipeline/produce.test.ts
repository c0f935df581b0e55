/**
 * The produce loop on in-memory parts (no Kafka): batches go out with several in flight, but the source hears of
 * them strictly in the order it gave them.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { TweetpipeError } from '../../../src/errors.ts';
import { silentLogger } from '../../../src/log.ts';
import { Metrics } from '../../../src/observe/metrics.ts';
import { runProduceLoop } from '../../../src/pipeline/produce.ts';
import type { RecordPublisher } from '../../../src/pipeline/record-publisher.ts';
import { TopicTailCheck } from '../../../src/pipeline/topic-tail-check.ts';
import { EndOfInput, type Source, type SourceBatch } from '../../../src/sources/source.ts';
import type { TweetRecord } from '../../../src/types.ts';

const tweet = (id: string): TweetRecord => ({
  id,
  value: Buffer.from(`{"id":"${id}"}`),
  createdAtMs: Date.now(),
});

/** A finite source of one-tweet batches; logs each ack. */
function sourceOf(ids: string[], log: string[]): Source {
  const left = [...ids];
  return {
    name: 'fake',
    connect: async () => {},
    read: async (): Promise<SourceBatch> => {
      const id = left.shift();
      if (id === undefined) throw new EndOfInput();
      return {
        tweets: [tweet(id)],
        deadLetters: [],
        ack: async () => {
          log.push(`ack ${id}`);
        },
      };
    },
    close: async () => {
      log.push('source close');
    },
    state: () => ({ state: 'connected', reconnects: 0 }),
  };
}

/** Sends resolve when the test releases them, in any order it likes. */
class HeldPublisher implements RecordPublisher {
  readonly topic = 'tweets';
  readonly held = new Map<string, { release: () => void; fail: (err: Error) => void }>();
  readonly log: string[];
  constructor(log: string[]) {
    this.log = log;
  }
  send(records: TweetRecord[]): Promise<void> {
    const id = records.map((r) => r.id).join(',');
    this.log.push(`send ${id}`);
    return new Promise((resolve, reject) => {
      this.held.set(id, {
        release: () => {
          this.log.push(`kafka acked ${id}`);
          resolve();
        },
        fail: reject,
      });
    });
  }
  async sendDeadLetters(): Promise<void> {}
}

async function until(what: string, cond: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !cond(); i++) await sleep(5);
  assert.ok(cond(), `timed out waiting for: ${what}`);
}

function loop(
  source: Source,
  producer: RecordPublisher,
  signal = new AbortController().signal,
  maxInFlight = 100,
) {
  return runProduceLoop({
    source,
    producer,
    dedup: { add: () => true },
    metrics: new Metrics({ processMetrics: false }),
    log: silentLogger,
    maxInFlight,
    tailCheck: new TopicTailCheck(async () => []),
    signal,
  });
}

describe('produce loop', () => {
  test('a later batch acked by Kafka first is acked to the source only after the earlier ones', async () => {
    const log: string[] = [];
    const producer = new HeldPublisher(log);
    const done = loop(sourceOf(['1', '2', '3'], log), producer);
    await until('three batches in flight', () => producer.held.size === 3);
    producer.held.get('3')!.release();
    producer.held.get('2')!.release();
    await sleep(20);
    assert.ok(!log.some((l) => l.startsWith('ack')), 'no ack while batch 1 waits for Kafka');
    producer.held.get('1')!.release();
    const summary = await done;
    assert.deepEqual(log, [
      'send 1',
      'send 2',
      'send 3',
      'kafka acked 3',
      'kafka acked 2',
      'kafka acked 1',
      'ack 1',
      'ack 2',
      'ack 3',
      'source close',
    ]);
    assert.equal(summary.produced, 3);
  });

  test('a batch that fails for good is never acked, nor is any batch after it', async () => {
    const log: string[] = [];
    const producer = new HeldPublisher(log);
    const done = loop(sourceOf(['1', '2'], log), producer);
    await until('two batches in flight', () => producer.held.size === 2);
    producer.held.get('2')!.release();
    producer.held.get('1')!.fail(new TweetpipeError('KAFKA_DENIED', 'no WRITE on tweets'));
    await assert.rejects(done, { code: 'KAFKA_DENIED' });
    assert.deepEqual(
      log.filter((l) => l.startsWith('ack')),
      [],
    );
  });

  test('a stop drains what was read into Kafka and acks it, and reads nothing more', async () => {
    const log: string[] = [];
    const producer = new HeldPublisher(log);
    const stop = new AbortController();
    // One record in flight at most: the loop waits for batch 1 before it reads again.
    const done = loop(sourceOf(['1', '2', '3'], log), producer, stop.signal, 1);
    await until('batch 1 in flight', () => producer.held.size === 1);
    stop.abort();
    producer.held.get('1')!.release();
    const summary = await done;
    assert.equal(summary.produced, 1);
    assert.deepEqual(log, ['send 1', 'kafka acked 1', 'ack 1', 'source close']);
  });
});

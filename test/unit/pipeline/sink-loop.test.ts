/**
 * The sink loop on in-memory parts (no Kafka, no HDFS): what it asks of the source and the task, in which order,
 * on a reset, a rebalance and a shutdown.
 */
import assert from 'node:assert/strict';
import { describe, type TestContext, test } from 'node:test';
import { setTimeout as sleep, setImmediate as tick } from 'node:timers/promises';
import { pino } from 'pino';
import { loadConfig } from '../../../src/config.ts';
import { TweetpipeError } from '../../../src/errors.ts';
import type { PartitionLag } from '../../../src/kafka/batch-consumer.ts';
import { Metrics } from '../../../src/observe/metrics.ts';
import type { RecordSink } from '../../../src/pipeline/record-sink.ts';
import type { RecordSource } from '../../../src/pipeline/record-source.ts';
import { runSinkLoop, type SinkLoopParts } from '../../../src/pipeline/sink-loop.ts';
import type { KafkaRecord, TopicPartition } from '../../../src/types.ts';

const TOPIC = 'tweets';
const config = loadConfig({ env: {}, flags: { 'topic.name': TOPIC } });

const record = (partition: number, offset: number): KafkaRecord => ({
  topic: TOPIC,
  partition,
  offset: BigInt(offset),
  timestamp: 0,
  key: null,
  value: Buffer.from('{}'),
  headers: new Map(),
});

/** One group member: batches queued by the test, assignments reported when the test says. */
class FakeSource implements RecordSource {
  readonly batches: KafkaRecord[][] = [];
  readonly commits: Map<number, bigint>[] = [];
  closed = false;
  #listener: ((assigned: readonly TopicPartition[]) => void) | undefined;
  readonly log: string[];
  constructor(log: string[]) {
    this.log = log;
  }
  onRebalance(listener: (assigned: readonly TopicPartition[]) => void): void {
    this.#listener = listener;
  }
  async start(): Promise<void> {
    this.log.push('source start');
  }
  assign(partitions: number[]): void {
    this.#listener?.(partitions.map((partition) => ({ topic: TOPIC, partition })));
  }
  async next(): Promise<KafkaRecord[]> {
    assert.ok(!this.closed, 'no poll after close');
    await tick();
    return this.batches.shift() ?? [];
  }
  async commit(offsets: ReadonlyMap<number, bigint>): Promise<void> {
    assert.ok(!this.closed, 'no commit after close');
    if (offsets.size > 0) {
      this.commits.push(new Map(offsets));
      this.log.push(`commit ${[...offsets].map(([p, o]) => `${p}@${o}`).join(',')}`);
    }
  }
  async lag(): Promise<Map<number, PartitionLag>> {
    return new Map();
  }
  async close(): Promise<void> {
    assert.ok(!this.closed, 'closed once');
    this.closed = true;
    this.log.push('source close');
  }
}

/** The task: a window per partition that becomes durable on rotate(Infinity) or close without abort. */
class FakeTask implements RecordSink {
  /** Per open partition, the next offset after what was put. */
  readonly open_ = new Map<number, bigint>();
  readonly durable = new Map<number, bigint>();
  failPut: TweetpipeError | undefined;
  /** close(…, {abort: false}) never settles (a stuck HDFS). */
  hangOnCommit = false;
  /** close(…, {abort: false}) throws this once (a window fenced while shutting down). */
  failCommit: TweetpipeError | undefined;
  /** Called after each successful put (the test stops the loop there). */
  afterPut: (() => void) | undefined;
  readonly log: string[];
  constructor(log: string[]) {
    this.log = log;
  }
  async open(partitions: readonly number[]): Promise<Map<number, bigint | null>> {
    this.log.push(`open ${partitions.join(',')}`);
    for (const p of partitions) this.open_.set(p, 0n);
    return new Map(partitions.map((p) => [p, null]));
  }
  async put(records: readonly KafkaRecord[]): Promise<void> {
    const failure = this.failPut;
    this.failPut = undefined;
    if (failure) {
      this.log.push('put fails');
      throw failure;
    }
    for (const r of records) {
      assert.ok(this.open_.has(r.partition), `partition ${r.partition} is open before its records are put`);
      this.open_.set(r.partition, r.offset + 1n);
    }
    this.log.push(`put ${records.map((r) => `${r.partition}:${r.offset}`).join(',')}`);
    this.afterPut?.();
  }
  async maybeRotate(now: number): Promise<number> {
    if (now === Number.POSITIVE_INFINITY) for (const [p, o] of this.open_) this.durable.set(p, o);
    return 0;
  }
  async preCommit(): Promise<Map<number, bigint>> {
    const out = new Map(this.durable);
    this.durable.clear();
    return out;
  }
  async close(partitions: readonly number[], opts: { abort: boolean }): Promise<void> {
    this.log.push(`close ${partitions.join(',')}${opts.abort ? ' abort' : ''}`);
    if (!opts.abort && this.hangOnCommit) return new Promise(() => {});
    const failure = opts.abort ? undefined : this.failCommit;
    if (failure) {
      this.failCommit = undefined;
      throw failure;
    }
    for (const p of partitions) {
      const next = this.open_.get(p);
      if (!opts.abort && next !== undefined && next > 0n) this.durable.set(p, next);
      this.open_.delete(p);
    }
  }
}

function harness(t: TestContext) {
  const log: string[] = [];
  const logLines: string[] = [];
  const sources: FakeSource[] = [];
  const task = new FakeTask(log);
  const stop = new AbortController();
  // A failed assertion must not leave the loop polling.
  t.after(() => stop.abort());
  const parts: SinkLoopParts = {
    newSource: () => {
      const s = new FakeSource(log);
      sources.push(s);
      return s;
    },
    newTask: () => task,
    deadLetters: {
      open: async () => {},
      committed: () => {},
      close: async () => {
        log.push('dead letters close');
      },
    },
    probeHdfs: async () => {},
    holdsRecords: async () => true,
  };
  const run = (grace?: number) =>
    runSinkLoop(
      {
        config,
        metrics: new Metrics({ processMetrics: false }),
        log: pino({ level: 'info' }, { write: (line: string) => void logLines.push(line) }),
        signal: stop.signal,
        ...(grace === undefined ? {} : { shutdownGraceMs: grace }),
      },
      parts,
    );
  return { log, logLines, sources, task, stop, run };
}

/** Waits for the loop to get somewhere (a reset waits out its backoff, 500 ms the first time). */
async function until(what: string, cond: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !cond(); i++) await sleep(10);
  assert.ok(cond(), `timed out waiting for: ${what}`);
}

describe('sink loop', () => {
  test('an error resets: open windows dropped, the source closed, a new source resumes and writes again', async (t) => {
    const h = harness(t);
    const done = h.run();
    await until('first source', () => h.sources.length === 1);
    h.task.failPut = new TweetpipeError('HDFS_REMOTE', 'NameNode hiccup', { retryable: true });
    h.sources[0]!.batches.push([record(0, 0), record(0, 1)]);
    await until('a second source after the reset', () => h.sources.length === 2);
    assert.ok(h.sources[0]!.closed);
    h.sources[1]!.batches.push([record(0, 0), record(0, 1)]);
    await until('the batch written', () => h.log.includes('put 0:0,0:1'));
    h.stop.abort();
    await done;
    assert.deepEqual(h.log, [
      'source start',
      'open 0',
      'put fails',
      'source close',
      'close 0 abort',
      'source start',
      'open 0',
      'put 0:0,0:1',
      'close 0',
      'commit 0@2',
      'source close',
      'dead letters close',
    ]);
  });

  test('a final error (permissions) is thrown after the source closed, without a reset', async (t) => {
    const h = harness(t);
    const done = h.run();
    await until('first source', () => h.sources.length === 1);
    h.task.failPut = new TweetpipeError('KAFKA_DENIED', 'no WRITE on tweets.dlq');
    h.sources[0]!.batches.push([record(0, 0)]);
    await assert.rejects(done, { code: 'KAFKA_DENIED' });
    assert.equal(h.sources.length, 1);
    assert.deepEqual(h.log.slice(-3), ['source close', 'close 0 abort', 'dead letters close']);
  });

  test('a rebalance drops the windows of revoked partitions only, and reopens a partition given back', async (t) => {
    const h = harness(t);
    const done = h.run();
    await until('first source', () => h.sources.length === 1);
    const source = h.sources[0]!;
    source.assign([0, 1]);
    source.batches.push([record(0, 0), record(1, 0)]);
    await until('both written', () => h.log.includes('put 0:0,1:0'));
    source.assign([1]);
    await until('partition 0 revoked', () => h.log.includes('close 0 abort'));
    source.batches.push([record(1, 1)]);
    await until('partition 1 written on', () => h.log.includes('put 1:1'));
    source.assign([0, 1]);
    source.batches.push([record(0, 5)]);
    await until('partition 0 back', () => h.log.includes('put 0:5'));
    h.stop.abort();
    await done;
    assert.deepEqual(h.log.slice(0, 8), [
      'source start',
      'open 0,1',
      'put 0:0,1:0',
      'close 0 abort',
      'put 1:1',
      'open 0',
      'put 0:5',
      'close 1,0',
    ]);
  });

  test('shutdown commits the open windows, then their offsets, and nothing happens after the stop', async (t) => {
    const h = harness(t);
    const done = h.run();
    await until('first source', () => h.sources.length === 1);
    // Stopped while the first batch is written; the second is there to be polled, and must not be.
    h.task.afterPut = () => h.stop.abort();
    h.sources[0]!.batches.push([record(0, 0), record(0, 1), record(2, 7)], [record(0, 2)]);
    await done;
    assert.deepEqual(h.log, [
      'source start',
      'open 0,2',
      'put 0:0,0:1,2:7',
      'close 0,2',
      'commit 0@2,2@8',
      'source close',
      'dead letters close',
    ]);
    assert.equal(h.sources[0]!.batches.length, 1, 'the batch queued after the stop was not polled');
  });

  test('a rebalance reported after the last poll is applied before shutdown commits: the revoked window is dropped', async (t) => {
    const h = harness(t);
    const done = h.run();
    await until('first source', () => h.sources.length === 1);
    const source = h.sources[0]!;
    source.assign([0, 2]);
    // Partition 2 moves away while the batch is written, and the loop is told to stop before it polls again:
    // committing its window would race the new owner (who fences it).
    h.task.afterPut = () => {
      source.assign([0]);
      h.stop.abort();
    };
    source.batches.push([record(0, 0), record(2, 7)]);
    await done;
    assert.deepEqual(h.log, [
      'source start',
      'open 0,2',
      'put 0:0,2:7',
      'close 2 abort',
      'close 0',
      'commit 0@1',
      'source close',
      'dead letters close',
    ]);
  });

  test('an error while shutting down drops the open windows and stops: no reset, no new source', async (t) => {
    const h = harness(t);
    const done = h.run();
    await until('first source', () => h.sources.length === 1);
    h.task.failCommit = new TweetpipeError('FENCED', 'tweets/0: fenced, a newer writer committed offset 9', {
      retryable: false,
    });
    h.task.afterPut = () => h.stop.abort();
    h.sources[0]!.batches.push([record(0, 0)]);
    await done;
    assert.deepEqual(h.log, [
      'source start',
      'open 0',
      'put 0:0',
      'close 0',
      'source close',
      'close 0 abort',
      'dead letters close',
    ]);
    assert.equal(h.sources.length, 1);
    const said = h.logLines.map((l) => (JSON.parse(l) as { msg: string }).msg);
    assert.ok(
      said.some((m) => m.startsWith('stopping: open windows dropped after an error')),
      said.join('\n'),
    );
    assert.ok(!said.some((m) => m.startsWith('sink reset')), said.join('\n'));
  });

  test('shutdown past its grace period drops the open windows and commits nothing of them', async (t) => {
    const h = harness(t);
    const done = h.run(20);
    await until('first source', () => h.sources.length === 1);
    h.task.hangOnCommit = true;
    h.sources[0]!.batches.push([record(0, 0)]);
    await until('written', () => h.log.includes('put 0:0'));
    h.stop.abort();
    await done;
    assert.deepEqual(h.log.slice(-4), ['close 0', 'close 0 abort', 'source close', 'dead letters close']);
    assert.deepEqual(h.sources[0]!.commits, []);
  });
});

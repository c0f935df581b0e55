import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { gunzipSync, inflateRawSync } from 'node:zlib';
import { loadConfig } from '../../../src/config.ts';
import { TweetpipeError } from '../../../src/errors.ts';
import { MemoryStorage } from '../../../src/hdfs/memory-storage.ts';
import type { CommittedFileInfo, WindowCommitInfo } from '../../../src/sink/partition-writer.ts';
import type { PoisonRecord } from '../../../src/sink/sink-record.ts';
import { SinkTask, type SinkTaskOptions, sinkSettingsFromConfig } from '../../../src/sink/sink-task.ts';
import { filesUnder, kafkaRecord, tweetRecords } from './fixtures.ts';

const TOPIC = 'twitter_data';
function sink(storage: MemoryStorage, over: Partial<SinkTaskOptions> = {}): SinkTask {
  return new SinkTask({
    topic: TOPIC,
    storage,
    dir: '/twitter_data',
    format: 'jsonl.gz',
    granularity: 'hour',
    timeZone: 'UTC',
    partitionFields: [],
    maxRecords: 1000,
    maxBytes: 1 << 30,
    maxAgeMs: 60_000,
    flushBytes: 4096,
    writerId: 'test',
    deadLetter: async () => {},
    ...over,
  });
}

const ids = (storage: MemoryStorage, dir = '/twitter_data/twitter_data'): string[] =>
  filesUnder(storage, dir)
    .flatMap((f) => gunzipSync(f.data).toString().split('\n').filter(Boolean))
    .map((l) => JSON.parse(l).id as string)
    .sort();

const idsOf = (from: number, to: number): string[] =>
  tweetRecords(from, to, { topic: TOPIC })
    .map((r) => JSON.parse(String(r.value)).id as string)
    .sort();

/** Uncompressed size of each gzip member of a file (Node's gzip writes a 10-byte header and an 8-byte trailer). */
function gzipMemberSizes(file: Buffer): number[] {
  const sizes: number[] = [];
  for (let at = 0; at < file.length; ) {
    const { buffer, engine } = inflateRawSync(file.subarray(at + 10), { info: true }) as unknown as {
      buffer: Buffer;
      engine: { bytesWritten: number };
    };
    sizes.push(buffer.length);
    at += 10 + engine.bytesWritten + 8;
  }
  return sizes;
}

const isCode = (code: string) => (e: unknown) => e instanceof TweetpipeError && e.code === code;

describe('SinkTask', () => {
  test('the HDFS layout contract, offsets for Kafka handed out once', async () => {
    const storage = new MemoryStorage();
    const s = sink(storage, { maxRecords: 10 });
    assert.deepEqual(
      await s.open([0, 3]),
      new Map([
        [0, null],
        [3, null],
      ]),
    );
    await s.put([
      ...tweetRecords(0, 12, { topic: TOPIC, partition: 0 }),
      ...tweetRecords(0, 5, { topic: TOPIC, partition: 3 }),
    ]);
    assert.deepEqual(await s.preCommit(), new Map([[0, 10n]]));
    assert.deepEqual(await s.preCommit(), new Map());
    await s.close([0, 3], { abort: false });
    assert.deepEqual(
      await s.preCommit(),
      new Map([
        [0, 12n],
        [3, 5n],
      ]),
    );
    const paths = filesUnder(storage, '/twitter_data').map((f) => f.path);
    assert.deepEqual(
      paths.filter((p) => !p.startsWith('/twitter_data/_wal/')),
      [
        '/twitter_data/twitter_data/dt=2026-11-25/hour=06/twitter_data+0+0+9.jsonl.gz',
        '/twitter_data/twitter_data/dt=2026-11-25/hour=06/twitter_data+0+10+11.jsonl.gz',
        '/twitter_data/twitter_data/dt=2026-11-25/hour=06/twitter_data+3+0+4.jsonl.gz',
      ],
    );
    assert.ok(paths.includes('/twitter_data/_wal/twitter_data/3/00000000000000000000.json'));
    assert.equal(ids(storage).length, 17);
  });

  test('poison records are dead-lettered before anything of the batch is written', async () => {
    const storage = new MemoryStorage();
    const seen: { poison: PoisonRecord[]; filesAtThatTime: number }[] = [];
    const s = sink(storage, {
      flushBytes: 1024,
      deadLetter: async (poison) => {
        seen.push({ poison, filesAtThatTime: filesUnder(storage, '/twitter_data').length });
      },
    });
    await s.open([0]);
    const batch = tweetRecords(0, 6, { topic: TOPIC });
    batch[2] = kafkaRecord(2, 'not json', { topic: TOPIC });
    batch[4] = kafkaRecord(4, null, { topic: TOPIC });
    await s.put(batch);
    assert.equal(seen.length, 1);
    assert.equal(seen[0]?.filesAtThatTime, 0);
    assert.deepEqual(
      seen[0]?.poison.map((p) => [p.record.offset, p.reason.split(':')[0]]),
      [
        [2n, 'value is not JSON'],
        [4n, 'value is empty'],
      ],
    );
    await s.close([0], { abort: false });
    assert.equal(ids(storage).length, 4);
    assert.deepEqual(await s.preCommit(), new Map([[0, 6n]]));
  });

  test('when the dead-letter send fails nothing is written and no offset passes the poison record', async () => {
    const storage = new MemoryStorage();
    const s = sink(storage, {
      maxRecords: 2,
      deadLetter: async () => {
        throw new TweetpipeError('KAFKA', 'dlq down', { retryable: true });
      },
    });
    await s.open([0]);
    const batch = tweetRecords(0, 6, { topic: TOPIC });
    batch[3] = kafkaRecord(3, '[]', { topic: TOPIC });
    await assert.rejects(s.put(batch), isCode('KAFKA'));
    assert.deepEqual(filesUnder(storage, '/twitter_data'), []);
    assert.deepEqual(await s.preCommit(), new Map());
  });

  test('maybeRotate commits quiet partitions once maxAge has passed', async () => {
    const storage = new MemoryStorage();
    let now = 0;
    const s = sink(storage, { clock: () => now });
    await s.open([0, 1]);
    await s.put(tweetRecords(0, 3, { topic: TOPIC, partition: 0 }));
    now = 20_000;
    await s.put(tweetRecords(0, 3, { topic: TOPIC, partition: 1 }));
    assert.equal(await s.maybeRotate(59_999), 0);
    assert.equal(await s.maybeRotate(60_000), 1);
    now = 80_000;
    assert.equal(await s.maybeRotate(), 1);
    assert.deepEqual(
      await s.preCommit(),
      new Map([
        [0, 3n],
        [1, 3n],
      ]),
    );
  });

  test('the observer sees what was written and committed', async () => {
    const storage = new MemoryStorage();
    const files: CommittedFileInfo[] = [];
    const windows: WindowCommitInfo[] = [];
    let written = 0;
    let bytesWritten = 0;
    const s = sink(storage, {
      maxRecords: 5,
      observer: {
        onCommit: (f) => files.push(f),
        onWindowCommitted: (w) => windows.push(w),
        onRecordsWritten: (e) => {
          written += e.records;
          bytesWritten += e.bytes;
        },
      },
    });
    await s.open([0]);
    await s.put(tweetRecords(0, 10, { topic: TOPIC, msPerRecord: 15 * 60_000 }));
    assert.equal(written, 10);
    assert.equal(windows.length, 2);
    assert.deepEqual(
      windows.map((w) => [w.startOffset, w.endOffset, w.records, w.files.length]),
      [
        [0n, 4n, 5, 2],
        [5n, 9n, 5, 2],
      ],
    );
    assert.ok(windows.every((w) => w.latencyMs >= 0));
    for (const f of files) assert.equal(storage.nodes.get(f.path)?.data.length, f.bytes);
    assert.equal(
      files.reduce((n, f) => n + f.records, 0),
      10,
    );
    assert.equal(files.length, 4);
    assert.ok(bytesWritten > files.reduce((n, f) => n + f.bytes, 0), 'gzip made the files smaller');
  });

  test('a fenced zombie sink fails the partition; reopening recovers and resumes after the winner', async () => {
    const storage = new MemoryStorage();
    const owner = sink(storage, { writerId: 'owner', maxRecords: 8 });
    let zombieWrote = 0;
    const zombie = sink(storage, {
      writerId: 'zombie',
      maxRecords: 8,
      observer: {
        onRecordsWritten: (e) => {
          zombieWrote += e.records;
        },
      },
    });
    await zombie.open([0]);
    await owner.open([0]);
    await owner.put(tweetRecords(0, 8, { topic: TOPIC }));
    await assert.rejects(zombie.put(tweetRecords(0, 8, { topic: TOPIC })), (e: unknown) => {
      assert.ok(isCode('FENCED')(e));
      assert.deepEqual(
        [(e as TweetpipeError).details.topic, (e as TweetpipeError).details.partition],
        [TOPIC, 0],
      );
      return true;
    });
    await assert.rejects(zombie.put(tweetRecords(8, 9, { topic: TOPIC })), isCode('FENCED'));
    assert.deepEqual(await zombie.open([0]), new Map([[0, 8n]]));
    zombieWrote = 0;
    await zombie.put(tweetRecords(0, 10, { topic: TOPIC }));
    assert.equal(zombieWrote, 2, 'the 8 records the winner committed are skipped');
    await zombie.close([0], { abort: false });
    assert.equal(ids(storage).length, 10);
    assert.equal(new Set(ids(storage)).size, 10);
  });

  test('an offset gap fails the partition once; the same gap after reopening is a real gap in the log and is accepted', async () => {
    const storage = new MemoryStorage();
    const s = sink(storage, { maxRecords: 10 });
    await s.open([0]);
    await s.put(tweetRecords(0, 10, { topic: TOPIC })); // committed 0..9
    // Records 10..14 never arrive (a stale fetch after the partition moved away and back): refused.
    await assert.rejects(s.put(tweetRecords(15, 20, { topic: TOPIC })), isCode('OFFSET_GAP'));
    assert.deepEqual(await s.open([0]), new Map([[0, 10n]]));
    // A fresh fetch delivers them: nothing was lost.
    await s.put(tweetRecords(10, 20, { topic: TOPIC }));
    assert.deepEqual(ids(storage), idsOf(0, 20));

    // Retention deleted 20..24: the fresh fetch shows the same gap, and the sink writes on.
    await assert.rejects(s.put(tweetRecords(25, 30, { topic: TOPIC })), isCode('OFFSET_GAP'));
    await s.open([0]);
    await s.put(tweetRecords(25, 30, { topic: TOPIC }));
    await s.close([0], { abort: false });
    assert.deepEqual(ids(storage), [...idsOf(0, 20), ...idsOf(25, 30)].sort());
    // A different gap later is refused again.
    await s.open([0]);
    await assert.rejects(s.put(tweetRecords(31, 32, { topic: TOPIC })), isCode('OFFSET_GAP'));
  });

  test('records of a partition that is not open, or of another topic, are refused', async () => {
    const s = sink(new MemoryStorage());
    await assert.rejects(s.put(tweetRecords(0, 1, { topic: TOPIC, partition: 9 })), isCode('INTERNAL'));
    await s.open([0]);
    await assert.rejects(s.put(tweetRecords(0, 1, { topic: 'other', partition: 0 })), isCode('INTERNAL'));
  });

  test('field partitions and Parquet through the sink', async () => {
    const storage = new MemoryStorage();
    const s = sink(storage, { format: 'parquet', partitionFields: ['lang'], granularity: 'day' });
    await s.open([0]);
    await s.put(tweetRecords(0, 16, { topic: TOPIC }));
    await s.close([0], { abort: false });
    const dirs = filesUnder(storage, '/twitter_data/twitter_data').map((f) =>
      f.path.split('/').slice(3, 5).join('/'),
    );
    assert.deepEqual(
      new Set(dirs),
      new Set([
        'dt=2026-11-25/lang=en',
        'dt=2026-11-25/lang=es',
        'dt=2026-11-25/lang=ja',
        'dt=2026-11-25/lang=pt',
        'dt=2026-11-25/lang=fr',
        'dt=2026-11-25/lang=ar',
      ]),
    );
    for (const f of filesUnder(storage, '/twitter_data/twitter_data')) {
      assert.match(f.path, /\.parquet$/);
      assert.equal(f.data.subarray(0, 4).toString(), 'PAR1');
    }
  });

  test('the open files of all partitions share maxBufferedBytes: each partition holds at most its share', async () => {
    const storage = new MemoryStorage();
    const MiB = 1024 * 1024;
    // flushBytes above what a partition receives: only the byte budget makes an encoder hand its bytes out, each
    // time as one gzip member, so a member's size is what the encoder held.
    const s = sink(storage, { maxRecords: 1_000_000, flushBytes: 64 * MiB, maxBufferedBytes: 8 * MiB });
    await s.open([0, 1]);
    const perPartition = 13_000;
    const batch = [0, 1].flatMap((partition) =>
      tweetRecords(0, perPartition, { topic: TOPIC, partition, msPerRecord: 1 }),
    );
    assert.ok(batch.reduce((sum, r) => sum + (r.value?.length ?? 0), 0) > 24 * MiB);
    await s.put(batch);
    await s.close([0, 1], { abort: false });
    const members = filesUnder(storage, '/twitter_data/twitter_data').flatMap((f) => gzipMemberSizes(f.data));
    // A share is 4 MiB (8 MiB over 2 partitions); the budget is checked every MiB appended.
    const largest = Math.max(...members);
    assert.ok(largest <= 5 * MiB + 4096, `an encoder held ${largest} bytes`);
    assert.equal(ids(storage).length, 2 * perPartition);
  });

  test('settings from the config', () => {
    const settings = sinkSettingsFromConfig(
      loadConfig({ env: {}, flags: { 'sink.maxAgeS': 2.5, 'sink.maxBufferedBytes': 1 << 24 } }),
    );
    assert.equal(settings.maxBufferedBytes, 1 << 24);
    assert.equal(settings.dir, '/twitter_data');
    assert.equal(settings.format, 'jsonl.gz');
    assert.equal(settings.maxAgeMs, 2500);
    assert.equal(settings.timeZone, 'UTC');
  });
});

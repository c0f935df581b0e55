import assert from 'node:assert/strict';
import type { Readable } from 'node:stream';
import { describe, test } from 'node:test';
import { TweetpipeError } from '../../../src/errors.ts';
import { MemoryStorage } from '../../../src/hdfs/memory-storage.ts';
import type { CreateOptions, Storage } from '../../../src/hdfs/storage.ts';
import { silentLogger } from '../../../src/log.ts';
import { SinkPaths } from '../../../src/sink/filenames.ts';
import type { Format, RecordEncoder } from '../../../src/sink/formats/format.ts';
import { createFormat } from '../../../src/sink/formats/index.ts';
import { encodeManifest, type Manifest } from '../../../src/sink/manifest.ts';
import { PartitionWriter } from '../../../src/sink/partition-writer.ts';
import type { SinkRecord } from '../../../src/sink/sink-record.ts';
import type { KafkaRecord } from '../../../src/types.ts';
import { CrashingStorage, filesUnder, kafkaRecord, SimulatedCrash, tweetRecords } from './fixtures.ts';
import {
  blockingRenames,
  committedOffsets,
  isCode,
  items,
  manifests,
  overriding,
  ROOT,
  range,
  TOPIC,
  writer,
} from './partition-writer-fixtures.ts';

/** A writer with a 4 MiB budget whose records go to `folders` field-partition folders (by offset). */
const folderWriter = (storage: MemoryStorage, format: Format, folders: bigint) =>
  new PartitionWriter({
    storage,
    paths: new SinkPaths(ROOT),
    topic: TOPIC,
    partition: 0,
    format,
    partitioner: { path: (r) => `folder=${r.offset % folders}` },
    rotation: { maxRecords: 1_000_000, maxBytes: 1 << 30, maxAgeMs: 60_000 },
    writerId: 'w1',
    keepManifests: 2,
    maxBufferedBytes: 4 * 1024 * 1024,
    clock: () => 0,
    logger: silentLogger,
  });

describe('rotation', () => {
  test('by record count: full windows are committed, the rest stays open', async () => {
    const storage = new MemoryStorage();
    const w = writer({ storage, rotation: { maxRecords: 10 } });
    assert.equal(await w.recover(), null);
    await w.write(items(tweetRecords(0, 25)));
    assert.deepEqual(await committedOffsets(storage), range(0, 20));
    assert.equal(w.takeCommittedOffset(), 20n);
    assert.equal(w.takeCommittedOffset(), null, 'an offset is handed out once');
    assert.notEqual(w.rotationDueAt(), null, 'the last 5 records are in an open window');
    await w.close(false);
    assert.deepEqual(await committedOffsets(storage), range(0, 25));
    assert.equal(w.takeCommittedOffset(), 25n);
    assert.deepEqual(filesUnder(storage, `${ROOT}/_tmp`), []);
  });

  test('by bytes', async () => {
    const storage = new MemoryStorage();
    const records = tweetRecords(0, 12);
    const size = (records[0]?.value?.length ?? 0) * 3;
    const w = writer({ storage, rotation: { maxBytes: size } });
    await w.recover();
    await w.write(items(records));
    const windows = manifests(storage).map((m) => [m.startOffset, m.endOffset]);
    assert.ok(windows.length >= 2, 'several windows committed');
    for (const m of manifests(storage)) assert.ok(BigInt(m.endOffset) - BigInt(m.startOffset) <= 3n);
  });

  test('by age with an injected clock, also when no record arrives', async () => {
    const storage = new MemoryStorage();
    let now = 1_000_000;
    const w = writer({ storage, clock: () => now, rotation: { maxAgeMs: 60_000 } });
    await w.recover();
    assert.equal(w.rotationDueAt(), null);
    await w.write(items(tweetRecords(0, 3)));
    assert.equal(w.rotationDueAt(), 1_060_000);
    now += 30_000;
    await w.write(items(tweetRecords(3, 5)));
    assert.equal(w.rotationDueAt(), 1_060_000, 'age counts from the first record of the window');
    assert.equal(await w.maybeRotate(1_059_999), false);
    assert.deepEqual(await committedOffsets(storage), []);
    assert.equal(await w.maybeRotate(1_060_000), true);
    assert.deepEqual(await committedOffsets(storage), range(0, 5));
    assert.equal(w.rotationDueAt(), null);
    // A batch that arrives after the window got old commits it on the way.
    now = 2_000_000;
    await w.write(items(tweetRecords(5, 6)));
    now = 2_060_001;
    await w.write(items(tweetRecords(6, 7)));
    assert.deepEqual(await committedOffsets(storage), range(0, 7));
  });

  test('a window spanning several hours has one file per hour and one manifest', async () => {
    const storage = new MemoryStorage();
    const w = writer({ storage });
    await w.recover();
    await w.write(items(tweetRecords(0, 30, { msPerRecord: 5 * 60_000 }))); // 2.5 hours of tweets
    await w.close(false);
    const dirs = filesUnder(storage, `${ROOT}/${TOPIC}`).map((f) => f.path.split('/').slice(3, 5).join('/'));
    assert.deepEqual(dirs, ['dt=2026-11-25/hour=06', 'dt=2026-11-25/hour=07', 'dt=2026-11-25/hour=08']);
    const [m] = manifests(storage);
    assert.equal(m?.files.length, 3);
    assert.deepEqual([m?.startOffset, m?.endOffset], ['0', '29']);
    assert.deepEqual(await committedOffsets(storage), range(0, 30));
  });

  test('a file is one upload while records flow; an idle upload ends and the next chunk appends', async () => {
    const storage = new MemoryStorage();
    let now = 0;
    const w = writer({ storage, flushBytes: 2048, clock: () => now, uploadIdleMs: 5000 });
    await w.recover();
    await w.write(items(tweetRecords(0, 40)));
    now = 4000;
    await w.write(items(tweetRecords(40, 60)));
    await w.maybeRotate(now); // waits for the queue
    assert.equal(storage.calls.get('create'), 1);
    assert.equal(storage.calls.get('append') ?? 0, 0);
    const [open] = filesUnder(storage, `${ROOT}/_tmp`);
    assert.equal(open?.data.length, 0, 'nothing is durable while the upload runs');

    now = 9000; // nothing written for 5 s
    await w.maybeRotate(now);
    const [landed] = filesUnder(storage, `${ROOT}/_tmp`);
    assert.ok((landed?.data.length ?? 0) > 20_000, 'the ended upload holds the records flushed so far');
    await w.write(items(tweetRecords(60, 80)));
    await w.close(false);
    assert.equal(storage.calls.get('create'), 2, 'the temp file and the manifest');
    assert.equal(storage.calls.get('append'), 1);
    assert.deepEqual(await committedOffsets(storage), range(0, 80));
  });
});

describe('poison and re-delivery', () => {
  test('poison offsets are not written but are covered by the window', async () => {
    const storage = new MemoryStorage();
    const w = writer({ storage });
    await w.recover();
    const batch = tweetRecords(0, 10);
    batch[3] = kafkaRecord(3, 'not json');
    batch[9] = kafkaRecord(9, '{"no":"id"}');
    await w.write(items(batch));
    await w.close(false);
    assert.deepEqual(await committedOffsets(storage), range(0, 10, [3, 9]));
    assert.equal(manifests(storage)[0]?.endOffset, '9');
    assert.equal(w.takeCommittedOffset(), 10n);
  });

  test('a window of poison records only commits a manifest without files', async () => {
    const storage = new MemoryStorage();
    const w = writer({ storage });
    await w.recover();
    await w.write(items([kafkaRecord(0, 'x'), kafkaRecord(1, 'y')]));
    await w.close(false);
    assert.deepEqual(
      manifests(storage).map((m) => [m.startOffset, m.endOffset, m.files.length]),
      [['0', '1', 0]],
    );
    assert.equal(w.takeCommittedOffset(), 2n);
  });

  test('records at or below the recovered offset are skipped', async () => {
    const storage = new MemoryStorage();
    const w1 = writer({ storage });
    await w1.recover();
    await w1.write(items(tweetRecords(0, 10)));
    await w1.close(false);
    const w2 = writer({ storage, writerId: 'w2' });
    assert.equal(await w2.recover(), 10n);
    assert.equal(w2.isProcessed(9n), true);
    assert.equal(w2.isProcessed(10n), false);
    await w2.write(items(tweetRecords(0, 15)));
    await w2.close(false);
    assert.deepEqual(await committedOffsets(storage), range(0, 15));
  });

  test('close(abort) deletes the temp files and commits nothing', async () => {
    const storage = new MemoryStorage();
    const w = writer({ storage, flushBytes: 1024, uploadIdleMs: 0 });
    await w.recover();
    await w.write(items(tweetRecords(0, 10)));
    await w.write(items(tweetRecords(10, 20)));
    assert.ok(filesUnder(storage, `${ROOT}/_tmp`).length > 0);
    await w.close(true);
    assert.deepEqual(filesUnder(storage, ROOT), []);
    assert.equal(w.takeCommittedOffset(), null);
    await assert.rejects(w.write(items(tweetRecords(10, 11))), isCode('INTERNAL'));
  });
});

/**
 * The crash matrix: a writer is "killed" at every mutating storage call of a run, in turn; a fresh writer then
 * recovers on the same storage and the records are re-delivered. Committed files must hold every offset once.
 */
describe('crash at every step', () => {
  const TOTAL = 60;
  const POISON = [7, 33];
  const deliveries = (): KafkaRecord[] => {
    const records = tweetRecords(0, TOTAL, { msPerRecord: 2 * 60_000 }); // two hours: two files per window
    for (const p of POISON) records[p] = kafkaRecord(p, 'not json');
    return records;
  };
  const BATCH = 8;

  /** Runs the consumer side until done or crashed; returns the offset Kafka would have committed. */
  async function consume(w: PartitionWriter, from: bigint, kafkaCommitted: bigint | null) {
    let committed = kafkaCommitted;
    const records = deliveries().filter((r) => r.offset >= from);
    try {
      for (let i = 0; i < records.length; i += BATCH) {
        await w.write(items(records.slice(i, i + BATCH)));
        committed = w.takeCommittedOffset() ?? committed;
      }
      await w.close(false);
      committed = w.takeCommittedOffset() ?? committed;
      return { committed, crashed: false };
    } catch (err) {
      if (!(err instanceof TweetpipeError && err.cause instanceof SimulatedCrash)) throw err;
      return { committed, crashed: true };
    }
  }

  for (const format of ['jsonl', 'jsonl.gz', 'parquet'] as const) {
    for (const redeliver of ['from the recovered offset', 'from offset 0'] as const) {
      test(`${format}, re-delivery ${redeliver}`, async () => {
        // Uploads end after every batch, so that the matrix crashes between the appends of a file too.
        const opts = { format, rotation: { maxRecords: 20 }, flushBytes: 3000, uploadIdleMs: 0 };
        const dry = new CrashingStorage(new MemoryStorage());
        const w0 = writer({ ...opts, storage: dry });
        await w0.recover();
        assert.equal((await consume(w0, 0n, null)).crashed, false);
        const steps = dry.mutations;
        assert.ok(steps >= 15, `a run makes ${steps} mutating calls`);

        let crashes = 0;
        for (let crashAt = 1; crashAt <= steps; crashAt++) {
          const memory = new MemoryStorage();
          const crashing = new CrashingStorage(memory, crashAt);
          const w1 = writer({ ...opts, storage: crashing, writerId: 'first' });
          let kafka: bigint | null = null;
          try {
            await w1.recover();
            const run = await consume(w1, 0n, null);
            if (run.crashed) crashes++;
            kafka = run.committed;
          } catch (err) {
            if (!(err instanceof TweetpipeError && err.cause instanceof SimulatedCrash)) throw err;
            crashes++;
          }

          const w2 = writer({ ...opts, storage: memory, writerId: 'second' });
          const seek = await w2.recover();
          if (kafka !== null) assert.ok(seek !== null && seek >= kafka, 'HDFS is never behind Kafka');
          const from = redeliver === 'from offset 0' ? 0n : (seek ?? kafka ?? 0n);
          const run = await consume(w2, from, kafka);
          assert.equal(run.crashed, false);

          const label = `${format}, crash at mutating call #${crashAt} of ${steps}`;
          assert.deepEqual(await committedOffsets(memory), range(0, TOTAL, POISON), label);
          assert.deepEqual(filesUnder(memory, `${ROOT}/_tmp`), [], `${label}: temp files left`);
          const wal = manifests(memory);
          // Two kept, plus one when the crash hit the pruning of the last commit (the next commit removes it).
          assert.ok(wal.length <= 3, `${label}: ${wal.length} manifests kept`);
          assert.equal(wal.at(-1)?.endOffset, String(TOTAL - 1), label);
          for (const m of wal)
            for (const f of m.files)
              assert.equal(memory.nodes.get(f.final)?.data.length, f.bytes, `${label}: size`);
        }
        // Only a failed delete of an old manifest is survived without a crash (it is retried by the next commit).
        assert.ok(crashes >= steps - 2, `${crashes} of ${steps} runs crashed`);
      });
    }
  }
});

describe('fencing', () => {
  test('two writers for the same partition: the second manifest create fails, no duplicate data', async () => {
    const storage = new MemoryStorage();
    const a = writer({ storage, writerId: 'a', rotation: { maxRecords: 30 } });
    const b = writer({ storage, writerId: 'b', rotation: { maxRecords: 30 } });
    assert.equal(await a.recover(), null);
    assert.equal(await b.recover(), null);
    await a.write(items(tweetRecords(0, 30)));
    await assert.rejects(b.write(items(tweetRecords(0, 30))), isCode('FENCED'));
    await assert.rejects(b.maybeRotate(0), isCode('FENCED'), 'a failed writer keeps its failure');
    await b.close(true);
    assert.deepEqual(await committedOffsets(storage), range(0, 30));
    assert.deepEqual(filesUnder(storage, `${ROOT}/_tmp/${TOPIC}/0/b`), [], 'the fenced writer cleaned up');
    assert.deepEqual(
      manifests(storage).map((m) => m.writerId),
      ['a'],
    );
  });

  test('a zombie that fell several windows behind is FENCED even though its window name was pruned', async () => {
    const storage = new MemoryStorage();
    const zombie = writer({ storage, writerId: 'zombie', rotation: { maxRecords: 10 } });
    await zombie.recover();
    await zombie.write(items(tweetRecords(0, 5))); // open window starting at 0
    const owner = writer({ storage, writerId: 'owner', rotation: { maxRecords: 10 } });
    assert.equal(await owner.recover(), null);
    await owner.write(items(tweetRecords(0, 40)));
    assert.ok(!manifests(storage).some((m) => m.startOffset === '0'), 'window 0 was pruned');
    await assert.rejects(zombie.write(items(tweetRecords(5, 10))), (e: unknown) =>
      ['FENCED', 'HDFS_NOT_FOUND'].includes((e as TweetpipeError).code),
    );
    await zombie.close(true);
    await owner.close(false);
    assert.deepEqual(await committedOffsets(storage), range(0, 40));
  });

  test('a zombie whose window starts at the committed end + 1 may still win: recovery leaves its temp files', async () => {
    const storage = new MemoryStorage();
    const first = writer({ storage, writerId: 'first', rotation: { maxRecords: 10 } });
    await first.recover();
    await first.write(items(tweetRecords(0, 10)));
    const zombie = writer({ storage, writerId: 'zombie', flushBytes: 1024, uploadIdleMs: 0 });
    assert.equal(await zombie.recover(), 10n);
    await zombie.write(items(tweetRecords(10, 20)));
    await zombie.maybeRotate(0); // its upload lands (it runs behind write())
    const zombieTemps = filesUnder(storage, `${ROOT}/_tmp/${TOPIC}/0/zombie`);
    assert.ok(zombieTemps.length > 0);

    const owner = writer({ storage, writerId: 'owner' });
    assert.equal(await owner.recover(), 10n);
    assert.deepEqual(filesUnder(storage, `${ROOT}/_tmp/${TOPIC}/0/zombie`), zombieTemps, 'left alone');
    await zombie.close(false); // the zombie's manifest comes first: its window is the committed one
    await owner.write(items(tweetRecords(10, 25)));
    await assert.rejects(owner.close(false), isCode('FENCED'));

    const next = writer({ storage, writerId: 'next' });
    assert.equal(await next.recover(), 20n);
    await next.write(items(tweetRecords(10, 25)));
    await next.close(false);
    assert.deepEqual(await committedOffsets(storage), range(0, 25));
    assert.deepEqual(filesUnder(storage, `${ROOT}/_tmp`), []);
  });

  test('recovery deletes temp files of windows at or below the committed end; the rest go after the next commit', async () => {
    const storage = new MemoryStorage();
    const paths = new SinkPaths(ROOT);
    const first = writer({ storage, writerId: 'first', rotation: { maxRecords: 10 } });
    await first.recover();
    await first.write(items(tweetRecords(0, 10)));
    const stale = paths.tmpFile(TOPIC, 0, 'dead1', 5n, 0, 'jsonl');
    const current = paths.tmpFile(TOPIC, 0, 'dead2', 10n, 0, 'jsonl');
    const foreign = `${paths.writerTmpDir(TOPIC, 0, 'dead3')}/not-a-temp-file`;
    for (const p of [stale, current, foreign]) await storage.create(p, Buffer.from('x'));

    const owner = writer({ storage, writerId: 'owner', rotation: { maxRecords: 10 } });
    assert.equal(await owner.recover(), 10n);
    assert.deepEqual(
      filesUnder(storage, `${ROOT}/_tmp`).map((f) => f.path),
      [current],
    );
    assert.deepEqual(await storage.list(paths.writerTmpDir(TOPIC, 0, 'dead1')), [], 'its directory too');
    await owner.write(items(tweetRecords(10, 20)));
    assert.deepEqual(filesUnder(storage, `${ROOT}/_tmp`), []);
    assert.deepEqual(
      (await storage.list(paths.partitionTmpDir(TOPIC, 0))).map((f) => f.name),
      ['owner'],
    );
    await owner.close(false);
    assert.deepEqual(
      await storage.list(paths.partitionTmpDir(TOPIC, 0)),
      [],
      'a clean close leaves no directory',
    );
    assert.deepEqual(await committedOffsets(storage), range(0, 20));
  });

  test('a closing writer deletes an obsolete temp file that landed after its last cleanup (a late zombie upload)', async () => {
    const storage = new MemoryStorage();
    const paths = new SinkPaths(ROOT);
    const owner = writer({ storage, writerId: 'owner', rotation: { maxRecords: 10 } });
    await owner.recover();
    await owner.write(items(tweetRecords(0, 20)));
    // An earlier attempt's CREATE, finished by the DataNode after a NameNode failover, once the owner had moved on.
    const late = paths.tmpFile(TOPIC, 0, 'owner-attempt-1', 10n, 0, 'jsonl');
    await storage.create(late, Buffer.from('x'));
    await owner.write(items(tweetRecords(20, 25)));
    await owner.close(false);
    assert.deepEqual(filesUnder(storage, `${ROOT}/_tmp`), []);
    assert.deepEqual(await committedOffsets(storage), range(0, 25));
  });

  test('recovery racing the rename of a window it reads keeps the window (it is not taken for a lost one)', async () => {
    const memory = new MemoryStorage();
    // The zombie's manifest is written; its rename is still to come.
    const zombieStorage = blockingRenames(memory);
    const zombie = writer({ storage: zombieStorage.storage, writerId: 'zombie' });
    await zombie.recover();
    await zombie.write(items(tweetRecords(0, 10)));
    const zombieClose = zombie.close(false);
    await zombieStorage.renameRequested;
    const m = manifests(memory)[0];
    assert.ok(m);
    const files = new Set(m.files.flatMap((f) => [f.tmp, f.final]));
    // The zombie's rename lands right after the recovering writer's first look at one of the window's files.
    let raced = false;
    const racing: Storage = overriding(memory, {
      status: async (path: string) => {
        const st = await memory.status(path);
        if (!raced && files.has(path)) {
          raced = true;
          zombieStorage.release();
          await zombieClose;
        }
        return st;
      },
    });
    const owner = writer({ storage: racing, writerId: 'owner' });
    assert.equal(await owner.recover(), 10n);
    assert.ok(raced);
    assert.deepEqual(
      manifests(memory).map((x) => x.startOffset),
      ['0'],
    );
    await owner.write(items(tweetRecords(0, 15)));
    await owner.close(false);
    assert.deepEqual(await committedOffsets(memory), range(0, 15));
  });

  test('a window whose manifest appears while another writer recovers is not voided by that recovery', async () => {
    const memory = new MemoryStorage();
    const paths = new SinkPaths(ROOT);
    const first = writer({ storage: memory, writerId: 'first', rotation: { maxRecords: 10 } });
    await first.recover();
    await first.write(items(tweetRecords(0, 10)));
    // Two hours: two files, so a recovery that deleted them mid-rename would leave the window half visible.
    const records = tweetRecords(10, 20, { msPerRecord: 6 * 60_000 });
    const zombieStorage = blockingRenames(memory);
    const zombie = writer({ storage: zombieStorage.storage, writerId: 'zombie' });
    assert.equal(await zombie.recover(), 10n);
    await zombie.write(items(records));
    // The recovering writer lists the manifests; then the zombie writes its manifest and starts renaming.
    let zombieClose: Promise<void> | null = null;
    const racing: Storage = overriding(memory, {
      list: async (dir: string) => {
        const listing = await memory.list(dir);
        if (!zombieClose && dir === paths.walDir(TOPIC, 0)) {
          zombieClose = zombie.close(false);
          await zombieStorage.renameRequested;
        }
        return listing;
      },
    });
    const owner = writer({ storage: racing, writerId: 'owner' });
    assert.equal(await owner.recover(), 10n, 'it read the manifests before the zombie committed');
    zombieStorage.release();
    await zombieClose;
    await owner.write(items(tweetRecords(10, 30)));
    await assert.rejects(owner.close(false), isCode('FENCED'));
    const next = writer({ storage: memory, writerId: 'next' });
    assert.equal(await next.recover(), 20n);
    await next.write(items(tweetRecords(10, 30)));
    await next.close(false);
    assert.deepEqual(await committedOffsets(memory), range(0, 30));
    assert.deepEqual(filesUnder(memory, `${ROOT}/_tmp`), []);
  });

  test('an abort while an upload still waits for the NameNode fails it at once, without an unhandled error', async () => {
    const memory = new MemoryStorage();
    // WebHDFS reads a stream body only after the NameNode's answer; this NameNode never answers.
    let release: () => void = () => undefined;
    const stalled: Storage = overriding(memory, {
      create: (path: string, body: Readable, opts: CreateOptions) =>
        new Promise<void>((resolve, reject) => {
          release = () => memory.create(path, body, opts).then(resolve, reject);
        }),
    });
    let creates = 0;
    const counted = Object.assign(Object.create(stalled) as Storage, {
      create: (path: string, body: Readable, opts: CreateOptions) => {
        creates++;
        return stalled.create(path, body, opts);
      },
    });
    // gzip chunks are compressed on the thread pool, so chunks are still queued when the abort comes.
    const w = writer({ storage: counted, flushBytes: 1024, format: 'jsonl.gz' });
    await w.recover();
    await w.write(items(tweetRecords(0, 10)));
    for (let i = 0; i < 100 && creates === 0; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    assert.equal(creates, 1, 'the first chunk opened the upload');
    await w.write(items(tweetRecords(10, 20)));
    await w.close(true);
    assert.equal(creates, 1, 'no upload opened after the abort');
    await new Promise((resolve) => setImmediate(resolve)); // the NameNode is still silent while the abort settles
    release(); // the late request lands, or fails, after the abort
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(filesUnder(memory, `${ROOT}/${TOPIC}`), [], 'nothing committed');
    assert.deepEqual(manifests(memory), []);
    assert.equal(w.takeCommittedOffset(), null);
    // Whatever the late request left under _tmp goes once the next owner commits past its window.
    const next = writer({ storage: memory, writerId: 'next' });
    await next.recover();
    await next.write(items(tweetRecords(0, 3)));
    await next.close(false);
    assert.deepEqual(filesUnder(memory, `${ROOT}/_tmp`), []);
    assert.deepEqual(await committedOffsets(memory), range(0, 3));
  });

  test('a zombie whose temp file is removed while its upload runs fails at the end of the upload', async () => {
    const storage = new MemoryStorage();
    const zombie = writer({ storage, writerId: 'zombie', flushBytes: 1024 });
    await zombie.recover();
    await zombie.write(items(tweetRecords(0, 10)));
    // The new owner commits past the zombie's window start, which makes the zombie's temp file obsolete.
    const owner = writer({ storage, writerId: 'owner', rotation: { maxRecords: 20 } });
    await owner.recover();
    await owner.write(items(tweetRecords(0, 20)));
    await assert.rejects(zombie.close(false), isCode('HDFS_NOT_FOUND'));
    assert.deepEqual(
      manifests(storage).map((m) => m.writerId),
      ['owner'],
      'the zombie wrote no manifest',
    );
    assert.deepEqual(filesUnder(storage, `${ROOT}/_tmp`), []);
    assert.deepEqual(await committedOffsets(storage), range(0, 20));
  });
});

describe('renames and recovery', () => {
  test('a rename that reports false because another writer already renamed the file is accepted', async () => {
    const memory = new MemoryStorage();
    const racing: Storage = overriding(memory, {
      rename: async (from: string, to: string) => {
        await memory.rename(from, to);
        return false;
      },
    });
    const w = writer({ storage: racing });
    await w.recover();
    await w.write(items(tweetRecords(0, 5)));
    await w.close(false);
    assert.deepEqual(await committedOffsets(memory), range(0, 5));
  });

  test('a rename that fails with the temp file still there is an error', async () => {
    const memory = new MemoryStorage();
    const refusing: Storage = overriding(memory, {
      rename: async () => false,
    });
    const w = writer({ storage: refusing });
    await w.recover();
    await w.write(items(tweetRecords(0, 5)));
    await assert.rejects(w.close(false), isCode('HDFS_RENAME_FAILED'));
  });

  const lostManifest = (files: number): Manifest => ({
    version: 1,
    topic: TOPIC,
    partition: 0,
    startOffset: '0',
    endOffset: '9',
    files: Array.from({ length: files }, (_, i) => ({
      tmp: `${ROOT}/_tmp/${TOPIC}/0/x/0+${i}.jsonl`,
      final: `${ROOT}/${TOPIC}/dt=2026-11-25/hour=0${i}/${TOPIC}+0+${i * 5}+${i * 5 + 4}.jsonl`,
      records: 5,
      bytes: 100,
      firstOffset: String(i * 5),
      lastOffset: String(i * 5 + 4),
    })),
    createdAt: '2026-11-25T06:00:00.000Z',
    writerId: 'x',
  });

  test('a manifest with some files renamed and others lost is a fatal inconsistency', async () => {
    const storage = new MemoryStorage();
    const m = lostManifest(2);
    await storage.create(new SinkPaths(ROOT).manifest(TOPIC, 0, 0n), encodeManifest(m));
    await storage.create(m.files[0]?.final ?? '', Buffer.alloc(100));
    await assert.rejects(
      writer({ storage }).recover(),
      (e: unknown) => isCode('HDFS_NOT_FOUND')(e) && /inconsistent/.test(String(e)),
    );
  });

  test('a manifest none of whose files exists is rolled back (its data never became visible)', async () => {
    const storage = new MemoryStorage();
    const w1 = writer({ storage, rotation: { maxRecords: 5 } });
    await w1.recover();
    await w1.write(items(tweetRecords(0, 5)));
    await storage.create(
      new SinkPaths(ROOT).manifest(TOPIC, 0, 5n),
      encodeManifest({ ...lostManifest(1), startOffset: '5' }),
    );
    const w2 = writer({ storage, writerId: 'w2' });
    assert.equal(await w2.recover(), 5n);
    assert.deepEqual(
      manifests(storage).map((m) => m.startOffset),
      ['0'],
    );
  });

  test('recovery costs the same storage calls after 2 or 60 committed windows', async () => {
    const costs: Record<string, number>[] = [];
    for (const windows of [2, 60]) {
      const storage = new MemoryStorage();
      const w = writer({ storage, rotation: { maxRecords: 5 } });
      await w.recover();
      await w.write(items(tweetRecords(0, windows * 5, { msPerRecord: 60 * 60_000 })));
      await w.close(false);
      storage.calls.clear();
      assert.equal(await writer({ storage, writerId: 'w2' }).recover(), BigInt(windows * 5));
      costs.push(Object.fromEntries(storage.calls));
    }
    assert.deepEqual(costs[0], costs[1]);
    assert.equal(costs[0]?.list, 2, 'the manifests and the temp directory');
    assert.ok(Object.values(costs[0] ?? {}).reduce((a, b) => a + b, 0) <= 10, JSON.stringify(costs[0]));
  });

  test('operations are serialised: a rotation timer firing during writes loses nothing', async () => {
    const storage = new MemoryStorage();
    const w = writer({ storage });
    await w.recover();
    const pending: Promise<unknown>[] = [];
    for (let i = 0; i < 20; i++) {
      pending.push(w.write(items(tweetRecords(i * 5, i * 5 + 5))));
      pending.push(w.maybeRotate(Number.MAX_SAFE_INTEGER)); // not awaited: runs between the writes
    }
    const rotated = await Promise.all(pending);
    assert.equal(rotated.filter((r) => r === true).length, 20);
    await w.close(false);
    assert.deepEqual(await committedOffsets(storage), range(0, 100));
    assert.equal(filesUnder(storage, `${ROOT}/${TOPIC}`).length, 20);
  });
});

describe('memory', () => {
  test('a written record lets go of its parsed document (Parquet reads it; the batch outlives the write)', async () => {
    const storage = new MemoryStorage();
    const w = writer({ storage, format: 'parquet' });
    assert.equal(await w.recover(), null);
    const written = items(tweetRecords(0, 5)) as SinkRecord[];
    const docs = written.map((r) => r.doc);
    await w.write(written);
    written.forEach((r, n) => {
      // Parsed again on this read: the one parsed before the write was released by it.
      assert.notEqual(r.doc, docs[n]);
      assert.deepEqual(r.doc, docs[n]);
    });
    await w.close(false);
  });
});

describe('memory across many open files', () => {
  test('the files of a window hold at most maxBufferedBytes together, however many folders it writes', async () => {
    const gzip = createFormat('jsonl.gz', { flushBytes: 8 * 1024 * 1024 });
    const encoders: RecordEncoder[] = [];
    let held = 0;
    // Each of the 20 folders' encoders would hold up to flushBytes (8 MiB) before its first flush.
    const counting: Format = {
      ...gzip,
      open: () => {
        const e = gzip.open();
        encoders.push(e);
        return new Proxy(e, {
          get(target, key, receiver) {
            if (key !== 'write') return Reflect.get(target, key, receiver);
            return (r: SinkRecord) => {
              target.write(r);
              held = Math.max(
                held,
                encoders.reduce((sum, x) => sum + x.bufferedBytes, 0),
              );
            };
          },
        });
      },
    };
    const storage = new MemoryStorage();
    const w = folderWriter(storage, counting, 20n);
    assert.equal(await w.recover(), null);
    const records = tweetRecords(0, 20_000);
    const total = records.reduce((sum, r) => sum + (r.value?.length ?? 0), 0);
    assert.ok(total > 16 * 1024 * 1024, `only ${total} bytes written`);
    await w.write(items(records));
    await w.close(false);
    // The budget is checked every MiB appended.
    assert.ok(held <= 5 * 1024 * 1024 + 64 * 1024, `the encoders held ${held} bytes together`);
    assert.deepEqual(await committedOffsets(storage), range(0, 20_000));
  });

  test('bytes handed out and still being compressed count against maxBufferedBytes: the write waits for them', async () => {
    const gzip = createFormat('jsonl.gz', { flushBytes: 8 * 1024 * 1024 });
    const encoders: RecordEncoder[] = [];
    /** Uncompressed bytes the encoders handed out whose member is not ready yet. */
    let compressing = 0;
    let held = 0;
    // A compression completes only a few turns of the event loop later, as libdeflate's do on a busy thread pool:
    // a write loop that never yields would keep every handed-out block waiting.
    const later = <T>(chunk: Promise<T>, bytes: number): Promise<T> => {
      compressing += bytes;
      return chunk.then(async (c) => {
        for (let turn = 0; turn < 3; turn++) await new Promise((resolve) => setImmediate(resolve));
        compressing -= bytes;
        return c;
      });
    };
    const slow: Format = {
      ...gzip,
      open: () => {
        const e = gzip.open();
        encoders.push(e);
        const handOut = (take: () => Promise<Uint8Array>) => () => {
          const before = e.bufferedBytes;
          const chunk = take();
          return later(chunk, before - e.bufferedBytes);
        };
        return {
          get bufferedBytes() {
            return e.bufferedBytes;
          },
          get wantsFlush() {
            return e.wantsFlush;
          },
          write: (r: SinkRecord) => {
            e.write(r);
            held = Math.max(held, compressing + encoders.reduce((sum, x) => sum + x.bufferedBytes, 0));
          },
          flush: handOut(() => e.flush()),
          flushAll: handOut(() => e.flushAll()),
          finish: handOut(() => e.finish()),
          release: (chunk: Uint8Array) => e.release?.(chunk),
        };
      },
    };
    const storage = new MemoryStorage();
    const w = folderWriter(storage, slow, 100n);
    assert.equal(await w.recover(), null);
    await w.write(items(tweetRecords(0, 20_000)));
    await w.close(false);
    // The budget is checked every MiB appended.
    assert.ok(
      held <= 5 * 1024 * 1024 + 64 * 1024,
      `the encoders held ${held} bytes, being compressed included`,
    );
    assert.deepEqual(await committedOffsets(storage), range(0, 20_000));
  });
});

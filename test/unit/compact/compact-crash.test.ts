/**
 * A compaction killed at every mutating HDFS call (the in-memory twin of kill -9), then finished by the next run
 * while the sink keeps writing the same tree: every record exactly once in all three formats, the sink's recovery
 * unaffected by the leftovers, and no rewrite manifest or temp file left once a run completed.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { compact } from '../../../src/compact/compact.ts';
import { MemoryStorage } from '../../../src/hdfs/memory-storage.ts';
import type { Storage } from '../../../src/hdfs/storage.ts';
import { silentLogger } from '../../../src/log.ts';
import type { FormatName } from '../../../src/sink/formats/format.ts';
import { CrashingStorage, filesUnder, SimulatedCrash, tweetRecords } from '../sink/fixtures.ts';
import { committedOffsets, items, ROOT, range, TOPIC, writer } from '../sink/partition-writer-fixtures.ts';

/** Records [from, to), one a minute of tweet time, committed by a sink writer in windows of 10. */
async function sinkWrites(storage: Storage, format: FormatName, writerId: string, from: number, to: number) {
  const w = writer({ storage, format, writerId, rotation: { maxRecords: 10 } });
  await w.recover();
  await w.write(items(tweetRecords(from, to, { msPerRecord: 60_000 })));
  await w.close(false);
}

const run = (storage: Storage) =>
  compact({ storage, root: ROOT, olderThanMs: 1, targetBytes: 256 * 1024 * 1024, logger: silentLogger });

const committedFiles = (s: MemoryStorage) => filesUnder(s, `${ROOT}/${TOPIC}`).length;

async function tree(format: FormatName): Promise<MemoryStorage> {
  const storage = new MemoryStorage();
  await sinkWrites(storage, format, 'w1', 0, 150);
  await sleep(3); // older than --older-than (1 ms)
  return storage;
}

for (const format of ['jsonl', 'jsonl.gz', 'parquet'] as FormatName[]) {
  describe(`compact (${format})`, () => {
    it('merges the idle files of each folder, leaving the files the sink manifests name', async () => {
      const storage = await tree(format);
      const before = committedFiles(storage);
      const report = await run(storage);
      assert.deepEqual(await committedOffsets(storage), range(0, 150));
      assert.ok(report.filesAfter > 0 && report.filesBefore > report.filesAfter, JSON.stringify(report));
      assert.equal(committedFiles(storage), before - report.filesBefore + report.filesAfter);
      assert.deepEqual(filesUnder(storage, `${ROOT}/_wal/+rewrite`), []);
      assert.deepEqual(filesUnder(storage, `${ROOT}/_tmp/+rewrite`), []);
    });

    it('finishes or undoes a run killed at any step; the sink writing meanwhile loses and doubles nothing', async () => {
      const probe = new CrashingStorage(await tree(format));
      await run(probe);
      const steps = probe.mutations;
      assert.ok(steps > 10, `a compaction of this tree takes ${steps} mutating calls`);
      for (let crashAt = 1; crashAt <= steps; crashAt++) {
        const memory = await tree(format);
        await assert.rejects(run(new CrashingStorage(memory, crashAt)), SimulatedCrash);
        // The sink recovers and writes on in the same tree, then the next compaction finishes the killed one.
        await sinkWrites(memory, format, 'w2', 150, 180);
        await sleep(3);
        await run(memory);
        assert.deepEqual(await committedOffsets(memory), range(0, 180), `killed at step ${crashAt}`);
        assert.deepEqual(filesUnder(memory, `${ROOT}/_wal/+rewrite`), [], `killed at step ${crashAt}`);
        assert.deepEqual(filesUnder(memory, `${ROOT}/_tmp/+rewrite`), [], `killed at step ${crashAt}`);
        const resumed = writer({ storage: memory, format, writerId: 'w3' });
        assert.equal(
          await resumed.recover(),
          180n,
          `killed at step ${crashAt}: the sink resumes after its last window`,
        );
      }
    });
  });
}

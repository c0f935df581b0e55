/**
 * `compliance apply`: deleted ids gone from every format, the others kept exactly once, a removal log without
 * content, files the sink's kept manifests name deferred; and a run killed at any mutating call leaves each file
 * old or new, finished by the next run.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { applyDeletions, parseIdList } from '../../../src/compact/compliance.ts';
import { rowCodec } from '../../../src/compact/file-rows.ts';
import { MemoryStorage } from '../../../src/hdfs/memory-storage.ts';
import type { Storage } from '../../../src/hdfs/storage.ts';
import { silentLogger } from '../../../src/log.ts';
import { parseCommittedFileName } from '../../../src/sink/filenames.ts';
import type { FormatName } from '../../../src/sink/formats/format.ts';
import { CrashingStorage, filesUnder, SimulatedCrash, tweetRecords } from '../sink/fixtures.ts';
import { items, ROOT, TOPIC, writer } from '../sink/partition-writer-fixtures.ts';

const idOf = (offset: number) => String(1_993_000_000_000_000_000n + BigInt(offset));
/** Offsets 0..99 in windows of 10: the last two windows (80..99) stay named by the sink's kept manifests. */
const DELETED = [0, 9, 10, 33, 47, 48, 70].map(idOf);
const PINNED_DELETED = idOf(95);

async function tree(format: FormatName): Promise<MemoryStorage> {
  const storage = new MemoryStorage();
  const w = writer({ storage, format, rotation: { maxRecords: 10 } });
  await w.recover();
  await w.write(items(tweetRecords(0, 100, { msPerRecord: 60_000 })));
  await w.close(false);
  return storage;
}

/** Path -> ids of every committed file. */
async function stored(storage: MemoryStorage): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  for (const { path, data } of filesUnder(storage, `${ROOT}/${TOPIC}`)) {
    const ext = parseCommittedFileName(path.slice(path.lastIndexOf('/') + 1))?.extension ?? '';
    out.set(path, (await rowCodec(ext).read(data, path)).ids);
  }
  return out;
}

const same = (a: string[], b: string[] | undefined) => JSON.stringify(a) === JSON.stringify(b);

const apply = (storage: Storage, ids: string[]) =>
  applyDeletions({ storage, root: ROOT, ids: new Set(ids), logger: silentLogger });

for (const format of ['jsonl', 'jsonl.gz', 'parquet'] as FormatName[]) {
  describe(`compliance apply (${format})`, () => {
    it('removes the ids from every file that holds one, logs ids and counts, defers the files the sink still names', async () => {
      const storage = await tree(format);
      const report = await apply(storage, [...DELETED, PINNED_DELETED]);
      const all = [...(await stored(storage)).values()].flat();
      const expected = Array.from({ length: 100 }, (_, i) => idOf(i)).filter((id) => !DELETED.includes(id));
      assert.deepEqual(all.sort(), expected.sort());
      assert.equal(report.removedRecords, DELETED.length);
      assert.equal(report.deferred.length, 1);
      const logs = filesUnder(storage, `${ROOT}/_compliance`).map((f) => JSON.parse(f.data.toString()));
      assert.equal(logs.length, report.rewrittenFiles);
      assert.deepEqual(
        logs.flatMap((l) => l.files.flatMap((f: { ids: string[] }) => f.ids)).sort(),
        [...DELETED].sort(),
      );
      assert.ok(!JSON.stringify(logs).includes('"text"'), 'the log holds no content');
    });

    it('a run killed at any step leaves each file old or new, and the next run finishes it', async () => {
      const before = await stored(await tree(format));
      const clean = await tree(format);
      await apply(clean, DELETED);
      const after = await stored(clean);
      const probe = new CrashingStorage(await tree(format));
      await apply(probe, DELETED);
      for (let crashAt = 1; crashAt <= probe.mutations; crashAt++) {
        const memory = await tree(format);
        await assert.rejects(apply(new CrashingStorage(memory, crashAt), DELETED), SimulatedCrash);
        for (const [path, ids] of await stored(memory)) {
          const old = before.get(path);
          const now = after.get(path);
          assert.ok(
            same(ids, old) || same(ids, now),
            `killed at step ${crashAt}: ${path} is neither old nor new`,
          );
        }
        await apply(memory, DELETED);
        assert.deepEqual(await stored(memory), after, `killed at step ${crashAt}`);
        assert.ok(filesUnder(memory, `${ROOT}/_compliance`).length > 0);
      }
    });
  });
}

describe('parseIdList', () => {
  it('reads bare ids and X compliance result lines, and names the line of anything else', () => {
    assert.deepEqual([...parseIdList('123\n\n{"id":"456","action":"delete"}\n', 'ids.txt')], ['123', '456']);
    assert.throws(() => parseIdList('123\nabc\n', 'ids.txt'), /ids.txt line 2: expected a tweet id/);
  });
});

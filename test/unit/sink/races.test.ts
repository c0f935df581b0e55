/**
 * Races between several writers of one Kafka partition (a zombie previous owner, a recovering new owner, a third
 * writer), simulated with MemoryStorage wrappers that pause or replay individual storage calls.
 *
 * The first three failed before manifests were removed through a unique name (src/sink/manifest.ts says why).
 * Every test has a timeout: a regression in these races shows as a wait that never ends.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MemoryStorage } from '../../../src/hdfs/memory-storage.ts';
import type { CreateOptions, Storage, StorageBody } from '../../../src/hdfs/storage.ts';
import { SinkPaths } from '../../../src/sink/filenames.ts';
import { encodeManifest, type Manifest } from '../../../src/sink/manifest.ts';
import type { PartitionWriter } from '../../../src/sink/partition-writer.ts';
import { tweetRecords } from './fixtures.ts';
import {
  committedOffsets,
  deferred,
  isCode,
  items,
  manifests,
  overriding,
  writer as partitionWriter,
  ROOT,
  range,
  TOPIC,
} from './partition-writer-fixtures.ts';

const paths = new SinkPaths(ROOT);

const writer = (storage: Storage, writerId: string, maxRecords = 1_000_000): PartitionWriter =>
  partitionWriter({ storage, writerId, rotation: { maxRecords } });

const isFenced = isCode('FENCED');

/**
 * The new owner's side after recovery, as the sink loop does it: the group re-delivers from `from`; a FENCED
 * commit resets the sink and a fresh writer recovers and consumes again.
 */
async function ownerConsumes(storage: MemoryStorage, first: PartitionWriter, from: number, to: number) {
  await first.write(items(tweetRecords(from, to)));
  try {
    await first.close(false);
  } catch (err) {
    if (!isFenced(err)) throw err;
    await first.close(true);
    const next = writer(storage, 'next');
    await next.recover();
    await next.write(items(tweetRecords(from, to)));
    await next.close(false);
  }
}

describe('a manifest judged torn or void from an earlier read is removed only if it still is', {
  timeout: 20_000,
}, () => {
  test('a manifest read while its writer is still creating it looks torn; its removal comes after that writer committed: it is kept', async () => {
    const memory = new MemoryStorage();
    const base = writer(memory, 'base', 10);
    await base.recover();
    await base.write(items(tweetRecords(0, 10))); // manifest 0..9

    // The zombie (previous owner) commits window 10..19. HDFS shows a file being created with length 0 until
    // the DataNode closes it: the create makes the file visible empty, and the bytes land when released.
    const m10 = paths.manifest(TOPIC, 0, 10n);
    const underConstruction = deferred();
    const land = deferred();
    const zombieStorage = overriding(memory, {
      create: async (path: string, body: StorageBody, opts?: CreateOptions) => {
        if (path !== m10) return memory.create(path, body, opts);
        await memory.create(path, Buffer.alloc(0), opts);
        underConstruction.resolve();
        await land.promise;
        await memory.append(path, body);
      },
    });
    const zombie = writer(zombieStorage, 'zombie');
    assert.equal(await zombie.recover(), 10n);
    await zombie.write(items(tweetRecords(10, 20)));
    const zombieClose = zombie.close(false);
    await underConstruction.promise;

    // The new owner recovers: it reads manifest 10 while it is still empty ("torn"), and its removal of it
    // reaches the NameNode only after the zombie's create completed, passed the fencing check and renamed
    // (a slow or retried call; the NameNode processes it whenever it arrives).
    let removals = 0;
    const ownerStorage = overriding(memory, {
      rename: async (from: string, to: string) => {
        if (from === m10 && removals++ === 0) {
          land.resolve();
          await zombieClose;
        }
        return memory.rename(from, to);
      },
    });
    const owner = writer(ownerStorage, 'owner');
    const resumeAt = await owner.recover();
    await zombieClose; // the zombie's window 10..19 is committed and visible
    assert.deepEqual(await committedOffsets(memory), range(0, 20));

    // The group never saw the zombie's Kafka commit (a member outside the generation cannot commit), so
    // it re-delivers from 10; the writers skip what HDFS holds.
    await ownerConsumes(memory, owner, 10, 26);
    assert.deepEqual(await committedOffsets(memory), range(0, 26), 'every offset exactly once');
    assert.equal(resumeAt, 20n, 'recovery resumes after the visible window');
    assert.equal(removals, 1, 'it set the manifest aside once, then put it back');
  });

  for (const kind of ['torn', 'void'] as const) {
    test(`the removal of a ${kind} manifest retried after a lost reply leaves the manifest another owner put at that name meanwhile`, async () => {
      const memory = new MemoryStorage();
      const base = writer(memory, 'base', 10);
      await base.recover();
      await base.write(items(tweetRecords(0, 10))); // manifest 0..9
      const m10 = paths.manifest(TOPIC, 0, 10n);
      if (kind === 'torn') {
        // A writer died while creating manifest 10 (HDFS lease recovery later closes it as it is).
        await memory.create(m10, Buffer.from('{\n "version": 1,\n "topic": "tw'));
      } else {
        // A manifest none of whose files exists (its writer lost its temp files): rolled back by recovery.
        const m: Manifest = {
          version: 1,
          topic: TOPIC,
          partition: 0,
          startOffset: '10',
          endOffset: '19',
          files: [
            {
              tmp: paths.tmpFile(TOPIC, 0, 'lost', 10n, 0, 'jsonl'),
              final: `${ROOT}/${TOPIC}/dt=2026-11-25/hour=06/${TOPIC}+0+10+19.jsonl`,
              records: 10,
              bytes: 100,
              firstOffset: '10',
              lastOffset: '19',
            },
          ],
          createdAt: '2026-11-25T06:00:00.000Z',
          writerId: 'lost',
        };
        await memory.create(m10, encodeManifest(m));
      }

      // Recovery A removes manifest 10; the call lands but its reply is lost (timeout), and the WebHDFS
      // client retries it after a backoff. Meanwhile recovery B - another member that now owns the
      // partition - recovers, commits 10..14 under the same name and renames.
      let retried = false;
      const storageA = overriding(memory, {
        rename: async (from: string, to: string) => {
          if (from !== m10 || retried) return memory.rename(from, to);
          retried = true;
          await memory.rename(from, to); // landed; the reply is lost
          const b = writer(memory, 'b');
          assert.equal(await b.recover(), 10n);
          await b.write(items(tweetRecords(10, 15)));
          await b.close(false);
          assert.deepEqual(await committedOffsets(memory), range(0, 15));
          // The retry: its destination exists now, so it changes nothing (WebHDFS answers false; the
          // client's check for an earlier attempt that landed finds the source still there).
          return memory.rename(from, to);
        },
      });
      const a = writer(storageA, 'a');
      const resumeAt = await a.recover();
      assert.ok(retried);
      assert.deepEqual(
        manifests(memory).map((m) => [m.startOffset, m.writerId]),
        [
          ['0', 'base'],
          ['10', 'b'],
        ],
        "B's manifest of the visible window 10..14 survives",
      );
      // The void case lists again after its removal and sees B's window; the torn case may resume from its
      // earlier listing, and the fencing then stops its first window.
      if (kind === 'void') assert.equal(resumeAt, 15n);
      await ownerConsumes(memory, a, 10, 20);
      assert.deepEqual(await committedOffsets(memory), range(0, 20), 'every offset exactly once');
    });
  }
});

/** Suspected interleavings that turned out safe; kept as regression tests. */
describe('safe interleavings', { timeout: 20_000 }, () => {
  test('a zombie fenced by a newer manifest after the new owner adopted its window deletes its manifest: nothing is lost or duplicated', async () => {
    const memory = new MemoryStorage();
    const base = writer(memory, 'base', 10);
    await base.recover();
    await base.write(items(tweetRecords(0, 10)));
    // The zombie's manifest 10..19 is written; its fencing check (a listing) waits.
    const walDir = paths.walDir(TOPIC, 0);
    const listed = deferred();
    const proceed = deferred();
    let creates = 0;
    const zombieStorage = overriding(memory, {
      create: async (path: string, body: StorageBody, opts?: CreateOptions) => {
        await memory.create(path, body, opts);
        if (path.startsWith(walDir)) creates++;
      },
      list: async (dir: string) => {
        if (dir === walDir && creates > 0) {
          listed.resolve();
          await proceed.promise;
        }
        return memory.list(dir);
      },
    });
    const zombie = writer(zombieStorage, 'zombie');
    await zombie.recover();
    await zombie.write(items(tweetRecords(10, 20, { msPerRecord: 6 * 60_000 }))); // two files
    const zombieClose = zombie.close(false);
    await listed.promise;
    // The new owner adopts window 10..19 (renames its files), commits 20..29 and 30..39 (pruning 10).
    const owner = writer(memory, 'owner', 10);
    assert.equal(await owner.recover(), 20n);
    await owner.write(items(tweetRecords(20, 30)));
    proceed.resolve();
    await assert.rejects(zombieClose, isFenced);
    await owner.write(items(tweetRecords(30, 40)));
    await owner.close(false);
    const next = writer(memory, 'next');
    assert.equal(await next.recover(), 40n);
    assert.deepEqual(await committedOffsets(memory), range(0, 40));
  });

  test('a manifest create retried after a lost reply, once a recovery deleted the first attempt as torn, fences the new owner instead', async () => {
    const memory = new MemoryStorage();
    const base = writer(memory, 'base', 10);
    await base.recover();
    await base.write(items(tweetRecords(0, 10)));
    const m10 = paths.manifest(TOPIC, 0, 10n);
    const underConstruction = deferred();
    const deleted = deferred();
    const zombieStorage = overriding(memory, {
      create: async (path: string, body: StorageBody, opts?: CreateOptions) => {
        if (path !== m10) return memory.create(path, body, opts);
        await memory.create(path, Buffer.alloc(0), opts); // first attempt: visible, empty; then it times out
        underConstruction.resolve();
        await deleted.promise;
        await memory.create(path, body, opts); // the retry (a Uint8Array body is replayed)
      },
    });
    const zombie = writer(zombieStorage, 'zombie');
    await zombie.recover();
    await zombie.write(items(tweetRecords(10, 20)));
    const zombieClose = zombie.close(false);
    await underConstruction.promise;
    const ownerStorage = overriding(memory, {
      delete: async (path: string, recursive?: boolean) => {
        const r = await memory.delete(path, recursive);
        if (path.startsWith(`${m10}.`)) deleted.resolve(); // the torn manifest, deleted once set aside
        return r;
      },
    });
    const owner = writer(ownerStorage, 'owner');
    assert.equal(await owner.recover(), 10n);
    await zombieClose; // the retry re-created the manifest, the zombie passed the check and renamed
    await ownerConsumes(memory, owner, 10, 26);
    assert.deepEqual(await committedOffsets(memory), range(0, 26));
  });
});

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { TweetpipeError } from '../../../src/errors.ts';
import { MemoryStorage } from '../../../src/hdfs/memory-storage.ts';
import { silentLogger } from '../../../src/log.ts';
import {
  committedFileName,
  manifestFileName,
  parseCommittedFileName,
  parseManifestFileName,
  parseTempFileWindowStart,
  SinkPaths,
} from '../../../src/sink/filenames.ts';
import { decodeManifest, encodeManifest, type Manifest, ManifestLog } from '../../../src/sink/manifest.ts';

const isCode = (code: string) => (e: unknown) => e instanceof TweetpipeError && e.code === code;

describe('file names', () => {
  test('committed file names follow the layout contract and parse back', () => {
    const paths = new SinkPaths('/twitter_data');
    const name = committedFileName('twitter_data', 3, 120400n, 120999n, 'jsonl.gz');
    assert.equal(
      paths.committedFile('twitter_data', 'dt=2026-11-25/hour=06', name),
      '/twitter_data/twitter_data/dt=2026-11-25/hour=06/twitter_data+3+120400+120999.jsonl.gz',
    );
    for (const [topic, partition, first, last, ext] of [
      ['twitter_data', 3, 120400n, 120999n, 'jsonl.gz'],
      ['a.b-c_d', 0, 0n, 0n, 'jsonl'],
      ['t', 9999, 9_223_372_036_854_775_000n, 9_223_372_036_854_775_807n, 'parquet'],
    ] as const) {
      const n = committedFileName(topic, partition, first, last, ext);
      assert.deepEqual(parseCommittedFileName(n), {
        topic,
        partition,
        firstOffset: first,
        lastOffset: last,
        extension: ext,
      });
    }
  });

  test('other names do not parse; bad ranges are refused', () => {
    for (const n of [
      't+1+2.jsonl',
      't+1+5+2.jsonl',
      't+1+2+3.csv',
      't+x+2+3.jsonl',
      '_tmp',
      't+1+2+3.jsonl.gz.tmp',
    ])
      assert.equal(parseCommittedFileName(n), null, n);
    assert.throws(() => committedFileName('t', 0, 5n, 4n, 'jsonl'), isCode('INTERNAL'));
    assert.throws(() => committedFileName('bad/topic', 0, 1n, 2n, 'jsonl'), isCode('INTERNAL'));
  });

  test('manifest names sort like their offsets', () => {
    const offsets = [0n, 9n, 10n, 99n, 100_000n, 9_223_372_036_854_775_807n];
    const names = offsets.map(manifestFileName);
    assert.deepEqual([...names].sort(), names);
    assert.deepEqual(names.map(parseManifestFileName), offsets);
    assert.equal(manifestFileName(42n), '00000000000000000042.json');
    assert.equal(parseManifestFileName('42.json'), null);
  });

  test('temp files and manifests live under _tmp and _wal', () => {
    const p = new SinkPaths('/data/');
    assert.equal(p.tmpFile('t', 2, 'w1', 100n, 0, 'parquet'), '/data/_tmp/t/2/w1/100+0.parquet');
    assert.equal(p.manifest('t', 2, 100n), '/data/_wal/t/2/00000000000000000100.json');
  });

  test('a temp file name gives back its window start; other names give null', () => {
    const p = new SinkPaths('/data');
    const name = p.tmpFile('t', 2, 'w1', 12345678901234n, 3, 'jsonl.gz').split('/').pop() ?? '';
    assert.equal(parseTempFileWindowStart(name), 12345678901234n);
    for (const other of ['100.jsonl', '100+x.jsonl', '+1.jsonl', '100+1', 'a100+1.jsonl', '100+1.JSONL'])
      assert.equal(parseTempFileWindowStart(other), null, other);
  });
});

const manifest = (start: bigint, end: bigint, writerId = 'w'): Manifest => ({
  version: 1,
  topic: 't',
  partition: 0,
  startOffset: start.toString(),
  endOffset: end.toString(),
  files: [],
  createdAt: '2026-11-25T06:00:00.000Z',
  writerId,
});

function setup(keep = 2) {
  const storage = new MemoryStorage();
  const paths = new SinkPaths('/d');
  const log = new ManifestLog({ storage, paths, topic: 't', partition: 0, keep, logger: silentLogger });
  const names = () =>
    [...storage.nodes.keys()].filter((k) => k.startsWith('/d/_wal/t/0/')).map((k) => k.slice(12));
  return { storage, paths, log, names };
}

describe('manifest encoding', () => {
  test('round trip; a torn file decodes to null; a foreign file is an error', () => {
    const m = manifest(10n, 19n);
    const bytes = encodeManifest(m);
    assert.deepEqual(decodeManifest(bytes, '/x'), m);
    assert.equal(decodeManifest(bytes.subarray(0, bytes.length - 10), '/x'), null);
    assert.equal(decodeManifest(Buffer.alloc(0), '/x'), null);
    assert.throws(() => decodeManifest(Buffer.from('{"version":2}'), '/x'), isCode('INTERNAL'));
  });
});

describe('ManifestLog', () => {
  test('commit, latest, and pruning down to the last two', async () => {
    const { log, names } = setup();
    assert.equal(await log.latest(), null);
    for (let i = 0n; i < 5n; i++) await log.prune(await log.commit(manifest(i * 10n, i * 10n + 9n)));
    assert.deepEqual(names(), [manifestFileName(30n), manifestFileName(40n)]);
    assert.deepEqual(await log.latest(), manifest(40n, 49n));
  });

  test('a second writer for the same window start is FENCED and changes nothing', async () => {
    const { log, names } = setup();
    await log.commit(manifest(0n, 9n, 'a'));
    await assert.rejects(log.commit(manifest(0n, 14n, 'b')), isCode('FENCED'));
    assert.deepEqual(await log.latest(), manifest(0n, 9n, 'a'));
    assert.deepEqual(names(), [manifestFileName(0n)]);
  });

  test('a create retried after a lost reply finds its own manifest and succeeds', async () => {
    const { storage, log, names } = setup();
    const m = manifest(0n, 9n, 'a');
    const retrying = Object.assign(Object.create(storage) as MemoryStorage, {
      create: async (path: string, data: Uint8Array, opts?: { overwrite?: boolean }) => {
        await storage.create(path, data, opts); // the first attempt lands, its reply is lost
        return storage.create(path, data, opts); // the retry: HDFS_ALREADY_EXISTS
      },
    });
    const retried = new ManifestLog({
      storage: retrying,
      paths: new SinkPaths('/d'),
      topic: 't',
      partition: 0,
      keep: 2,
      logger: silentLogger,
    });
    assert.deepEqual(await retried.commit(m), []);
    assert.deepEqual(names(), [manifestFileName(0n)]);
    assert.deepEqual(await log.latest(), m);
  });

  test('a writer far behind whose window name was pruned is FENCED and its manifest removed', async () => {
    const { log, names } = setup();
    for (let i = 0n; i < 4n; i++) await log.prune(await log.commit(manifest(i * 10n, i * 10n + 9n, 'a')));
    assert.ok(!names().includes(manifestFileName(10n)));
    await assert.rejects(log.commit(manifest(10n, 25n, 'zombie')), isCode('FENCED'));
    assert.deepEqual(names(), [manifestFileName(20n), manifestFileName(30n)]);
    assert.deepEqual(await log.latest(), manifest(30n, 39n, 'a'));
  });

  test('a window overlapping the committed one before it is FENCED (two first-ever writers)', async () => {
    const { log, names } = setup();
    await log.commit(manifest(0n, 150n, 'a'));
    await assert.rejects(log.commit(manifest(100n, 180n, 'b')), isCode('FENCED'));
    assert.deepEqual(names(), [manifestFileName(0n)]);
  });

  test('latest() deletes a torn newest manifest and falls back to the one before', async () => {
    const { storage, paths, log, names } = setup();
    await log.commit(manifest(0n, 9n));
    await log.commit(manifest(10n, 19n));
    const torn = encodeManifest(manifest(20n, 29n)).subarray(0, 30);
    await storage.create(paths.manifest('t', 0, 20n), torn);
    assert.deepEqual(await log.latest(), manifest(10n, 19n));
    assert.deepEqual(names(), [manifestFileName(0n), manifestFileName(10n)]);
  });

  test('latest() takes a manifest whose create died with its DataNode (length unknown) for torn', async () => {
    const { storage, paths, log, names } = setup();
    await log.commit(manifest(0n, 9n));
    const unfinished = paths.manifest('t', 0, 10n);
    await storage.create(unfinished, encodeManifest(manifest(10n, 19n)));
    // What WebHDFS answers for a file left under construction (CannotObtainBlockLengthException), here or set aside.
    const read = storage.read.bind(storage);
    storage.read = async (path) => {
      if (path.startsWith(unfinished))
        throw new TweetpipeError('HDFS_UNFINISHED', `cannot obtain the block length of ${path}`);
      return read(path);
    };
    assert.deepEqual(await log.latest(), manifest(0n, 9n));
    assert.deepEqual(names(), [manifestFileName(0n)]);
  });

  test('of two overlapping manifests, latest() keeps the one the NameNode saw first', async () => {
    for (const olderIsNewest of [true, false]) {
      const { storage, paths, log, names } = setup();
      await log.commit(manifest(0n, 150n, 'a'));
      // A racing writer's manifest that it has not yet removed (it can never pass the fencing check).
      await storage.create(paths.manifest('t', 0, 100n), encodeManifest(manifest(100n, 180n, 'b')));
      const first = storage.nodes.get(paths.manifest('t', 0, olderIsNewest ? 100n : 0n));
      const second = storage.nodes.get(paths.manifest('t', 0, olderIsNewest ? 0n : 100n));
      assert.ok(first && second);
      first.modificationTime = 1000;
      second.modificationTime = 2000;
      const winner = olderIsNewest ? manifest(100n, 180n, 'b') : manifest(0n, 150n, 'a');
      assert.deepEqual(await log.latest(), winner);
      assert.deepEqual(names(), [manifestFileName(BigInt(winner.startOffset))]);
    }
  });

  test('overlapping manifests created in the same millisecond: retryable FENCED, nothing deleted', async () => {
    const { storage, paths, log, names } = setup();
    await log.commit(manifest(0n, 150n, 'a'));
    await storage.create(paths.manifest('t', 0, 100n), encodeManifest(manifest(100n, 180n, 'b')));
    for (const s of [0n, 100n]) {
      const node = storage.nodes.get(paths.manifest('t', 0, s));
      if (node) node.modificationTime = 5;
    }
    await assert.rejects(
      log.latest(),
      (e: unknown) => isCode('FENCED')(e) && (e as TweetpipeError).retryable,
    );
    assert.equal(names().length, 2);
  });

  test('a manifest pruned between the listing and its read: latest() and commit() list again', async () => {
    const { storage, log } = setup();
    for (let i = 0n; i < 3n; i++) await log.prune(await log.commit(manifest(i * 10n, i * 10n + 9n)));
    // Another writer commits 30..39 and prunes 10 right after this process listed the directory.
    const other = new ManifestLog({
      storage,
      paths: new SinkPaths('/d'),
      topic: 't',
      partition: 0,
      keep: 2,
      logger: silentLogger,
    });
    const listOnce = (after: () => Promise<void>) => {
      let done = false;
      return async (dir: string) => {
        const listing = await MemoryStorage.prototype.list.call(storage, dir);
        if (!done) {
          done = true;
          await after();
        }
        return listing;
      };
    };
    storage.list = listOnce(async () => {
      await other.prune(await other.commit(manifest(30n, 39n, 'other')));
      await storage.delete(`/d/_wal/t/0/${manifestFileName(20n)}`); // the one listed as newest, too
    });
    assert.deepEqual(await log.latest(), manifest(30n, 39n, 'other'));

    // commit(): the predecessor it listed is deleted before it reads it; it looks again instead of failing.
    storage.list = listOnce(async () => {
      await storage.delete(`/d/_wal/t/0/${manifestFileName(30n)}`);
    });
    assert.deepEqual(await log.commit(manifest(40n, 45n, 'next')), []);
    assert.deepEqual(await log.latest(), manifest(40n, 45n, 'next'));
  });

  test('latest() costs one list and at most two reads however many windows were committed', async () => {
    for (const windows of [3, 200]) {
      const { storage, log } = setup();
      for (let i = 0; i < windows; i++) {
        const s = BigInt(i * 10);
        await log.prune(await log.commit(manifest(s, s + 9n)));
      }
      storage.calls.clear();
      await log.latest();
      assert.deepEqual(Object.fromEntries(storage.calls), { list: 1, read: 2 }, `${windows} windows`);
    }
  });
});

/**
 * The Storage contract as tests: every implementation (MemoryStorage, WebHdfsStorage) registers this suite, so the
 * in-memory twin the sink's unit tests rely on behaves like the real HDFS.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { PassThrough } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { setImmediate } from 'node:timers/promises';
import { TweetpipeError } from '../../src/errors.ts';
import { type Storage, snapshotPath } from '../../src/hdfs/storage.ts';

export interface ConformanceTarget {
  storage: Storage;
  /** An absolute, empty directory the suite may fill. */
  root: string;
  cleanup(): Promise<void>;
}

/** Names the sink really writes, and characters that break naive URL or path handling. */
export const ODD_NAMES = [
  'twitter_data+3+120400+120999.jsonl.gz',
  'a=b',
  'with space',
  'ünïcødé-日本-🐦',
  '100%',
  'q?x#y&z',
];

const bytes = (text: string): Buffer => Buffer.from(text, 'utf8');

async function assertCode(promise: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof TweetpipeError, `expected a TweetpipeError, got ${String(err)}`);
    assert.equal(err.code, code);
    return true;
  });
}

export function storageConformance(name: string, make: () => Promise<ConformanceTarget>): void {
  // Each test has its own directory, so they run concurrently (HDFS takes ~0.4 s to close a file).
  describe(`Storage conformance: ${name}`, { concurrency: true }, () => {
    let target: ConformanceTarget;
    let s: Storage;
    let dirs = 0;
    /** A fresh directory per test, so tests cannot see each other's files. */
    const fresh = () => `${target.root}/t${++dirs}`;

    before(async () => {
      target = await make();
      s = target.storage;
    });
    after(async () => {
      await target?.cleanup();
    });

    describe('create and read', { concurrency: true }, () => {
      test('round-trips an empty file', async () => {
        const p = `${fresh()}/empty`;
        await s.create(p, new Uint8Array(0));
        assert.deepEqual(await s.read(p), Buffer.alloc(0));
        assert.equal((await s.status(p))?.length, 0);
      });

      test('round-trips every byte value', async () => {
        const p = `${fresh()}/binary.bin`;
        const data = Buffer.from(Array.from({ length: 512 }, (_, i) => i % 256));
        await s.create(p, data);
        assert.deepEqual(await s.read(p), data);
      });

      test('round-trips 5 MB', async () => {
        const p = `${fresh()}/big.bin`;
        const data = randomBytes(5 * 1024 * 1024);
        await s.create(p, data);
        const back = await s.read(p);
        assert.equal(back.length, data.length);
        assert.ok(back.equals(data));
      });

      test('creates missing parent directories', async () => {
        const dir = fresh();
        await s.create(`${dir}/a/b/c/file`, bytes('x'));
        assert.equal((await s.status(`${dir}/a/b`))?.type, 'DIRECTORY');
        assert.equal((await s.status(`${dir}/a/b/c/file`))?.type, 'FILE');
      });

      test('overwrite=false (the default) on an existing file fails and leaves the content', async () => {
        const p = `${fresh()}/f`;
        await s.create(p, bytes('first'));
        await assertCode(s.create(p, bytes('second')), 'HDFS_ALREADY_EXISTS');
        await assertCode(s.create(p, bytes('second'), { overwrite: false }), 'HDFS_ALREADY_EXISTS');
        assert.deepEqual(await s.read(p), bytes('first'));
      });

      test('overwrite=true replaces the content', async () => {
        const p = `${fresh()}/f`;
        await s.create(p, bytes('a longer first version'));
        await s.create(p, bytes('second'), { overwrite: true });
        assert.deepEqual(await s.read(p), bytes('second'));
        assert.equal((await s.status(p))?.length, 6);
      });

      test('reading a missing file fails with HDFS_NOT_FOUND', async () => {
        await assertCode(s.read(`${fresh()}/missing`), 'HDFS_NOT_FOUND');
      });
    });

    describe('append', { concurrency: true }, () => {
      test('adds bytes at the end, repeatedly', async () => {
        const p = `${fresh()}/log`;
        await s.create(p, bytes('ab'));
        await s.append(p, bytes('cd'));
        await s.append(p, bytes('ef'));
        assert.deepEqual(await s.read(p), bytes('abcdef'));
        assert.equal((await s.status(p))?.length, 6);
      });

      test('to a missing file fails with HDFS_NOT_FOUND and creates nothing', async () => {
        const p = `${fresh()}/missing`;
        await assertCode(s.append(p, bytes('x')), 'HDFS_NOT_FOUND');
        assert.equal(await s.status(p), null);
      });
    });

    describe('stream bodies', { concurrency: true }, () => {
      /** Writes the chunks one at a time while the call is running, as the sink does, then ends the stream. */
      async function streamed(call: (body: PassThrough) => Promise<void>, chunks: Buffer[]): Promise<void> {
        const body = new PassThrough();
        const done = call(body);
        for (const chunk of chunks) {
          if (!body.write(chunk)) await once(body, 'drain');
          await setImmediate();
        }
        body.end();
        await done;
      }

      test('create and append take streams written while the call runs', async () => {
        const p = `${fresh()}/streamed`;
        const parts = [randomBytes(3 * 1024 * 1024), bytes('tail'), randomBytes(100_000)];
        await streamed((body) => s.create(p, body), parts.slice(0, 2));
        await streamed((body) => s.append(p, body), parts.slice(2));
        const expected = Buffer.concat(parts);
        assert.ok((await s.read(p)).equals(expected));
        assert.equal((await s.status(p))?.length, expected.length);
      });

      test('a stream onto an existing file with overwrite=false fails and leaves the content', async () => {
        const p = `${fresh()}/f`;
        await s.create(p, bytes('first'));
        const body = new PassThrough();
        const done = s.create(p, body);
        body.end(bytes('second'));
        await assertCode(done, 'HDFS_ALREADY_EXISTS');
        assert.deepEqual(await s.read(p), bytes('first'));
      });
    });

    describe('rename', { concurrency: true }, () => {
      test('moves a file and returns true', async () => {
        const dir = fresh();
        await s.create(`${dir}/from`, bytes('data'));
        assert.equal(await s.rename(`${dir}/from`, `${dir}/to`), true);
        assert.equal(await s.status(`${dir}/from`), null);
        assert.deepEqual(await s.read(`${dir}/to`), bytes('data'));
      });

      test('returns false when the source is missing', async () => {
        const dir = fresh();
        await s.mkdirs(dir);
        assert.equal(await s.rename(`${dir}/missing`, `${dir}/to`), false);
        assert.equal(await s.status(`${dir}/to`), null);
      });

      test('returns false when the destination exists, and changes neither file', async () => {
        const dir = fresh();
        await s.create(`${dir}/from`, bytes('from'));
        await s.create(`${dir}/to`, bytes('to'));
        assert.equal(await s.rename(`${dir}/from`, `${dir}/to`), false);
        assert.deepEqual(await s.read(`${dir}/from`), bytes('from'));
        assert.deepEqual(await s.read(`${dir}/to`), bytes('to'));
      });

      test('returns false when the destination is an existing directory (does not move into it)', async () => {
        const dir = fresh();
        await s.create(`${dir}/from`, bytes('from'));
        await s.mkdirs(`${dir}/target`);
        assert.equal(await s.rename(`${dir}/from`, `${dir}/target`), false);
        assert.deepEqual(await s.list(`${dir}/target`), []);
        assert.deepEqual(await s.read(`${dir}/from`), bytes('from'));
      });

      test("returns false when the destination's parent is missing", async () => {
        const dir = fresh();
        await s.create(`${dir}/from`, bytes('from'));
        assert.equal(await s.rename(`${dir}/from`, `${dir}/no/such/dir/to`), false);
        assert.deepEqual(await s.read(`${dir}/from`), bytes('from'));
      });

      test('moves a directory with everything under it', async () => {
        const dir = fresh();
        await s.create(`${dir}/a/x`, bytes('x'));
        await s.create(`${dir}/a/sub/y`, bytes('y'));
        assert.equal(await s.rename(`${dir}/a`, `${dir}/b`), true);
        assert.equal(await s.status(`${dir}/a`), null);
        assert.deepEqual(await s.read(`${dir}/b/x`), bytes('x'));
        assert.deepEqual(await s.read(`${dir}/b/sub/y`), bytes('y'));
      });
    });

    describe('delete', { concurrency: true }, () => {
      test('deletes a file and returns true; false when nothing is there', async () => {
        const p = `${fresh()}/f`;
        await s.create(p, bytes('x'));
        assert.equal(await s.delete(p), true);
        assert.equal(await s.status(p), null);
        assert.equal(await s.delete(p), false);
      });

      test('deletes an empty directory without recursive', async () => {
        const dir = fresh();
        await s.mkdirs(`${dir}/empty`);
        assert.equal(await s.delete(`${dir}/empty`), true);
        assert.equal(await s.status(`${dir}/empty`), null);
      });

      test('refuses a non-empty directory without recursive and keeps it', async () => {
        const dir = fresh();
        await s.create(`${dir}/d/f`, bytes('x'));
        await assertCode(s.delete(`${dir}/d`, false), 'HDFS_REMOTE');
        assert.deepEqual(await s.read(`${dir}/d/f`), bytes('x'));
      });

      test('deletes a non-empty directory with recursive', async () => {
        const dir = fresh();
        await s.create(`${dir}/d/f`, bytes('x'));
        await s.create(`${dir}/d/sub/g`, bytes('y'));
        assert.equal(await s.delete(`${dir}/d`, true), true);
        assert.equal(await s.status(`${dir}/d`), null);
        assert.equal(await s.status(`${dir}/d/sub/g`), null);
      });
    });

    describe('mkdirs, list and status', { concurrency: true }, () => {
      test('mkdirs creates nested directories and is idempotent', async () => {
        const p = `${fresh()}/a/b/c`;
        await s.mkdirs(p);
        await s.mkdirs(p);
        assert.equal((await s.status(p))?.type, 'DIRECTORY');
        assert.deepEqual(await s.list(p), []);
      });

      test('list returns names (not paths) sorted, with type and length', async () => {
        const dir = fresh();
        await s.create(`${dir}/b`, bytes('bb'));
        await s.create(`${dir}/a`, bytes('a'));
        await s.mkdirs(`${dir}/c`);
        await s.create(`${dir}/C`, bytes('ccc'));
        await s.create(`${dir}/c/nested`, bytes('not listed'));
        const listed = await s.list(dir);
        assert.deepEqual(
          listed.map((f) => [f.name, f.type, f.type === 'FILE' ? f.length : 0]),
          [
            ['C', 'FILE', 3],
            ['a', 'FILE', 1],
            ['b', 'FILE', 2],
            ['c', 'DIRECTORY', 0],
          ],
        );
      });

      test('list of a missing directory is []', async () => {
        assert.deepEqual(await s.list(`${fresh()}/missing`), []);
      });

      test('status describes a file, and is null when missing', async () => {
        const dir = fresh();
        await s.create(`${dir}/f.jsonl`, bytes('{}\n'));
        const status = await s.status(`${dir}/f.jsonl`);
        assert.ok(status);
        assert.equal(status.name, 'f.jsonl');
        assert.equal(status.type, 'FILE');
        assert.equal(status.length, 3);
        assert.ok(status.modificationTime > 0);
        assert.equal(await s.status(`${dir}/missing`), null);
        assert.equal(await s.status(`${dir}/missing/deeper`), null);
      });
    });

    describe('snapshots', { concurrency: true }, () => {
      test('a directory not made snapshottable refuses a snapshot', async () => {
        const dir = fresh();
        await s.mkdirs(dir);
        await assertCode(s.createSnapshot(dir, 's1'), 'HDFS_NOT_SNAPSHOTTABLE');
      });

      test('a snapshot keeps what the directory held, is never listed, and is deleted once', async () => {
        const dir = fresh();
        await s.create(`${dir}/a/f`, bytes('old'));
        await s.allowSnapshots(dir);
        await s.allowSnapshots(dir);
        await s.createSnapshot(dir, 's1');
        await s.delete(`${dir}/a/f`);
        await s.create(`${dir}/a/g`, bytes('new'));
        assert.deepEqual(
          (await s.list(`${snapshotPath(dir, 's1')}/a`)).map((f) => f.name),
          ['f'],
        );
        assert.equal((await s.read(`${snapshotPath(dir, 's1')}/a/f`)).toString(), 'old');
        assert.deepEqual(
          (await s.list(dir)).map((f) => f.name),
          ['a'],
        );
        assert.equal(await s.deleteSnapshot(dir, 's1'), true);
        assert.equal(await s.deleteSnapshot(dir, 's1'), false);
        assert.equal(await s.status(snapshotPath(dir, 's1')), null);
      });
    });

    describe('a file where a directory is expected, and the reverse', { concurrency: true }, () => {
      test('create over a directory fails with HDFS_ALREADY_EXISTS, even with overwrite', async () => {
        const dir = fresh();
        await s.mkdirs(`${dir}/d`);
        await assertCode(s.create(`${dir}/d`, bytes('x'), { overwrite: true }), 'HDFS_ALREADY_EXISTS');
        assert.equal((await s.status(`${dir}/d`))?.type, 'DIRECTORY');
      });

      test('create or mkdirs below a file fails with HDFS_REMOTE (parent is not a directory)', async () => {
        const dir = fresh();
        await s.create(`${dir}/f`, bytes('x'));
        await assertCode(s.create(`${dir}/f/child`, bytes('y')), 'HDFS_REMOTE');
        await assertCode(s.mkdirs(`${dir}/f/sub`), 'HDFS_REMOTE');
        assert.deepEqual(await s.read(`${dir}/f`), bytes('x'));
      });

      test('mkdirs on a file fails with HDFS_ALREADY_EXISTS', async () => {
        const p = `${fresh()}/f`;
        await s.create(p, bytes('x'));
        await assertCode(s.mkdirs(p), 'HDFS_ALREADY_EXISTS');
        assert.equal((await s.status(p))?.type, 'FILE');
      });

      test('append to a directory fails with HDFS_ALREADY_EXISTS; read of one with HDFS_NOT_FOUND', async () => {
        const dir = fresh();
        await s.mkdirs(`${dir}/d`);
        await assertCode(s.append(`${dir}/d`, bytes('x')), 'HDFS_ALREADY_EXISTS');
        await assertCode(s.read(`${dir}/d`), 'HDFS_NOT_FOUND');
      });
    });

    describe('odd file names', { concurrency: true }, () => {
      for (const odd of ODD_NAMES) {
        test(`"${odd}" survives create, list, status, read, rename and delete`, async () => {
          const dir = `${fresh()}/dt=2026-11-25/hour=06`;
          const p = `${dir}/${odd}`;
          await s.create(p, bytes(odd));
          assert.deepEqual(
            (await s.list(dir)).map((f) => f.name),
            [odd],
          );
          assert.equal((await s.status(p))?.name, odd);
          assert.deepEqual(await s.read(p), bytes(odd));
          await s.append(p, bytes('!'));
          const renamed = `${dir}/${odd}.renamed+=`;
          assert.equal(await s.rename(p, renamed), true);
          assert.deepEqual(await s.read(renamed), bytes(`${odd}!`));
          assert.equal(await s.delete(renamed), true);
          assert.deepEqual(await s.list(dir), []);
        });
      }
    });
  });
}

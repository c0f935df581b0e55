import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { rewriteWalDir } from '../../../src/compact/rewrite-job.ts';
import { RewriteLock } from '../../../src/compact/rewrite-lock.ts';
import { MemoryStorage } from '../../../src/hdfs/memory-storage.ts';
import { silentLogger } from '../../../src/log.ts';

const ROOT = '/out';
const dir = rewriteWalDir(ROOT);
const deadLock = (owner: string) =>
  Buffer.from(JSON.stringify({ owner, host: 'gone.example.com', pid: 1, purpose: 'compact' }));

describe('RewriteLock', () => {
  test('a second lock while the first is held is refused, naming the holder', async () => {
    const storage = new MemoryStorage();
    const first = new RewriteLock({ storage, root: ROOT, purpose: 'compact', logger: silentLogger });
    await first.acquire();
    const second = new RewriteLock({ storage, root: ROOT, purpose: 'compliance', logger: silentLogger });
    await assert.rejects(second.acquire(), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'FENCED');
      assert.match(err.message, /compact, pid \d+/);
      return true;
    });
    await first.release();
    await second.acquire();
    await second.release();
    assert.deepEqual(await storage.list(dir), []);
  });

  test('a lock set aside by a takeover killed before its delete is swept by the next holder', async () => {
    const storage = new MemoryStorage();
    // A run killed -9 between renaming a stale lock aside and deleting it leaves this behind.
    await storage.create(`${dir}/lock.stale-0d2c`, deadLock('owner-of-a-dead-run'));
    const lock = new RewriteLock({ storage, root: ROOT, purpose: 'compact', logger: silentLogger });
    await lock.acquire();
    assert.deepEqual(
      (await storage.list(dir)).map((f) => f.name),
      ['lock'],
    );
    await lock.release();
    assert.deepEqual(await storage.list(dir), []);
  });

  test('a stale lock (its lease long over) is taken over and leaves nothing aside', async () => {
    const storage = new MemoryStorage();
    await storage.create(`${dir}/lock`, deadLock('owner-of-a-dead-run'));
    const lock = new RewriteLock({
      storage,
      root: ROOT,
      purpose: 'compact',
      logger: silentLogger,
      leaseMs: -1,
    });
    await lock.acquire();
    assert.deepEqual(
      (await storage.list(dir)).map((f) => f.name),
      ['lock'],
    );
    await lock.release();
  });
});

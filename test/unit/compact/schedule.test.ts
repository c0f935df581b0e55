/** compact.every: `tweetpipe run`'s schedule compacts the tree on its own, and never when the key is unset. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { startCompactionSchedule } from '../../../src/compact/schedule.ts';
import { loadConfig } from '../../../src/config.ts';
import { MemoryStorage } from '../../../src/hdfs/memory-storage.ts';
import { silentLogger } from '../../../src/log.ts';
import { filesUnder, tweetRecords } from '../sink/fixtures.ts';
import { committedOffsets, items, ROOT, range, TOPIC, writer } from '../sink/partition-writer-fixtures.ts';

async function tree(): Promise<MemoryStorage> {
  const storage = new MemoryStorage();
  const w = writer({ storage, rotation: { maxRecords: 10 } });
  await w.recover();
  await w.write(items(tweetRecords(0, 150, { msPerRecord: 60_000 })));
  await w.close(false);
  return storage;
}

const config = (every?: string) =>
  loadConfig({
    flags: { 'hdfs.dir': ROOT, 'compact.olderThan': '1ms', ...(every ? { 'compact.every': every } : {}) },
  });

describe('compact.every', () => {
  it('compacts on schedule while run goes on', async () => {
    const storage = await tree();
    const before = filesUnder(storage, `${ROOT}/${TOPIC}`).length;
    const stop = startCompactionSchedule(config('200ms'), storage, silentLogger);
    try {
      // Bounded, so a schedule that never fires fails instead of hanging.
      for (let i = 0; i < 200 && filesUnder(storage, `${ROOT}/${TOPIC}`).length === before; i++)
        await sleep(50);
    } finally {
      await stop();
    }
    assert.deepEqual(await committedOffsets(storage), range(0, 150));
    assert.ok(filesUnder(storage, `${ROOT}/${TOPIC}`).length < before);
  });

  it('does nothing when unset', async () => {
    const storage = await tree();
    const before = filesUnder(storage, `${ROOT}/${TOPIC}`).length;
    const stop = startCompactionSchedule(config(), storage, silentLogger);
    await sleep(300);
    await stop();
    assert.equal(filesUnder(storage, `${ROOT}/${TOPIC}`).length, before);
  });
});

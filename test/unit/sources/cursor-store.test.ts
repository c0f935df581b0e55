import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CursorStore, CursorTracker } from '../../../src/sources/cursor-store.ts';

let root: string;
let n = 0;
const freshDir = () => join(root, `state-${n++}`);

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'tweetpipe-cursor-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('CursorStore', () => {
  test('a state directory that is a file: an error naming the path and the setting', async () => {
    const path = freshDir();
    await writeFile(path, 'not a directory');
    await assert.rejects(CursorStore.open(path), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'CONFIG_INVALID');
      assert.ok(err.message.includes(path), err.message);
      assert.match(err.message, /is not a directory.*|producer\.stateDir/);
      return true;
    });
  });

  test('a save that cannot write: an error naming the cursor file and the cause', async () => {
    const dir = freshDir();
    const store = await CursorStore.open(dir);
    await rm(dir, { recursive: true });
    await writeFile(dir, 'the directory is gone');
    await assert.rejects(store.save('x-search', '7'), (err: Error) => {
      assert.ok(err.message.includes(store.path), err.message);
      assert.match(err.message, /ENOTDIR/);
      return true;
    });
  });

  test('starts empty, persists per source, and loads what was saved', async () => {
    const dir = freshDir();
    const store = await CursorStore.open(dir);
    assert.equal(store.get('x-stream'), undefined);
    await store.save('x-stream', '1850000000000000001');
    await store.save('x-search', '42');
    const reopened = await CursorStore.open(dir);
    assert.equal(reopened.get('x-stream'), '1850000000000000001');
    assert.equal(reopened.get('x-search'), '42');
    const file = JSON.parse(await readFile(store.path, 'utf8'));
    assert.equal(file.version, 1);
    assert.equal(file.sources['x-stream'].newest_id, '1850000000000000001');
  });

  test('never moves a cursor backwards (ids compared as decimals, not strings)', async () => {
    const store = await CursorStore.open(freshDir());
    await store.save('s', '100');
    await store.save('s', '99');
    assert.equal(store.get('s'), '100', '"99" > "100" as strings, but not as ids');
    await store.save('s', '1000');
    assert.equal((await CursorStore.open(store.path.replace(/\/[^/]+$/, ''))).get('s'), '1000');
  });

  test('replaces the file atomically: no temp file is left behind', async () => {
    const dir = freshDir();
    const store = await CursorStore.open(dir);
    await Promise.all([store.save('a', '1'), store.save('b', '2'), store.save('a', '3')]);
    assert.deepEqual(await readdir(dir), ['source-cursors.json']);
    const reopened = await CursorStore.open(dir);
    assert.deepEqual(
      [reopened.get('a'), reopened.get('b')],
      ['3', '2'],
      'concurrent saves end with the newest state',
    );
  });

  test('a corrupt file is an error naming the file, not a silent restart', async () => {
    const dir = freshDir();
    const store = await CursorStore.open(dir);
    await writeFile(store.path, '{"sources": {"x-stream": {"newest_id": 12}}}');
    await assert.rejects(CursorStore.open(dir), (err: Error) => {
      assert.match(err.message, /source-cursors\.json is corrupt/);
      assert.match(err.message, /x-stream/);
      return true;
    });
    await writeFile(store.path, 'not json');
    await assert.rejects(CursorStore.open(dir), /corrupt/);
  });
});

describe('CursorTracker', () => {
  test('saves only from ack(), never at read time', async () => {
    const store = await CursorStore.open(freshDir());
    const tracker = new CursorTracker(store, 's');
    const ack = tracker.begin('10');
    assert.equal(store.get('s'), undefined);
    await ack();
    assert.equal(store.get('s'), '10');
  });

  test('advances only over the contiguous prefix of acknowledged batches', async () => {
    const store = await CursorStore.open(freshDir());
    const tracker = new CursorTracker(store, 's');
    const a1 = tracker.begin('10');
    const a2 = tracker.begin('20');
    const a3 = tracker.begin('30');
    await a3();
    assert.equal(store.get('s'), undefined, 'a later batch acked first must not skip earlier ones');
    await a1();
    assert.equal(store.get('s'), '10');
    await a2();
    assert.equal(store.get('s'), '30');
  });

  test('an ack with an error leaves the cursor behind for good', async () => {
    const store = await CursorStore.open(freshDir());
    const tracker = new CursorTracker(store, 's');
    const a1 = tracker.begin('10');
    const a2 = tracker.begin('20');
    await a1(new Error('kafka down'));
    await a2();
    assert.equal(store.get('s'), undefined);
  });

  test('batches that do not move the cursor still gate the ones after them; complete() moves it without a batch', async () => {
    const store = await CursorStore.open(freshDir());
    const tracker = new CursorTracker(store, 's');
    const page1 = tracker.begin(undefined);
    await tracker.complete('50');
    assert.equal(store.get('s'), undefined);
    await page1();
    assert.equal(store.get('s'), '50');
  });

  test('a hold keeps the cursor at the gap start until released after the pending batches are acked', async () => {
    const store = await CursorStore.open(freshDir());
    const tracker = new CursorTracker(store, 's');
    await tracker.begin('100')();
    const hold = tracker.hold('100');
    await tracker.begin('200')();
    assert.equal(store.get('s'), '100', 'held at the gap start');
    const gapBatch = tracker.begin('150');
    await tracker.releaseAfterPending(hold);
    assert.equal(store.get('s'), '100', 'still held: the gap batch is not acked');
    await gapBatch();
    assert.equal(store.get('s'), '200');
  });

  test('a hold without an id blocks any save until released', async () => {
    const store = await CursorStore.open(freshDir());
    const tracker = new CursorTracker(store, 's');
    const hold = tracker.hold(undefined);
    await tracker.begin('7')();
    assert.equal(store.get('s'), undefined);
    await tracker.releaseAfterPending(hold);
    assert.equal(store.get('s'), '7');
  });

  test('starts from the saved cursor', async () => {
    const dir = freshDir();
    const store = await CursorStore.open(dir);
    await store.save('s', '500');
    const tracker = new CursorTracker(await CursorStore.open(dir), 's');
    assert.equal(tracker.saved, '500');
  });
});

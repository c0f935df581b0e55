/**
 * tweetpipe through an HttpFS gateway (`stack up --ha` runs one on stack.httpfsPort, in front of the HA pair; see
 * test/helpers/ha-stack.ts), with `hdfs.webhdfs` naming only the gateway:
 * - the sink writes every tweet exactly once (HttpFS answers the data operations' first step on itself, with
 *   data=true, and takes the bytes as application/octet-stream);
 * - rename2, which HttpFS answers with a classic rename's `false` instead of an error, refuses as on a NameNode;
 * - the snapshot operations of the catalog swap (docs/compaction.md) work through the gateway as on a NameNode.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { TweetpipeError } from '../../../src/errors.ts';
import { snapshotPath } from '../../../src/hdfs/storage.ts';
import { WebHdfsStorage } from '../../../src/hdfs/webhdfs-storage.ts';
import { gateway, useHaStack } from '../../helpers/ha-stack.ts';
import { assertExactlyOnce, prefill, sinkScene, startSink } from '../../helpers/sink-chaos.ts';

useHaStack(gateway);

test('rename2 through HttpFS: an existing destination is HDFS_ALREADY_EXISTS, a missing source HDFS_NOT_FOUND', async (t) => {
  const scene = await sinkScene(t, 'httpfs-rename');
  const { client, root } = scene;
  assert.match(client.activeUrl, /:14000$/, 'the test client talks to the gateway');
  await client.create(`${root}/from`, Buffer.from('from'));
  await client.create(`${root}/to`, Buffer.from('to'));
  const refused = await client.rename2(`${root}/from`, `${root}/to`).then(
    () => null,
    (err: unknown) => err,
  );
  assert.ok(refused instanceof TweetpipeError, 'rename2 onto an existing file must fail');
  assert.equal(refused.code, 'HDFS_ALREADY_EXISTS');
  assert.equal((await client.readAll(`${root}/from`)).toString(), 'from');
  assert.equal((await client.readAll(`${root}/to`)).toString(), 'to');
  await assert.rejects(client.rename2(`${root}/missing`, `${root}/other`), { code: 'HDFS_NOT_FOUND' });
  await client.rename2(`${root}/from`, `${root}/moved`);
  assert.equal((await client.readAll(`${root}/moved`)).toString(), 'from');
});

test('the sink writes through an HttpFS gateway: every tweet exactly once', async (t) => {
  const scene = await sinkScene(t, 'httpfs-sink');
  await prefill(scene, 20_000, 81);
  const sink = startSink(t, scene, ['--max-records', '3000', '--max-age', '1', '--exit-when-idle', '5']);
  const exit = await Promise.race([sink.exited, sleep(300_000, null, { ref: false })]);
  assert.deepEqual(exit, { code: 0, signal: null }, sink.stderr().slice(-3000));
  assert.ok(sink.logs.some((l) => l.msg === 'window committed'));
  await assertExactlyOnce(t, scene, 20_000);
});

test('snapshots through HttpFS: allowed, created, read frozen, deleted once; a plain directory is HDFS_NOT_SNAPSHOTTABLE', async (t) => {
  const scene = await sinkScene(t, 'httpfs-snapshot');
  const { client, root } = scene;
  const storage = new WebHdfsStorage(client);
  assert.match(client.activeUrl, /:14000$/, 'the test client talks to the gateway');
  await client.create(`${root}/tree/d/f`, Buffer.from('before'));
  await assert.rejects(storage.createSnapshot(`${root}/tree`, 's1'), { code: 'HDFS_NOT_SNAPSHOTTABLE' });

  await storage.allowSnapshots(`${root}/tree`);
  await storage.createSnapshot(`${root}/tree`, 's1');
  t.after(() => storage.deleteSnapshot(`${root}/tree`, 's1').catch(() => false));
  await client.delete(`${root}/tree/d/f`);
  await client.create(`${root}/tree/d/f`, Buffer.from('after'));
  assert.equal((await client.readAll(`${snapshotPath(`${root}/tree`, 's1')}/d/f`)).toString(), 'before');
  assert.equal((await client.readAll(`${root}/tree/d/f`)).toString(), 'after');

  assert.equal(await storage.deleteSnapshot(`${root}/tree`, 's1'), true);
  assert.equal(
    await storage.deleteSnapshot(`${root}/tree`, 's1'),
    false,
    'a second delete finds no snapshot',
  );
  assert.equal(await storage.status(snapshotPath(`${root}/tree`, 's1')), null);
});

/**
 * Chaos: the sink's HDFS user may not write the output directory (it belongs to another user, mode 755). The sink
 * must not start and retry for ever: it exits at once with an error naming the directory, the user and the
 * permission HDFS refused. The local stack checks permissions (dfs.permissions.enabled) and makes the configured
 * HDFS user a superuser, so the test creates the directory as that user and runs the sink as another one.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TweetpipeError } from '../../src/errors.ts';
import { WebHdfsClient } from '../../src/hdfs/webhdfs.ts';
import { runCli } from '../helpers/cli.ts';
import { prefill, sinkArgs, sinkScene } from '../helpers/sink-chaos.ts';
import { testConfig } from '../helpers/topics.ts';

const INTRUDER = 'intruder';

test('HDFS permission denied on the output directory: a start-up error naming path, user and permission', async (t) => {
  const scene = await sinkScene(t, 'chaos-sink-permission');
  await prefill(scene, 1000, 81);
  await scene.client.mkdirs(scene.root);
  const asIntruder = new WebHdfsClient({ urls: testConfig().hdfs.webhdfs, user: INTRUDER });
  t.after(() => asIntruder.close());
  const refused = await asIntruder.mkdirs(`${scene.root}/probe`).then(
    () => null,
    (err: unknown) => err,
  );
  assert.ok(
    refused instanceof TweetpipeError,
    'HDFS let another user write the directory: the stack runs without permission checks; restart it (tweetpipe stack down; tweetpipe stack up) to apply its new hdfs-site.xml',
  );

  const sink = await runCli(sinkArgs(scene, ['--hdfs-user', INTRUDER]), {}, 60_000);
  const said = sink.stderr.trim().split('\n').at(-1) ?? '';
  t.diagnostic(said);
  assert.notEqual(sink.code, 0);
  assert.ok(said.includes(scene.root), `the error does not name ${scene.root}`);
  assert.match(said, new RegExp(`user[= "]+${INTRUDER}`));
  assert.match(said, /access=WRITE/);
  assert.match(said, /drwxr-xr-x/);
});

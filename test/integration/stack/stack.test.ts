import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { runCli } from '../../helpers/cli.ts';

// The suite runs against the stack that `npm test` brought up on the default ports.
describe('tweetpipe stack', () => {
  test('status exits 0 and says where everything runs when both servers answer', async () => {
    const r = await runCli(['stack', 'status']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /kafka\s+healthy: broker\(s\) localhost:\d+ answered a metadata request/);
    assert.match(r.stdout, /hdfs\s+healthy: WebHDFS LISTSTATUS answered, 1 DataNode live/);
    assert.match(r.stdout, /WebHDFS \/ web UI\s+http:\/\/localhost:\d+/);
  });

  test('up is idempotent: a healthy stack is left alone and up says so', async () => {
    const r = await runCli(['stack', 'up'], {}, 120_000);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /already up and healthy/);
  });

  test('status exits 1 when nothing answers (another stack home and ports)', async () => {
    const home = mkdtempSync(join(tmpdir(), 'tweetpipe-stack-'));
    const r = await runCli(['stack', 'status'], {
      TWEETPIPE_STACK_HOME: home,
      TWEETPIPE_STACK_KAFKA_PORT: '19392',
      TWEETPIPE_STACK_WEBHDFS_PORT: '19370',
    });
    assert.equal(r.code, 1);
    assert.match(r.stdout, /kafka\s+UNHEALTHY/);
    assert.match(r.stdout, /not running/);
  });

  test('up refuses a port another program holds, naming the port', async () => {
    const server: Server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    try {
      const home = mkdtempSync(join(tmpdir(), 'tweetpipe-stack-'));
      const r = await runCli(
        ['stack', 'up'],
        { TWEETPIPE_STACK_HOME: home, TWEETPIPE_STACK_KAFKA_PORT: String(port) },
        120_000,
      );
      assert.equal(r.code, 1);
      assert.match(r.stderr, new RegExp(`PORT_IN_USE.*port ${port} \\(kafka kafkaPort\\)`));
    } finally {
      server.close();
    }
  });

  test('logs shows the tail of each server log', async () => {
    const r = await runCli(['stack', 'logs', 'namenode', '-n', '5']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /==> .*namenode\.log <==/);
    const bad = await runCli(['stack', 'logs', 'zookeeper']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /unknown server "zookeeper"/);
  });
});

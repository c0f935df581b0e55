/**
 * A StandbyException from the NameNode a call goes to sends the call to the next URL at once, which is remembered,
 * said in a warning and told to `onNamenodeSwitch` (the sink counts it in tweetpipe_hdfs_namenode_switches_total).
 * Two local HTTP servers play a standby and an active NameNode.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { pino } from 'pino';
import { WebHdfsClient } from '../../../src/hdfs/webhdfs.ts';

const STANDBY = JSON.stringify({
  RemoteException: {
    exception: 'StandbyException',
    javaClassName: 'org.apache.hadoop.ipc.StandbyException',
    message: 'Operation category READ is not supported in state standby.',
  },
});
const STATUS = JSON.stringify({
  FileStatus: { pathSuffix: '', type: 'DIRECTORY', length: 0, modificationTime: 0, accessTime: 0 },
});

async function serve(status: number, body: string): Promise<{ server: Server; url: string }> {
  const server = createServer((_req, res) =>
    res.writeHead(status, { 'content-type': 'application/json' }).end(body),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

test('a StandbyException moves the call to the other NameNode, with a warning and a switch event', async (t) => {
  const standby = await serve(403, STANDBY);
  const active = await serve(200, STATUS);
  t.after(() => {
    standby.server.close();
    active.server.close();
  });
  const lines: { msg?: string; code?: string; url?: string }[] = [];
  const logger = pino({ level: 'warn' }, { write: (l: string) => lines.push(JSON.parse(l)) });
  const switches: { from: string; to: string; code: string }[] = [];
  const client = new WebHdfsClient({
    urls: [standby.url, active.url],
    user: 'tweetpipe',
    logger,
    onNamenodeSwitch: (e) => switches.push(e),
    sleep: async () => {},
  });
  t.after(() => client.close());
  assert.equal((await client.getFileStatus('/data')).type, 'DIRECTORY');
  assert.equal(client.activeUrl, active.url);
  assert.deepEqual(switches, [{ from: standby.url, to: active.url, code: 'HDFS_STANDBY' }]);
  const warning = lines.find((l) => l.msg === 'WebHDFS: trying the other NameNode');
  assert.equal(warning?.code, 'HDFS_STANDBY');
  assert.equal(warning?.url, active.url);
});

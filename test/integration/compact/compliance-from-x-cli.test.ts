/**
 * `tweetpipe compliance apply --from-x` as a user runs it: the sink CLI has written synthetic tweets from Kafka to
 * the shared HDFS, the X emulator (in each API era) says which of them were deleted, and the compliance CLI runs
 * the whole job (ids stored in the dt= range uploaded to a batch compliance job, polled to `complete`, the result
 * downloaded and applied). The deleted ids are gone from HDFS, every other tweet is still there exactly once, the
 * removal log under `_compliance/` names the ids and counts but no tweet content, and the token is never printed.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { WebHdfsClient } from '../../../src/hdfs/webhdfs.ts';
import { startXEmulator } from '../../../src/x-emulator/server.ts';
import { runCli } from '../../helpers/cli.ts';
import {
  type CommittedFileEntry,
  listCommitted,
  listFiles,
  readJsonLines,
  testHdfsClient,
} from '../../helpers/hdfs-readback.ts';
import { prefill, sinkArgs } from '../../helpers/sink-chaos.ts';
import { deleteTopics, uniqueTopic } from '../../helpers/topics.ts';

const LOG = ['--log-format', 'json', '--log-level', 'warn'];
const N = 600;
const ERAS = ['2.159', '2.167'] as const;
const TOKEN = `test-token-${randomUUID()}`;
/** Deleted at X but never stored here: must change nothing. */
const NOT_STORED = '1';

const RUN = `${Date.now().toString(36)}${randomUUID().slice(0, 6)}`;
const HDFS_BASE = `/tmp/tweetpipe-compliance-x-it-${RUN}`;
const root = (era: string) => `${HDFS_BASE}/${era.replace('.', '_')}`;

let client: WebHdfsClient;
let work: string;
let topic: string;

interface Stored {
  file: CommittedFileEntry;
  id: string;
  text: string;
}

async function storedTweets(era: string): Promise<Stored[]> {
  const out: Stored[] = [];
  for (const file of await listCommitted(client, root(era), topic)) {
    assert.ok(file.name, `${file.relPath} is not a committed file`);
    for (const doc of await readJsonLines(client, file))
      out.push({ file, id: String(doc.id), text: String(doc.text) });
  }
  return out;
}

describe('tweetpipe compliance apply --from-x against the X emulator and HDFS', { timeout: 600_000 }, () => {
  before(async () => {
    client = testHdfsClient();
    work = await mkdtemp(join(tmpdir(), 'tweetpipe-compliance-x-it-'));
    topic = uniqueTopic('compliance-x');
    await prefill({ topic, stateDir: work }, N, 23);
    // 200 tweets per partition in windows of 50: the sink's two kept manifests name only the last two windows.
    for (const era of ERAS) {
      const sink = await runCli(
        sinkArgs({ topic, root: root(era), group: `tp-test-compliance-x-${era}-${RUN}` }, [
          '--format',
          'jsonl.gz',
          '--max-records',
          '50',
          '--exit-when-idle',
          '2',
        ]),
        {},
        180_000,
      );
      assert.equal(sink.code, 0, sink.stderr.slice(-3000));
    }
  });

  after(async () => {
    await deleteTopics([topic, `${topic}.dlq`]);
    await client?.delete(HDFS_BASE, { recursive: true }).catch(() => {});
    await client?.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  for (const era of ERAS) {
    test(`API era ${era}: the ids X reports deleted are removed from HDFS, the others stay once`, async () => {
      const stored = await storedTweets(era);
      assert.equal(stored.length, N);
      // From each partition's first window: files no kept sink manifest names, so none is deferred.
      const deleted = stored.filter((s) => s.file.name!.firstOffset === 0n).slice(0, 4);
      assert.equal(deleted.length, 4);
      const deletedIds = new Set(deleted.map((s) => s.id));
      const days = stored.map((s) => /dt=(\d{4}-\d{2}-\d{2})/.exec(s.file.partitionPath)![1]!).sort();

      const x = await startXEmulator({
        naming: era,
        rate: 0,
        token: TOKEN,
        deletedPostIds: [...deletedIds, NOT_STORED],
        complianceProcessingMs: 100,
      });
      let out: Awaited<ReturnType<typeof runCli>>;
      try {
        out = await runCli(
          ['compliance', 'apply', '--from-x', '--since', days[0]!, '--until', days.at(-1)!].concat([
            '--hdfs-dir',
            root(era),
            ...LOG,
          ]),
          { X_BEARER_TOKEN: TOKEN, X_API_BASE_URL: x.url },
          180_000,
        );
      } finally {
        await x.close();
      }
      assert.equal(out.code, 0, out.stderr.slice(-3000));
      assert.match(out.stdout, new RegExp(`${N} ids stored in dt=`));
      assert.match(out.stdout, /4 records removed/);
      assert.ok(!`${out.stdout}${out.stderr}`.includes(TOKEN), 'the bearer token was printed');

      const left = (await storedTweets(era)).map((s) => s.id).sort();
      const expected = stored
        .map((s) => s.id)
        .filter((id) => !deletedIds.has(id))
        .sort();
      assert.deepEqual(left, expected);

      const logs = await listFiles(client, `${root(era)}/_compliance`, { hidden: true });
      assert.ok(logs.length > 0, 'no removal log under _compliance/');
      const logged: string[] = [];
      for (const f of logs) {
        const text = (await client.readAll(f.path)).toString('utf8');
        for (const s of deleted) assert.ok(!text.includes(s.text), `${f.path} holds a deleted tweet's text`);
        const body = JSON.parse(text) as { files: { path: string; removed: number; ids: string[] }[] };
        for (const file of body.files) {
          assert.equal(file.removed, file.ids.length, f.path);
          assert.deepEqual(Object.keys(file).sort(), ['ids', 'path', 'removed']);
          logged.push(...file.ids);
        }
      }
      assert.deepEqual(logged.sort(), [...deletedIds].sort());
    });
  }
});

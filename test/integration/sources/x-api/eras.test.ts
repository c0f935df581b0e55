/**
 * Both X sources end to end in both API eras: the real `tweetpipe produce` against the built-in X API emulator
 * speaking spec 2.159 or 2.167 to the letter (no /2/openapi.json, so the era is found by asking), the real Kafka,
 * and the real `tweetpipe sink` into HDFS as JSON Lines and Parquet. Each source runs against a 2.159 and a 2.167
 * emulator side by side, both on the same virtual clock and seed, so they publish the same tweets: what lands in
 * HDFS must be the same normalized content from either era (ids, full text of long posts, referenced posts with
 * their text, authors, metrics), and the Parquet columns read by DuckDB must be filled the same.
 *
 * A separate test runs both sources with default config against a 2.167 server that serves its OpenAPI document:
 * no 400 at all, every published tweet in Kafka exactly once (read by Kafka's own ConsoleConsumer).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { WebHdfsClient } from '../../../../src/hdfs/webhdfs.ts';
import type { ApiEra } from '../../../../src/sources/x-api/eras.ts';
import { startXEmulator, type XEmulator } from '../../../../src/x-emulator/server.ts';
import { type CliProcess, runCli, startCli, stopCli } from '../../../helpers/cli.ts';
import {
  download,
  listCommitted,
  parquetColumns,
  readJsonLines,
  testHdfsClient,
  verifySinkOutput,
} from '../../../helpers/hdfs-readback.ts';
import { sinkArgs } from '../../../helpers/sink-chaos.ts';
import {
  consoleKeys,
  deleteTopics,
  readRecords,
  topicRecordCount,
  uniqueTopic,
} from '../../../helpers/topics.ts';

/** Info level whatever the runner sets (TWEETPIPE_LOG_LEVEL=warn): the tests wait for info lines. */
const LOG = ['--log-format', 'json', '--log-level', 'info'];
const ERAS: readonly ApiEra[] = ['2.159', '2.167'];
/** The default x.rules and x.query, so the emulator knows which of its tweets match. */
const RULE = { value: 'music lang:en -is:retweet', tag: 'music' };
const FORMATS = ['jsonl', 'parquet'] as const;
/** Tweets per publish; with the default rule about a third match. */
const BATCH = 150;

const RUN = `${Date.now().toString(36)}-${randomUUID().slice(0, 8)}`;
const HDFS_BASE = `/tmp/tweetpipe-x-eras-it-${RUN}`;
let client: WebHdfsClient;
let work: string;
const topics: string[] = [];

function newTopic(label: string): string {
  const topic = uniqueTopic(label);
  topics.push(topic, `${topic}.dlq`);
  return topic;
}

before(async () => {
  client = testHdfsClient();
  work = await mkdtemp(join(tmpdir(), 'tweetpipe-x-eras-it-'));
});
after(async () => {
  await deleteTopics(topics);
  await client.delete(HDFS_BASE, { recursive: true }).catch(() => {});
  await client.close();
  await rm(work, { recursive: true, force: true });
});

/**
 * A virtual clock the test moves: emulators on clocks that show the same times at each publish generate the same
 * ids. It starts at the real time so recent search's first poll (5 minutes back) reaches every tweet.
 */
function virtualClock(startMs: number): { now: () => number; advance: (ms: number) => void } {
  let t = startMs;
  return {
    now: () => t,
    advance: (ms) => {
      t += ms;
    },
  };
}

/** Polls `check` until it is true; fails after `timeoutMs`. */
async function until(
  check: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

interface ProduceRun {
  era: ApiEra;
  topic: string;
  /** The emulator's tweets that match the rule: what the topic must hold, each once. */
  expected: string[];
  badRequests: Record<string, number>;
}

function startProduce(source: 'x-stream' | 'x-search', emulator: XEmulator, topic: string): CliProcess {
  return startCli(
    [
      'produce',
      '--source',
      source,
      '--x-api-url',
      emulator.url,
      '--topic',
      topic,
      '--partitions',
      '2',
      '--state-dir',
      join(work, `state-${topic}`),
      ...LOG,
    ],
    { X_BEARER_TOKEN: 'emulator-token', TWEETPIPE_X_POLL_INTERVAL_S: '1' },
  );
}

/** Ends a produce run with SIGTERM once `topic` holds `count` records; it must exit 0. */
async function finish(run: CliProcess, topic: string, count: number): Promise<void> {
  await until(async () => (await topicRecordCount(topic)) >= count, 60_000, `${count} records in ${topic}`);
  const exit = await stopCli(run, 'SIGTERM');
  assert.deepEqual(exit, { code: 0, signal: null }, run.stderr().slice(-3000));
}

/**
 * The filtered stream with a gap: tweets before a disconnect, tweets while it is down (only recent search can
 * find them: the stream's gap fill), tweets after it reconnects.
 */
async function streamWithGap(era: ApiEra, startMs: number, openApi: boolean): Promise<ProduceRun> {
  const clock = virtualClock(startMs);
  const emulator = await startXEmulator({
    naming: era,
    openApi,
    rate: 0,
    heartbeatMs: 200,
    seed: 23,
    now: clock.now,
  });
  const topic = newTopic(`x-eras-stream-${era.replace('.', '')}`);
  const run = startProduce('x-stream', emulator, topic);
  try {
    await until(() => emulator.stats().connections >= 1, 30_000, `the ${era} stream connection`);
    clock.advance(1000);
    emulator.publish(BATCH);
    const before = emulator.published({ matching: true }).length;
    await until(async () => (await topicRecordCount(topic)) >= before, 30_000, 'the tweets before the gap');
    emulator.disconnectStreams();
    // Published in the same tick as the cut: no connection can see them, only recent search.
    clock.advance(1000);
    const inGap = emulator.publish(BATCH);
    await until(() => emulator.stats().connections >= 2, 30_000, 'the reconnection');
    clock.advance(1000);
    emulator.publish(BATCH);
    const filled = await run.waitForLog((l) => l.msg === 'outage gap filled with recent search', 90_000);
    const expected = emulator.published({ matching: true });
    assert.ok(
      inGap.some((id) => expected.includes(id)),
      'no tweet of the gap matches the rule: the gap fill proves nothing',
    );
    assert.ok(Number(filled.tweets) > 0, 'the gap fill found nothing');
    await finish(run, topic, expected.length);
    return { era, topic, expected, badRequests: emulator.stats().badRequests };
  } finally {
    await stopCli(run, 'SIGKILL');
    await emulator.close();
  }
}

/** Recent search polling: tweets from before the start (the first poll) and from later polls. */
async function searchPolls(era: ApiEra, startMs: number, openApi: boolean): Promise<ProduceRun> {
  const clock = virtualClock(startMs);
  const emulator = await startXEmulator({
    naming: era,
    openApi,
    rate: 0,
    seed: 29,
    rules: [RULE],
    now: clock.now,
  });
  const topic = newTopic(`x-eras-search-${era.replace('.', '')}`);
  clock.advance(1000);
  emulator.publish(BATCH);
  const run = startProduce('x-search', emulator, topic);
  try {
    const first = emulator.published({ matching: true }).length;
    await until(async () => (await topicRecordCount(topic)) >= first, 30_000, 'the first poll');
    clock.advance(1000);
    emulator.publish(BATCH);
    const expected = emulator.published({ matching: true });
    await finish(run, topic, expected.length);
    return { era, topic, expected, badRequests: emulator.stats().badRequests };
  } finally {
    await stopCli(run, 'SIGKILL');
    await emulator.close();
  }
}

/** Every 400 the emulator answered, per endpoint: at most one each (the one that tells the era). */
function assertAtMostOne400(run: ProduceRun): void {
  for (const [endpoint, n] of Object.entries(run.badRequests))
    assert.ok(n <= 1, `${run.era}: ${n} answers 400 on ${endpoint}`);
}

/** Kafka's own ConsoleConsumer finds exactly the expected ids, each once. */
async function assertTopicExactlyOnce(run: ProduceRun): Promise<void> {
  const keys = await consoleKeys(run.topic);
  assert.equal(keys.length, new Set(keys).size, `${run.era}: duplicate keys in ${run.topic}`);
  assert.deepEqual(keys.sort(), [...run.expected].sort(), `${run.era}: the keys of ${run.topic}`);
}

type Json = Record<string, unknown>;
const obj = (v: unknown): Json => (typeof v === 'object' && v !== null ? (v as Json) : {});
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/** A post's full text: the note's for a long post. */
const fullText = (post: Json): unknown => obj(post.note_post).text ?? post.text;

/** What a record says about its tweet, by the record schema's (2.167) names only. */
function normalized(record: Json): Json {
  const metrics = obj(record.public_metrics);
  return {
    created_at: record.created_at,
    text: fullText(record),
    lang: record.lang,
    author: obj(record.author).username,
    conversation_id: record.conversation_id,
    in_reply_to_user_id: record.in_reply_to_user_id,
    edit_history: record.edit_history_post_ids,
    repost_count: metrics.repost_count,
    like_count: metrics.like_count,
    hashtags: list(obj(record.entities).hashtags).map((h) => obj(h).tag),
    media: list(record.media).map((m) => obj(m).media_key),
    place: obj(record.place).full_name,
    referenced: list(record.referenced_posts).map((r) => {
      const post = obj(obj(r).post);
      return { type: obj(r).type, id: obj(r).id, text: fullText(post), author: obj(post.author).username };
    }),
    rules: list(record.matching_rules).map((m) => obj(m).tag),
    source: obj(record._ingest).source,
  };
}

/** Sinks `topic` into HDFS in `format`, checks every id is there once, and returns the sink's root. */
async function sink(run: ProduceRun, format: (typeof FORMATS)[number]): Promise<string> {
  const root = `${HDFS_BASE}/${run.topic}-${format}`;
  const exit = await runCli(
    sinkArgs({ topic: run.topic, root, group: `tp-test-${run.topic}-${format}` }, [
      '--format',
      format,
      '--exit-when-idle',
      '3',
    ]),
    {},
    120_000,
  );
  assert.equal(exit.code, 0, exit.stderr);
  const out = await verifySinkOutput(client, {
    root,
    topic: run.topic,
    expectedIds: run.expected,
    localDir: join(work, `verify-${run.topic}-${format}`),
  });
  assert.deepEqual(out.problems, [], `${run.era} ${format}`);
  assert.equal(out.records, run.expected.length);
  return root;
}

/** The JSON Lines records under `root`, normalized, by id. */
async function jsonlContent(root: string, topic: string): Promise<Map<string, Json>> {
  const out = new Map<string, Json>();
  for (const file of await listCommitted(client, root, topic))
    for (const record of await readJsonLines(client, file)) out.set(String(record.id), normalized(record));
  return out;
}

const PARQUET_COLUMNS = ['id', 'text', 'referenced_type', 'referenced_id', 'retweet_count'] as const;

/** The Parquet rows under `root` as DuckDB reads them, by id. */
async function parquetContent(root: string, topic: string): Promise<Map<string, Json>> {
  const local = join(work, `duckdb-${topic}`);
  await download(client, await listCommitted(client, root, topic), local);
  const rows = await parquetColumns(local, PARQUET_COLUMNS);
  return new Map(rows.map((r) => [String(r.id), r]));
}

/**
 * Sinks both eras' topics in both formats and compares: the same ids and the same normalized content, long posts
 * with their whole text, referenced posts with theirs, and the Parquet columns filled from either era.
 */
async function assertSameContentInHdfs(runs: ProduceRun[]): Promise<void> {
  const jsonl = new Map<ApiEra, Map<string, Json>>();
  const parquet = new Map<ApiEra, Map<string, Json>>();
  await Promise.all(
    runs.map(async (run) => {
      const [jsonlRoot, parquetRoot] = [await sink(run, 'jsonl'), await sink(run, 'parquet')];
      jsonl.set(run.era, await jsonlContent(jsonlRoot, run.topic));
      parquet.set(run.era, await parquetContent(parquetRoot, run.topic));
    }),
  );
  const [older, newer] = ERAS.map((era) => jsonl.get(era)!);
  assert.deepEqual([...newer!.keys()].sort(), [...older!.keys()].sort(), 'the eras published different ids');
  assert.deepEqual(newer, older, 'the same tweets read differently from the two eras');
  assert.deepEqual(parquet.get('2.167'), parquet.get('2.159'), 'the Parquet rows differ between the eras');

  // What the comparison must cover, so that two equally empty outputs cannot pass.
  const records = [...newer!.values()];
  const longPosts = records.filter((r) => String(r.text).endsWith('keeps a truncated post.'));
  assert.ok(longPosts.length > 0, 'no long post with its whole text');
  const refs = records.flatMap((r) => r.referenced as Json[]);
  assert.ok(refs.length > 0, 'no referenced post');
  for (const ref of refs)
    assert.equal(typeof ref.text, 'string', `referenced post ${ref.id} without its text`);
  assert.ok(records.every((r) => typeof r.repost_count === 'number' && typeof r.author === 'string'));

  for (const [era, rows] of parquet) {
    for (const [id, row] of rows) {
      const record = jsonl.get(era)!.get(id)!;
      const first = (record.referenced as Json[])[0];
      assert.deepEqual(
        row,
        {
          id,
          text: record.text,
          referenced_type: first?.type ?? null,
          referenced_id: first?.id ?? null,
          retweet_count: BigInt(record.repost_count as number),
        },
        `${era}: the Parquet row of ${id}`,
      );
    }
  }
}

describe('X sources in both API eras, through Kafka and the sink into HDFS', () => {
  test('filtered stream with a recent-search gap fill: the same content from 2.159 and 2.167', async () => {
    const startMs = Date.now();
    const runs = await Promise.all(ERAS.map((era) => streamWithGap(era, startMs, false)));
    for (const run of runs) {
      assertAtMostOne400(run);
      await assertTopicExactlyOnce(run);
    }
    await assertSameContentInHdfs(runs);
  });

  test('recent search: the same content from 2.159 and 2.167', async () => {
    const startMs = Date.now();
    const runs = await Promise.all(ERAS.map((era) => searchPolls(era, startMs, false)));
    for (const run of runs) {
      assertAtMostOne400(run);
      await assertTopicExactlyOnce(run);
    }
    await assertSameContentInHdfs(runs);
  });
});

describe('default config against a server that enforces 2.167 and serves its OpenAPI document', () => {
  test('stream (with gap fill) and search: no 400, every tweet once, long text and referenced posts kept', async () => {
    const startMs = Date.now();
    const runs = await Promise.all([
      streamWithGap('2.167', startMs, true),
      searchPolls('2.167', startMs, true),
    ]);
    for (const run of runs) {
      assert.deepEqual(
        Object.values(run.badRequests).filter((n) => n > 0),
        [],
        `400 answers: ${JSON.stringify(run.badRequests)}`,
      );
      await assertTopicExactlyOnce(run);
      const records = (await readRecords(run.topic, run.expected.length)).map(
        (r) => JSON.parse(r.value) as Json,
      );
      assert.ok(
        records.some((r) => String(fullText(r)).endsWith('keeps a truncated post.')),
        'no long post with its whole text',
      );
      const refs = records.flatMap((r) => list(r.referenced_posts).map(obj));
      assert.ok(refs.length > 0, 'no referenced post');
      for (const ref of refs)
        assert.equal(typeof fullText(obj(ref.post)), 'string', `${ref.id} without its text`);
    }
  });
});

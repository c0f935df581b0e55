/**
 * The flow of a new user who follows the original project's steps: the topic is created by hand with Kafka's own
 * tools (4 partitions, no dead-letter topic), filled by a plain Kafka producer that is not tweetpipe with 120,000
 * tweets over three days and 4 malformed records, then consumed by `tweetpipe sink`, killed -9 five times at random
 * moments after joining the group and finally run with --exit-when-idle. Before the fix the sink wedged for good at the first malformed
 * record (its dead-letter topic did not exist) and --exit-when-idle exited 0 with partitions unwritten.
 *
 * Afterwards: every tweet exactly once in the hour directory of its created_at; the malformed records in
 * `<topic>.dlq` with their original key, value, timestamp and headers plus reason, stage and original
 * topic/partition/offset; the group's committed offsets at the end of every partition, read by Kafka's own
 * ConsumerGroupCommand; exit code 0.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ProduceAcks, Producer } from '@platformatic/kafka';
import { kafkaConnection } from '../../src/kafka/client-options.ts';
import { runKafkaTool } from '../../src/stack/kafka-tools.ts';
import { runCli } from '../helpers/cli.ts';
import { verifySinkOutput } from '../helpers/hdfs-readback.ts';
import { killSinkAfter, sinkArgs, sinkScene, startSink } from '../helpers/sink-chaos.ts';
import { readRecords, testConfig, topicRecordCount } from '../helpers/topics.ts';

const TWEETS = 120_000;
const PARTITIONS = 4;
const KILLS = 5;
const THREE_DAYS_MS = 3 * 24 * 3600 * 1000;

const MALFORMED: { key: string; value: Buffer; why: string }[] = [
  { key: 'bad-truncated', value: Buffer.from('{"id":"1","created_at":"2026-'), why: 'truncated JSON' },
  { key: 'bad-text', value: Buffer.from('hello, not json'), why: 'not JSON' },
  { key: 'bad-no-id', value: Buffer.from('{"text":"no id here"}'), why: 'no id' },
  { key: 'bad-utf8', value: Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]), why: 'invalid UTF-8' },
];

test('a topic made by hand with Kafka tools: sink killed -9 five times, no DLQ topic beforehand, every tweet exactly once, exit 0', async (t) => {
  const config = testConfig();
  const brokers = config.kafka.brokers.join(',');
  const scene = await sinkScene(t, 'handmade');
  const { topic, root, group, client } = scene;

  await runKafkaTool(
    config,
    'org.apache.kafka.tools.TopicCommand',
    ['--bootstrap-server', brokers, '--create', '--topic', topic, '--partitions', String(PARTITIONS)],
    60_000,
  );

  // A plain producer, as the original project's Python one: key = id, value = the tweet, timestamp = created_at.
  const producer = new Producer({
    ...kafkaConnection(config, 'test'),
    acks: ProduceAcks.ALL,
    // Idempotent, so that a retried batch cannot put a tweet in the topic twice: the test is about the sink.
    idempotent: true,
    autocreateTopics: false,
  });
  const ids: string[] = [];
  const skipped = new Map<number, Set<bigint>>();
  const origins = new Map<string, { partition: number; offset: bigint; timestamp: bigint }>();
  try {
    const end = Date.now() - 3600_000;
    const malformedAt = new Set(MALFORMED.map((_, i) => Math.floor(((i + 0.5) * TWEETS) / MALFORMED.length)));
    const header = (k: string, v: string): [Buffer, Buffer] => [Buffer.from(k), Buffer.from(v)];
    for (let from = 0; from < TWEETS; from += 5000) {
      const messages = [];
      for (let i = from; i < from + 5000; i++) {
        const id = String(1_850_000_000_000_000_000n + BigInt(i) * 7919n);
        const createdAt = end - Math.floor(((TWEETS - i) / TWEETS) * THREE_DAYS_MS);
        ids.push(id);
        messages.push({
          topic,
          partition: i % PARTITIONS,
          key: Buffer.from(id),
          value: Buffer.from(
            JSON.stringify({
              id,
              created_at: new Date(createdAt).toISOString(),
              text: `tweet ${i} #handmade`,
            }),
          ),
          timestamp: BigInt(createdAt),
        });
      }
      await producer.send({ messages });
      for (const i of malformedAt) {
        if (i < from || i >= from + 5000) continue;
        const bad = MALFORMED[[...malformedAt].indexOf(i)]!;
        const partition = i % PARTITIONS;
        const timestamp = BigInt(end - THREE_DAYS_MS / 2);
        const sent = await producer.send({
          messages: [
            {
              topic,
              partition,
              key: Buffer.from(bad.key),
              value: bad.value,
              timestamp,
              headers: new Map([header('origin', 'handmade'), header('reason', 'a header of the original')]),
            },
          ],
        });
        const offset = sent.offsets?.[0]?.offset;
        assert.ok(offset !== undefined, 'the broker returned no offset for a malformed record');
        origins.set(bad.key, { partition, offset: BigInt(offset), timestamp });
        const set = skipped.get(partition) ?? new Set<bigint>();
        set.add(BigInt(offset));
        skipped.set(partition, set);
      }
    }
  } finally {
    await producer.close();
  }
  assert.equal(origins.size, MALFORMED.length);
  assert.equal(await topicRecordCount(topic), TWEETS + MALFORMED.length, 'the topic as produced');

  // Each run is killed a random moment after it joined the group, not after it opened partitions: the sink takes
  // the 120,000 tweets in a few seconds, so a run after one that finished has nothing to open, and waiting for
  // `partitions opened` would wait forever (it did, about one CI run in seven). A kill while idle is a kill too.
  const windows = ['--format', 'jsonl.gz', '--max-records', '5000', '--max-age', '1'];
  const moments: string[] = [];
  for (let k = 1; k <= KILLS; k++) {
    const sink = startSink(t, scene, windows);
    const after = 200 + Math.round(Math.random() * 2300);
    await killSinkAfter(sink, (l) => l.msg === 'consumer group joined', after, group);
    const windowsCommitted = sink.logs.filter((l) => l.msg === 'window committed').length;
    const opened = sink.logs.some((l) => l.msg === 'partitions opened');
    moments.push(
      `run ${k}: killed ${after} ms after joining, ${opened ? 'partitions opened' : 'nothing left to open'}, ${windowsCommitted} windows committed`,
    );
  }
  t.diagnostic(moments.join('\n'));

  const final = await runCli(sinkArgs(scene, [...windows, '--exit-when-idle', '15']), {}, 300_000);
  assert.equal(final.code, 0, final.stderr.slice(-3000));

  const out = await verifySinkOutput(client, { root, topic, expectedIds: ids, skipped });
  assert.deepEqual(out.problems, []);
  assert.equal(out.distinctIds, TWEETS);
  assert.deepEqual(out.tmpFiles, [], 'files left in _tmp');

  const letters = await readRecords(`${topic}.dlq`, MALFORMED.length, 60_000);
  assert.equal(letters.length, MALFORMED.length);
  for (const bad of MALFORMED) {
    const letter = letters.find((l) => l.key === bad.key);
    assert.ok(
      letter,
      `no dead letter with the key ${bad.key} (${bad.why}); keys: ${letters.map((l) => l.key)}`,
    );
    const origin = origins.get(bad.key)!;
    assert.equal(letter.value, bad.value.toString(), `${bad.key}: value changed`);
    assert.equal(BigInt(letter.timestamp), origin.timestamp, `${bad.key}: timestamp changed`);
    assert.equal(letter.headers.get('origin'), 'handmade', `${bad.key}: original header lost`);
    assert.equal(letter.headers.get('stage'), 'sink');
    assert.equal(letter.headers.get('sink_group'), group);
    assert.ok((letter.headers.get('reason') ?? '').length > 0, `${bad.key}: no reason`);
    assert.notEqual(
      letter.headers.get('reason'),
      'a header of the original',
      `${bad.key}: reason not replaced`,
    );
    assert.equal(letter.headers.get('original_topic'), topic);
    assert.equal(letter.headers.get('original_partition'), String(origin.partition));
    assert.equal(letter.headers.get('original_offset'), String(origin.offset));
  }

  // Kafka's own view of the group: every partition committed to its log end.
  const { stdout } = await runKafkaTool(
    config,
    'org.apache.kafka.tools.consumer.group.ConsumerGroupCommand',
    ['--bootstrap-server', brokers, '--describe', '--group', group],
    60_000,
  );
  const rows = stdout
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .filter((cols) => cols[1] === topic);
  assert.equal(rows.length, PARTITIONS, stdout);
  for (const cols of rows)
    assert.equal(
      cols[3],
      cols[4],
      `partition ${cols[2]}: committed ${cols[3]}, log end ${cols[4]}\n${stdout}`,
    );
});

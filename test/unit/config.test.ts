import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { type Config, loadConfig, redactedConfig } from '../../src/config.ts';
import { TweetpipeError } from '../../src/errors.ts';
import { sinkSettingsFromConfig } from '../../src/sink/sink-task.ts';

const dir = mkdtempSync(join(tmpdir(), 'tweetpipe-config-'));
const file = (name: string, content: unknown) => {
  const p = join(dir, name);
  writeFileSync(p, typeof content === 'string' ? content : JSON.stringify(content));
  return p;
};
const failure = (fn: () => unknown): TweetpipeError => {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof TweetpipeError);
    return err;
  }
  assert.fail('expected a config error');
};

describe('config', () => {
  test('defaults match the documented contracts', () => {
    const c = loadConfig({ env: {} });
    assert.deepEqual(c.kafka.brokers, ['localhost:9092']);
    assert.deepEqual(c.hdfs.webhdfs, ['http://localhost:9870']);
    assert.equal(c.topic.name, 'twitter_data');
    assert.equal(c.hdfs.dir, '/twitter_data');
    assert.equal(c.sink.group, 'twitter_hdfs_group');
    assert.equal(c.metrics.host, '127.0.0.1');
    assert.equal(c.metrics.port, 8787);
    assert.equal(c.x.query, 'music lang:en -is:retweet');
  });

  test('flags > environment > file > defaults', () => {
    const f = file('p.json', { topic: { name: 'from_file', partitions: 6 }, sink: { format: 'parquet' } });
    const c = loadConfig({
      file: f,
      env: { TWEETPIPE_TOPIC: 'from_env', TWEETPIPE_BROKERS: 'a:1, b:2' },
      flags: { 'topic.name': 'from_flag' },
    });
    assert.equal(c.topic.name, 'from_flag');
    assert.equal(c.topic.partitions, 6);
    assert.equal(c.sink.format, 'parquet');
    assert.deepEqual(c.kafka.brokers, ['a:1', 'b:2']);
    assert.equal(loadConfig({ file: f, env: { TWEETPIPE_TOPIC: 'from_env' } }).topic.name, 'from_env');
  });

  test('env strings are coerced and checked like file values', () => {
    const c = loadConfig({ env: { TWEETPIPE_SINK_MAX_RECORDS: '1000', TWEETPIPE_KAFKA_TLS: 'true' } });
    assert.equal(c.sink.maxRecords, 1000);
    assert.deepEqual(
      c.kafka.tls,
      { insecureSkipVerify: false },
      'TWEETPIPE_KAFKA_TLS=true is TLS with the system CAs',
    );
  });

  test('a bad value names the key, its origin and the expected form', () => {
    const e = failure(() => loadConfig({ env: { TWEETPIPE_SINK_MAX_RECORDS: 'lots' } }));
    assert.equal(e.code, 'CONFIG_INVALID');
    assert.match(e.message, /sink\.maxRecords/);
    assert.match(e.message, /TWEETPIPE_SINK_MAX_RECORDS/);
    assert.match(e.message, /number/);
    const b = failure(() => loadConfig({ env: { TWEETPIPE_BROKERS: 'no-port' } }));
    assert.match(b.message, /kafka\.brokers.*host:port/);
  });

  test('unknown keys and unknown TWEETPIPE_ variables are errors that name them', () => {
    assert.match(
      failure(() => loadConfig({ file: file('u.json', { sink: { fromat: 'jsonl' } }), env: {} })).message,
      /sink\.fromat/,
    );
    assert.match(failure(() => loadConfig({ file: file('s.json', { snk: {} }), env: {} })).message, /"snk"/);
    assert.match(
      failure(() => loadConfig({ env: { TWEETPIPE_BROKER: 'x:1' } })).message,
      /TWEETPIPE_BROKER\b/,
    );
  });

  test('an unreadable config file says which file and why', () => {
    const e = failure(() => loadConfig({ file: file('bad.json', '{nope'), env: {} }));
    assert.match(e.message, /bad\.json/);
  });

  test('secrets never appear in errors or in the printed config', () => {
    const token = 'AAAA-secret-bearer-token-1234';
    const c = loadConfig({ env: { X_BEARER_TOKEN: token } });
    assert.equal(c.x.bearerToken, token);
    assert.doesNotMatch(JSON.stringify(redactedConfig(c)), new RegExp(token));
    const e = failure(() =>
      loadConfig({
        env: {},
        flags: { 'kafka.sasl': { mechanism: 'PLAIN', username: 'u', password: 7 } },
      }),
    );
    assert.match(e.message, /kafka\.sasl/);
  });

  test('object and array settings take JSON from the environment; string lists also take commas', () => {
    const c = loadConfig({
      env: {
        TWEETPIPE_KAFKA_SASL: '{"mechanism":"SCRAM-SHA-512","username":"u","password":"p"}',
        TWEETPIPE_X_RULES: '[{"value":"cats","tag":"c"}]',
        TWEETPIPE_X_EXPANSIONS: '["author_id", "geo.place_id"]',
        TWEETPIPE_BROKERS: 'a:1,b:2',
      },
    });
    assert.deepEqual(c.kafka.sasl, { mechanism: 'SCRAM-SHA-512', username: 'u', password: 'p' });
    assert.deepEqual(c.x.rules, [{ value: 'cats', tag: 'c' }]);
    assert.deepEqual(c.x.expansions, ['author_id', 'geo.place_id']);
    assert.deepEqual(c.kafka.brokers, ['a:1', 'b:2']);
  });

  test('a non-JSON value for an object or array setting names the variable and the JSON form expected', () => {
    const rules = failure(() => loadConfig({ env: { TWEETPIPE_X_RULES: 'cats' } }));
    assert.match(rules.message, /TWEETPIPE_X_RULES/);
    assert.match(rules.message, /x\.rules/);
    assert.match(rules.message, /JSON array of objects.*\[\{"value":\.\.\.,"tag":\.\.\.\}\]/);
    const sasl = failure(() => loadConfig({ env: { TWEETPIPE_KAFKA_SASL: 'PLAIN:u:p' } }));
    assert.match(sasl.message, /TWEETPIPE_KAFKA_SASL.*JSON object.*"mechanism".*"username".*"password"/);
  });

  test('secrets are masked by path in validation errors, whatever the value looks like', () => {
    const password = 'Pa55-not-in-any-message';
    const bad = [
      { TWEETPIPE_KAFKA_SASL: `{"mechanism":"SCRAM-SHA-1","username":"u","password":"${password}"}` },
      { TWEETPIPE_KAFKA_SASL: `{"mechanism":"PLAIN","username":"u","password":${password}}` },
      { TWEETPIPE_KAFKA_SASL: `{"mechanism":"PLAIN","username":"u","password":"${password}"` },
      { TWEETPIPE_KAFKA_SASL: `{"mechanism":"PLAIN","username":"","password":"${password}"}` },
      { TWEETPIPE_KAFKA_SASL: `[{"password":"${password}"}]` },
    ];
    for (const env of bad) {
      const e = failure(() => loadConfig({ env }));
      assert.match(e.message, /kafka\.sasl|TWEETPIPE_KAFKA_SASL/, e.message);
      assert.ok(!e.message.includes(password), e.message);
    }
    const inFile = failure(() =>
      loadConfig({ file: file('sasl.json', `{"kafka":{"sasl":"PLAIN:u:${password}"}}`), env: {} }),
    );
    assert.match(inFile.message, /kafka\.sasl/);
    assert.ok(!inFile.message.includes(password), inFile.message);
    const brokenFile = failure(() =>
      loadConfig({ file: file('broken.json', `{"kafka":{"sasl":{"password":${password}}}}`), env: {} }),
    );
    assert.match(brokenFile.message, /broken\.json/);
    assert.ok(!brokenFile.message.includes(password), brokenFile.message);
  });

  test('the printed config masks secrets by path', () => {
    const c = loadConfig({
      env: { TWEETPIPE_KAFKA_SASL: '{"mechanism":"PLAIN","username":"u","password":"hunter2"}' },
    });
    assert.deepEqual((redactedConfig(c) as Config).kafka.sasl, {
      mechanism: 'PLAIN',
      username: 'u',
      password: '[REDACTED]',
    });
  });

  test('backfill minutes, Parquet codec and gzip level are settable and reach the sink settings', () => {
    const defaults = loadConfig({ env: {} });
    assert.equal(defaults.x.backfillMinutes, 0);
    assert.equal(defaults.x.rulesMode, 'owned');
    assert.deepEqual(sinkSettingsFromConfig(defaults).parquet, { codec: 'ZSTD' });
    assert.equal(sinkSettingsFromConfig(defaults).gzipLevel, 1);
    const c = loadConfig({
      env: {
        TWEETPIPE_X_BACKFILL_MINUTES: '5',
        TWEETPIPE_SINK_PARQUET_CODEC: 'snappy',
        TWEETPIPE_SINK_GZIP_LEVEL: '6',
        TWEETPIPE_X_RULES_MODE: 'exact',
      },
    });
    assert.equal(c.x.backfillMinutes, 5);
    assert.equal(c.x.rulesMode, 'exact');
    assert.deepEqual(sinkSettingsFromConfig(c).parquet, { codec: 'SNAPPY' });
    assert.equal(sinkSettingsFromConfig(c).gzipLevel, 6);
    for (const env of [
      { TWEETPIPE_X_BACKFILL_MINUTES: '6' },
      { TWEETPIPE_SINK_GZIP_LEVEL: '10' },
      { TWEETPIPE_SINK_PARQUET_CODEC: 'lzo' },
      { TWEETPIPE_X_RULES_MODE: 'all' },
    ])
      assert.match(failure(() => loadConfig({ env })).message, new RegExp(Object.keys(env)[0]!));
  });
});

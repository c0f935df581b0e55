import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { loadConfig, redactedConfig } from '../../src/config.ts';
import { TweetpipeError } from '../../src/errors.ts';

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
    assert.equal(c.kafka.tls, true);
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
});

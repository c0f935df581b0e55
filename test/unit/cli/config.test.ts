/** `tweetpipe config` as a user runs it: a bad secret-bearing value is reported by key, never echoed. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { runCli } from '../../helpers/cli.ts';

const PASSWORD = 'Sasl-Pa55word-9f3c';

describe('tweetpipe config', () => {
  for (const [what, value] of [
    ['a wrong mechanism', `{"mechanism":"SCRAM-SHA-1","username":"u","password":"${PASSWORD}"}`],
    ['a JSON typo', `{"mechanism":"SCRAM-SHA-512","username":"u","password":${PASSWORD}}`],
    ['not JSON at all', `SCRAM-SHA-512:u:${PASSWORD}`],
  ] as const) {
    test(`TWEETPIPE_KAFKA_SASL with ${what}: the key is named, the password appears nowhere`, async () => {
      const run = await runCli(['config'], { TWEETPIPE_KAFKA_SASL: value });
      const output = run.stdout + run.stderr;
      assert.equal(run.code, 2, output);
      assert.match(output, /TWEETPIPE_KAFKA_SASL/);
      assert.match(output, /kafka\.sasl/);
      assert.ok(!output.includes(PASSWORD), output);
    });
  }

  test('a valid JSON value is taken and printed with the password masked', async () => {
    const run = await runCli(['config'], {
      TWEETPIPE_KAFKA_SASL: `{"mechanism":"SCRAM-SHA-512","username":"u","password":"${PASSWORD}"}`,
    });
    assert.equal(run.code, 0, run.stderr);
    const printed = JSON.parse(run.stdout) as { kafka: { sasl: Record<string, string> } };
    assert.deepEqual(printed.kafka.sasl, {
      mechanism: 'SCRAM-SHA-512',
      username: 'u',
      password: '[REDACTED]',
    });
    assert.ok(!(run.stdout + run.stderr).includes(PASSWORD));
  });
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import pino from 'pino';
import { Metrics } from '../../../src/observe/metrics.ts';
import { pipelineStages, StallWatch } from '../../../src/observe/stall-watch.ts';

const BOUND_MS = 120_000;

/** A watch on the sink stage with a clock the test moves, and the error lines it logs. */
function setup() {
  const metrics = new Metrics({ processMetrics: false });
  const errorLines: string[] = [];
  const log = pino(
    { level: 'info' },
    {
      write: (line: string) => {
        const parsed = JSON.parse(line) as { level: number; msg: string };
        if (parsed.level >= 50) errorLines.push(parsed.msg);
      },
    },
  );
  let now = 1_000_000;
  const watch = new StallWatch({
    metrics,
    log,
    stages: pipelineStages(metrics, ['sink']),
    stallAfterMs: BOUND_MS,
    now: () => now,
  });
  const at = async (ms: number) => {
    now += ms;
    await watch.check();
  };
  const fail = () => metrics.errors.inc({ stage: 'sink', code: 'KAFKA' });
  const gauge = async () =>
    (await metrics.stalled.get()).values.find((v) => v.labels.stage === 'sink')?.value;
  return { metrics, watch, at, fail, errorLines, gauge };
}

test('errors that keep coming with nothing written for longer than the bound make the sink stalled', async () => {
  const { metrics, watch, at, fail, errorLines, gauge } = setup();
  await at(0);
  for (let s = 0; s < 130; s += 5) {
    fail();
    await at(5000);
  }
  const check = watch.checks()['stall:sink'];
  assert.equal(check?.ok, false);
  assert.match(check.detail, /sink stalled: 26 errors \(KAFKA\) in 1\d\d s and no record written to HDFS/);
  assert.equal(await gauge(), 1);
  assert.equal(await metrics.total(metrics.stalls), 1);
  assert.equal(errorLines.length, 1, 'one error line, not one per check');
  assert.match(errorLines[0]!, /^stalled: sink stalled/);

  metrics.written.inc({ topic: 't', format: 'jsonl' }, 10);
  await at(1000);
  assert.equal(watch.checks()['stall:sink']?.ok, true, 'progress clears it');
  assert.equal(await gauge(), 0);
});

test('an outage shorter than the bound is ridden out', async () => {
  const { watch, at, fail, gauge } = setup();
  await at(0);
  for (let s = 0; s < 60; s += 5) {
    fail();
    await at(5000);
  }
  assert.equal(watch.checks()['stall:sink']?.ok, true);
  assert.notEqual(await gauge(), 1);
});

test('quiet is not a stall: no errors, no progress, for ten times the bound', async () => {
  const { watch, at } = setup();
  await at(0);
  await at(10 * BOUND_MS);
  assert.equal(watch.checks()['stall:sink']?.ok, true);
});

test('a single old error followed by quiet is not a stall', async () => {
  const { watch, at, fail } = setup();
  await at(0);
  fail();
  await at(1000);
  await at(3 * BOUND_MS);
  assert.equal(watch.checks()['stall:sink']?.ok, true);
});

test('dead letters are progress of the sink; dead letters of the source are not', async () => {
  const { metrics, watch, at, fail } = setup();
  await at(0);
  for (let s = 0; s < 130; s += 5) {
    fail();
    metrics.deadLetters.inc({ stage: 'source' });
    await at(5000);
  }
  assert.equal(watch.checks()['stall:sink']?.ok, false);
  metrics.deadLetters.inc({ stage: 'sink' });
  await at(1000);
  assert.equal(watch.checks()['stall:sink']?.ok, true);
});

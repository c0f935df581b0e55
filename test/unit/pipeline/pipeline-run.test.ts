import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TweetpipeError } from '../../../src/errors.ts';
import { silentLogger } from '../../../src/log.ts';
import { type PipelineParts, runPipelineParts } from '../../../src/pipeline/pipeline-run.ts';
import type { ProduceSummary } from '../../../src/pipeline/produce.ts';

const SUMMARY = { produced: 3 } as unknown as ProduceSummary;

/**
 * In-memory parts that write what happens to `events`. The producer runs until its signal aborts (or `endsAlone`
 * ends it, or `producerFails` fails it); the sink runs until its signal aborts (or `sinkFails` fails it).
 */
function doubles(
  opts: { endsAlone?: boolean; producerFails?: Error; sinkFails?: Error; startFails?: Error } = {},
) {
  const events: string[] = [];
  let failSink: (err: Error) => void = () => {};
  let failProducer: (err: Error) => void = () => {};
  const parts: PipelineParts = {
    startCompaction: () => {
      events.push('compaction started');
      return async () => {
        events.push('compaction stopped');
      };
    },
    startProducer: async (signal) => {
      if (opts.startFails) throw opts.startFails;
      events.push('producer started');
      const done = new Promise<ProduceSummary>((resolve, reject) => {
        failProducer = reject;
        const stop = () => {
          events.push(
            `producer stopped (${signal.reason instanceof Error ? signal.reason.message : 'signal'})`,
          );
          resolve(SUMMARY);
        };
        if (opts.endsAlone) {
          setImmediate(() => {
            events.push('producer ended on its own');
            resolve(SUMMARY);
          });
        }
        signal.addEventListener('abort', stop, { once: true });
      });
      return { done };
    },
    runSink: (signal) => {
      events.push('sink started');
      return new Promise<void>((resolve, reject) => {
        let failedAlready = false;
        failSink = (err) => {
          failedAlready = true;
          events.push('sink failed');
          reject(err);
        };
        signal.addEventListener(
          'abort',
          () => {
            if (failedAlready) return;
            events.push('sink committed its open windows');
            resolve();
          },
          { once: true },
        );
      });
    },
    sinkCaughtUp: async () => {
      events.push('sink caught up');
    },
  };
  return { parts, events, failSink: (e: Error) => failSink(e), failProducer: (e: Error) => failProducer(e) };
}

const tick = () => new Promise((r) => setImmediate(r));

test('run: compaction, producer, sink start in that order; on the signal the producer stops before the sink drains', async () => {
  const { parts, events } = doubles();
  const stop = new AbortController();
  const run = runPipelineParts(parts, silentLogger, stop.signal);
  await tick();
  assert.deepEqual(events, ['compaction started', 'producer started', 'sink started']);
  stop.abort(new Error('SIGTERM'));
  await run;
  assert.deepEqual(events.slice(3), [
    'producer stopped (SIGTERM)',
    'sink committed its open windows',
    'compaction stopped',
  ]);
});

test('run: a producer that ends on its own waits for the sink to catch up before the sink stops', async () => {
  const { parts, events } = doubles({ endsAlone: true });
  await runPipelineParts(parts, silentLogger, new AbortController().signal);
  assert.deepEqual(events.slice(3), [
    'producer ended on its own',
    'sink caught up',
    'sink committed its open windows',
    'compaction stopped',
  ]);
});

test('run: a failed sink stops the producer, and its error surfaces', async () => {
  const { parts, events, failSink } = doubles();
  const run = runPipelineParts(parts, silentLogger, new AbortController().signal);
  await tick();
  const lag = new TweetpipeError('LAG_REMAINS', 'partition 0 has records below its committed offset');
  failSink(lag);
  await assert.rejects(run, lag);
  assert.deepEqual(events.slice(3), [
    'sink failed',
    `producer stopped (${lag.message})`,
    'compaction stopped',
  ]);
});

test('run: a failed producer stops the sink, which commits its windows, and its error surfaces', async () => {
  const { parts, events, failProducer } = doubles();
  const run = runPipelineParts(parts, silentLogger, new AbortController().signal);
  await tick();
  const denied = new TweetpipeError('KAFKA_DENIED', 'not allowed to write to topic t');
  failProducer(denied);
  await assert.rejects(run, denied);
  assert.deepEqual(events.slice(3), ['sink committed its open windows', 'compaction stopped']);
});

test('run: a producer that cannot start starts no sink, stops the compaction schedule and surfaces its error', async () => {
  const down = new TweetpipeError('KAFKA_DENIED', 'no broker answered at localhost:9092');
  const { parts, events } = doubles({ startFails: down });
  await assert.rejects(runPipelineParts(parts, silentLogger, new AbortController().signal), down);
  assert.deepEqual(events, ['compaction started', 'compaction stopped']);
});

/**
 * The lifecycle of `tweetpipe run` once its cluster, storage and dashboard are up (run.ts builds those): the
 * compaction schedule, the producer and the sink, started, stopped and failed in one order. It touches them only
 * through PipelineParts, so the unit tests run it on in-memory doubles.
 *
 * Call protocol of the parts (what runPipelineParts does):
 * 1. startCompaction() once, first. Its stop function is awaited once, last, whatever happened before.
 * 2. startProducer(signal) once. It resolves once the producer runs (it may throw: nothing else started then);
 *    `done` settles when the source ended (--max-tweets, --duration) or `signal` aborted and what was read is in
 *    Kafka, and rejects when producing failed for good.
 * 3. runSink(signal) once, after the producer started: it resolves after `signal` aborted and the open windows were
 *    committed, and rejects when the sink failed for good.
 * 4. Stop order: the producer stops first (the caller's signal, its source's end, or a sink failure) and drains into
 *    Kafka; after an end of its own (the caller's signal not aborted), sinkCaughtUp(signal) waits for the sink to
 *    consume what was produced; only then does the sink's signal abort and the sink commit its open windows.
 * 5. A part failing stops the others: a failed sink aborts the producer, a failed producer aborts the sink; both are
 *    awaited, then the first failure is thrown.
 */
import type { Logger } from '../log.ts';
import type { ProduceSummary } from './produce.ts';

/** A producer that is running: `done` settles when it stopped (see the call protocol above). */
export interface RunningProducer {
  done: Promise<ProduceSummary>;
}

export interface PipelineParts {
  startCompaction(): () => Promise<void>;
  startProducer(signal: AbortSignal): Promise<RunningProducer>;
  runSink(signal: AbortSignal): Promise<void>;
  /** Resolves once the sink consumed what the producer produced, or gave up waiting, or `signal` aborted. */
  sinkCaughtUp(signal: AbortSignal): Promise<void>;
}

export async function runPipelineParts(
  parts: PipelineParts,
  log: Logger,
  signal: AbortSignal,
): Promise<void> {
  const producerStop = new AbortController();
  const sinkStop = new AbortController();
  const stopProducer = () => producerStop.abort(signal.reason);
  signal.addEventListener('abort', stopProducer, { once: true });
  const stopCompaction = parts.startCompaction();
  let firstFailure: { error: unknown } | undefined;
  const failed = (error: unknown) => {
    firstFailure ??= { error };
  };
  try {
    const producer = await parts.startProducer(producerStop.signal);
    const sinkDone = parts.runSink(sinkStop.signal).catch((err: unknown) => {
      failed(err);
      producerStop.abort(err);
    });
    try {
      const summary = await producer.done;
      log.info({ summary }, 'producer stopped');
      if (!signal.aborted && !firstFailure) await parts.sinkCaughtUp(signal);
    } catch (err) {
      failed(err);
    }
    sinkStop.abort();
    await sinkDone;
    if (firstFailure) throw firstFailure.error;
  } finally {
    signal.removeEventListener('abort', stopProducer);
    sinkStop.abort();
    await stopCompaction();
  }
}

/**
 * One sink worker thread (started by sink-threads.ts): a consumer group member running the sink loop with its own
 * Kafka, WebHDFS and logger, that forwards its metric updates and observer events to the main thread and stops
 * (committing its open windows) when told to.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { SINK_LOOP_DEFAULTS } from '../config/sink.ts';
import { serializeError, TweetpipeError, toTweetpipeError } from '../errors.ts';
import { createLogger, registerConfigSecrets } from '../log.ts';
import { Metrics } from '../observe/metrics.ts';
import { forwardMetrics } from '../observe/metrics-bridge.ts';
import { hdfsStorage } from './hdfs-storage.ts';
import { runSinkLoop } from './sink-loop.ts';
import { kafkaSinkParts } from './sink-parts.ts';
import { postablePoison, type SinkWorkerData, type WorkerMessage } from './sink-threads.ts';

const port = parentPort;
if (!port) throw new TweetpipeError('INTERNAL', 'sink-thread-entry.ts runs as a worker thread only');
const data = workerData as SinkWorkerData;
const { config } = data;
registerConfigSecrets(config);
const log = createLogger({ level: config.log.level, format: config.log.format }).child({
  worker: data.index,
});
const post = (m: WorkerMessage) => port.postMessage(m);
const metrics = new Metrics({ processMetrics: false });
const bridge = forwardMetrics(metrics, (ops) => post({ type: 'metrics', ops }));
const flushTimer = setInterval(() => bridge.flush(), SINK_LOOP_DEFAULTS.metricsFlushMs);
const stop = new AbortController();
port.on('message', (m: { type?: string }) => {
  if (m?.type === 'stop') stop.abort(new TweetpipeError('ABORTED', 'stopped by the main thread'));
});
const { storage, client } = hdfsStorage(config, log, metrics);
let last: WorkerMessage = { type: 'done' };
try {
  await runSinkLoop(
    {
      config,
      metrics,
      log,
      signal: stop.signal,
      exitWhenIdleS: data.exitWhenIdleS,
      ...(data.shutdownGraceMs === undefined ? {} : { shutdownGraceMs: data.shutdownGraceMs }),
      observer: {
        onCommit: (arg) => post({ type: 'event', event: 'onCommit', arg }),
        onWindowCommitted: (arg) => post({ type: 'event', event: 'onWindowCommitted', arg }),
        onPoison: (arg) => post({ type: 'event', event: 'onPoison', arg: arg.map(postablePoison) }),
      },
    },
    kafkaSinkParts({ config, storage, metrics, log, signal: stop.signal }),
  );
} catch (raw) {
  const err = toTweetpipeError(raw);
  log.error({ err }, 'sink worker failed');
  last = { type: 'failed', error: serializeError(err) };
} finally {
  clearInterval(flushTimer);
  await client.close().catch(() => undefined);
  bridge.flush();
  post(last);
  log.flush();
  // Nothing else keeps the thread alive: it exits once the messages above are out.
  port.removeAllListeners('message');
  port.unref();
}

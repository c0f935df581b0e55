/**
 * `tweetpipe run`: the whole pipeline in one process — local stack when no external cluster is configured, the X
 * API (or the built-in emulator without a token), producer, sink, metrics and dashboard. One process because both
 * halves share one metrics registry and the dashboard; Kafka between them still decouples them, and
 * `produce` / `sink` run them apart when one machine is not enough. This file builds the parts; pipeline-run.ts
 * starts and stops them in order.
 */
import { randomUUID } from 'node:crypto';
import { startCompactionSchedule } from '../compact/schedule.ts';
import type { Config } from '../config.ts';
import { PartitionRegistrar } from '../hive/partition-registrar.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from '../observe/metrics.ts';
import type { SourceArgs } from '../sources/factory.ts';
import type { SourceState } from '../sources/source.ts';
import { stackUp } from '../stack/stack.ts';
import { startXEmulator, type XEmulator } from '../x-emulator/server.ts';
import { ensureOutputDir, hdfsStorage } from './hdfs-storage.ts';
import { startOperatorEndpoint } from './operator-endpoint.ts';
import { runPipelineParts } from './pipeline-run.ts';
import { startProducer } from './producer-service.ts';
import { runSink } from './sink-threads.ts';

export interface RunOptions {
  source: SourceArgs & { durationS?: number | undefined };
  /** Tweets per second the built-in emulator generates. */
  emulatorRate: number;
  /** Print for the operator (where to look). */
  say: (line: string) => void;
}

/** The local stack serves exactly the default endpoints; anything else is an external cluster. */
export function usesLocalStack(config: Config): boolean {
  const s = config.stack;
  return (
    config.kafka.brokers.length === 1 &&
    config.kafka.brokers[0] === `localhost:${s.kafkaPort}` &&
    config.hdfs.webhdfs.length === 1 &&
    config.hdfs.webhdfs[0] === `http://localhost:${s.webhdfsPort}`
  );
}

/** sink.hive on, with the metastore of `stack up --hive`: the local stack brings it up too. */
function usesLocalMetastore(config: Config): boolean {
  return (
    config.sink.hive.enabled &&
    config.sink.hive.metastoreUri === `thrift://localhost:${config.stack.metastorePort}`
  );
}

export async function runPipeline(
  config: Config,
  opts: RunOptions,
  metrics: Metrics,
  log: Logger,
  signal: AbortSignal,
): Promise<void> {
  const { say } = opts;
  if (usesLocalStack(config)) {
    say('no external Kafka/HDFS configured: using the local stack (tweetpipe stack up)');
    const up = await stackUp(config, say, { hive: usesLocalMetastore(config) });
    if (!up.alreadyRunning) say(`local stack healthy in ${up.seconds.toFixed(1)} s`);
  } else {
    say(
      `external cluster: Kafka ${config.kafka.brokers.join(',')}, WebHDFS ${config.hdfs.webhdfs.join(',')}`,
    );
  }

  let emulator: XEmulator | undefined;
  let runConfig = config;
  const isXSource = opts.source.kind === 'x-stream' || opts.source.kind === 'x-search';
  if (isXSource && !config.x.bearerToken) {
    emulator = await startXEmulator({ rate: opts.emulatorRate, rules: config.x.rules, log });
    // Any token will do for the emulator; a random one, because the client masks its token in every log line
    // (a plain word like 'emulator' was masked inside the emulator's own messages).
    const bearerToken = `emulator-${randomUUID()}`;
    runConfig = { ...config, x: { ...config.x, apiUrl: emulator.url, bearerToken } };
    say(
      `no X_BEARER_TOKEN: reading from the built-in X API v2 emulator at ${emulator.url} (${opts.emulatorRate} tweets/s)`,
    );
  } else if (isXSource) {
    say(`reading the X API at ${config.x.apiUrl} (${opts.source.kind})`);
  }

  const { storage, client } = hdfsStorage(runConfig, log, metrics);
  await ensureOutputDir(storage, runConfig, log, metrics);

  let source: { state: () => SourceState } = {
    state: () => ({ state: 'connecting', reconnects: 0 }),
  };
  const endpoint = await startOperatorEndpoint({
    config: runConfig,
    metrics,
    log,
    stages: ['source', 'produce', 'sink'],
    storage,
    sourceState: () => source.state(),
    serve: true,
  });
  const { live } = endpoint;
  const webUi = runConfig.hdfs.webhdfs[0]!;
  say(`dashboard        ${endpoint.url}/`);
  say(`metrics          ${endpoint.url}/metrics`);
  say(`HDFS web UI      ${webUi}/explorer.html#${runConfig.hdfs.dir}/${runConfig.topic.name}`);
  say(`files in HDFS    ${runConfig.hdfs.dir}/${runConfig.topic.name}/dt=YYYY-MM-DD/hour=HH/`);

  const registrar = runConfig.sink.hive.enabled ? new PartitionRegistrar(runConfig, storage, log) : null;
  try {
    await runPipelineParts(
      {
        startCompaction: () => startCompactionSchedule(runConfig, storage, log),
        startProducer: async (producerSignal) => {
          const producer = await startProducer(
            runConfig,
            opts.source,
            metrics,
            log,
            producerSignal,
            (tweets, letters) => {
              live.onTweets(tweets.map((t) => t.value));
              for (const l of letters) live.onDeadLetter('source', l.reason);
            },
          );
          source = producer.source;
          return producer;
        },
        runSink: (sinkSignal) =>
          runSink({
            config: runConfig,
            storage,
            metrics,
            log,
            signal: sinkSignal,
            observer: {
              onCommit: (f) => {
                live.onCommit({ path: f.path, bytes: f.bytes, records: f.records });
                registrar?.onCommit(f.path);
              },
              onPoison: (poison) => {
                for (const p of poison) live.onDeadLetter('sink', p.reason);
              },
            },
          }),
        sinkCaughtUp: (untilAborted) => drained(metrics, untilAborted, 60_000),
      },
      log,
      signal,
    );
  } finally {
    await registrar?.stop();
    await endpoint.close();
    await emulator?.close();
    await client.close();
  }
}

/** After a finite run (--max-tweets, --duration), waits until the sink has consumed what was produced. */
async function drained(metrics: Metrics, signal: AbortSignal, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && !signal.aborted) {
    const [produced, consumed] = await Promise.all([
      metrics.total(metrics.produced),
      metrics.total(metrics.consumed),
    ]);
    if (consumed >= produced) return;
    await new Promise((r) => setTimeout(r, 250));
  }
}

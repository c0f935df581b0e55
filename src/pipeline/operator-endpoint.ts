/**
 * What an operator sees of a running command: the stall watch (always: its error line and metrics need no
 * endpoint) and, when a port is set, the HTTP endpoint with `/metrics`, `/healthz`, `/readyz` and the dashboard.
 * `/readyz` is ready when Kafka answers, HDFS answers (for the commands that write it) and no stage is stalled.
 */
import type { Config } from '../config.ts';
import type { Storage } from '../hdfs/storage.ts';
import { probeBrokers } from '../kafka/admin.ts';
import { kafkaConnection } from '../kafka/client-options.ts';
import type { Logger } from '../log.ts';
import {
  type HttpServer,
  type Readiness,
  type ReadinessCheck,
  startHttpServer,
} from '../observe/http-server.ts';
import { LiveState } from '../observe/live-state.ts';
import type { Metrics } from '../observe/metrics.ts';
import { pipelineStages, StallWatch } from '../observe/stall-watch.ts';
import type { SourceState } from '../sources/source.ts';

export interface OperatorEndpointOptions {
  config: Config;
  metrics: Metrics;
  log: Logger;
  /** The stages this command runs. */
  stages: readonly ('source' | 'produce' | 'sink')[];
  /** HDFS, for the commands that write it. */
  storage?: Storage;
  sourceState?: () => SourceState;
  /** Serve HTTP on config.metrics.host/port; off for `produce` and `sink` unless --metrics-port is given. */
  serve: boolean;
}

export interface OperatorEndpoint {
  live: LiveState;
  /** The URL of the HTTP endpoint, when served. */
  url: string | undefined;
  close(): Promise<void>;
}

const NO_SOURCE: SourceState = { state: 'stopped', reconnects: 0 };

export async function startOperatorEndpoint(opts: OperatorEndpointOptions): Promise<OperatorEndpoint> {
  const { config, metrics, log } = opts;
  const watch = new StallWatch({
    metrics,
    log,
    stages: pipelineStages(metrics, opts.stages),
    stallAfterMs: config.health.stallAfterS * 1000,
  }).start();
  const live = new LiveState({ metrics, sourceState: opts.sourceState ?? (() => NO_SOURCE) });
  let server: HttpServer | undefined;
  try {
    if (opts.serve)
      server = await startHttpServer({
        host: config.metrics.host,
        port: config.metrics.port,
        metrics,
        live,
        log,
        ready: () => readiness(config, opts.storage, watch),
      });
  } catch (err) {
    watch.stop();
    throw err;
  }
  return {
    live,
    url: server?.url,
    close: async () => {
      watch.stop();
      await server?.close();
    },
  };
}

async function readiness(
  config: Config,
  storage: Storage | undefined,
  watch: StallWatch,
): Promise<Readiness> {
  const probes: Promise<[string, ReadinessCheck]>[] = [
    probeBrokers(kafkaConnection(config, 'ready'), 2000).then(
      (brokers): [string, ReadinessCheck] => ['kafka', { ok: true, detail: `brokers ${brokers.join(', ')}` }],
      (err: Error): [string, ReadinessCheck] => ['kafka', { ok: false, detail: err.message }],
    ),
  ];
  if (storage)
    probes.push(
      storage.status(config.hdfs.dir).then(
        (st): [string, ReadinessCheck] => [
          'hdfs',
          { ok: st !== null, detail: st ? `${config.hdfs.dir} reachable` : `${config.hdfs.dir} missing` },
        ],
        (err: Error): [string, ReadinessCheck] => ['hdfs', { ok: false, detail: err.message }],
      ),
    );
  const checks: Record<string, ReadinessCheck> = {
    ...Object.fromEntries(await Promise.all(probes)),
    ...watch.checks(),
  };
  return { ok: Object.values(checks).every((c) => c.ok), checks };
}

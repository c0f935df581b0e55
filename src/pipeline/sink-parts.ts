/**
 * The sink loop's parts on a real cluster: a BatchConsumer per session, the SinkTask writing through `storage`,
 * the dead-letter topic, HDFS probes and Kafka's offset reads.
 */
import type { Config } from '../config.ts';
import type { Storage } from '../hdfs/storage.ts';
import { BatchConsumer } from '../kafka/batch-consumer.ts';
import { kafkaConnection } from '../kafka/client-options.ts';
import { holdsRecordsFrom } from '../kafka/topic-tail.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from '../observe/metrics.ts';
import { SinkTask, sinkSettingsFromConfig } from '../sink/sink-task.ts';
import { SinkDeadLetters } from './sink-dead-letters.ts';
import type { SinkLoopParts } from './sink-loop.ts';

export function kafkaSinkParts(opts: {
  config: Config;
  storage: Storage;
  metrics: Metrics;
  log: Logger;
  signal: AbortSignal;
}): SinkLoopParts {
  const { config, storage, metrics, log, signal } = opts;
  const conn = kafkaConnection(config, 'sink');
  const topic = config.topic.name;
  const deadLetters = new SinkDeadLetters({ conn, config, log, metrics, signal });
  return {
    newSource: () =>
      new BatchConsumer(conn, {
        groupId: config.sink.group,
        topic,
        log,
        sessionTimeoutMs: config.sink.sessionTimeoutS * 1000,
      }),
    newTask: (observer) =>
      new SinkTask({
        ...sinkSettingsFromConfig(config),
        topic,
        storage,
        logger: log,
        deadLetter: (poison) => deadLetters.send(poison),
        observer,
      }),
    deadLetters,
    probeHdfs: async () => {
      await storage.status(config.hdfs.dir);
    },
    holdsRecords: (partition, from, to) => holdsRecordsFrom(conn, topic, partition, from, to),
  };
}

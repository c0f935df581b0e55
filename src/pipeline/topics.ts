/**
 * The topics the pipeline needs, created when missing: the tweet topic (by the producer) and its dead-letter topic
 * (by the producer and the sink, because a sink may consume a topic that someone created by hand with Kafka's tools
 * and that no tweetpipe producer ever touched). An existing topic is used as it is, whatever its partition count.
 * An unreachable broker is waited for; a broker that refuses (no CREATE permission) fails the command at start
 * with an error that names the topic and the permission, instead of a retry loop at the first dead letter.
 */
import type { Config } from '../config.ts';
import { TweetpipeError } from '../errors.ts';
import { type Admin, createAdmin, ensureTopic, type TopicSpec, topicConfig } from '../kafka/admin.ts';
import { type KafkaConnection, kafkaConnection } from '../kafka/client-options.ts';
import { kafkaError, securityFailure } from '../kafka/kafka-errors.ts';
import { tlsHandshakeError } from '../kafka/tls-probe.ts';
import { dlqTopic } from '../kafka/tweet-producer.ts';
import type { Logger } from '../log.ts';
import { retryForever } from '../retry/retry-forever.ts';
import { KAFKA_SETUP } from '../retry/schedules.ts';

/** The tweet topic and its dead-letter topic (`tweetpipe produce` and `run`). */
export async function ensureTopics(config: Config, log: Logger): Promise<void> {
  await withAdmin(config, log, async (admin) => {
    const { created, topic } = await ensureTopic(admin, {
      name: config.topic.name,
      partitions: config.topic.partitions,
      replication: config.topic.replication,
      retentionMs: config.topic.retentionMs,
    });
    if (created) log.info({ topic }, `created topic ${topic.name}`);
    else if (topic.partitions !== config.topic.partitions)
      log.info(
        { topic },
        `topic ${topic.name} exists with ${topic.partitions} partitions (topic.partitions=${config.topic.partitions} applies only to a topic tweetpipe creates); used as it is`,
      );
    await ensureDlq(admin, config, log);
  });
}

/** The dead-letter topic alone (`tweetpipe sink`). */
export async function ensureDeadLetterTopic(config: Config, log: Logger): Promise<void> {
  await withAdmin(config, log, (admin) => ensureDlq(admin, config, log));
}

const RECORD_LIMITS = [
  'max.message.bytes',
  'message.timestamp.type',
  'message.timestamp.before.max.ms',
  'message.timestamp.after.max.ms',
];

async function ensureDlq(admin: Admin, config: Config, log: Logger): Promise<void> {
  // A dead letter is a record of the topic as it was: the topic's limits on record size and timestamps must admit
  // it in the DLQ too, or the sink could never send a large or oddly dated bad record.
  const configs: Record<string, string> = {};
  for (const name of RECORD_LIMITS) {
    const value = await topicConfig(admin, config.topic.name, name).catch(() => null);
    if (value !== null) configs[name] = value;
  }
  const spec: TopicSpec = {
    name: dlqTopic(config.topic.name),
    partitions: config.topic.dlqPartitions,
    replication: config.topic.replication,
    retentionMs: -1,
    configs,
  };
  const { created } = await ensureTopic(admin, spec);
  if (created) log.info({ topic: spec.name }, `created dead-letter topic ${spec.name}`);
}

async function withAdmin(config: Config, log: Logger, fn: (admin: Admin) => Promise<void>): Promise<void> {
  const conn = kafkaConnection(config, 'admin');
  const admin = createAdmin(conn);
  try {
    await retryForever(
      asKafkaRetryable(`ensuring topic ${config.topic.name}`, () => fn(admin), conn),
      {
        what: `ensuring topic ${config.topic.name} on ${config.kafka.brokers.join(',')}`,
        log,
        schedule: KAFKA_SETUP,
      },
    );
  } finally {
    await admin.close().catch(() => {});
  }
}

/**
 * The Kafka client's own errors (connection refused, broker gone, leader moving) become KAFKA errors, retryable
 * unless the broker refused: the client reports an unreachable broker as nested MultipleErrors without a syscall
 * code in the cause chain, which would otherwise look fatal and end the command instead of waiting for the broker.
 * Our own errors keep their verdict. Over TLS, a failure that looks retryable is checked with a handshake of our
 * own (`conn`): a refused client certificate reaches the client only as a closed connection.
 */
export function asKafkaRetryable<T>(
  what: string,
  fn: () => Promise<T>,
  conn?: KafkaConnection,
): () => Promise<T> {
  return async () => {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof TweetpipeError) throw err;
      const wrapped = kafkaError(what, err);
      const handshake = wrapped.retryable && conn?.tls ? await tlsHandshakeError(conn) : null;
      throw handshake && securityFailure(handshake) ? kafkaError(what, handshake) : wrapped;
    }
  };
}

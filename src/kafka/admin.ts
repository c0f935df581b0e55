/** Topic administration and cluster probes on @platformatic/kafka's Admin client. */
import { Admin, ConfigResourceTypes } from '@platformatic/kafka';
import { ADMIN_DEFAULTS } from '../config/kafka.ts';

export type { Admin };

import { TweetpipeError } from '../errors.ts';
import type { KafkaConnection } from './client-options.ts';
import { isAuthorizationFailure, kafkaError, kafkaRefusal } from './kafka-errors.ts';

export interface TopicSpec {
  name: string;
  partitions: number;
  replication: number;
  /** -1 keeps records forever. */
  retentionMs: number;
  /** Extra topic configs (cleanup.policy, ...). */
  configs?: Record<string, string>;
}

export interface TopicDescription {
  name: string;
  partitions: number;
  replication: number;
  leaders: number[];
}

export function createAdmin(conn: KafkaConnection, timeoutMs = ADMIN_DEFAULTS.requestTimeoutMs): Admin {
  return new Admin({
    ...conn,
    timeout: timeoutMs,
    connectTimeout: Math.min(timeoutMs, ADMIN_DEFAULTS.maxConnectTimeoutMs),
    retries: ADMIN_DEFAULTS.retries,
  });
}

/** Describes a topic, or null when it does not exist. */
export async function describeTopic(admin: Admin, name: string): Promise<TopicDescription | null> {
  const all = await admin.listTopics({ includeInternals: false });
  if (!all.includes(name)) return null;
  const meta = await admin.metadata({ topics: [name], forceUpdate: true, autocreateTopics: false });
  const topic = meta.topics.get(name);
  if (!topic) return null;
  return {
    name,
    partitions: topic.partitionsCount,
    replication: topic.partitions[0]?.replicas.length ?? 0,
    leaders: topic.partitions.map((p) => p.leader),
  };
}

/**
 * Creates the topic when missing; an existing topic is left as it is, whatever its partition count (adding
 * partitions would move keys, and with them the per-partition dedup guarantees).
 */
export async function ensureTopic(
  admin: Admin,
  spec: TopicSpec,
): Promise<{ created: boolean; topic: TopicDescription }> {
  const existing = await describeTopic(admin, spec.name);
  if (existing) return { created: false, topic: existing };
  try {
    await admin.createTopics({
      topics: [spec.name],
      partitions: spec.partitions,
      replicas: spec.replication,
      configs: Object.entries({ 'retention.ms': String(spec.retentionMs), ...spec.configs }).map(
        ([name, value]) => ({
          name,
          value,
        }),
      ),
    });
  } catch (err) {
    // Another process may have created it at the same moment.
    const again = await describeTopic(admin, spec.name).catch(() => null);
    if (again) return { created: false, topic: again };
    throw topicCreationError(spec, err);
  }
  // Metadata propagates asynchronously; wait until every partition has a leader.
  for (let i = 0; i < 50; i++) {
    const topic = await describeTopic(admin, spec.name);
    if (topic && topic.partitions === spec.partitions && topic.leaders.every((l) => l >= 0))
      return { created: true, topic };
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new TweetpipeError('KAFKA', `topic ${spec.name} was created but its partitions have no leader`, {
    retryable: true,
  });
}

/** One config of an existing topic (max.message.bytes, ...), or null when the broker does not say. */
export async function topicConfig(admin: Admin, topic: string, name: string): Promise<string | null> {
  const [described] = await admin.describeConfigs({
    resources: [{ resourceType: ConfigResourceTypes.TOPIC, resourceName: topic, configurationKeys: [name] }],
  });
  return described?.configs.find((c) => c.name === name)?.value ?? null;
}

/**
 * Why a topic could not be created, said so that a user can act: a permission refusal names the topic and the
 * ACL it needs (and that the topic can be created by hand instead); another refusal quotes the broker. Both are
 * final. Anything else (broker unreachable) stays retryable.
 */
function topicCreationError(spec: TopicSpec, err: unknown): TweetpipeError {
  const refusal = kafkaRefusal(err);
  if (refusal && isAuthorizationFailure(refusal))
    return new TweetpipeError(
      'KAFKA_DENIED',
      `cannot create topic ${spec.name}: the broker refused (${refusal.error}): the Kafka principal tweetpipe ` +
        `connects as lacks the CREATE permission on topic ${spec.name} (or on the cluster). Grant it ` +
        `(kafka-acls.sh --add --operation Create --topic ${spec.name} ...) or create the topic by hand ` +
        `(kafka-topics.sh --create --topic ${spec.name} --partitions ${spec.partitions} ` +
        `--replication-factor ${spec.replication})`,
      { cause: err, details: { topic: spec.name, kafkaError: refusal.error } },
    );
  return kafkaError(`cannot create topic ${spec.name}`, err);
}

/** A real Kafka metadata request: the brokers that answer, or an error. */
export async function probeBrokers(conn: KafkaConnection, timeoutMs = 3000): Promise<string[]> {
  const admin = new Admin({ ...conn, timeout: timeoutMs, connectTimeout: timeoutMs, retries: false });
  try {
    const meta = await admin.metadata({ topics: [], forceUpdate: true });
    return [...meta.brokers.values()].map((b) => `${b.host}:${b.port}`);
  } finally {
    await admin.close().catch(() => {});
  }
}

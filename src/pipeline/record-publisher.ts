/**
 * What the produce loop publishes through: the tweet producer (src/kafka/tweet-producer.ts in production, an
 * in-memory double in test/unit/pipeline/). After Benthos' output.
 *
 * Call protocol (what produce.ts does):
 * - send(records) and sendDeadLetters(letters, by) with several batches in flight at once; each resolves once Kafka
 *   acked every record of its batch (acks=all), and only then may the source's cursor cover the batch.
 * - Either may throw a TweetpipeError: the loop retries retryable ones until they work (dropping, before a re-send,
 *   what the topic's tail shows already arrived) and stops on any other.
 * - `topic` names the tweet topic (metric labels).
 * - The loop never closes the publisher: its owner (producer-service.ts) does, after the loop returned.
 */
import type { TweetProducer } from '../kafka/tweet-producer.ts';

export type RecordPublisher = Pick<TweetProducer, 'topic' | 'send' | 'sendDeadLetters'>;

/**
 * A consumer group member in its own process, for tests that freeze it (SIGSTOP): it joins `group` on `topic`
 * with a session and rebalance timeout of `timeoutMs`, prints "joined" once it owns partitions, and then stays
 * in the group until killed. A frozen member makes every rebalance of its group wait for it.
 *
 * Usage: node test/helpers/group-member.ts <topic> <group> <timeoutMs>
 */
import { BatchConsumer } from '../../src/kafka/batch-consumer.ts';
import { kafkaConnection } from '../../src/kafka/client-options.ts';
import { createLogger } from '../../src/log.ts';
import { testConfig } from './topics.ts';

const [topic, groupId, timeoutMs] = process.argv.slice(2);
if (!topic || !groupId || !timeoutMs) throw new Error('usage: group-member.ts <topic> <group> <timeoutMs>');
const consumer = new BatchConsumer(kafkaConnection(testConfig(), 'test-member'), {
  groupId,
  topic,
  log: createLogger({ level: 'warn', format: 'json' }),
  sessionTimeoutMs: Number(timeoutMs),
});
consumer.onRebalance((assigned) => {
  if (assigned.length > 0) process.stdout.write('joined\n');
});
await consumer.start();
setInterval(() => void consumer.next(1000, 100), 200);

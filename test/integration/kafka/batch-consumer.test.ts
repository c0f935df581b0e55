/**
 * BatchConsumer against the real broker: closing a member whose group is in the middle of a rebalance.
 *
 * A sink told to stop while its consumer was rejoining the group sat ~30 s in close (seen in the rebalance chaos
 * test): leaving the group queues behind the pending JoinGroup, which the broker holds until every member has
 * rejoined. Here another member of the group is frozen (SIGSTOP), so the rebalance that our member's join starts
 * waits for the frozen member's full rebalance timeout (60 s); close must not wait for it.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { BatchConsumer } from '../../../src/kafka/batch-consumer.ts';
import { kafkaConnection } from '../../../src/kafka/client-options.ts';
import { createTestTopic, deleteTopics, testConfig, uniqueTopic } from '../../helpers/topics.ts';

const topic = uniqueTopic('close');
const group = `tp-test-close-${randomUUID()}`;
const FROZEN_TIMEOUT_MS = 60_000;
const CLOSE_DEADLINE_MS = 3000;
let member: ChildProcess | undefined;

after(async () => {
  member?.kill('SIGKILL');
  await deleteTopics([topic]);
});

test('close() during a rebalance that waits for a frozen member returns after its deadline', async () => {
  const conn = kafkaConnection(testConfig(), 'test');
  await createTestTopic(topic, 2);
  const script = fileURLToPath(new URL('../../helpers/group-member.ts', import.meta.url));
  member = spawn(process.execPath, [script, topic, group, String(FROZEN_TIMEOUT_MS)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  member.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const joinedBy = Date.now() + 60_000;
  while (!out.includes('joined')) {
    assert.ok(Date.now() < joinedBy, 'the helper member did not join its group within 60 s');
    assert.equal(member.exitCode, null, 'the helper member exited');
    await sleep(100);
  }
  member.kill('SIGSTOP');

  const warnings: string[] = [];
  const consumer = new BatchConsumer(conn, {
    groupId: group,
    topic,
    log: pino({ level: 'warn' }, { write: (line: string) => void warnings.push(line) }),
    sessionTimeoutMs: 10_000,
    closeDeadlineMs: CLOSE_DEADLINE_MS,
  });
  let started = false;
  const starting = consumer.start().then(
    () => {
      started = true;
    },
    () => {},
  );
  await sleep(3000);
  // The join is still pending: the group waits for the frozen member.
  assert.equal(
    started,
    false,
    'the join finished although another member was frozen: the scenario did not happen',
  );

  const t0 = performance.now();
  await consumer.close();
  const closeMs = performance.now() - t0;
  // Without the deadline, close waited for the rebalance (the frozen member's 60 s) or the 30 s request timeout.
  assert.ok(closeMs < 20_000, `close took ${Math.round(closeMs)} ms`);
  assert.ok(
    warnings.some((w) => w.includes('leaving the consumer group did not finish in time')),
    `no deadline warning in ${JSON.stringify(warnings)}`,
  );
  await Promise.race([starting, sleep(1000)]);
  member.kill('SIGKILL');
  await once(member, 'exit');
  member = undefined;
});

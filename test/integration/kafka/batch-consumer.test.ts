/**
 * BatchConsumer against the real broker: closing a member whose group is in the middle of a rebalance.
 *
 * A sink told to stop while its consumer was rejoining the group sat ~30 s in close (seen in the rebalance chaos
 * test): leaving the group queues behind the pending JoinGroup, which the broker holds until every member has
 * rejoined. Here another member of the group is frozen (SIGSTOP), so the rebalance that our member's join starts
 * waits for the frozen member's full rebalance timeout (60 s); close must not wait for it. Closing the
 * connections under a pending rejoin makes the client emit 'error' on the consumer, which, unheard, took the
 * whole sink worker down (seen in the same chaos test).
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

const topics: string[] = [];
const FROZEN_TIMEOUT_MS = 60_000;
const CLOSE_DEADLINE_MS = 3000;
let member: ChildProcess | undefined;

after(async () => {
  member?.kill('SIGKILL');
  await deleteTopics(topics);
});

/** A fresh 2-partition topic and group, with the helper member (not yet frozen) owning partitions of it. */
async function groupWithMember(
  name: string,
): Promise<{ topic: string; group: string; member: ChildProcess }> {
  const topic = uniqueTopic(name);
  topics.push(topic);
  const group = `tp-test-${name}-${randomUUID()}`;
  await createTestTopic(topic, 2);
  const script = fileURLToPath(new URL('../../helpers/group-member.ts', import.meta.url));
  const spawned = spawn(process.execPath, [script, topic, group, String(FROZEN_TIMEOUT_MS)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  member = spawned;
  let out = '';
  spawned.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const joinedBy = Date.now() + 60_000;
  while (!out.includes('joined')) {
    assert.ok(Date.now() < joinedBy, 'the helper member did not join its group within 60 s');
    assert.equal(spawned.exitCode, null, 'the helper member exited');
    await sleep(100);
  }
  return { topic, group, member: spawned };
}

async function killMember(spawned: ChildProcess): Promise<void> {
  spawned.kill('SIGKILL');
  await once(spawned, 'exit');
  member = undefined;
}

function consumerOf(
  topic: string,
  group: string,
  warnings: string[],
  sessionTimeoutMs: number,
): BatchConsumer {
  return new BatchConsumer(kafkaConnection(testConfig(), 'test'), {
    groupId: group,
    topic,
    log: pino({ level: 'warn' }, { write: (line: string) => void warnings.push(line) }),
    sessionTimeoutMs,
    closeDeadlineMs: CLOSE_DEADLINE_MS,
  });
}

test('close() during a rebalance that waits for a frozen member returns after its deadline', async () => {
  const { topic, group, member: frozen } = await groupWithMember('close');
  frozen.kill('SIGSTOP');

  const warnings: string[] = [];
  const consumer = consumerOf(topic, group, warnings, 10_000);
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
  await killMember(frozen);
});

test('close() while the member rejoins a rebalance: the failed rejoin is no uncaught error', async () => {
  const { topic, group, member: frozen } = await groupWithMember('close-rejoin');
  const uncaught: Error[] = [];
  const record = (err: Error) => void uncaught.push(err);
  process.on('uncaughtException', record);
  try {
    const warnings: string[] = [];
    // A member of the group (the helper member, alive, rejoins for it), heartbeating every 2 s.
    const consumer = consumerOf(topic, group, warnings, 6000);
    let owned = 0;
    consumer.onRebalance((assigned) => {
      owned = assigned.length;
    });
    await consumer.start();
    const joinedBy = Date.now() + 60_000;
    while (owned === 0) {
      assert.ok(Date.now() < joinedBy, 'our member owned no partition within 60 s');
      await sleep(100);
    }
    // The helper member freezes; a third member's join starts a rebalance that waits for it. Our member learns of
    // the rebalance from its next heartbeat and rejoins: that JoinGroup is pending when close() runs.
    frozen.kill('SIGSTOP');
    const third = consumerOf(topic, group, [], 6000);
    const thirdStarting = third.start().catch(() => {});
    await sleep(5000);
    await consumer.close();
    assert.ok(
      warnings.some((w) => w.includes('leaving the consumer group did not finish in time')),
      `close did not wait for a pending rejoin, so the scenario did not happen: ${JSON.stringify(warnings)}`,
    );
    await sleep(1000);
    assert.deepEqual(
      uncaught.map((e) => e.message),
      [],
    );
    await third.close();
    await Promise.race([thirdStarting, sleep(1000)]);
  } finally {
    process.off('uncaughtException', record);
    await killMember(frozen);
  }
});

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import { isAlive } from '../../../src/stack/process.ts';

test('isAlive: a running process is alive, an exited one not reaped yet (a zombie) is not', () => {
  const child = spawn('sleep', ['0.2']);
  const pid = child.pid!;
  assert.equal(isAlive(pid), true);
  // Keep the event loop busy so Node cannot reap the child: it stays a zombie meanwhile.
  const until = Date.now() + 700;
  while (Date.now() < until) {}
  assert.equal(isAlive(pid), false);
  assert.equal(isAlive(process.pid), true);
});

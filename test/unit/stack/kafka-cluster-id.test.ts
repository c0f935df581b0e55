import assert from 'node:assert/strict';
import { test } from 'node:test';
import { newClusterId } from '../../../src/stack/kafka-server.ts';

test('KRaft cluster ids are 22 base64url characters and never start with "-" (the storage tool takes that for an option)', () => {
  // 1 random id in 64 starts with '-': among 5,000 draws, one would almost surely (1 - (63/64)^5000) without the rule.
  const ids = Array.from({ length: 5000 }, newClusterId);
  for (const id of ids) assert.match(id, /^[A-Za-z0-9_][A-Za-z0-9_-]{21}$/);
  assert.equal(new Set(ids).size, ids.length);
});

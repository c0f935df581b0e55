import assert from 'node:assert/strict';
import { test } from 'node:test';
import { murmur2 as libraryMurmur2 } from '@platformatic/kafka';
import { keyPartition, murmur2 } from '../../../src/kafka/key-partitioner.ts';

test('murmur2 equals the client library’s for tweet ids and keys of every length mod 4', () => {
  const keys: Buffer[] = [Buffer.alloc(0)];
  for (let len = 1; len <= 40; len++)
    keys.push(Buffer.from(Array.from({ length: len }, (_, i) => (i * 37 + len * 11) & 0xff)));
  for (let i = 0; i < 2000; i++)
    keys.push(Buffer.from(String(1_998_000_000_000_000_000n + BigInt(i) * 7_919n)));
  keys.push(Buffer.from([0xff, 0xff, 0xff, 0xff, 0x80]), Buffer.from('ünïcödé'));
  for (const key of keys) assert.equal(murmur2(key), libraryMurmur2(key), `key ${key.toString('hex')}`);
});

test('keyPartition is the default partitioner’s number: murmur2 as unsigned, 0 without a key', () => {
  const key = Buffer.from('1864000000000000123');
  assert.equal(keyPartition({}, key), libraryMurmur2(key) >>> 0);
  assert.equal(keyPartition({}, undefined), 0);
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compactJson } from '../../../src/sink/json-compact.ts';
import { tweetDoc } from './fixtures.ts';

const compact = (text: string): string => compactJson(Buffer.from(text)).toString();

test('pretty-printed JSON becomes the compact text of the same document', () => {
  const doc = tweetDoc(3);
  assert.equal(compact(JSON.stringify(doc, null, 2)), JSON.stringify(doc));
  assert.equal(compact(JSON.stringify(doc, null, '\t').replaceAll('\n', '\r\n')), JSON.stringify(doc));
});

test('every token stays byte for byte: big integers, number spellings, repeated keys, escapes', () => {
  const pretty = '{\n  "id" : "1",\n  "n": 12345678901234567890,\n  "f": 1.0, "e": 1E+2,\n  "id": "2"\n}';
  assert.equal(compact(pretty), '{"id":"1","n":12345678901234567890,"f":1.0,"e":1E+2,"id":"2"}');
  // Whitespace inside strings is data; an escaped quote or backslash does not end the string.
  const strings = '[ "a b\\t", "q\\" x", "back\\\\", " 日本 🎸 " ]';
  assert.equal(compact(strings), '["a b\\t","q\\" x","back\\\\"," 日本 🎸 "]');
  assert.deepEqual(JSON.parse(compact(strings)), JSON.parse(strings));
});

test('10,000 levels of nesting are compacted without recursion', () => {
  const deep = `{"id":"1","x":\n${'[\n'.repeat(10_000)}${']\n'.repeat(10_000)}}`;
  assert.equal(compact(deep), `{"id":"1","x":${'['.repeat(10_000)}${']'.repeat(10_000)}}`);
});

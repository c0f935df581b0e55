/**
 * The byte-level member reader against JSON.parse as the oracle: for every document, each recorded member reads
 * as the parsed document's property does (whitespace, escapes, repeated keys, brackets inside strings, values of
 * unexpected kinds, members nested in skipped values).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ByteListColumn } from '../../../../src/sink/formats/byte-column.ts';
import {
  ABSENT,
  ARRAY,
  FALSE,
  type FieldNode,
  FieldTreeBuilder,
  NULL,
  NUMBER,
  OBJECT,
  STRING,
  TRUE,
  TweetFieldReader,
} from '../../../../src/sink/formats/tweet-fields.ts';

const tree = new FieldTreeBuilder();
const leaves = { a: tree.leaf(), n: tree.leaf(), t: tree.leaf() };
const inner = { x: tree.leaf(), deep: tree.object({ y: tree.leaf() }) };
const element = { type: tree.leaf(), id: tree.leaf() };
const picks = { tags: tree.pick('tag'), urls: tree.pick('expanded_url', 'url') };
const root = tree.object({
  ...leaves,
  o: tree.object(inner),
  first: tree.first(tree.object(element)),
  ...picks,
});
const reader = new TweetFieldReader(root, tree);

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

function kindOf(v: unknown): number {
  if (v === undefined) return ABSENT;
  if (typeof v === 'string') return STRING;
  if (typeof v === 'number') return NUMBER;
  if (v === true) return TRUE;
  if (v === false) return FALSE;
  if (v === null) return NULL;
  return Array.isArray(v) ? ARRAY : OBJECT;
}

/** What a leaf must read as, given the parsed value at its path. */
function assertLeaf(node: FieldNode, v: unknown, path: string): void {
  assert.equal(reader.kind(node), kindOf(v), `kind of ${path}`);
  assert.equal(reader.string(node), typeof v === 'string' ? v : null, `string of ${path}`);
  assert.deepEqual(reader.number(node), typeof v === 'number' ? v : Number.NaN, `number of ${path}`);
  assert.deepEqual(
    reader.stringMillis(node),
    typeof v === 'string' ? Date.parse(v) : Number.NaN,
    `time of ${path}`,
  );
}

/** The strings the reader collected for a `pick` node, through the column the Parquet builder uses. */
function listOf(node: FieldNode): string[] {
  const column = new ByteListColumn();
  reader.listInto(node, column);
  return column.values()[0]!.map((bytes) => Buffer.from(bytes).toString('utf8'));
}

/** pluck: from each object element, the first of `keys` whose value is a string. */
function pluck(list: unknown, keys: string[]): string[] {
  if (!Array.isArray(list)) return [];
  return list.flatMap((item) => {
    if (!isObject(item)) return [];
    const key = keys.find((k) => typeof item[k] === 'string');
    return key === undefined ? [] : [item[key] as string];
  });
}

function assertMatchesJsonParse(text: string): void {
  const doc = JSON.parse(text) as Json;
  reader.read(Buffer.from(text));
  for (const [name, node] of Object.entries(leaves)) assertLeaf(node, doc[name], name);
  const o = isObject(doc.o) ? doc.o : {};
  assertLeaf(inner.x, o.x, 'o.x');
  assertLeaf(inner.deep.members.y!, isObject(o.deep) ? o.deep.y : undefined, 'o.deep.y');
  const first = Array.isArray(doc.first) && isObject(doc.first[0]) ? doc.first[0] : {};
  assertLeaf(element.type, first.type, 'first[0].type');
  assertLeaf(element.id, first.id, 'first[0].id');
  assert.deepEqual(listOf(picks.tags), pluck(doc.tags, ['tag']), 'tags');
  assert.deepEqual(listOf(picks.urls), pluck(doc.urls, ['expanded_url', 'url']), 'urls');
}

const DOCS: Json[] = [
  {},
  {
    a: 'plain',
    n: 42,
    t: true,
    o: { x: 'in', deep: { y: 7 } },
    first: [{ type: 't', id: '1' }, { id: '2' }],
  },
  { a: null, n: -1.5e-3, t: false, o: null, first: [], tags: [] },
  { t: [1, [2, { t: 'not me' }]], o: [{ x: 'in an array' }] },
  { a: 'brackets ] } [ { and "quotes" and \\ and / in a string', n: 0, o: { deep: 'not an object', x: {} } },
  { a: 'é 🎸 \u0000 \u2028 \ud83c', first: ['not an object', { type: 'second' }], tags: 'not a list' },
  {
    skipped: { o: { x: 'nested o is not the top-level o' }, a: ['x'] },
    tags: [{ tag: 'one' }, { tag: 2 }, null, 'x', [], { other: 'y' }, { tag: 'two', more: { tag: 'no' } }],
    urls: [{ url: 'u1' }, { url: 'u2', expanded_url: 'e2' }, { expanded_url: null, url: 'u3' }, { url: 1 }],
  },
];

/** Repeated keys, escaped keys and whitespace that JSON.stringify never writes. */
const RAW = [
  '{"a":"first","a":"last","o":{"x":"kept?"},"o":{"deep":{"y":1}},"n":1,"n":"now a string"}',
  '{"\\u0061":"escaped key","o":{"\\u0078":"escaped x","\\"quoted\\"":1},"t":"\\"\\\\\\/\\b\\f\\n\\r\\t"}',
  ' \n\t{ "a" : "spaced" , "o" : { "x" : [ 1 , 2 ] , "deep" : { } } , "first" : [ { "type" : "t" } , 3 ] } \r\n',
  '{"tags":[{"tag":"a","tag":1},{"tag":1,"tag":"b"}],"urls":[{"expanded_url":"e","expanded_url":{}}]}',
  '{"first":[{"type":"x"}],"first":"replaced","tags":[{"tag":"gone"}],"tags":null}',
  '{"n":-0,"t":1E+2,"a":0.1e-2,"o":{"x":1e400}}',
  '{"a":12345678901234567890,"n":9007199254740993,"t":123456789012345}',
  '{"a":"2026-11-25T06:00:00.000Z","t":"2026-11-25T06:00:00Z","o":{"x":"2026-02-30T24:00:00Z"},"n":"\\u0032026-11-25T06:00:00Z"}',
];

describe('TweetFieldReader', () => {
  test('reads every recorded member as JSON.parse does', () => {
    for (const doc of DOCS) {
      assertMatchesJsonParse(JSON.stringify(doc));
      assertMatchesJsonParse(JSON.stringify(doc, null, 2));
    }
    for (const text of RAW) assertMatchesJsonParse(text);
  });

  test('a record forgets everything the previous one recorded', () => {
    assertMatchesJsonParse(JSON.stringify(DOCS[1]));
    assertMatchesJsonParse('{"n":3}');
    assertMatchesJsonParse(JSON.stringify(DOCS[6]));
    assertMatchesJsonParse('{}');
  });
});

test('the walk ends on truncated input too (it is for validated values, but never loops)', () => {
  for (const text of [
    '{"a":"unterminated',
    '{"o":{"x":[1,{"y":"',
    '{"tags":[{"tag":"t"',
    '{"first":[{"type":',
  ])
    reader.read(Buffer.from(text));
});

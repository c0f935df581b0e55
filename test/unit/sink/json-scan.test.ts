import assert from 'node:assert/strict';
import { isUtf8 } from 'node:buffer';
import { describe, test } from 'node:test';
import { createFormat } from '../../../src/sink/formats/index.ts';
import { type JsonKind, scanJson } from '../../../src/sink/json-scan.ts';
import { type Classified, classify } from '../../../src/sink/sink-record.ts';
import { SyntheticTweets } from '../../../src/sources/synthetic-payloads.ts';
import { toTweetRecords } from '../../../src/sources/tweet-record.ts';
import type { KafkaRecord } from '../../../src/types.ts';
import { kafkaRecord, tweetRecords } from './fixtures.ts';

interface Verdict {
  kind: JsonKind;
  id: string | undefined;
  createdAt: string | undefined;
}

const scanned = (bytes: Buffer): Verdict => {
  const { kind, id, createdAt } = scanJson(bytes);
  return { kind, id, createdAt };
};

/** The oracle: what JSON.parse of the decoded text says. */
function parsed(bytes: Buffer): Verdict {
  let v: unknown;
  try {
    v = JSON.parse(bytes.toString('utf8'));
  } catch {
    return { kind: 'invalid', id: undefined, createdAt: undefined };
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v))
    return { kind: 'other', id: undefined, createdAt: undefined };
  const o = v as Record<string, unknown>;
  return {
    kind: 'object',
    id: typeof o.id === 'string' ? o.id : undefined,
    createdAt: typeof o.created_at === 'string' ? o.created_at : undefined,
  };
}

/** classify() as it was before the scanner (JSON.parse of every value): the reference for semantics and speed. */
function classifyWithJsonParse(record: KafkaRecord): Classified {
  const { value } = record;
  if (value === null || value.length === 0) return { ok: false, reason: 'value is empty' };
  if (!isUtf8(value)) return { ok: false, reason: 'value is not valid UTF-8' };
  let doc: unknown;
  try {
    doc = JSON.parse(value.toString('utf8'));
  } catch (err) {
    return { ok: false, reason: `value is not JSON: ${(err as Error).message}` };
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc))
    return { ok: false, reason: 'value is not a JSON object' };
  const obj = doc as Record<string, unknown>;
  if (typeof obj.id !== 'string' || obj.id === '') return { ok: false, reason: 'no string id: ...' };
  let timestampMs = record.timestamp;
  const usable = (ms: number) => Number.isFinite(ms) && ms > 0 && ms <= 253_402_300_799_999;
  if (!usable(timestampMs)) {
    timestampMs = typeof obj.created_at === 'string' ? Date.parse(obj.created_at) : Number.NaN;
    if (!usable(timestampMs)) return { ok: false, reason: 'no usable timestamp: ...' };
  }
  return { ok: true, record: { ...record, timestampMs, value, doc: obj } };
}

/** What must agree between the two classify versions: the verdict, the reason's kind and the timestamp. */
const outcome = (c: Classified) =>
  c.ok ? { ok: true, timestampMs: c.record.timestampMs } : { ok: false, reason: c.reason.split(':')[0] };

/** mulberry32, so the fuzz is the same on every run. */
function seeded(seed: number): (n: number) => number {
  let a = seed >>> 0;
  return (n) => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * n);
  };
}

/** Real record values: synthetic X stream lines through the producer's record mapper. */
function tweetValues(count: number, seed: number): Buffer[] {
  const g = new SyntheticTweets({ seed });
  const ctx = { source: 'synthetic', ingestedAtMs: Date.UTC(2026, 10, 25, 7, 0, 0) };
  const out: Buffer[] = [];
  while (out.length < count) {
    for (const r of toTweetRecords(g.nextStreamLine([{ id: '1', tag: 'music' }]), ctx).records)
      out.push(r.value);
  }
  return out.slice(0, count);
}

// [json text, what JSON.parse makes of it, and for objects the id / created_at it sees]
const CASES: [string, JsonKind, string?, string?][] = [
  // objects, whitespace, members
  ['{}', 'object'],
  [' \t\n\r{ \t\n\r} \t\n\r', 'object'],
  ['{"id":"1"}', 'object', '1'],
  ['{ "id" : "2" , "created_at" : "2026-11-25T06:00:00.000Z" }', 'object', '2', '2026-11-25T06:00:00.000Z'],
  ['{"created_at":"x","id":"3"}', 'object', '3', 'x'],
  ['{"id":""}', 'object', ''],
  ['{"id":"1","id":"2"}', 'object', '2'],
  ['{"id":"1","id":2}', 'object'],
  ['{"id":2,"id":"3"}', 'object', '3'],
  ['{"id":"1","id":{"id":"4"}}', 'object'],
  ['{"id":"1","id":["5"]}', 'object'],
  ['{"id":"1","id":null}', 'object'],
  ['{"id":true}', 'object'],
  ['{"created_at":"a","created_at":0}', 'object'],
  ['{"a":{"id":"9","created_at":"y"}}', 'object'],
  ['{"a":[{"id":"9"}],"b":{"c":{"id":"8"}}}', 'object'],
  ['{"ID":"1","id ":"2"," id":"3","idx":"4","i":"5","created":"6","created_at_":"7"}', 'object'],
  ['{"\\u0069d":"6","created\\u005fat":"t"}', 'object', '6', 't'],
  ['{"\\u0069\\u0064":"7"}', 'object', '7'],
  ['{"i\\d":"7"}', 'invalid'],
  ['{"id\\u0000":"7"}', 'object'],
  ['{"\\u0049d":"7"}', 'object'],
  ['{"id":"12","created_at":"\\u0032\\u0030\\u0032\\u0036"}', 'object', '12', '2026'],
  // strings and escapes
  ['{"id":"\\u0031\\u0032"}', 'object', '12'],
  ['{"id":"a\\"b\\\\c\\/d\\b\\f\\n\\r\\te"}', 'object', 'a"b\\c/d\b\f\n\r\te'],
  ['{"id":"\\u00e9\\u00E9\\uABCD\\uabcd"}', 'object', 'ééꯍꯍ'],
  ['{"id":"\\ud83d\\ude00"}', 'object', '😀'],
  ['{"id":"\\ud83d"}', 'object', '\ud83d'],
  ['{"id":"\\ude00\\ud83d"}', 'object', '\ude00\ud83d'],
  ['{"id":"😀 é ü 中 \u2028\u2029"}', 'object', '😀 é ü 中 \u2028\u2029'],
  ['{"id":"\x7f"}', 'object', '\x7f'],
  ['{"a":"\\x41"}', 'invalid'],
  ['{"a":"\\a"}', 'invalid'],
  ['{"a":"\\u12"}', 'invalid'],
  ['{"a":"\\u12G4"}', 'invalid'],
  ['{"a":"\\U0041"}', 'invalid'],
  ['{"a":"\\"}', 'invalid'],
  ['{"a":"\\', 'invalid'],
  ['{"a":"\t"}', 'invalid'],
  ['{"a":"\n"}', 'invalid'],
  ['{"a":"\x00"}', 'invalid'],
  ['{"a":"\x1f"}', 'invalid'],
  ['{"a":"abc}', 'invalid'],
  ["{'a':1}", 'invalid'],
  ['{a:1}', 'invalid'],
  // numbers
  ['{"a":0,"b":-0,"c":1.5,"d":-1.5e10,"e":1E+2,"f":1e-2,"g":0.0e0,"h":10,"i":-123}', 'object'],
  ['{"a":123456789012345678901234567890,"b":1e400,"c":-1e-400}', 'object'],
  ['{"a":01}', 'invalid'],
  ['{"a":00}', 'invalid'],
  ['{"a":-01}', 'invalid'],
  ['{"a":-}', 'invalid'],
  ['{"a":1.}', 'invalid'],
  ['{"a":.5}', 'invalid'],
  ['{"a":1.e5}', 'invalid'],
  ['{"a":1e}', 'invalid'],
  ['{"a":1e+}', 'invalid'],
  ['{"a":1e-}', 'invalid'],
  ['{"a":+1}', 'invalid'],
  ['{"a":0x10}', 'invalid'],
  ['{"a":NaN}', 'invalid'],
  ['{"a":Infinity}', 'invalid'],
  ['{"a":-Infinity}', 'invalid'],
  ['{"a":1 2}', 'invalid'],
  ['{"a":- 1}', 'invalid'],
  // literals
  ['{"a":true,"b":false,"c":null}', 'object'],
  ['{"a":tru}', 'invalid'],
  ['{"a":truee}', 'invalid'],
  ['{"a":nul}', 'invalid'],
  ['{"a":True}', 'invalid'],
  ['{"a":undefined}', 'invalid'],
  // structure
  ['{"a":[],"b":{},"c":[[]],"d":[{}],"e":[1,"x",true,null,{"f":[]}]}', 'object'],
  ['{"a":[[[[{"b":{"c":[[{}]]}}]]]],"id":"d"}', 'object', 'd'],
  ['', 'invalid'],
  [' \n', 'invalid'],
  ['{', 'invalid'],
  ['}', 'invalid'],
  ['{"a"}', 'invalid'],
  ['{"a":}', 'invalid'],
  ['{"a" 1}', 'invalid'],
  ['{"a":1,}', 'invalid'],
  ['{,}', 'invalid'],
  ['{,"a":1}', 'invalid'],
  ['{"a":1,,"b":2}', 'invalid'],
  ['{"a":1 "b":2}', 'invalid'],
  ['{"a":[1,]}', 'invalid'],
  ['{"a":[,1]}', 'invalid'],
  ['{"a":[1}', 'invalid'],
  ['{"a":{]}', 'invalid'],
  ['{"a":1]', 'invalid'],
  ['{1:2}', 'invalid'],
  ['{"a":1}}', 'invalid'],
  ['{"a":1} x', 'invalid'],
  ['{}{}', 'invalid'],
  ['{} ,', 'invalid'],
  ['{}\0', 'invalid'],
  ['\ufeff{}', 'invalid'],
  ['{}\u00a0', 'invalid'],
  ['{}\v', 'invalid'],
  ['\f{}', 'invalid'],
  ['{"a":[[[[[', 'invalid'],
  ['not json', 'invalid'],
  // other top-level values
  ['[]', 'other'],
  ['[{"id":"1","created_at":"x"}]', 'other'],
  ['"{\\"id\\":\\"1\\"}"', 'other'],
  ['"unterminated', 'invalid'],
  ['0', 'other'],
  [' -0.5e3 ', 'other'],
  ['true', 'other'],
  ['null', 'other'],
  ['nulll', 'invalid'],
  ['[1,2', 'invalid'],
];

describe('scanJson', () => {
  test('agrees with JSON.parse on every grammar corner of the table', () => {
    for (const [text, kind, id, createdAt] of CASES) {
      const bytes = Buffer.from(text);
      const expected: Verdict = { kind, id, createdAt };
      assert.deepEqual(parsed(bytes), expected, `the table is wrong about ${JSON.stringify(text)}`);
      assert.deepEqual(scanned(bytes), expected, JSON.stringify(text));
      assert.equal(scanJson(bytes).hasId, id !== undefined && id !== '', `hasId of ${JSON.stringify(text)}`);
    }
  });

  test('reports the offset where the grammar broke', () => {
    const offset = (text: string) => scanJson(Buffer.from(text)).errorOffset;
    assert.equal(offset('{"a":01}'), 6);
    assert.equal(offset('{"a":1,}'), 7);
    assert.equal(offset('{"a":"\\x"}'), 7);
    assert.equal(offset('{"a":"\n"}'), 6);
    assert.equal(offset('{"a":1} x'), 8);
    assert.equal(offset('{"a":'), 5, 'the length when the input ends early');
    assert.equal(offset(''), 0);
  });

  test('nesting is unlimited, like JSON.parse, and a deep document does not disturb the next scan', () => {
    const depth = 100_000;
    const deep = Buffer.from(`{"a":${'['.repeat(depth)}${']'.repeat(depth)},"id":"1"}`);
    assert.deepEqual(scanned(deep), { kind: 'object', id: '1', createdAt: undefined });
    const unbalanced = Buffer.from(`{"a":${'[{"b":'.repeat(depth)}1${'}]'.repeat(depth - 1)}}`);
    assert.equal(parsed(unbalanced).kind, 'invalid');
    assert.equal(scanJson(unbalanced).kind, 'invalid');
    assert.deepEqual(scanned(Buffer.from('{"x":[{}],"id":"2"}')), {
      kind: 'object',
      id: '2',
      createdAt: undefined,
    });
  });

  test('fuzz: 20,000 mutated real tweet values get the verdict, id and created_at that JSON.parse gives', (t) => {
    const bases = tweetValues(200, 7);
    const rnd = seeded(0x5eed);
    // Bytes that matter to the grammar, plus arbitrary ones; multi-byte characters go in whole (the sink
    // rejects invalid UTF-8 before scanning, so such cases say nothing and are skipped below).
    const alphabet = [
      ...'{}[]":,\\/u0123456789-+.eEtfnrlsa \t\n\rxA',
      '\x00',
      '\x1f',
      '\x7f',
      'é',
      '😀',
      '\u2028',
    ].map((s) => Buffer.from(s));
    // Members spliced in at top level, so repeated and escaped keys and non-string values are exercised.
    const members = [
      '"id":"5"',
      '"id":5',
      '"id":null',
      '"id":{"id":"6"}',
      '"\\u0069d":"7"',
      '"id":"\\u0038"',
      '"created_at":null',
      '"created_at":"2026-01-01T00:00:00Z"',
      '"created\\u005fat":"2027-01-01T00:00:00Z"',
    ].map((s) => Buffer.from(s));
    const mutate = (base: Buffer): Buffer => {
      let b = base;
      for (let m = 1 + rnd(3); m > 0; m--) {
        // Half the edits land in the leading bytes, where the record mapper puts id and created_at.
        const at = rnd(2) === 0 ? rnd(Math.min(b.length, 80)) : rnd(b.length);
        const pick = alphabet[rnd(alphabet.length)] as Buffer;
        const op = rnd(7);
        if (op <= 1) b = Buffer.concat([b.subarray(0, at), pick, b.subarray(at + pick.length)]);
        else if (op === 2) b = Buffer.concat([b.subarray(0, at), pick, b.subarray(at)]);
        else if (op === 3) b = Buffer.concat([b.subarray(0, at), b.subarray(at + 1 + rnd(3))]);
        else if (op === 4) {
          b = Buffer.from(b);
          b[at] = (b[at] as number) ^ (1 << rnd(7));
        } else {
          const member = members[rnd(members.length)] as Buffer;
          b =
            op === 5
              ? Buffer.concat([b.subarray(0, 1), member, Buffer.from(','), b.subarray(1)])
              : Buffer.concat([
                  b.subarray(0, b.length - 1),
                  Buffer.from(','),
                  member,
                  b.subarray(b.length - 1),
                ]);
        }
      }
      return b;
    };
    const cases = 20_000;
    const mismatches: string[] = [];
    const kinds = { object: 0, other: 0, invalid: 0 };
    let withId = 0;
    let tried = 0;
    for (let n = 0; n < cases; tried++) {
      const bytes = mutate(bases[rnd(bases.length)] as Buffer);
      if (!isUtf8(bytes)) continue;
      n++;
      const expected = parsed(bytes);
      kinds[expected.kind]++;
      if (expected.id !== undefined) withId++;
      const actual = scanned(bytes);
      // A timestamp of 0 is unusable, so classify also has to take created_at from the value.
      const record = kafkaRecord(n, bytes, { timestamp: n % 2 === 0 ? 0 : 1_700_000_000_000 });
      const same =
        JSON.stringify(actual) === JSON.stringify(expected) &&
        JSON.stringify(outcome(classify(record))) === JSON.stringify(outcome(classifyWithJsonParse(record)));
      if (!same && mismatches.length < 5)
        mismatches.push(
          `${bytes.toString()}\n  scan ${JSON.stringify(actual)}\n  JSON.parse ${JSON.stringify(expected)}`,
        );
    }
    t.diagnostic(
      `${cases} cases (${tried - cases} invalid UTF-8 skipped): ${kinds.object} objects (${withId} with a string id), ` +
        `${kinds.other} other values, ${kinds.invalid} invalid`,
    );
    assert.deepEqual(mismatches, []);
    // The fuzz must reach both sides of every decision to mean anything.
    assert.ok(kinds.object > cases / 10 && kinds.invalid > cases / 10, JSON.stringify(kinds));
    assert.ok(withId > cases / 20 && withId < kinds.object, `${withId} objects with a string id`);
  });
});

describe('classify', () => {
  const record = (value: string, timestamp = 1_700_000_000_000) => kafkaRecord(1, value, { timestamp });

  test('poison reasons: not JSON (saying where), not an object, what is wrong with the id or with both timestamps', () => {
    const reason = (c: Classified) => (c.ok ? 'ok' : c.reason);
    assert.equal(reason(classify(record('not json'))), "value is not JSON: unexpected 'o' at byte 1");
    assert.equal(reason(classify(record('{"id":"1"'))), 'value is not JSON: unexpected end of input');
    assert.equal(
      reason(classify(record('{"id":"1\t"}'))),
      'value is not JSON: unexpected byte 0x09 at byte 8',
    );
    assert.equal(reason(classify(record('[{"id":"1"}]'))), 'value is not a JSON object');
    const expected = 'expected the tweet id as a JSON string such as "1851234567890123456"';
    assert.equal(
      reason(classify(record('{"id":12345678901234567890}'))),
      `no string id: id is a JSON number, which loses digits above 2^53; ${expected}`,
    );
    assert.equal(reason(classify(record('{"id":""}'))), 'no string id: id is an empty string');
    assert.equal(reason(classify(record('{"id":"1","id":null}'))), `no string id: id is null; ${expected}`);
    assert.equal(reason(classify(record('{"id":["1"]}'))), `no string id: id is an array; ${expected}`);
    assert.equal(
      reason(classify(record('{"user":{"id":"1"}}'))),
      `no string id: the value has no top-level "id"; ${expected}`,
    );
    assert.equal(
      reason(classify(record('{"id":"1","created_at":"soon"}', 0))),
      'no usable timestamp: the record timestamp is missing and created_at is "soon", not an ISO 8601 time',
    );
    assert.equal(
      reason(classify(record('{"id":"1","created_at":"0001-01-01T00:00:00Z"}', -1))),
      'no usable timestamp: the record timestamp is missing and created_at is "0001-01-01T00:00:00Z", outside 1970..9999',
    );
    assert.equal(
      reason(classify(record('{"id":"1","created_at":1700000000000}', 9e15))),
      'no usable timestamp: the record timestamp is 9000000000000000 ms, outside 1970..9999 and created_at is missing or not a string',
    );
    assert.equal(
      reason(classify(kafkaRecord(1, Buffer.from([0x7b, 0xff, 0x7d])))),
      'value is not valid UTF-8',
    );
    const c = classify(
      record('{"id":"1","created_at":"2026-11-25T06:00:00Z","created_at":"2026-11-25T07:00:00Z"}', 0),
    );
    assert.ok(c.ok);
    assert.equal(c.record.timestampMs, Date.parse('2026-11-25T07:00:00Z'), 'the last created_at wins');
  });

  test('the document is parsed only when read, once; writing JSONL never parses it', async (t) => {
    const records = tweetRecords(0, 50).map((r) => {
      const c = classify(r);
      assert.ok(c.ok);
      return c.record;
    });
    const parse = t.mock.method(JSON, 'parse');
    const encoder = createFormat('jsonl', { flushBytes: 1 << 20 }).open();
    for (const r of records) encoder.write(r);
    await encoder.finish();
    assert.equal(parse.mock.callCount(), 0);
    const first = records[0]!;
    const doc = first.doc;
    assert.equal(parse.mock.callCount(), 1);
    assert.equal(first.doc, doc, 'cached: the same object on every read');
    assert.equal(parse.mock.callCount(), 1);
    assert.deepEqual(doc, JSON.parse(first.value.toString('utf8')));
  });

  test('speed of classify, JSON.parse then vs scanner now, on 20,000 real values (reported, not asserted)', (t) => {
    const records = tweetValues(20_000, 3).map((v, i) => kafkaRecord(i, v, { timestamp: 1_700_000_000_000 }));
    const cpuUsPerRecord = (run: (r: KafkaRecord) => unknown): number => {
      let best = Number.POSITIVE_INFINITY;
      for (let round = 0; round < 3; round++) {
        const start = process.cpuUsage();
        for (const r of records) run(r);
        const used = process.cpuUsage(start);
        best = Math.min(best, (used.user + used.system) / records.length);
      }
      return best;
    };
    const before = cpuUsPerRecord(classifyWithJsonParse);
    const now = cpuUsPerRecord(classify);
    const nowWithDoc = cpuUsPerRecord((r) => {
      const c = classify(r);
      return c.ok && c.record.doc;
    });
    const bytes = records.reduce((sum, r) => sum + (r.value?.length ?? 0), 0) / records.length;
    t.diagnostic(
      `classify CPU per ${Math.round(bytes)}-byte record (best of 3 rounds): JSON.parse ${before.toFixed(2)} us, ` +
        `scanner ${now.toFixed(2)} us (${(before / now).toFixed(1)}x); scanner + doc read (parquet, field ` +
        `partitioning) ${nowWithDoc.toFixed(2)} us`,
    );
    assert.ok(
      records.every((r) => classify(r).ok),
      'every real value is accepted',
    );
  });
});

import assert from 'node:assert/strict';
import { isUtf8 } from 'node:buffer';
import { describe, test } from 'node:test';
import { createFormat } from '../../../src/sink/formats/index.ts';
import { type JsonKind, scanJson } from '../../../src/sink/json-scan.ts';
import { type Classified, classify } from '../../../src/sink/sink-record.ts';
import type { KafkaRecord } from '../../../src/types.ts';
import { embedded, GRAMMAR_CASES, mutatedTweetValues, tweetValues } from '../json/json-corpus.ts';
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

// [json text, what JSON.parse makes of it, and for objects the id / created_at it sees]; the grammar's own corners
// are json-corpus.ts's GRAMMAR_CASES
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
  ['{"id":"\\u0031\\u0032"}', 'object', '12'],
  ['{"id":"a\\"b\\\\c\\/d\\b\\f\\n\\r\\te"}', 'object', 'a"b\\c/d\b\f\n\r\te'],
  ['{"id":"\\u00e9\\u00E9\\uABCD\\uabcd"}', 'object', 'ééꯍꯍ'],
  ['{"id":"\\ud83d\\ude00"}', 'object', '😀'],
  ['{"id":"\\ud83d"}', 'object', '\ud83d'],
  ['{"id":"\\ude00\\ud83d"}', 'object', '\ude00\ud83d'],
  ['{"id":"😀 é ü 中 \u2028\u2029"}', 'object', '😀 é ü 中 \u2028\u2029'],
  ['{"id":"\x7f"}', 'object', '\x7f'],
  ['{"a":[[[[{"b":{"c":[[{}]]}}]]]],"id":"d"}', 'object', 'd'],
];

describe('scanJson', () => {
  test('agrees with JSON.parse on the members table and on the shared grammar corpus (test/unit/json/)', () => {
    for (const [text] of GRAMMAR_CASES) {
      const bytes = Buffer.from(text);
      assert.deepEqual(scanned(bytes), parsed(bytes), JSON.stringify(text));
    }
    for (const [text, kind, id, createdAt] of CASES) {
      const expected: Verdict = { kind, id, createdAt };
      assert.deepEqual(
        parsed(Buffer.from(text)),
        expected,
        `the table is wrong about ${JSON.stringify(text)}`,
      );
      // At each place within a 32-bit word (the check for plain texts reads whole words).
      for (let offset = 0; offset < 4; offset++) {
        const bytes = embedded(Buffer.from(text), offset);
        assert.deepEqual(scanned(bytes), expected, `${JSON.stringify(text)} at ${offset}`);
        assert.equal(
          scanJson(bytes).hasId,
          id !== undefined && id !== '',
          `hasId of ${JSON.stringify(text)}`,
        );
      }
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
    const mutated = mutatedTweetValues();
    const cases = 20_000;
    const mismatches: string[] = [];
    const kinds = { object: 0, other: 0, invalid: 0 };
    let withId = 0;
    let tried = 0;
    for (let n = 0; n < cases; tried++) {
      const bytes = embedded(mutated(), tried % 4);
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

  test('a value without control bytes is marked one line, and JSONL writes it without searching it again', async (t) => {
    const compact = tweetRecords(0, 20).map((r) => {
      const c = classify(r);
      assert.ok(c.ok);
      return c.record;
    });
    assert.ok(compact.every((r) => r.oneLine === true));
    const pretty = classify(record('{\n  "id": "1"\n}'));
    const escaped = classify(record('{"id":"1","text":"a\\nb"}'));
    assert.ok(pretty.ok && escaped.ok);
    assert.equal(pretty.record.oneLine, false, 'raw newlines between tokens');
    assert.equal(escaped.record.oneLine, false, 'a backslash: not checked in bulk, so not known');
    const encoder = createFormat('jsonl', { flushBytes: 1 << 20 }).open();
    const indexOf = t.mock.method(Buffer.prototype, 'indexOf');
    for (const r of compact) encoder.write(r);
    assert.equal(indexOf.mock.callCount(), 0, 'a one-line value is not searched for line breaks');
    encoder.write(pretty.record);
    assert.ok(indexOf.mock.callCount() > 0, 'any other value is');
    indexOf.mock.restore();
    const lines = (await encoder.finish()).toString().split('\n');
    assert.equal(lines.length, compact.length + 2);
    assert.equal(lines.at(-2), '{"id":"1"}', 'compacted to one line');
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

/**
 * Grammar conformance: the grammar core and both of its users agree with JSON.parse on every text of the corpora,
 * so the sink never writes what JSON.parse rejects, and a stream line's spans are vouched for exactly when
 * JSON.parse would accept the line.
 */
import assert from 'node:assert/strict';
import { isUtf8 } from 'node:buffer';
import { describe, test } from 'node:test';
import { lastQuoteIfPlain, scanValue, skipWhitespace, UNLIMITED_DEPTH } from '../../../src/json/grammar.ts';
import { scanJson } from '../../../src/sink/json-scan.ts';
import { JsonSpans, NOT_PLAIN } from '../../../src/sources/json-spans.ts';
import { embedded, GRAMMAR_CASES, mutatedTweetValues, parses, tweetValues } from './json-corpus.ts';

/** One JSON text: whitespace, one value, whitespace, the end. */
function coreAccepts(b: Buffer): boolean {
  const end = scanValue(b, skipWhitespace(b, 0), undefined, UNLIMITED_DEPTH);
  return end >= 0 && skipWhitespace(b, end) === b.length;
}

/** coreAccepts with the fast path for plain texts that scanJson takes. */
function plainPathAccepts(b: Buffer): boolean {
  const end = scanValue(b, skipWhitespace(b, 0), undefined, UNLIMITED_DEPTH, lastQuoteIfPlain(b));
  return end >= 0 && skipWhitespace(b, end) === b.length;
}

function spansAccept(b: Buffer): boolean {
  try {
    new JsonSpans(b);
    return true;
  } catch (err) {
    if (err === NOT_PLAIN) return false;
    throw err;
  }
}

const CHECKERS: [string, (b: Buffer) => boolean][] = [
  ['json/grammar.ts scanValue', coreAccepts],
  ['json/grammar.ts scanValue, plain texts by lastQuoteIfPlain', plainPathAccepts],
  ['sink/json-scan.ts scanJson', (b) => scanJson(b).kind !== 'invalid'],
  ['sources/json-spans.ts JsonSpans', spansAccept],
];

describe('the JSON grammar over bytes', () => {
  test('every checker agrees with JSON.parse on every grammar corner of the table', () => {
    for (const [text, valid] of GRAMMAR_CASES) {
      const bytes = Buffer.from(text);
      assert.equal(parses(bytes), valid, `the table is wrong about ${JSON.stringify(text)}`);
      for (const [name, accepts] of CHECKERS)
        for (let offset = 0; offset < 4; offset++)
          assert.equal(
            accepts(embedded(bytes, offset)),
            valid,
            `${name}: ${JSON.stringify(text)} at ${offset}`,
          );
    }
  });

  test('fuzz: every checker gives JSON.parse verdict on 20,000 mutated real tweet values', (t) => {
    const mutated = mutatedTweetValues();
    const cases = 20_000;
    const mismatches: string[] = [];
    let valid = 0;
    let plain = 0;
    for (let n = 0; n < cases; ) {
      // Each at a different place within a 32-bit word.
      const bytes = embedded(mutated(), n % 4);
      if (!isUtf8(bytes)) continue;
      n++;
      const expected = parses(bytes);
      if (expected) valid++;
      if (lastQuoteIfPlain(bytes) >= 0) plain++;
      for (const [name, accepts] of CHECKERS)
        if (accepts(bytes) !== expected && mismatches.length < 5)
          mismatches.push(`${name} says ${!expected} of ${bytes.toString()}`);
    }
    t.diagnostic(`${valid} of ${cases} valid, ${plain} plain`);
    assert.deepEqual(mismatches, []);
    // The fuzz must reach both verdicts, and both paths, to mean anything.
    assert.ok(valid > cases / 10 && valid < cases - cases / 10, `${valid} of ${cases} valid`);
    assert.ok(plain > cases / 10 && plain < cases - cases / 10, `${plain} of ${cases} plain`);
  });

  test('plain texts: every control byte, at every place within a word, refused in a string as JSON.parse does', () => {
    const tweet = tweetValues(1, 1)[0]!;
    assert.ok(lastQuoteIfPlain(tweet) >= 0, 'the producer writes plain texts');
    // Places in a string near the start, in the middle, and in the last string (the last word's tail bytes).
    const places = [2, 3, 8, 9, tweet.length >> 1, (tweet.length >> 1) + 1, (tweet.length >> 1) + 2];
    places.push(...[4, 5, 6, 7].map((back) => tweet.lastIndexOf('"') - back));
    for (const place of places) {
      assert.ok(
        parses(tweet) && tweet[place]! > 0x20 && tweet[place] !== 0x22,
        `place ${place} is in a string`,
      );
      for (let c = 0; c < 0x20; c++) {
        const bytes = Buffer.from(tweet);
        bytes[place] = c;
        for (let offset = 0; offset < 4; offset++) {
          const b = embedded(bytes, offset);
          assert.equal(lastQuoteIfPlain(b), -1, `0x${c.toString(16)} at ${place}, offset ${offset}`);
          for (const [name, accepts] of CHECKERS)
            assert.equal(accepts(b), false, `${name}: 0x${c.toString(16)} at ${place}, offset ${offset}`);
        }
      }
    }
  });

  test('plain texts: unterminated strings, short texts, and bytes >= 0x80 in strings', () => {
    const cases: [string, boolean][] = [
      ['"', false],
      ['""', true],
      ['"abc', false],
      ['{"a":"b', false],
      ['["x","', false],
      ['["x","y"', false],
      ['{"a":"b"}', true],
      ['{"a":"b","c', false],
      ['"é😀 "', true],
      ['{"é":"😀","n":[1,true,null]}', true],
      ['[1,2]', true],
      ['{"a" :"b"}', true],
    ];
    for (const [text, valid] of cases) {
      const bytes = Buffer.from(text);
      assert.equal(parses(bytes), valid, `the table is wrong about ${JSON.stringify(text)}`);
      for (let offset = 0; offset < 4; offset++) {
        const b = embedded(bytes, offset);
        assert.equal(lastQuoteIfPlain(b), text.includes('"') ? b.lastIndexOf('"') : -1, text);
        for (const [name, accepts] of CHECKERS)
          assert.equal(accepts(b), valid, `${name}: ${JSON.stringify(text)} at ${offset}`);
      }
    }
  });

  test('plain texts: a view of an ArrayBuffer that grew since its last check is read whole', () => {
    const tweet = tweetValues(1, 1)[0]!;
    // Resizable ArrayBuffers are ES2024, past the compiler's library here.
    const Resizable = ArrayBuffer as unknown as new (
      length: number,
      options: { maxByteLength: number },
    ) => ArrayBuffer & { resize(length: number): void };
    const rab = new Resizable(64, { maxByteLength: 2 * tweet.length + 64 });
    Buffer.from(rab).write('{"a":"b"}');
    assert.ok(lastQuoteIfPlain(Buffer.from(rab, 0, 9)) >= 0);
    rab.resize(2 * tweet.length + 64);
    const bytes = Buffer.from(tweet);
    bytes[tweet.length - 10] = 0x01;
    bytes.copy(Buffer.from(rab), tweet.length);
    const view = Buffer.from(rab, tweet.length, tweet.length);
    assert.equal(lastQuoteIfPlain(view), -1, "a control byte past the first check's length");
    assert.equal(scanJson(view).kind, 'invalid');
  });

  test('notes where every value and member name ends, at its start offset', () => {
    const b = Buffer.from('{"a" : [1, "x\\"", {}], "bc":{"d":null},"e":-1.5e3}');
    const ends = new Int32Array(b.length + 1).fill(-1);
    assert.equal(scanValue(b, 0, ends, UNLIMITED_DEPTH), b.length);
    const spans = [...ends.entries()]
      .filter(([, end]) => end >= 0)
      .map(([start, end]) => b.toString('utf8', start, end));
    assert.deepEqual(spans, [
      b.toString(),
      '"a"',
      '[1, "x\\"", {}]',
      '1',
      '"x\\""',
      '{}',
      '"bc"',
      '{"d":null}',
      '"d"',
      'null',
      '"e"',
      '-1.5e3',
    ]);
  });

  test('a container deeper than maxDepth fails at its bracket; nesting to maxDepth passes', () => {
    const nested = (depth: number) => Buffer.from(`${'['.repeat(depth)}${']'.repeat(depth)}`);
    for (const maxDepth of [3, 300, 1000]) {
      assert.equal(scanValue(nested(maxDepth), 0, undefined, maxDepth), 2 * maxDepth, `${maxDepth} levels`);
      assert.equal(
        scanValue(nested(maxDepth + 1), 0, undefined, maxDepth),
        -(maxDepth + 1),
        `${maxDepth + 1} levels`,
      );
    }
    assert.equal(
      scanValue(nested(100_000), 0, undefined, UNLIMITED_DEPTH),
      200_000,
      'unlimited, as JSON.parse',
    );
  });
});

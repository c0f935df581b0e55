/**
 * Grammar conformance: the grammar core and both of its users agree with JSON.parse on every text of the corpora,
 * so the sink never writes what JSON.parse rejects, and a stream line's spans are vouched for exactly when
 * JSON.parse would accept the line.
 */
import assert from 'node:assert/strict';
import { isUtf8 } from 'node:buffer';
import { describe, test } from 'node:test';
import { scanValue, skipWhitespace, UNLIMITED_DEPTH } from '../../../src/json/grammar.ts';
import { scanJson } from '../../../src/sink/json-scan.ts';
import { JsonSpans, NOT_PLAIN } from '../../../src/sources/json-spans.ts';
import { GRAMMAR_CASES, mutatedTweetValues, parses } from './json-corpus.ts';

/** One JSON text: whitespace, one value, whitespace, the end. */
function coreAccepts(b: Buffer): boolean {
  const end = scanValue(b, skipWhitespace(b, 0), undefined, UNLIMITED_DEPTH);
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
  ['sink/json-scan.ts scanJson', (b) => scanJson(b).kind !== 'invalid'],
  ['sources/json-spans.ts JsonSpans', spansAccept],
];

describe('the JSON grammar over bytes', () => {
  test('every checker agrees with JSON.parse on every grammar corner of the table', () => {
    for (const [text, valid] of GRAMMAR_CASES) {
      const bytes = Buffer.from(text);
      assert.equal(parses(bytes), valid, `the table is wrong about ${JSON.stringify(text)}`);
      for (const [name, accepts] of CHECKERS)
        assert.equal(accepts(bytes), valid, `${name}: ${JSON.stringify(text)}`);
    }
  });

  test('fuzz: every checker gives JSON.parse verdict on 20,000 mutated real tweet values', () => {
    const mutated = mutatedTweetValues();
    const cases = 20_000;
    const mismatches: string[] = [];
    let valid = 0;
    for (let n = 0; n < cases; ) {
      const bytes = mutated();
      if (!isUtf8(bytes)) continue;
      n++;
      const expected = parses(bytes);
      if (expected) valid++;
      for (const [name, accepts] of CHECKERS)
        if (accepts(bytes) !== expected && mismatches.length < 5)
          mismatches.push(`${name} says ${!expected} of ${bytes.toString()}`);
    }
    assert.deepEqual(mismatches, []);
    // The fuzz must reach both verdicts to mean anything.
    assert.ok(valid > cases / 10 && valid < cases - cases / 10, `${valid} of ${cases} valid`);
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

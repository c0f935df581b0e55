/**
 * The JSON grammar corpora every byte-level JSON checker of the project is held to (json/grammar.ts and its two
 * users, sink/json-scan.ts and sources/json-spans.ts): a table of grammar corners, and mutated real tweet values.
 * The oracle is always JSON.parse of the decoded text.
 */
import { SyntheticTweets } from '../../../src/sources/synthetic-payloads.ts';
import { toTweetRecords } from '../../../src/sources/tweet-record.ts';

/** Whether JSON.parse accepts the bytes (decoded as UTF-8). */
export function parses(bytes: Buffer): boolean {
  try {
    JSON.parse(bytes.toString('utf8'));
    return true;
  } catch {
    return false;
  }
}

// [json text, whether JSON.parse accepts it]
export const GRAMMAR_CASES: [string, boolean][] = [
  ['{"s":"a\\"b\\\\c\\/d\\b\\f\\n\\r\\te\\u00e9"}', true],
  // strings and escapes
  ['{"a":"\\x41"}', false],
  ['{"a":"\\a"}', false],
  ['{"a":"\\u12"}', false],
  ['{"a":"\\u12G4"}', false],
  ['{"a":"\\U0041"}', false],
  ['{"a":"\\"}', false],
  ['{"a":"\\', false],
  ['{"a":"\t"}', false],
  ['{"a":"\n"}', false],
  ['{"a":"\x00"}', false],
  ['{"a":"\x1f"}', false],
  ['{"a":"abc}', false],
  ["{'a':1}", false],
  ['{a:1}', false],
  // numbers
  ['{"a":0,"b":-0,"c":1.5,"d":-1.5e10,"e":1E+2,"f":1e-2,"g":0.0e0,"h":10,"i":-123}', true],
  ['{"a":123456789012345678901234567890,"b":1e400,"c":-1e-400}', true],
  ['{"a":01}', false],
  ['{"a":00}', false],
  ['{"a":-01}', false],
  ['{"a":-}', false],
  ['{"a":1.}', false],
  ['{"a":.5}', false],
  ['{"a":1.e5}', false],
  ['{"a":1e}', false],
  ['{"a":1e+}', false],
  ['{"a":1e-}', false],
  ['{"a":+1}', false],
  ['{"a":0x10}', false],
  ['{"a":NaN}', false],
  ['{"a":Infinity}', false],
  ['{"a":-Infinity}', false],
  ['{"a":1 2}', false],
  ['{"a":- 1}', false],
  // literals
  ['{"a":true,"b":false,"c":null}', true],
  ['{"a":tru}', false],
  ['{"a":truee}', false],
  ['{"a":nul}', false],
  ['{"a":True}', false],
  ['{"a":undefined}', false],
  // structure
  ['{"a":[],"b":{},"c":[[]],"d":[{}],"e":[1,"x",true,null,{"f":[]}]}', true],
  ['', false],
  [' \n', false],
  ['{', false],
  ['}', false],
  ['{"a"}', false],
  ['{"a":}', false],
  ['{"a" 1}', false],
  ['{"a":1,}', false],
  ['{,}', false],
  ['{,"a":1}', false],
  ['{"a":1,,"b":2}', false],
  ['{"a":1 "b":2}', false],
  ['{"a":[1,]}', false],
  ['{"a":[,1]}', false],
  ['{"a":[1}', false],
  ['{"a":{]}', false],
  ['{"a":1]', false],
  ['{1:2}', false],
  ['{"a":1}}', false],
  ['{"a":1} x', false],
  ['{}{}', false],
  ['{} ,', false],
  ['{}\0', false],
  ['\ufeff{}', false],
  ['{}\u00a0', false],
  ['{}\v', false],
  ['\f{}', false],
  ['{"a":[[[[[', false],
  ['not json', false],
  // other top-level values
  ['[]', true],
  ['[{"id":"1","created_at":"x"}]', true],
  ['"{\\"id\\":\\"1\\"}"', true],
  ['"unterminated', false],
  ['0', true],
  [' -0.5e3 ', true],
  ['true', true],
  ['null', true],
  ['nulll', false],
  ['[1,2', false],
  // what the stream-line path leaves to JSON.parse for its grammar
  ['{"data":{"id":"1","created_at":"2026-11-25T05:59:58.000Z",}}', false],
  ['{"data":{"id":"1","t":"a\tb"}}', false],
  ['{"data":{"id":"1","t":"\\x"}}', false],
  ['{"data":{"id":"1","n":01}}', false],
  ['{"data":{"id":"1"}} x', false],
  ['{"data":{"id":"1","t":"ab', false],
];

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
export function tweetValues(count: number, seed: number): Buffer[] {
  const g = new SyntheticTweets({ seed });
  const ctx = { source: 'synthetic', ingestedAtMs: Date.UTC(2026, 10, 25, 7, 0, 0) };
  const out: Buffer[] = [];
  while (out.length < count) {
    for (const r of toTweetRecords(g.nextStreamLine([{ id: '1', tag: 'music' }]), ctx).records)
      out.push(r.value);
  }
  return out.slice(0, count);
}

/**
 * A generator of real tweet values (synthetic stream lines through the producer's record mapper) with one to three
 * random edits each: grammar bytes put in, bytes cut, bits flipped, top-level members spliced in. Some results are
 * invalid UTF-8; callers skip those (both checkers require valid UTF-8 first).
 */
export function mutatedTweetValues(): () => Buffer {
  const bases = tweetValues(200, 7);
  const rnd = seeded(0x5eed);
  // Bytes that matter to the grammar, plus arbitrary ones; multi-byte characters go in whole (the sink
  // rejects invalid UTF-8 before scanning, so such cases say nothing: callers skip them).
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
  return () => mutate(bases[rnd(bases.length)] as Buffer);
}

/** Bytes around an embedded text: a quote, a backslash and control bytes, which no checker may read. */
const HOSTILE = Buffer.from('"\\\x00\x1f\n');

/**
 * A copy of `bytes` as a view at byte `offset` of a fresh ArrayBuffer, with hostile bytes before and after it:
 * the checkers read whole 32-bit words where they can, so where a text starts and ends within a word matters.
 */
export function embedded(bytes: Buffer, offset: number): Buffer {
  const whole = Buffer.alloc(offset + bytes.length + 8);
  for (let i = 0; i < whole.length; i++) whole[i] = HOSTILE[i % HOSTILE.length]!;
  bytes.copy(whole, offset);
  return whole.subarray(offset, offset + bytes.length);
}

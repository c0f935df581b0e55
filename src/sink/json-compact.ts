/**
 * Removes the insignificant whitespace of a valid JSON text, byte for byte: every token (numbers, strings, key
 * order, repeated keys) stays exactly as the producer wrote it. JSON Lines needs this for a pretty-printed value,
 * whose raw newlines between tokens would otherwise split one record over several lines.
 *
 * Why not JSON.stringify(JSON.parse(value)): a round trip through JS values rounds integers above 2^53 (ids,
 * counts), rewrites numbers (`1.0` -> `1`, `1e2` -> `100`), drops all but the last of a repeated key, and
 * JSON.stringify recurses, so a deeply nested value (10,000 levels) overflows the stack on every retry. The
 * whitespace-stripping packages on npm work on JS strings with regexes, a copy and a decode more than this loop.
 */

const TAB = 0x09;
const LF = 0x0a;
const CR = 0x0d;
const SPACE = 0x20;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** `value` without whitespace outside strings. The input must be valid JSON (sink-record.ts classify()). */
export function compactJson(value: Buffer): Buffer {
  const out = Buffer.allocUnsafe(value.length);
  let n = 0;
  let inString = false;
  for (let i = 0; i < value.length; i++) {
    const c = value[i]!;
    if (inString) {
      out[n++] = c;
      // An escape's second byte is copied as it is, so an escaped quote does not end the string.
      if (c === BACKSLASH) out[n++] = value[++i]!;
      else if (c === QUOTE) inString = false;
    } else if (c !== SPACE && c !== LF && c !== CR && c !== TAB) {
      out[n++] = c;
      if (c === QUOTE) inString = true;
    }
  }
  return out.subarray(0, n);
}

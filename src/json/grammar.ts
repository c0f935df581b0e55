/**
 * The JSON grammar (RFC 8259) over UTF-8 bytes, shared by the two places that check JSON without building it: the
 * sink's record validation (sink/json-scan.ts, on its hot path) and the byte spans of a stream line
 * (sources/json-spans.ts). Verdicts match JSON.parse: strings with valid escapes and no raw control characters,
 * numbers, the three literals, nesting. The input must already be valid UTF-8 (callers check with isUtf8): bytes
 * >= 0x80 inside strings are accepted as they are.
 *
 * Why one iterative routine (scanValue) and no callbacks: the sink's scan is a few us per 2 KB tweet and is called
 * for every record, so the loop stays monomorphic and allocates nothing; the two things a caller varies (noting
 * where each value ends, and the fast path for strings of a plain text) are arguments tested once per value or
 * string. Failures are returned, not thrown, as -(offset + 1) of the byte where the grammar broke (the length when
 * the input ended early).
 */

// Byte values, module-local on purpose: a constant read through an export is a module-variable load that V8 does
// not fold, and that made this scan 10% slower. Other modules spell the few bytes they need themselves.
const QUOTE = 0x22;
const COMMA = 0x2c;
const LBRACE = 0x7b;
const RBRACE = 0x7d;
const LBRACKET = 0x5b;
const RBRACKET = 0x5d;
const BACKSLASH = 0x5c;
const TAB = 0x09;
const LF = 0x0a;
const CR = 0x0d;
const SPACE = 0x20;
const PLUS = 0x2b;
const MINUS = 0x2d;
const DOT = 0x2e;
const SLASH = 0x2f;
const ZERO = 0x30;
const NINE = 0x39;
const COLON = 0x3a;

/** No limit on nesting, as with JSON.parse (a small integer rather than Infinity keeps the depth check an integer compare). */
export const UNLIMITED_DEPTH = 0x7fffffff;

const DEFAULT_STACK = 256;
/**
 * Per open nesting level, where the container starts and whether it is an object (1) or an array (0), in two
 * tables shared by every call (scanning is synchronous). The kind has a table of its own because reading it back
 * from the bytes cost the sink's scan a tenth of its time.
 */
let starts = new Int32Array(DEFAULT_STACK);
let isObject = new Uint8Array(DEFAULT_STACK);

/** Set by scanString: whether the string just scanned contains a backslash escape. */
let sawEscape = false;

/**
 * Whether the string scanString scanned last contains a backslash escape. A function, not an exported variable:
 * writes to an exported binding cost the sink's scan a tenth of its time.
 */
export const lastStringEscaped = (): boolean => sawEscape;

const isDigit = (c: number): boolean => c >= ZERO && c <= NINE;
const isHex = (c: number): boolean => isDigit(c) || ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x66);

/** The first index at or after `i` that is not JSON whitespace (the length at the end). */
export function skipWhitespace(b: Buffer, i: number): number {
  const n = b.length;
  while (i < n) {
    const c = b[i]!;
    if (c > SPACE || (c !== SPACE && c !== LF && c !== CR && c !== TAB)) break;
    i++;
  }
  return i;
}

/**
 * Scans the string whose opening quote is at `i`; returns the index after its closing quote, or -(offset + 1)
 * of the offending byte. Sets sawEscape.
 */
export function scanString(b: Buffer, i: number): number {
  const n = b.length;
  sawEscape = false;
  i++;
  while (i < n) {
    const c = b[i]!;
    if (c === QUOTE) return i + 1;
    if (c === BACKSLASH) {
      sawEscape = true;
      if (i + 1 >= n) return -(n + 1);
      const e = b[i + 1]!;
      if (e === 0x75 /* u */) {
        for (let k = i + 2; k < i + 6; k++) if (k >= n || !isHex(b[k]!)) return -(k + 1);
        i += 6;
        continue;
      }
      if (
        e !== QUOTE &&
        e !== BACKSLASH &&
        e !== SLASH &&
        e !== 0x62 /* b */ &&
        e !== 0x66 /* f */ &&
        e !== 0x6e /* n */ &&
        e !== 0x72 /* r */ &&
        e !== 0x74 /* t */
      )
        return -(i + 2);
      i += 2;
      continue;
    }
    if (c < SPACE) return -(i + 1);
    i++;
  }
  return -(n + 1);
}

/**
 * The ArrayBuffer lastQuoteIfPlain read last, as 32-bit words. The sink's values are views of one fetched batch, so
 * the view is made once per batch: making one per value cost more than the word loop itself. It keeps that buffer
 * alive until a value of another buffer is checked.
 */
let wordsOf: ArrayBufferLike | undefined;
let words: Int32Array<ArrayBufferLike> = new Int32Array(0);

/**
 * For a plain text, the offset of its last quote; -1 for any other (or one without a quote). Plain: no backslash
 * and no byte below 0x20 anywhere, as in compact JSON without escapes, such as every value the producer writes.
 * In a plain text each string ends at the next quote (scanPlainString: one compare per byte, against the four of
 * scanString), and whitespace between tokens can only be spaces. The checks are in bulk: a native search for the
 * backslash, and the control bytes four at a time (the top bit of byte k of `(x - 0x20202020) & ~x` is set when
 * byte k of x is below 0x20; a borrow can add false hits only above a true one, so "none" is exact; bytes >= 0x80,
 * whose top bit ~x clears, never hit).
 */
export function lastQuoteIfPlain(b: Buffer): number {
  if (b.indexOf(BACKSLASH) >= 0) return -1;
  const start = b.byteOffset;
  const first = (start + 3) >>> 2;
  const last = (start + b.length) >>> 2;
  if (first >= last) return hasControlByte(b, 0, b.length) ? -1 : lastQuote(b);
  if (b.buffer !== wordsOf || last > words.length) {
    wordsOf = b.buffer;
    words = new Int32Array(b.buffer, 0, b.buffer.byteLength >>> 2);
  }
  let found = 0;
  for (let w = first; w < last; w++) {
    const x = words[w]!;
    found |= (x - 0x20202020) & ~x;
  }
  const plain =
    (found & 0x80808080) === 0 &&
    !hasControlByte(b, 0, (first << 2) - start) &&
    !hasControlByte(b, (last << 2) - start, b.length);
  return plain ? lastQuote(b) : -1;
}

function hasControlByte(b: Buffer, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (b[i]! < SPACE) return true;
  return false;
}

/** The offset of the last quote, or -1. A loop back from the end: JSON ends a few bytes after its last string. */
function lastQuote(b: Buffer): number {
  let i = b.length - 1;
  while (i >= 0 && b[i] !== QUOTE) i--;
  return i;
}

/**
 * scanString for a plain text, given `lastQuote`, lastQuoteIfPlain of it: the string whose opening quote is at `i`
 * ends at the next quote. Returns the index after it, or -(length + 1) when the text ends first. Clears sawEscape.
 */
export function scanPlainString(b: Buffer, i: number, lastQuote: number): number {
  sawEscape = false;
  if (i >= lastQuote) return -(b.length + 1);
  // A quote lies ahead at lastQuote at the latest, so the loop needs no end check of its own.
  while (b[++i] !== QUOTE);
  return i + 1;
}

/** Scans the number starting at `i` (a '-' or a digit); returns the index after it, or -(offset + 1). */
function scanNumber(b: Buffer, i: number): number {
  const n = b.length;
  if (b[i] === MINUS) i++;
  if (i >= n) return -(n + 1);
  if (b[i] === ZERO) i++;
  else if (isDigit(b[i]!)) while (i < n && isDigit(b[i]!)) i++;
  else return -(i + 1);
  if (i < n && b[i] === DOT) {
    i++;
    if (i >= n || !isDigit(b[i]!)) return -(i + 1);
    while (i < n && isDigit(b[i]!)) i++;
  }
  if (i < n && (b[i]! | 0x20) === 0x65 /* e or E */) {
    i++;
    if (i < n && (b[i] === PLUS || b[i] === MINUS)) i++;
    if (i >= n || !isDigit(b[i]!)) return -(i + 1);
    while (i < n && isDigit(b[i]!)) i++;
  }
  return i;
}

/** Matches the literal `word` (true / false / null) at `i`; returns the index after it, or -(offset + 1). */
function scanLiteral(b: Buffer, i: number, word: string): number {
  for (let k = 0; k < word.length; k++, i++)
    if (i >= b.length || b[i] !== word.charCodeAt(k)) return -(i + 1);
  return i;
}

/** Scans the whitespace, ':' and whitespace after a member name ending before `i`; returns its value's index. */
export function scanColon(b: Buffer, i: number): number {
  i = skipWhitespace(b, i);
  if (i >= b.length || b[i] !== COLON) return -(i + 1);
  return skipWhitespace(b, i + 1);
}

/** Scans `"name" :` at `i`; returns the index of the member's value, or -(offset + 1). `lastQuote` as scanValue's. */
function scanName(b: Buffer, i: number, ends: Int32Array | undefined, lastQuote: number): number {
  if (i >= b.length || b[i] !== QUOTE) return -(i + 1);
  const start = i;
  i = lastQuote >= 0 ? scanPlainString(b, i, lastQuote) : scanString(b, i);
  if (i < 0) return i;
  if (ends !== undefined) ends[start] = i;
  i = skipWhitespace(b, i);
  if (i >= b.length || b[i] !== COLON) return -(i + 1);
  return skipWhitespace(b, i + 1);
}

/**
 * Scans the one JSON value (of any kind) that starts exactly at `i`; returns the index right after it, or
 * -(offset + 1). With `ends`, notes at the start offset of every value and member name inside where it ends
 * (exclusive); the table must have room for every offset of `b`. A container opened deeper than `maxDepth`
 * levels fails at its bracket. With `lastQuote`, lastQuoteIfPlain of `b` (when >= 0), strings are scanned as
 * plain (scanPlainString).
 */
export function scanValue(
  b: Buffer,
  i: number,
  ends: Int32Array | undefined,
  maxDepth: number,
  lastQuote = -1,
): number {
  const n = b.length;
  let depth = 0;
  // A document deeper than any tweet grew the stack on an earlier call; give the memory back.
  if (starts.length > DEFAULT_STACK) {
    starts = new Int32Array(DEFAULT_STACK);
    isObject = new Uint8Array(DEFAULT_STACK);
  }

  // Each turn reads one value at i, then the separators and closers that follow it.
  for (;;) {
    if (i >= n) return -(n + 1);
    const start = i;
    const c = b[i]!;
    if (c === LBRACE || c === LBRACKET) {
      if (depth >= maxDepth) return -(i + 1);
      if (depth === starts.length) {
        const size = Math.min(depth * 2, maxDepth);
        const grownStarts = new Int32Array(size);
        const grownIsObject = new Uint8Array(size);
        grownStarts.set(starts);
        grownIsObject.set(isObject);
        starts = grownStarts;
        isObject = grownIsObject;
      }
      starts[depth] = i;
      isObject[depth++] = c === LBRACE ? 1 : 0;
      i = skipWhitespace(b, i + 1);
      if (i < n && b[i] === (c === LBRACE ? RBRACE : RBRACKET)) {
        depth--;
        i++;
        if (ends !== undefined) ends[start] = i;
      } else {
        if (c === LBRACE) {
          i = scanName(b, i, ends, lastQuote);
          if (i < 0) return i;
        }
        continue;
      }
    } else {
      if (c === QUOTE) i = lastQuote >= 0 ? scanPlainString(b, i, lastQuote) : scanString(b, i);
      else if (c === MINUS || isDigit(c)) i = scanNumber(b, i);
      else if (c === 0x74) i = scanLiteral(b, i, 'true');
      else if (c === 0x66) i = scanLiteral(b, i, 'false');
      else if (c === 0x6e) i = scanLiteral(b, i, 'null');
      else i = -(i + 1);
      if (i < 0) return i;
      if (ends !== undefined) ends[start] = i;
    }
    // After a value: close containers until the next value starts or the outermost one is done.
    for (;;) {
      if (depth === 0) return i;
      i = skipWhitespace(b, i);
      if (i >= n) return -(n + 1);
      const d = b[i]!;
      const inObject = isObject[depth - 1] === 1;
      if (d === COMMA) {
        i = skipWhitespace(b, i + 1);
        if (inObject) {
          i = scanName(b, i, ends, lastQuote);
          if (i < 0) return i;
        }
        break;
      }
      if (d !== (inObject ? RBRACE : RBRACKET)) return -(i + 1);
      depth--;
      i++;
      if (ends !== undefined) ends[starts[depth]!] = i;
    }
  }
}

/**
 * Validates that a record value is well-formed JSON (RFC 8259) without building it, and picks out the two
 * top-level members the sink needs: `id` and `created_at`.
 *
 * Why hand-written: the sink only has to know that a ~2 KB value is one JSON object with a string id; the JSONL
 * formats then write the bytes as they are. JSON.parse answers that by building the whole document (a 2 KB string
 * and its objects per record, then thrown away), which was the sink's largest CPU cost, GC included. No npm
 * package validates without building something per value: validators call JSON.parse, and streaming parsers
 * allocate a token per string or number. So this is a byte-level state machine over the UTF-8 bytes: no regex,
 * no substring, nothing allocated per call (the two member values are decoded only when read, and a bigger
 * nesting stack is allocated for a document deeper than 256 levels, which no tweet is).
 *
 * The input must already be valid UTF-8 (the caller checks with isUtf8): bytes >= 0x80 inside strings are
 * accepted as they are. Verdicts match JSON.parse on the decoded text: the same grammar, unlimited nesting, and
 * for a key repeated at top level the last occurrence wins.
 */

export type JsonKind = 'object' | 'other' | 'invalid';

/**
 * What a scan found. The two members are kept as byte spans and decoded on first read: the sink only needs to know
 * that the id is a non-empty string (`hasId`), and created_at only for a record without a usable timestamp, so
 * decoding both for every record cost two strings each. Read them before the next scan with the same object.
 */
export class JsonScan {
  /** 'object' for one JSON object, 'other' for any other single JSON value, 'invalid' when not JSON. */
  kind: JsonKind = 'invalid';
  /** For 'invalid': the byte offset where the grammar broke (the length when the input ended early). */
  errorOffset = 0;
  /** The scanned bytes; their member spans below (start after the opening quote, end at the closing one). */
  bytes: Buffer | undefined = undefined;
  idStart = -1;
  idEnd = -1;
  idEscaped = false;
  createdStart = -1;
  createdEnd = -1;
  createdEscaped = false;

  /** Whether the last top-level "id" member is a non-empty string (any escape decodes to at least a character). */
  get hasId(): boolean {
    return this.idStart >= 0 && this.idEnd > this.idStart;
  }

  /** The last top-level "id" member, decoded, when that member is a string; else undefined. */
  get id(): string | undefined {
    return this.idStart < 0 ? undefined : decodeString(this.bytes!, this.idStart, this.idEnd, this.idEscaped);
  }

  /** The last top-level "created_at" member, decoded, when that member is a string; else undefined. */
  get createdAt(): string | undefined {
    return this.createdStart < 0
      ? undefined
      : decodeString(this.bytes!, this.createdStart, this.createdEnd, this.createdEscaped);
  }
}

export const newJsonScan = (): JsonScan => new JsonScan();

const TAB = 0x09;
const LF = 0x0a;
const CR = 0x0d;
const SPACE = 0x20;
const QUOTE = 0x22;
const PLUS = 0x2b;
const COMMA = 0x2c;
const MINUS = 0x2d;
const DOT = 0x2e;
const SLASH = 0x2f;
const ZERO = 0x30;
const NINE = 0x39;
const COLON = 0x3a;
const LBRACKET = 0x5b;
const BACKSLASH = 0x5c;
const RBRACKET = 0x5d;
const LBRACE = 0x7b;
const RBRACE = 0x7d;

const ARRAY = 0;
const OBJECT = 1;

/** Top-level members being tracked; a member's value is recorded under its slot. */
const NO_MEMBER = 0;
const ID = 1;
const CREATED_AT = 2;

const DEFAULT_STACK = 256;
/** Container kind (ARRAY / OBJECT) per open nesting level, shared by every call (scanning is synchronous). */
let stack = new Uint8Array(DEFAULT_STACK);

/** Set by scanString: whether the string just scanned contains a backslash escape. */
let sawEscape = false;
/** Set by scanKey: the tracked member (ID, CREATED_AT) the key names, else NO_MEMBER. */
let keyMember = NO_MEMBER;

const isDigit = (c: number): boolean => c >= ZERO && c <= NINE;
const isHex = (c: number): boolean => isDigit(c) || ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x66);
const hexValue = (c: number): number => (isDigit(c) ? c - ZERO : (c | 0x20) - 0x57);

function skipWhitespace(b: Buffer, i: number): number {
  const n = b.length;
  while (i < n) {
    const c = b[i]!;
    if (c !== SPACE && c !== LF && c !== CR && c !== TAB) break;
    i++;
  }
  return i;
}

/**
 * Scans the string whose opening quote is at `i`; returns the index after its closing quote, or -(offset + 1)
 * of the offending byte. Sets sawEscape.
 */
function scanString(b: Buffer, i: number): number {
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

/**
 * Whether the key between `start` (after its opening quote) and `end` (its closing quote) decodes to the ASCII
 * string `name`. Escaped keys ("\u0069d" is "id" to JSON.parse) are decoded on the fly, without allocating.
 */
export function keyIs(b: Buffer, start: number, end: number, escaped: boolean, name: string): boolean {
  if (!escaped) {
    if (end - start !== name.length) return false;
    for (let k = 0; k < name.length; k++) if (b[start + k] !== name.charCodeAt(k)) return false;
    return true;
  }
  let k = 0;
  for (let i = start; i < end; k++) {
    if (k >= name.length) return false;
    let unit = b[i]!;
    if (unit !== BACKSLASH) i++;
    else {
      const e = b[i + 1]!;
      if (e === 0x75 /* u */) {
        unit = 0;
        for (let h = i + 2; h < i + 6; h++) unit = unit * 16 + hexValue(b[h]!);
        i += 6;
      } else {
        unit = e === 0x62 ? 8 : e === 0x66 ? 12 : e === 0x6e ? LF : e === 0x72 ? CR : e === 0x74 ? TAB : e;
        i += 2;
      }
    }
    if (unit !== name.charCodeAt(k)) return false;
  }
  return k === name.length;
}

/** The string whose contents lie between `start` and `end` (the quotes excluded), decoded. */
export function decodeString(b: Buffer, start: number, end: number, escaped: boolean): string {
  // The literal was validated, so JSON.parse of it decodes escapes exactly as it would inside the document.
  return escaped
    ? (JSON.parse(b.toString('utf8', start - 1, end + 1)) as string)
    : b.toString('utf8', start, end);
}

/**
 * Scans `"key" :` at `i` and the whitespace after it; returns the index of the member's value, or
 * -(offset + 1). Sets keyMember when `topLevel` and the key names a tracked member.
 */
function scanKey(b: Buffer, i: number, topLevel: boolean): number {
  const n = b.length;
  keyMember = NO_MEMBER;
  if (i >= n || b[i] !== QUOTE) return -(i + 1);
  const start = i + 1;
  i = scanString(b, i);
  if (i < 0) return i;
  if (topLevel) {
    const end = i - 1;
    if (keyIs(b, start, end, sawEscape, 'id')) keyMember = ID;
    else if (keyIs(b, start, end, sawEscape, 'created_at')) keyMember = CREATED_AT;
  }
  i = skipWhitespace(b, i);
  if (i >= n || b[i] !== COLON) return -(i + 1);
  return skipWhitespace(b, i + 1);
}

function fail(out: JsonScan, negative: number): JsonScan {
  out.kind = 'invalid';
  out.errorOffset = -negative - 1;
  return out;
}

/** Scans `b` as one JSON text; the result is written into `out` (reuse one to allocate nothing) and returned. */
export function scanJson(b: Buffer, out: JsonScan = newJsonScan()): JsonScan {
  const n = b.length;
  out.bytes = b;
  out.idStart = -1;
  out.createdStart = -1;
  out.errorOffset = 0;
  // Contents span (after the opening quote, at the closing quote) of the last string value per tracked member.
  let idStart = -1;
  let idEnd = -1;
  let idEscaped = false;
  let createdStart = -1;
  let createdEnd = -1;
  let createdEscaped = false;
  let depth = 0;
  let member = NO_MEMBER;
  // A document deeper than any tweet grew the stack on the previous call; give the memory back.
  if (stack.length > DEFAULT_STACK) stack = new Uint8Array(DEFAULT_STACK);
  let i = skipWhitespace(b, 0);
  const topIsObject = i < n && b[i] === LBRACE;

  // Each turn reads one value at i, then the separators and closers that follow it.
  for (;;) {
    if (i >= n) return fail(out, -(n + 1));
    const c = b[i]!;
    const memberOfValue = member;
    member = NO_MEMBER;
    // A repeated key's later non-string value replaces an earlier string one, as with JSON.parse.
    if (c !== QUOTE) {
      if (memberOfValue === ID) idStart = -1;
      else if (memberOfValue === CREATED_AT) createdStart = -1;
    }
    if (c === LBRACE || c === LBRACKET) {
      if (depth === stack.length) {
        const grown = new Uint8Array(stack.length * 2);
        grown.set(stack);
        stack = grown;
      }
      stack[depth++] = c === LBRACE ? OBJECT : ARRAY;
      i = skipWhitespace(b, i + 1);
      if (i < n && b[i] === (c === LBRACE ? RBRACE : RBRACKET)) {
        depth--;
        i++;
      } else if (c === LBRACE) {
        i = scanKey(b, i, depth === 1);
        member = keyMember;
        if (i < 0) return fail(out, i);
        continue;
      } else continue;
    } else if (c === QUOTE) {
      const start = i + 1;
      i = scanString(b, i);
      if (i < 0) return fail(out, i);
      if (memberOfValue === ID) {
        idStart = start;
        idEnd = i - 1;
        idEscaped = sawEscape;
      } else if (memberOfValue === CREATED_AT) {
        createdStart = start;
        createdEnd = i - 1;
        createdEscaped = sawEscape;
      }
    } else {
      if (c === MINUS || isDigit(c)) i = scanNumber(b, i);
      else if (c === 0x74) i = scanLiteral(b, i, 'true');
      else if (c === 0x66) i = scanLiteral(b, i, 'false');
      else if (c === 0x6e) i = scanLiteral(b, i, 'null');
      else i = -(i + 1);
      if (i < 0) return fail(out, i);
    }
    // After a value: close containers until the next value starts or the text ends.
    for (;;) {
      i = skipWhitespace(b, i);
      if (depth === 0) {
        if (i !== n) return fail(out, -(i + 1));
        out.kind = topIsObject ? 'object' : 'other';
        if (topIsObject) {
          out.idStart = idStart;
          out.idEnd = idEnd;
          out.idEscaped = idEscaped;
          out.createdStart = createdStart;
          out.createdEnd = createdEnd;
          out.createdEscaped = createdEscaped;
        }
        return out;
      }
      if (i >= n) return fail(out, -(n + 1));
      const d = b[i]!;
      const container = stack[depth - 1];
      if (d === COMMA) {
        i = skipWhitespace(b, i + 1);
        if (container === OBJECT) {
          i = scanKey(b, i, depth === 1);
          member = keyMember;
          if (i < 0) return fail(out, i);
        }
        break;
      }
      if (d !== (container === OBJECT ? RBRACE : RBRACKET)) return fail(out, -(i + 1));
      depth--;
      i++;
    }
  }
}

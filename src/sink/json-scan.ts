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
 * nesting stack is allocated for a document deeper than 256 levels, which no tweet is). The grammar itself is
 * json/grammar.ts, shared with the sources; this file walks the top-level members to find the two it keeps.
 *
 * The input must already be valid UTF-8 (the caller checks with isUtf8): bytes >= 0x80 inside strings are
 * accepted as they are. Verdicts match JSON.parse on the decoded text: the same grammar, unlimited nesting, and
 * for a key repeated at top level the last occurrence wins. A plain value (no backslash and no control byte
 * anywhere, checked in bulk first: every value the producer writes) has its strings scanned by their closing quote
 * alone (grammar.ts lastQuoteIfPlain), a quarter less CPU per tweet; any other value takes the byte-by-byte path.
 */

import {
  lastQuoteIfPlain,
  lastStringEscaped,
  scanColon,
  scanPlainString,
  scanString,
  scanValue,
  skipWhitespace,
  UNLIMITED_DEPTH,
} from '../json/grammar.ts';
import { decodeString, keyIs } from '../json/strings.ts';

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
  /**
   * Whether the value is plain: no backslash and no byte below 0x20 anywhere (grammar.ts lastQuoteIfPlain), so in
   * particular no raw CR or LF: a JSON Lines writer can take it as one line without looking.
   */
  plain = false;
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

const QUOTE = 0x22;
const COMMA = 0x2c;
const LBRACE = 0x7b;
const RBRACE = 0x7d;

/** Top-level members being tracked; a member's value is recorded under its slot. */
const NO_MEMBER = 0;
const ID = 1;
const CREATED_AT = 2;

function fail(out: JsonScan, negative: number): JsonScan {
  out.kind = 'invalid';
  out.errorOffset = -negative - 1;
  out.idStart = -1;
  out.createdStart = -1;
  return out;
}

/** Scans `b` as one JSON text; the result is written into `out` (reuse one to allocate nothing) and returned. */
export function scanJson(b: Buffer, out: JsonScan = newJsonScan()): JsonScan {
  out.bytes = b;
  out.idStart = -1;
  out.createdStart = -1;
  out.errorOffset = 0;
  const lastQuote = lastQuoteIfPlain(b);
  // lastQuoteIfPlain is -1 as well for a plain text without a quote; such a text is no object, so never written.
  out.plain = lastQuote >= 0;
  let i = skipWhitespace(b, 0);
  const topIsObject = i < b.length && b[i] === LBRACE;
  i = topIsObject
    ? scanTopObject(b, i, out, lastQuote)
    : scanValue(b, i, undefined, UNLIMITED_DEPTH, lastQuote);
  if (i >= 0) {
    i = skipWhitespace(b, i);
    if (i !== b.length) i = -(i + 1);
  }
  if (i < 0) return fail(out, i);
  out.kind = topIsObject ? 'object' : 'other';
  return out;
}

/**
 * Scans the object whose '{' is at `i`, member by member, so that the last string value of the top-level `id`
 * and `created_at` can be noted in `out`; returns the index after the object, or -(offset + 1).
 */
function scanTopObject(b: Buffer, i: number, out: JsonScan, lastQuote: number): number {
  const n = b.length;
  // Contents span (after the opening quote, at the closing quote) of the last string value per tracked member.
  let idStart = -1;
  let idEnd = -1;
  let idEscaped = false;
  let createdStart = -1;
  let createdEnd = -1;
  let createdEscaped = false;
  i = skipWhitespace(b, i + 1);
  if (i < n && b[i] === RBRACE) return i + 1;
  for (;;) {
    if (i >= n || b[i] !== QUOTE) return -(i + 1);
    const nameStart = i + 1;
    i = lastQuote >= 0 ? scanPlainString(b, i, lastQuote) : scanString(b, i);
    if (i < 0) return i;
    const member = keyIs(b, nameStart, i - 1, lastStringEscaped(), 'id')
      ? ID
      : keyIs(b, nameStart, i - 1, lastStringEscaped(), 'created_at')
        ? CREATED_AT
        : NO_MEMBER;
    i = scanColon(b, i);
    if (i < 0) return i;
    if (i < n && b[i] === QUOTE) {
      const start = i + 1;
      i = lastQuote >= 0 ? scanPlainString(b, i, lastQuote) : scanString(b, i);
      if (i < 0) return i;
      if (member === ID) {
        idStart = start;
        idEnd = i - 1;
        idEscaped = lastStringEscaped();
      } else if (member === CREATED_AT) {
        createdStart = start;
        createdEnd = i - 1;
        createdEscaped = lastStringEscaped();
      }
    } else {
      i = scanValue(b, i, undefined, UNLIMITED_DEPTH, lastQuote);
      if (i < 0) return i;
      // A repeated key's later non-string value replaces an earlier string one, as with JSON.parse.
      if (member === ID) idStart = -1;
      else if (member === CREATED_AT) createdStart = -1;
    }
    i = skipWhitespace(b, i);
    if (i < n && b[i] === COMMA) i = skipWhitespace(b, i + 1);
    else if (i < n && b[i] === RBRACE) break;
    else return -(i + 1);
  }
  out.idStart = idStart;
  out.idEnd = idEnd;
  out.idEscaped = idEscaped;
  out.createdStart = createdStart;
  out.createdEnd = createdEnd;
  out.createdEscaped = createdEscaped;
  return i + 1;
}

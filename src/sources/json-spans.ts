/**
 * Where the parts of a JSON text lie in its UTF-8 bytes, for code that copies parts of a payload into a new
 * document without parsing and re-serialising them (stream-line-record.ts). The grammar core (json/grammar.ts)
 * checks the text once (RFC 8259, verdicts equal to JSON.parse) and notes where every value ends, so a span
 * handed out here is valid JSON; it does not check UTF-8 (callers check the whole text once, with isUtf8).
 * Anything it will not vouch for throws NOT_PLAIN, and the caller takes the general path (JSON.parse).
 */
import { lastQuoteIfPlain, scanValue, skipWhitespace } from '../json/grammar.ts';

/** Thrown for text the scanner does not accept: invalid JSON, or a shape it leaves to JSON.parse. */
export const NOT_PLAIN = Symbol('not plain JSON');

/** One member of an object: where `"name"` lies (quotes included) and where its value lies. */
export interface Member {
  keyStart: number;
  keyEnd: number;
  start: number;
  end: number;
}

/** A member name to look for, as UTF-8 bytes. */
export type Name = Uint8Array;
export const name = (text: string): Name => Buffer.from(text);
const PROTO = name('__proto__');

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const ZERO = 0x30;
const NINE = 0x39;

/**
 * Nesting deeper than this is left to the general path, which decides what becomes of it (its JSON.stringify
 * recurses). X payloads nest a handful of levels.
 */
const MAX_DEPTH = 1000;

const fail = (): never => {
  throw NOT_PLAIN;
};

const isDigit = (c: number | undefined): boolean => c !== undefined && c >= ZERO && c <= NINE;

export class JsonSpans {
  /** The end of the value (or member name) starting at each offset, filled by the checking pass (one table, reused). */
  static #ends = new Int32Array(64 * 1024);
  readonly bytes: Buffer;
  /** Where the text's one value starts. */
  readonly root: number;
  /** No backslash anywhere (grammar.ts's plain text): no name or string needs its escapes looked for. */
  readonly #plain: boolean;

  /** Checks that `bytes` hold exactly one JSON value (whitespace around it allowed) and notes where each part ends. */
  constructor(bytes: Buffer) {
    this.bytes = bytes;
    if (JsonSpans.#ends.length < bytes.length + 1) JsonSpans.#ends = new Int32Array(bytes.length * 2);
    this.root = skipWhitespace(bytes, 0);
    // Compact lines without escapes take the grammar's plain-text path (strings end at the next quote).
    const lastQuote = lastQuoteIfPlain(bytes);
    this.#plain = lastQuote >= 0;
    const end = scanValue(bytes, this.root, JsonSpans.#ends, MAX_DEPTH, lastQuote);
    if (end < 0 || skipWhitespace(bytes, end) !== bytes.length) fail();
  }

  /** The first index at or after `i` that is not JSON whitespace. */
  ws(i: number): number {
    return skipWhitespace(this.bytes, i);
  }

  /** The end (exclusive) of the value starting at `i`, a value start of the checked text. */
  end(i: number): number {
    return JsonSpans.#ends[i]!;
  }

  /** The string value of the span, or undefined when it is not a string. */
  text(start: number, end: number): string | undefined {
    const b = this.bytes;
    if (b[start] !== QUOTE) return undefined;
    if (!this.#plain)
      for (let k = start + 1; k < end - 1; k++)
        if (b[k] === BACKSLASH) return JSON.parse(b.toString('utf8', start, end)) as string;
    return b.toString('utf8', start + 1, end - 1);
  }

  /**
   * The members of the object starting at `i`, in order. Escaped or special names and repeated
   * names throw NOT_PLAIN: JSON.parse keeps the last of a repeated name, at the first one's place.
   */
  members(i: number): Member[] {
    const b = this.bytes;
    if (b[i] !== OPEN_OBJECT) fail();
    const members: Member[] = [];
    let j = this.ws(i + 1);
    if (b[j] === CLOSE_OBJECT) return members;
    for (;;) {
      const keyStart = j;
      const keyEnd = this.end(j);
      this.#checkName(keyStart, keyEnd);
      for (const m of members) if (this.#sameName(m, keyStart, keyEnd)) fail();
      // The checked text has a colon after the name, and a comma or the closing brace after the value.
      const start = this.ws(this.ws(keyEnd) + 1);
      const end = this.end(start);
      members.push({ keyStart, keyEnd, start, end });
      j = this.ws(end);
      if (b[j] === CLOSE_OBJECT) return members;
      j = this.ws(j + 1);
    }
  }

  /** The [start, end) spans of the elements of the array starting at `i`. */
  elements(i: number): [number, number][] {
    const b = this.bytes;
    if (b[i] !== OPEN_ARRAY) fail();
    const elements: [number, number][] = [];
    let j = this.ws(i + 1);
    if (b[j] === CLOSE_ARRAY) return elements;
    for (;;) {
      const end = this.end(j);
      elements.push([j, end]);
      j = this.ws(end);
      if (b[j] === CLOSE_ARRAY) return elements;
      j = this.ws(j + 1);
    }
  }

  /** True when the member is named `wanted`. */
  is(m: Member, wanted: Name): boolean {
    const b = this.bytes;
    if (m.keyEnd - m.keyStart - 2 !== wanted.length) return false;
    for (let k = 0; k < wanted.length; k++) if (b[m.keyStart + 1 + k] !== wanted[k]) return false;
    return true;
  }

  /** The member named `wanted`, if any. */
  find(members: Member[], wanted: Name): Member | undefined {
    for (const m of members) if (this.is(m, wanted)) return m;
    return undefined;
  }

  /**
   * Names are compared as bytes, so escaped names throw, and so do the names JavaScript objects order or treat
   * apart: array indexes (they come first) and __proto__.
   */
  #checkName(keyStart: number, keyEnd: number): void {
    const b = this.bytes;
    if (isDigit(b[keyStart + 1])) fail();
    if (!this.#plain) for (let k = keyStart + 1; k < keyEnd - 1; k++) if (b[k] === BACKSLASH) fail();
    if (this.is({ keyStart, keyEnd, start: 0, end: 0 }, PROTO)) fail();
  }

  #sameName(m: Member, keyStart: number, keyEnd: number): boolean {
    const b = this.bytes;
    if (m.keyEnd - m.keyStart !== keyEnd - keyStart) return false;
    for (let k = 1; k < keyEnd - keyStart - 1; k++) if (b[m.keyStart + k] !== b[keyStart + k]) return false;
    return true;
  }
}

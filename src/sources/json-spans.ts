/**
 * Where the parts of a JSON text lie in its UTF-8 bytes, for code that copies parts of a payload into a new
 * document without parsing and re-serialising them (stream-line-record.ts). The scanner checks the JSON grammar as
 * it goes (RFC 8259: strings with valid escapes and no raw control characters, numbers, literals, nesting), so a
 * span it hands out is valid JSON; it does not check UTF-8 (callers check the whole text once, with isUtf8).
 * Anything it will not vouch for throws NOT_PLAIN, and the caller takes the general path (JSON.parse).
 */

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
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const MINUS = 0x2d;
const PLUS = 0x2b;
const DOT = 0x2e;
const ZERO = 0x30;
const NINE = 0x39;

const fail = (): never => {
  throw NOT_PLAIN;
};

const isDigit = (c: number | undefined): boolean => c !== undefined && c >= ZERO && c <= NINE;
const isHex = (c: number | undefined): boolean =>
  c !== undefined && ((c >= ZERO && c <= NINE) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66));
/** Escapes JSON allows after a backslash besides \u: " \ / b f n r t. */
const SIMPLE_ESCAPE = new Set([0x22, 0x5c, 0x2f, 0x62, 0x66, 0x6e, 0x72, 0x74]);

export class JsonSpans {
  /** The end of the value starting at each offset, filled by the validating pass (one table, reused). */
  static #ends = new Int32Array(64 * 1024);
  readonly bytes: Buffer;
  /** Where the text's one value starts. */
  readonly root: number;

  /** Checks that `bytes` hold exactly one JSON value (whitespace around it allowed) and notes where each part ends. */
  constructor(bytes: Buffer) {
    this.bytes = bytes;
    if (JsonSpans.#ends.length < bytes.length + 1) JsonSpans.#ends = new Int32Array(bytes.length * 2);
    this.root = this.ws(0);
    if (this.ws(this.#value(this.root)) !== bytes.length) fail();
  }

  /** The first index at or after `i` that is not JSON whitespace. */
  ws(i: number): number {
    const b = this.bytes;
    const n = b.length;
    while (i < n) {
      const c = b[i]!;
      if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) break;
      i++;
    }
    return i;
  }

  /** The end (exclusive) of the value starting at `i`, a value start of the checked text. */
  end(i: number): number {
    return JsonSpans.#ends[i]!;
  }

  /** The string value of the span, or undefined when it is not a string. */
  text(start: number, end: number): string | undefined {
    const b = this.bytes;
    if (b[start] !== QUOTE) return undefined;
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
    for (let k = keyStart + 1; k < keyEnd - 1; k++) if (b[k] === BACKSLASH) fail();
    if (this.is({ keyStart, keyEnd, start: 0, end: 0 }, PROTO)) fail();
  }

  #sameName(m: Member, keyStart: number, keyEnd: number): boolean {
    const b = this.bytes;
    if (m.keyEnd - m.keyStart !== keyEnd - keyStart) return false;
    for (let k = 1; k < keyEnd - keyStart - 1; k++) if (b[m.keyStart + k] !== b[keyStart + k]) return false;
    return true;
  }

  /** Checks the value starting exactly at `i` and returns (and notes) its end. */
  #value(i: number): number {
    let end: number;
    switch (this.bytes[i]) {
      case QUOTE:
        return this.#string(i);
      case OPEN_OBJECT:
        end = this.#object(i);
        break;
      case OPEN_ARRAY:
        end = this.#array(i);
        break;
      case 0x74:
        end = this.#literal(i, 'true');
        break;
      case 0x66:
        end = this.#literal(i, 'false');
        break;
      case 0x6e:
        end = this.#literal(i, 'null');
        break;
      default:
        end = this.#number(i);
    }
    JsonSpans.#ends[i] = end;
    return end;
  }

  #string(i: number): number {
    const b = this.bytes;
    if (b[i] !== QUOTE) fail();
    for (let j = i + 1; j < b.length; ) {
      const c = b[j]!;
      if (c === QUOTE) {
        JsonSpans.#ends[i] = j + 1;
        return j + 1;
      }
      if (c < 0x20) fail();
      if (c === BACKSLASH) {
        const e = b[j + 1];
        if (e === 0x75) {
          if (!(isHex(b[j + 2]) && isHex(b[j + 3]) && isHex(b[j + 4]) && isHex(b[j + 5]))) fail();
          j += 6;
        } else if (e !== undefined && SIMPLE_ESCAPE.has(e)) j += 2;
        else fail();
      } else j++;
    }
    return fail();
  }

  #object(i: number): number {
    const b = this.bytes;
    let j = this.ws(i + 1);
    if (b[j] === CLOSE_OBJECT) return j + 1;
    for (;;) {
      j = this.ws(this.#string(j));
      if (b[j] !== COLON) fail();
      j = this.ws(this.#value(this.ws(j + 1)));
      if (b[j] === CLOSE_OBJECT) return j + 1;
      if (b[j] !== COMMA) fail();
      j = this.ws(j + 1);
    }
  }

  #array(i: number): number {
    const b = this.bytes;
    let j = this.ws(i + 1);
    if (b[j] === CLOSE_ARRAY) return j + 1;
    for (;;) {
      j = this.ws(this.#value(j));
      if (b[j] === CLOSE_ARRAY) return j + 1;
      if (b[j] !== COMMA) fail();
      j = this.ws(j + 1);
    }
  }

  #literal(i: number, word: string): number {
    for (let k = 0; k < word.length; k++) if (this.bytes[i + k] !== word.charCodeAt(k)) fail();
    return i + word.length;
  }

  /** -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)? */
  #number(i: number): number {
    const b = this.bytes;
    let j = i;
    if (b[j] === MINUS) j++;
    if (b[j] === ZERO) j++;
    else if (isDigit(b[j])) while (isDigit(b[j])) j++;
    else fail();
    if (b[j] === DOT) {
      j++;
      if (!isDigit(b[j])) fail();
      while (isDigit(b[j])) j++;
    }
    if (b[j] === 0x65 || b[j] === 0x45) {
      j++;
      if (b[j] === PLUS || b[j] === MINUS) j++;
      if (!isDigit(b[j])) fail();
      while (isDigit(b[j])) j++;
    }
    return j;
  }
}

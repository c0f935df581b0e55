/**
 * Reads the members the Parquet columns need straight from a record's bytes, without building the document.
 *
 * Why: JSON.parse of every value (a 2 KB string plus dozens of objects per tweet, thrown away after one row) was
 * the largest cost of the Parquet sink, with the garbage collection it caused. The columns need about 40 of the
 * document's members; this walks the value once, records where each wanted member's value lies (kind and byte
 * span, in typed arrays reused for every record) and skips everything else without allocating. Strings reach
 * their columns as bytes (stringInto, listInto); only numbers, and timestamps in an unusual form, are decoded.
 *
 * The value must already be valid JSON and valid UTF-8 (classify() in sink-record.ts checked both): the walk does
 * not validate (on other input it still ends at the last byte, with meaningless results). Results match JSON.parse
 * followed by property reads: escaped keys match their decoded names, and for a key repeated in an object the last
 * occurrence wins, the whole subtree of an earlier one forgotten.
 *
 * Why its own skipping loops and not json/grammar.ts's scanString and scanValue: those validate as they go, which
 * made this walk 25% slower (docs/benchmarks.md, "Parquet and gzip, fourth round"), for bytes classify() has
 * already validated. The rest (whitespace, key comparison, string decoding) is the shared core's.
 */
import { skipWhitespace } from '../../json/grammar.ts';
import { decodeString, keyIs } from '../../json/strings.ts';
import type { ByteColumn, ByteListColumn } from './byte-column.ts';
import { isoUtcMillis } from './iso-time.ts';

/** What a recorded member's value is; ABSENT when the member was not in its object. */
export const ABSENT = 0;
export const STRING = 1;
export const NUMBER = 2;
export const TRUE = 3;
export const FALSE = 4;
export const NULL = 5;
export const OBJECT = 6;
export const ARRAY = 7;

/** A member whose value is recorded, and what is read inside that value when it is an object or an array. */
export interface FieldNode {
  /** Where this member's value is recorded. */
  readonly slot: number;
  /** The slots of this node's subtree are [from, slot]; the lists [listFrom, listTo). Reset on each occurrence. */
  readonly from: number;
  readonly listFrom: number;
  readonly listTo: number;
  /** An object's tracked members, by name. */
  readonly members: Readonly<Record<string, FieldNode>>;
  /** The same members as parallel arrays, for the key lookup of the walk. */
  readonly names: readonly string[];
  readonly children: readonly FieldNode[];
  /** The indexes in `names` of the names of each length: an unescaped key is compared with those only. */
  readonly byLength: readonly (readonly number[])[];
  /** An array whose first element is read (`referenced_posts[0]`). */
  readonly first: FieldNode | undefined;
  /** An array of objects from each of which the first of `keys` holding a string is collected into a list. */
  readonly pick: { readonly keys: readonly string[]; readonly list: number } | undefined;
}

/** Builds the tree of wanted members; slots are numbered children first, so a subtree's slots are contiguous. */
export class FieldTreeBuilder {
  slots = 0;
  lists = 0;

  /** A scalar member. */
  leaf(): FieldNode {
    return this.#node({}, undefined, undefined, this.slots, this.lists);
  }

  /** An object member with tracked members of its own. */
  object(members: Record<string, FieldNode>): FieldNode {
    const children = Object.values(members);
    return this.#node(members, undefined, undefined, ...this.#range(children));
  }

  /** An array member whose first element is read as `element`. */
  first(element: FieldNode): FieldNode {
    return this.#node({}, element, undefined, element.from, element.listFrom);
  }

  /** An array of objects: one string per element, from the first of `keys` that holds a string. */
  pick(...keys: string[]): FieldNode {
    const listFrom = this.lists;
    return this.#node({}, undefined, { keys, list: this.lists++ }, this.slots, listFrom);
  }

  #range(children: FieldNode[]): [number, number] {
    if (children.length === 0) return [this.slots, this.lists];
    return [Math.min(...children.map((c) => c.from)), Math.min(...children.map((c) => c.listFrom))];
  }

  #node(
    members: Record<string, FieldNode>,
    first: FieldNode | undefined,
    pick: FieldNode['pick'],
    from: number,
    listFrom: number,
  ): FieldNode {
    const slot = this.slots++;
    const names = Object.keys(members);
    const children = Object.values(members);
    const byLength = Array.from({ length: Math.max(0, ...names.map((n) => n.length)) + 1 }, (_, length) =>
      names.flatMap((n, k) => (n.length === length ? [k] : [])),
    );
    return { slot, from, listFrom, listTo: this.lists, members, names, children, byLength, first, pick };
  }
}

const QUOTE = 0x22;
const COMMA = 0x2c;
const ZERO = 0x30;
const NINE = 0x39;
const LBRACKET = 0x5b;
const BACKSLASH = 0x5c;
const LBRACE = 0x7b;
const RBRACE = 0x7d;
const RBRACKET = 0x5d;

/** The byte spans of the strings a `pick` node collected, in typed arrays reused for every record. */
class SpanList {
  starts = new Int32Array(8);
  ends = new Int32Array(8);
  escaped = new Uint8Array(8);
  length = 0;

  push(start: number, end: number, escaped: boolean): void {
    const k = this.length;
    if (k === this.starts.length) {
      const starts = new Int32Array(k * 2);
      starts.set(this.starts);
      this.starts = starts;
      const ends = new Int32Array(k * 2);
      ends.set(this.ends);
      this.ends = ends;
      const escaped = new Uint8Array(k * 2);
      escaped.set(this.escaped);
      this.escaped = escaped;
    }
    this.starts[k] = start;
    this.ends[k] = end;
    this.escaped[k] = escaped ? 1 : 0;
    this.length = k + 1;
  }
}

/** Set by stringEnd: whether the string just passed contains a backslash escape. */
let sawEscape = false;

/** The index of the closing quote of the string whose opening quote is at `i`. */
function stringEnd(b: Buffer, i: number): number {
  sawEscape = false;
  for (i++; ; i++) {
    const c = b[i];
    if (c === QUOTE || c === undefined) return i;
    if (c === BACKSLASH) {
      sawEscape = true;
      i++;
    }
  }
}

/** The index after the value (of any kind) at `i`. */
function skipValue(b: Buffer, i: number): number {
  const c = b[i]!;
  if (c === QUOTE) return stringEnd(b, i) + 1;
  if (c === LBRACE || c === LBRACKET) {
    let depth = 0;
    for (; ; i++) {
      const d = b[i];
      if (d === undefined) return i;
      if (d === QUOTE) i = stringEnd(b, i);
      else if (d === LBRACE || d === LBRACKET) depth++;
      else if (d === RBRACE || d === RBRACKET) {
        if (--depth === 0) return i + 1;
      }
    }
  }
  if (c === 0x74 /* true */ || c === 0x6e /* null */) return i + 4;
  if (c === 0x66 /* false */) return i + 5;
  return numberEnd(b, i);
}

/** The index after the number at `i` (its characters are digits, sign, point and exponent). */
function numberEnd(b: Buffer, i: number): number {
  for (; ; i++) {
    const c = b[i]!;
    if (!((c >= ZERO && c <= NINE) || c === 0x2d || c === 0x2b || c === 0x2e || c === 0x65 || c === 0x45))
      return i;
  }
}

/**
 * The recorded members of one value at a time: `read()` fills them, the accessors decode one on demand. One
 * instance per encoder, reused for every record.
 */
export class TweetFieldReader {
  readonly #root: FieldNode;
  readonly #kind: Uint8Array;
  readonly #start: Int32Array;
  readonly #end: Int32Array;
  readonly #escaped: Uint8Array;
  readonly #lists: SpanList[];
  #value: Buffer = Buffer.alloc(0);

  constructor(root: FieldNode, tree: FieldTreeBuilder) {
    this.#root = root;
    this.#kind = new Uint8Array(tree.slots);
    this.#start = new Int32Array(tree.slots);
    this.#end = new Int32Array(tree.slots);
    this.#escaped = new Uint8Array(tree.slots);
    this.#lists = Array.from({ length: tree.lists }, () => new SpanList());
  }

  /** Records the wanted members of `value`, a JSON object. */
  read(value: Buffer): void {
    this.#value = value;
    this.#readValue(value, skipWhitespace(value, 0), this.#root);
  }

  kind(node: FieldNode): number {
    return this.#kind[node.slot]!;
  }

  /** The member's string, decoded; null when it is absent or not a string. */
  string(node: FieldNode): string | null {
    const s = node.slot;
    return this.#kind[s] === STRING
      ? decodeString(this.#value, this.#start[s]!, this.#end[s]!, this.#escaped[s] === 1)
      : null;
  }

  /** The member's string read as a time (Date.parse), in epoch ms; NaN when it is absent or not a string. */
  stringMillis(node: FieldNode): number {
    const s = node.slot;
    if (this.#kind[s] !== STRING) return Number.NaN;
    const ms =
      this.#escaped[s] === 1 ? Number.NaN : isoUtcMillis(this.#value, this.#start[s]!, this.#end[s]!);
    return Number.isNaN(ms) ? Date.parse(this.string(node)!) : ms;
  }

  /** The member's number as JSON.parse reads it; NaN when it is absent or not a number. */
  number(node: FieldNode): number {
    const s = node.slot;
    if (this.#kind[s] !== NUMBER) return Number.NaN;
    const b = this.#value;
    const start = this.#start[s]!;
    const end = this.#end[s]!;
    // Up to 15 plain digits are exact in a double: computed without the string Number() needs.
    if (end - start <= 15) {
      let n = 0;
      let i = start;
      for (; i < end; i++) {
        const c = b[i]!;
        if (c < ZERO || c > NINE) break;
        n = n * 10 + (c - ZERO);
      }
      if (i === end) return n;
    }
    return Number(b.toString('latin1', start, end));
  }

  /** Adds the member's string to `column`, or null when it is absent or not a string. */
  stringInto(node: FieldNode, column: ByteColumn): void {
    const s = node.slot;
    if (this.#kind[s] === STRING)
      column.pushJson(this.#value, this.#start[s]!, this.#end[s]!, this.#escaped[s] === 1);
    else column.pushNull();
  }

  /** Adds the strings a `pick` node collected to `column` as one row (empty when absent or not an array). */
  listInto(node: FieldNode, column: ByteListColumn): void {
    const spans = this.#lists[node.pick!.list]!;
    const b = this.#value;
    for (let k = 0; k < spans.length; k++)
      column.elements.pushJson(b, spans.starts[k]!, spans.ends[k]!, spans.escaped[k] === 1);
    column.endRow();
  }

  /** Forgets what an earlier occurrence of the member recorded in its subtree (a leaf is simply overwritten). */
  #forget(node: FieldNode): void {
    if (node.from < node.slot) this.#kind.fill(ABSENT, node.from, node.slot);
    for (let l = node.listFrom; l < node.listTo; l++) this.#lists[l]!.length = 0;
  }

  /** Records the value at `i` for `node`; returns the index after it. */
  #readValue(b: Buffer, i: number, node: FieldNode): number {
    this.#forget(node);
    const s = node.slot;
    const c = b[i]!;
    if (c === QUOTE) {
      const end = stringEnd(b, i);
      this.#kind[s] = STRING;
      this.#start[s] = i + 1;
      this.#end[s] = end;
      this.#escaped[s] = sawEscape ? 1 : 0;
      return end + 1;
    }
    if (c === LBRACE) {
      this.#kind[s] = OBJECT;
      return this.#readObject(b, i, node);
    }
    if (c === LBRACKET) {
      this.#kind[s] = ARRAY;
      if (node.first) return this.#readFirst(b, i, node.first);
      if (node.pick) return this.#readPick(b, i, node.pick.keys, node.pick.list);
      return skipValue(b, i);
    }
    if (c === 0x74) this.#kind[s] = TRUE;
    else if (c === 0x66) this.#kind[s] = FALSE;
    else if (c === 0x6e) this.#kind[s] = NULL;
    else {
      const end = numberEnd(b, i);
      this.#kind[s] = NUMBER;
      this.#start[s] = i;
      this.#end[s] = end;
      return end;
    }
    return skipValue(b, i);
  }

  /** The object at `i` (its '{'); members of `node` are recorded, the rest skipped. */
  #readObject(b: Buffer, i: number, node: FieldNode): number {
    const { names, children, byLength } = node;
    i = skipWhitespace(b, i + 1);
    if (b[i] === RBRACE) return i + 1;
    for (;;) {
      const keyStart = i + 1;
      const keyEnd = stringEnd(b, i);
      const escaped = sawEscape;
      let child: FieldNode | undefined;
      // An escaped key may decode to any length: it is compared with every name.
      const candidates = escaped ? undefined : byLength[keyEnd - keyStart];
      if (candidates !== undefined) {
        for (let c = 0; c < candidates.length; c++) {
          const k = candidates[c]!;
          if (keyIs(b, keyStart, keyEnd, false, names[k]!)) {
            child = children[k];
            break;
          }
        }
      } else if (escaped) {
        for (let k = 0; k < names.length; k++)
          if (keyIs(b, keyStart, keyEnd, true, names[k]!)) {
            child = children[k];
            break;
          }
      }
      i = skipWhitespace(b, skipWhitespace(b, keyEnd + 1) + 1);
      i = child ? this.#readValue(b, i, child) : skipValue(b, i);
      i = skipWhitespace(b, i);
      if (b[i] !== COMMA) return i + 1;
      i = skipWhitespace(b, i + 1);
    }
  }

  /** The array at `i`: its first element is read as `element`, the others skipped. */
  #readFirst(b: Buffer, i: number, element: FieldNode): number {
    i = skipWhitespace(b, i + 1);
    if (b[i] === RBRACKET) return i + 1;
    i = skipWhitespace(b, this.#readValue(b, i, element));
    while (b[i] === COMMA) i = skipWhitespace(b, skipValue(b, skipWhitespace(b, i + 1)));
    return i + 1;
  }

  /** The array at `i`: from each object element, the first of `keys` (at most 2) whose last value is a string. */
  #readPick(b: Buffer, i: number, keys: readonly string[], list: number): number {
    const out = this.#lists[list]!;
    i = skipWhitespace(b, i + 1);
    if (b[i] === RBRACKET) return i + 1;
    for (;;) {
      if (b[i] !== LBRACE) i = skipValue(b, i);
      else {
        // Start of the last string value per key (-1: none or not a string), its end and escape flag.
        let start0 = -1;
        let end0 = 0;
        let escaped0 = false;
        let start1 = -1;
        let end1 = 0;
        let escaped1 = false;
        i = skipWhitespace(b, i + 1);
        if (b[i] === RBRACE) i++;
        else
          for (;;) {
            const keyStart = i + 1;
            const keyEnd = stringEnd(b, i);
            const escaped = sawEscape;
            const k = keyIs(b, keyStart, keyEnd, escaped, keys[0]!)
              ? 0
              : keys.length > 1 && keyIs(b, keyStart, keyEnd, escaped, keys[1]!)
                ? 1
                : -1;
            i = skipWhitespace(b, skipWhitespace(b, keyEnd + 1) + 1);
            const isString = b[i] === QUOTE;
            const valueEnd = skipValue(b, i);
            if (k === 0) {
              start0 = isString ? i + 1 : -1;
              end0 = valueEnd - 1;
              escaped0 = sawEscape;
            } else if (k === 1) {
              start1 = isString ? i + 1 : -1;
              end1 = valueEnd - 1;
              escaped1 = sawEscape;
            }
            i = skipWhitespace(b, valueEnd);
            if (b[i] !== COMMA) {
              i++;
              break;
            }
            i = skipWhitespace(b, i + 1);
          }
        if (start0 >= 0) out.push(start0, end0, escaped0);
        else if (start1 >= 0) out.push(start1, end1, escaped1);
      }
      i = skipWhitespace(b, i);
      if (b[i] !== COMMA) break;
      i = skipWhitespace(b, i + 1);
    }
    return i + 1;
  }
}

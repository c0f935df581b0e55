/**
 * Reading the strings of a JSON text the grammar (grammar.ts) has checked, from their byte spans: `start` after
 * the opening quote, `end` at the closing one, `escaped` as scanString's sawEscape said.
 */
const TAB = 0x09;
const BACKSLASH = 0x5c;
const LF = 0x0a;
const CR = 0x0d;

const hexValue = (c: number): number => (c <= 0x39 ? c - 0x30 : (c | 0x20) - 0x57);

/**
 * Whether the string decodes to the ASCII string `name`. Escaped names ("\u0069d" is "id" to JSON.parse) are
 * decoded on the fly, without allocating.
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

/** The string, decoded. */
export function decodeString(b: Buffer, start: number, end: number, escaped: boolean): string {
  // The literal was validated, so JSON.parse of it decodes escapes exactly as it would inside the document.
  return escaped
    ? (JSON.parse(b.toString('utf8', start - 1, end + 1)) as string)
    : b.toString('utf8', start, end);
}

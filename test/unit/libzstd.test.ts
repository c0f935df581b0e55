import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { zstdCompressSync, zstdDecompressSync } from 'node:zlib';
import { libzstdPageCompressor, type PageCompressor } from '../../src/libzstd.ts';

const libzstd = ((): PageCompressor | null => {
  try {
    return libzstdPageCompressor(3);
  } catch {
    return null;
  }
})();
const needsLibzstd = { skip: libzstd ? false : 'libzstd.so.1 cannot be loaded here' };

/** Page-like inputs: empty, tiny, repetitive, incompressible, and one larger than every page before it. */
const pages = (): Buffer[] => [
  Buffer.alloc(0),
  Buffer.from('en'),
  Buffer.from('{"lang":"en","source":"synthetic"}'.repeat(2000)),
  randomBytes(70_000),
  Buffer.concat([randomBytes(600_000), Buffer.alloc(900_000, 0x61)]),
];

test(
  'one reused context writes the bytes node:zlib writes at the same level, page after page',
  needsLibzstd,
  () => {
    const compress = libzstd!;
    for (const page of pages()) {
      const frame = Buffer.from(compress(page));
      // equals(), not deepEqual: a failed deepEqual of megabytes spends minutes on its diff.
      assert.ok(frame.equals(zstdCompressSync(page)), `a page of ${page.length} bytes`);
      assert.ok(zstdDecompressSync(frame).equals(page), `a page of ${page.length} bytes round trip`);
    }
  },
);

test('a library that cannot be loaded throws, so the format can fall back to node:zlib', () => {
  assert.throws(() => libzstdPageCompressor(3, 'libzstd-that-does-not-exist.so.0'));
});

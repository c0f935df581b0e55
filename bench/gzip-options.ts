/**
 * node:zlib's gzip options, and libdeflate (src/sink/formats/libdeflate-gzip.ts), at one level on the sink's JSON Lines: N synthetic tweets (the bench's generator and
 * seed) as lines, compressed in chunks the way `jsonl.gz` does (one gzip member per flushed chunk, 4 MiB by
 * default). Reports CPU per tweet (process.cpuUsage(), all threads, so zlib's thread pool counts), min and median
 * over the rounds, and the compression ratio of each variant.
 *
 *   node_modules/.bin/node bench/gzip-options.ts [tweets=50000] [level=1] [rounds=5]
 */
import { promisify } from 'node:util';
import { constants, createGzip, gzip, gzipSync, type ZlibOptions } from 'node:zlib';
import { BufferPool } from '../src/sink/formats/buffer-pool.ts';
import { libdeflateGzip } from '../src/sink/formats/libdeflate-gzip.ts';
import { readSynthetic } from './synthetic-sample.ts';

const tweets = Number(process.argv[2] ?? 50_000);
const level = Number(process.argv[3] ?? 1);
const rounds = Number(process.argv[4] ?? 5);
const MIB = 1024 * 1024;
/** Where members are copied to; never given back (the members are only measured). */
const pool = new BufferPool(0);

const lines: Buffer[] = [];
await readSynthetic(tweets, (batch) => {
  for (const t of batch) lines.push(t.value, Buffer.from('\n'));
});
const text = Buffer.concat(lines);
const chunks = (size: number): Buffer[] => {
  const out: Buffer[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.subarray(i, i + size));
  return out;
};

type Compress = (input: Buffer[]) => Promise<number>;
const gzipAsync = promisify(gzip);
const sync =
  (opts: ZlibOptions): Compress =>
  async (input) =>
    input.reduce((n, c) => n + gzipSync(c, { level, ...opts }).length, 0);
const async =
  (opts: ZlibOptions): Compress =>
  async (input) => {
    let n = 0;
    for (const c of input) n += (await gzipAsync(c, { level, ...opts })).length;
    return n;
  };
/** One gzip stream over every chunk, optionally with a Z_SYNC_FLUSH after each. */
const stream =
  (syncFlush: boolean): Compress =>
  async (input) => {
    const z = createGzip({ level });
    let n = 0;
    z.on('data', (d: Buffer) => {
      n += d.length;
    });
    for (const c of input) {
      z.write(c);
      if (syncFlush) await new Promise<void>((done) => z.flush(constants.Z_SYNC_FLUSH, () => done()));
    }
    await new Promise<void>((done) => z.end(done));
    return n;
  };

/** The sink's libdeflate path: each chunk as the encoder holds it, in blocks of `blockBytes` (copied together). */
const libdeflate =
  (blockBytes: number): Compress =>
  async (input) => {
    const gz = libdeflateGzip(level);
    let n = 0;
    for (const c of input) {
      const blocks: Buffer[] = [];
      for (let i = 0; i < c.length; i += blockBytes) blocks.push(c.subarray(i, i + blockBytes));
      n += (await gz(blocks, c.length, pool)).length;
    }
    return n;
  };

const variants: [string, number, Compress][] = [
  ['gzip (async), chunkSize 256 KiB, 2 MiB chunks', 2 * MIB, async({ chunkSize: 256 * 1024 })],
  ['libdeflate (async), 1 MiB blocks copied', 4 * MIB, libdeflate(MIB)],
  ['libdeflate (async), one block (no copy)', 4 * MIB, libdeflate(4 * MIB)],
  ['libdeflate (async), 2 MiB chunks', 2 * MIB, libdeflate(MIB)],
  ['gzip (async), chunkSize 16 KiB (Node default)', 4 * MIB, async({})],
  ['gzip (async), chunkSize 256 KiB', 4 * MIB, async({ chunkSize: 256 * 1024 })],
  ['gzip (async), chunkSize 1 MiB', 4 * MIB, async({ chunkSize: MIB })],
  ['gzipSync', 4 * MIB, sync({})],
  ['gzipSync, Z_FILTERED', 4 * MIB, sync({ strategy: constants.Z_FILTERED })],
  ['gzipSync, Z_HUFFMAN_ONLY', 4 * MIB, sync({ strategy: constants.Z_HUFFMAN_ONLY })],
  ['gzipSync, Z_RLE', 4 * MIB, sync({ strategy: constants.Z_RLE })],
  ['gzipSync, memLevel 9', 4 * MIB, sync({ memLevel: 9 })],
  ['gzipSync, memLevel 5', 4 * MIB, sync({ memLevel: 5 })],
  ['gzipSync, windowBits 12', 4 * MIB, sync({ windowBits: 12 })],
  ['gzipSync, 64 KiB chunks', 64 * 1024, sync({})],
  ['gzipSync, 1 MiB chunks', MIB, sync({})],
  ['gzipSync, 16 MiB chunks', 16 * MIB, sync({})],
  ['stream, one member', 4 * MIB, stream(false)],
  ['stream, Z_SYNC_FLUSH per 64 KiB', 64 * 1024, stream(true)],
];

const us = new Map<string, number[]>();
const ratio = new Map<string, number>();
for (let round = 0; round < rounds; round++)
  for (const [name, size, compress] of variants) {
    const input = chunks(size);
    const start = process.cpuUsage();
    const out = await compress(input);
    const used = process.cpuUsage(start);
    us.set(name, [...(us.get(name) ?? []), (used.user + used.system) / tweets]);
    ratio.set(name, text.length / out);
  }

console.log(
  `${tweets} tweets, ${Math.round(text.length / tweets)} B a line, level ${level}, zlib ${process.versions.zlib}`,
);
for (const [name] of variants) {
  const s = us.get(name)!.sort((a, b) => a - b);
  const median = s[s.length >> 1]!;
  console.log(
    `${name.padEnd(50)} min ${s[0]!.toFixed(2)} median ${median.toFixed(2)} us per tweet, ratio ${ratio.get(name)!.toFixed(2)}`,
  );
}

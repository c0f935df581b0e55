/**
 * The lines of a replay's NDJSON files, in order across files: a plain file is read 1 MiB at a time into one buffer
 * reused for every block (a fresh 1 MiB buffer per block was mapped and unmapped under the CLI's 64 KiB mmap
 * threshold, with a page fault per 4 KiB; docs/benchmarks.md, "Sixth round: produce and replay"), a `.gz` file is
 * decompressed on the fly, and each block is split into lines as byte views of it: no string per line, no promise
 * per line. A line is valid until the next call; only the start of a line that continues in the next block is
 * copied.
 */
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { createGunzip } from 'node:zlib';
import { REPLAY_DEFAULTS } from '../config/sources.ts';

export class ReplayFileLines {
  readonly #files: readonly string[];
  #fileIndex = 0;
  #chunks: AsyncGenerator<Buffer> | undefined;
  /** The start of a line whose end is in a later chunk (a copy: the block it came from is read into again). */
  #partial: Buffer | undefined;

  constructor(files: readonly string[]) {
    this.#files = files;
  }

  /**
   * The non-blank lines completed by the next chunk across all files (views of it; CRLF and LF both end a line), or
   * undefined at the end of the last file. A file's last line needs no line break.
   */
  async next(): Promise<Buffer[] | undefined> {
    for (;;) {
      if (!this.#chunks) {
        const file = this.#files[this.#fileIndex];
        if (file === undefined) return undefined;
        this.#chunks = file.endsWith('.gz') ? gunzippedBlocks(file) : fileBlocks(file);
      }
      const next = await this.#chunks.next();
      if (next.done) {
        const last = this.#partial;
        this.#chunks = undefined;
        this.#partial = undefined;
        this.#fileIndex += 1;
        if (last && !isBlank(last)) return [last];
        continue;
      }
      const chunk: Buffer = next.value;
      const lines: Buffer[] = [];
      let start = 0;
      if (this.#partial) {
        // Only the line that spans the two chunks is copied, not the whole chunk behind it.
        const nl = chunk.indexOf(LF);
        const end = nl === -1 ? chunk.length : nl;
        const joined = Buffer.concat([this.#partial, chunk.subarray(0, end)]);
        if (nl === -1) {
          this.#partial = joined;
          continue;
        }
        this.#partial = undefined;
        addLine(lines, joined, 0, joined.length);
        start = nl + 1;
      }
      for (let nl = chunk.indexOf(LF, start); nl !== -1; nl = chunk.indexOf(LF, start)) {
        addLine(lines, chunk, start, nl);
        start = nl + 1;
      }
      this.#partial = start < chunk.length ? Buffer.from(chunk.subarray(start)) : undefined;
      if (lines.length > 0) return lines;
    }
  }

  async close(): Promise<void> {
    await this.#chunks?.return(undefined);
  }
}

/**
 * A plain file's bytes, block by block, each read into the same buffer: a block is valid until the next one is
 * asked for.
 */
async function* fileBlocks(file: string): AsyncGenerator<Buffer> {
  const handle = await open(file);
  try {
    const block = Buffer.allocUnsafe(REPLAY_DEFAULTS.chunkBytes);
    for (;;) {
      const { bytesRead } = await handle.read(block, 0, block.length, null);
      if (bytesRead === 0) return;
      yield block.subarray(0, bytesRead);
    }
  } finally {
    await handle.close();
  }
}

/** A gzip file's decompressed bytes, chunk by chunk. */
async function* gunzippedBlocks(file: string): AsyncGenerator<Buffer> {
  const input = createReadStream(file, { highWaterMark: REPLAY_DEFAULTS.chunkBytes }).pipe(
    createGunzip({ chunkSize: REPLAY_DEFAULTS.chunkBytes }),
  );
  try {
    for await (const chunk of input) yield chunk as Buffer;
  } finally {
    input.destroy();
  }
}

const LF = 0x0a;
const CR = 0x0d;

/** Adds the line of `chunk` that ends before the line feed at `lf` (a CR before it dropped) unless it is blank. */
function addLine(lines: Buffer[], chunk: Buffer, start: number, lf: number): void {
  const line = chunk.subarray(start, lf > start && chunk[lf - 1] === CR ? lf - 1 : lf);
  if (!isBlank(line)) lines.push(line);
}

/** True when the line holds only JSON whitespace (space, tab, CR, LF). */
function isBlank(line: Buffer): boolean {
  for (const byte of line) if (byte !== 0x20 && byte !== 0x09 && byte !== CR && byte !== LF) return false;
  return true;
}

/**
 * The mapping thread of a replay at pace max (replay-thread.ts starts it): reads the files and maps each chunk's
 * lines into records, so the main thread only dedups and produces. Records are written into the 60 KiB slabs of
 * stream-line-record.ts; a chunk's slabs go back transferred (no copy), with each record's slab and span in one
 * typed array and its created_at in another: no object per record crosses the thread boundary, but its id string.
 * Lines the byte path leaves to the general mapping (search pages, X errors, invalid JSON, rare shapes) load
 * tweet-record.ts when the first one comes: its imports (the X HTTP client) cost a thread ~0.3 s to load
 * (docs/benchmarks.md, "Fifth round: produce and replay").
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { TweetRecord } from '../types.ts';
import { ReplayFileLines } from './replay-file-lines.ts';
import type { MappedChunk } from './replay-mapping.ts';
import { sealSlabs, streamLineRecord } from './stream-line-record.ts';
import type { XApiProblem } from './x-http.ts';

export interface ReplayWorkerData {
  files: readonly string[];
  /** Source name for `_ingest.source`. */
  source: string;
}

/** Map the next chunk, its records stamped `ingestedAtMs`. */
export interface ChunkRequest {
  ingestedAtMs: number;
}

/** One chunk's records, dead letters and X problems, ready to cross the thread boundary. */
export interface PackedChunk {
  /** The buffers the records' values lie in, transferred. */
  slabs: ArrayBuffer[];
  /** Three numbers a record: the index of its slab, the start and the end of its value there. */
  spans: Int32Array;
  createdAtMs: Float64Array;
  ids: string[];
  deadLetters: { raw: Uint8Array; reason: string }[];
  problems: XApiProblem[];
}

/** A chunk, the end of the input (no more lines), or why reading or mapping failed. */
export type ChunkAnswer = { chunk: PackedChunk } | { end: true } | { failure: unknown };

const port = parentPort;
if (!port) throw new Error('replay-worker.ts runs as a worker thread');
const { files, source } = workerData as ReplayWorkerData;
const lines = new ReplayFileLines(files);
let general: typeof import('./replay-mapping.ts') | undefined;

// One chunk at a time, in request order: the lines of a chunk are views of the block the next read overwrites.
let answering = Promise.resolve();
port.on('message', (request: ChunkRequest) => {
  answering = answering.then(() => answer(request));
});

async function answer(request: ChunkRequest): Promise<void> {
  try {
    const chunk = await lines.next();
    if (chunk === undefined) {
      port!.postMessage({ end: true } satisfies ChunkAnswer);
      return;
    }
    const packed = pack(await mapChunk(chunk, request.ingestedAtMs));
    port!.postMessage({ chunk: packed } satisfies ChunkAnswer, packed.slabs);
  } catch (failure) {
    port!.postMessage({ failure } satisfies ChunkAnswer);
  }
}

async function mapChunk(chunk: Buffer[], ingestedAtMs: number): Promise<MappedChunk> {
  const ctx = { source, ingestedAtMs };
  const mapped: MappedChunk = { records: [], deadLetters: [], problems: [] };
  for (const line of chunk) {
    const record = streamLineRecord(line, ctx);
    if (record) {
      mapped.records.push(record);
      continue;
    }
    general ??= await import('./replay-mapping.ts');
    const first = mapped.records.length;
    general.mapLine(mapped, line, ctx, false);
    // The general mapping's values may share Node's buffer pool, which cannot be transferred: each gets its own.
    for (let i = first; i < mapped.records.length; i++) mapped.records[i] = ownBuffer(mapped.records[i]!);
  }
  // The next chunk's records start a new slab, so this chunk's slabs can be handed over.
  sealSlabs();
  return mapped;
}

const ownBuffer = (record: TweetRecord): TweetRecord => {
  const value = new Uint8Array(record.value);
  return { ...record, value: Buffer.from(value.buffer, 0, value.length) };
};

function pack(mapped: MappedChunk): PackedChunk {
  const { records } = mapped;
  const slabIndex = new Map<ArrayBufferLike, number>();
  const slabs: ArrayBuffer[] = [];
  const spans = new Int32Array(3 * records.length);
  const createdAtMs = new Float64Array(records.length);
  const ids = new Array<string>(records.length);
  for (let i = 0; i < records.length; i++) {
    const { id, value } = records[i]!;
    let slab = slabIndex.get(value.buffer);
    if (slab === undefined) {
      slab = slabs.push(value.buffer as ArrayBuffer) - 1;
      slabIndex.set(value.buffer, slab);
    }
    spans[3 * i] = slab;
    spans[3 * i + 1] = value.byteOffset;
    spans[3 * i + 2] = value.byteOffset + value.length;
    createdAtMs[i] = records[i]!.createdAtMs;
    ids[i] = id;
  }
  return { slabs, spans, createdAtMs, ids, deadLetters: mapped.deadLetters, problems: mapped.problems };
}

/**
 * The mapping of replayed lines to records, one read chunk at a time, in a form that crosses a thread boundary:
 * the lines go as one byte buffer with their start and end offsets, the records come back packed
 * (packed-records.ts), the dead letters with their own bytes. replay-mappers.ts runs `mapLineChunk` on worker
 * threads; the replay source unpacks the result on its own thread, in the order the chunks were read.
 */
import type { DeadLetter, TweetRecord } from '../types.ts';
import { type PackedBatch, packRecords, unpackBatch } from './packed-records.ts';
import { fromJsonLine } from './tweet-record.ts';
import type { XApiProblem } from './x-http.ts';

/** The lines of one chunk: line i is bytes[starts[i], ends[i]). */
export interface LineChunk {
  bytes: Uint8Array;
  starts: Int32Array;
  ends: Int32Array;
}

export interface LineChunkRequest extends LineChunk {
  /** `_ingest.source` of the records. */
  source: string;
  /** `_ingest.ingested_at` of every record of the chunk. */
  ingestedAtMs: number;
  /** Pace original: each line's records in time order (a search page lists the newest tweet first). */
  timeOrder: boolean;
}

/** What the lines of a chunk map to, in line order. */
export interface MappedLineChunk {
  records: PackedBatch;
  deadLetters: { raw: Uint8Array; reason: string }[];
  /** X's error objects found in the lines. */
  errors: XApiProblem[];
}

/** Maps every line of the chunk as the replay source always has (tweet-record.ts's fromJsonLine). */
export function mapLineChunk(req: LineChunkRequest): MappedLineChunk {
  const bytes = Buffer.from(req.bytes.buffer, req.bytes.byteOffset, req.bytes.byteLength);
  const ctx = { source: req.source, ingestedAtMs: req.ingestedAtMs };
  const records: TweetRecord[] = [];
  const deadLetters: MappedLineChunk['deadLetters'] = [];
  const errors: XApiProblem[] = [];
  for (let i = 0; i < req.starts.length; i++) {
    const mapped = fromJsonLine(bytes.subarray(req.starts[i], req.ends[i]), ctx);
    if (req.timeOrder) mapped.records.sort((a, b) => a.createdAtMs - b.createdAtMs);
    for (const r of mapped.records) records.push(r);
    // The raw bytes are a view of the chunk: each dead letter gets a copy of its own.
    for (const d of mapped.deadLetters) deadLetters.push({ raw: new Uint8Array(d.raw), reason: d.reason });
    for (const e of mapped.errors) errors.push(e);
  }
  return { records: packRecords(records), deadLetters, errors };
}

/** A mapped chunk's records and dead letters as this thread's objects. */
export function unpackLineChunk(mapped: MappedLineChunk): {
  records: TweetRecord[];
  deadLetters: DeadLetter[];
} {
  return {
    records: unpackBatch(mapped.records),
    deadLetters: mapped.deadLetters.map((d) => ({
      raw: Buffer.from(d.raw.buffer, d.raw.byteOffset, d.raw.byteLength),
      reason: d.reason,
    })),
  };
}

/** The transferable buffers of a message: sent without a copy. */
export const transferablesOf = (chunk: LineChunk | MappedLineChunk): ArrayBuffer[] =>
  'records' in chunk
    ? [chunk.records.bytes.buffer as ArrayBuffer]
    : [
        chunk.bytes.buffer as ArrayBuffer,
        chunk.starts.buffer as ArrayBuffer,
        chunk.ends.buffer as ArrayBuffer,
      ];

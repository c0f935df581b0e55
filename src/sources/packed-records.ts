/**
 * A batch of records as one byte buffer (transferable to another thread, no structured clone per record) plus each
 * record's id, time and value length. The synthetic generator threads write records this way, and the replay
 * mapping threads pack theirs so.
 */
import type { TweetRecord } from '../types.ts';

export interface PackedBatch {
  ids: string[];
  createdAtMs: number[];
  lengths: number[];
  bytes: Uint8Array;
}

/** `records` with their values copied, in order, into one buffer of their own. */
export function packRecords(records: readonly TweetRecord[]): PackedBatch {
  let size = 0;
  for (const r of records) size += r.value.length;
  const bytes = new Uint8Array(size);
  const ids: string[] = new Array(records.length);
  const createdAtMs: number[] = new Array(records.length);
  const lengths: number[] = new Array(records.length);
  let at = 0;
  for (let i = 0; i < records.length; i++) {
    const r = records[i]!;
    ids[i] = r.id;
    createdAtMs[i] = r.createdAtMs;
    lengths[i] = r.value.length;
    bytes.set(r.value, at);
    at += r.value.length;
  }
  return { ids, createdAtMs, lengths, bytes };
}

/** The records of a packed batch, their values views of its one buffer. */
export function unpackBatch(packed: PackedBatch): TweetRecord[] {
  const buf = Buffer.from(packed.bytes.buffer, packed.bytes.byteOffset, packed.bytes.byteLength);
  const out: TweetRecord[] = new Array(packed.ids.length);
  let at = 0;
  for (let i = 0; i < packed.ids.length; i++) {
    const len = packed.lengths[i]!;
    out[i] = { id: packed.ids[i]!, createdAtMs: packed.createdAtMs[i]!, value: buf.subarray(at, at + len) };
    at += len;
  }
  return out;
}

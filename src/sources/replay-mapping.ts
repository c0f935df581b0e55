/**
 * A replay's lines mapped to records, a chunk (one read block's lines) at a time: in this thread (this module), or
 * on a mapping thread (replay-thread.ts). Both hand out the same records, dead letters and X problems, in file order.
 */
import type { DeadLetter, TweetRecord } from '../types.ts';
import { ReplayFileLines } from './replay-file-lines.ts';
import { fromJsonLine, type MappingContext } from './tweet-record.ts';
import type { XApiProblem } from './x-http.ts';

/** What the lines of one chunk map to. */
export interface MappedChunk {
  records: TweetRecord[];
  deadLetters: DeadLetter[];
  /** Error objects X wrote into the replayed payloads, for the source to log and count. */
  problems: XApiProblem[];
}

/** Where ReplaySource takes its mapped chunks from. */
export interface MappedChunks {
  /**
   * The next chunk, its records stamped `ingestedAtMs` (or, mapped ahead, the time given to the call before);
   * undefined after the last file's last line.
   */
  next(ingestedAtMs: number): Promise<MappedChunk | undefined>;
  close(): Promise<void>;
}

export const emptyChunk = (): MappedChunk => ({ records: [], deadLetters: [], problems: [] });

/**
 * Adds what `line` maps to to `chunk`. `timeOrder` sorts the line's records by created_at (search pages list the
 * newest first; pace original wants time order). A dead letter's payload is a view of the read block, which the
 * next read overwrites: it is copied.
 */
export function mapLine(chunk: MappedChunk, line: Buffer, ctx: MappingContext, timeOrder: boolean): void {
  const mapped = fromJsonLine(line, ctx);
  for (const p of mapped.errors) chunk.problems.push(p);
  if (timeOrder) mapped.records.sort((a, b) => a.createdAtMs - b.createdAtMs);
  for (const t of mapped.records) chunk.records.push(t);
  for (const d of mapped.deadLetters) chunk.deadLetters.push({ ...d, raw: Buffer.from(d.raw) });
}

/** The files' lines mapped in the calling thread. */
export class InThreadChunks implements MappedChunks {
  readonly #lines: ReplayFileLines;
  readonly #source: string;
  readonly #timeOrder: boolean;

  constructor(files: readonly string[], source: string, timeOrder: boolean) {
    this.#lines = new ReplayFileLines(files);
    this.#source = source;
    this.#timeOrder = timeOrder;
  }

  async next(ingestedAtMs: number): Promise<MappedChunk | undefined> {
    const lines = await this.#lines.next();
    if (lines === undefined) return undefined;
    const chunk = emptyChunk();
    const ctx = { source: this.#source, ingestedAtMs };
    for (const line of lines) mapLine(chunk, line, ctx, this.#timeOrder);
    return chunk;
  }

  close(): Promise<void> {
    return this.#lines.close();
  }
}

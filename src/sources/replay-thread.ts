/**
 * A replay's lines mapped on a mapping thread (replay-worker.ts), one chunk ahead of the caller: reading and mapping
 * a line cost the main thread ~14 of its ~21 us a record at pace max, where the main thread was the bound and the
 * other core mostly idle (docs/benchmarks.md, "Seventh round: replay"). The records come back in the thread's slabs,
 * transferred, and are made here as views of them: the same records, dead letters and X problems, in the same order,
 * as InThreadChunks makes.
 */
import { Worker } from 'node:worker_threads';
import type { TweetRecord } from '../types.ts';
import type { MappedChunk, MappedChunks } from './replay-mapping.ts';
import type { ChunkAnswer, ChunkRequest, PackedChunk, ReplayWorkerData } from './replay-worker.ts';

/**
 * Chunks asked for beyond the one being handed out, so the thread keeps mapping while the caller produces a batch:
 * a chunk is one 1 MiB read block (~490 of the bench's tweets), a batch up to REPLAY_DEFAULTS.batchMaxTweets (1,000).
 */
const AHEAD = 4;

interface Waiter {
  resolve(answer: ChunkAnswer): void;
  reject(err: unknown): void;
}

export class ReplayThread implements MappedChunks {
  readonly #worker: Worker;
  /** Answers owed, in request order. */
  readonly #waiting: Promise<ChunkAnswer>[] = [];
  readonly #waiters: Waiter[] = [];
  /** The end of the input (or of the thread, closed) or its failure, once known: every later call answers the same. */
  #last: Exclude<ChunkAnswer, { chunk: PackedChunk }> | undefined;

  constructor(files: readonly string[], source: string) {
    const workerData: ReplayWorkerData = { files, source };
    this.#worker = new Worker(new URL('./replay-worker.ts', import.meta.url), { workerData });
    this.#worker.on('message', (answer: ChunkAnswer) => this.#waiters.shift()?.resolve(answer));
    this.#worker.on('error', (err) => this.#stopped(err));
    this.#worker.on('exit', (code) =>
      this.#stopped(new Error(`the replay mapping thread exited (code ${code})`)),
    );
  }

  async next(ingestedAtMs: number): Promise<MappedChunk | undefined> {
    if (!this.#last) {
      while (this.#waiting.length <= AHEAD) this.#request(ingestedAtMs);
      const answer = await this.#waiting.shift()!;
      if ('chunk' in answer) return unpack(answer.chunk);
      // Nothing more to map, or nothing more that can be: the thread ends now, not when the caller closes the source.
      this.#last = answer;
      await this.close();
    }
    if ('failure' in this.#last) throw this.#last.failure;
    return undefined;
  }

  async close(): Promise<void> {
    this.#last ??= { end: true };
    await this.#worker.terminate();
  }

  #request(ingestedAtMs: number): void {
    const answer = new Promise<ChunkAnswer>((resolve, reject) => this.#waiters.push({ resolve, reject }));
    // A thread that fails fails every request owed; next() rethrows for the first, the others are never awaited.
    answer.catch(() => {});
    this.#waiting.push(answer);
    this.#worker.postMessage({ ingestedAtMs } satisfies ChunkRequest);
  }

  /** The thread is gone: the answers owed fail, and so does every later call unless the input had ended or was closed. */
  #stopped(failure: unknown): void {
    this.#last ??= { failure };
    for (const w of this.#waiters.splice(0)) w.reject(failure);
  }
}

function unpack(packed: PackedChunk): MappedChunk {
  const slabs = packed.slabs.map((slab) => Buffer.from(slab));
  const { spans, createdAtMs, ids } = packed;
  const records = new Array<TweetRecord>(ids.length);
  for (let i = 0; i < ids.length; i++) {
    const value = slabs[spans[3 * i]!]!.subarray(spans[3 * i + 1], spans[3 * i + 2]);
    records[i] = { id: ids[i]!, createdAtMs: createdAtMs[i]!, value };
  }
  return {
    records,
    deadLetters: packed.deadLetters.map(({ raw, reason }) => ({
      raw: Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength),
      reason,
    })),
    problems: packed.problems,
  };
}

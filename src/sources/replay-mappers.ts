/**
 * Worker threads that map replayed lines to records (replay-worker.ts). Mapping a line is most of a replayed
 * tweet's CPU on the thread that also publishes to Kafka (docs/benchmarks.md, "Fifth round"), so it runs beside
 * that thread. Chunk k goes to thread k mod threads, and each thread answers in order, so awaiting the promises in
 * the order `map` returned them gives the records in the order of the input.
 */
import os from 'node:os';
import { Worker } from 'node:worker_threads';
import { type LineChunkRequest, type MappedLineChunk, transferablesOf } from './replay-mapping.ts';

interface MappingThread {
  worker: Worker;
  /** Requests sent to this thread and not answered yet, oldest first. */
  pending: { resolve: (m: MappedLineChunk) => void; reject: (e: Error) => void }[];
}

/** Up to two threads: beside the publishing thread, a 2-core machine has no room for more. */
export const REPLAY_MAPPING_THREADS = Math.max(1, Math.min(2, os.availableParallelism()));

export class ReplayMappers {
  /** Started on their first request. */
  readonly #threads: (MappingThread | undefined)[];
  #next = 0;

  constructor(threads = REPLAY_MAPPING_THREADS) {
    this.#threads = new Array(threads).fill(undefined);
  }

  /** The mapping of `req`'s lines; its buffers are transferred (unusable here after the call). */
  map(req: LineChunkRequest): Promise<MappedLineChunk> {
    const thread = (this.#threads[this.#next] ??= this.#start());
    this.#next = (this.#next + 1) % this.#threads.length;
    const answer = new Promise<MappedLineChunk>((resolve, reject) =>
      thread.pending.push({ resolve, reject }),
    );
    // A thread keeps the process alive only while it owes an answer: a source nobody closes does not hang it.
    if (thread.pending.length === 1) thread.worker.ref();
    thread.worker.postMessage(req, transferablesOf(req));
    return answer;
  }

  async close(): Promise<void> {
    await Promise.all(this.#threads.map((t) => t?.worker.terminate()));
  }

  #start(): MappingThread {
    const thread: MappingThread = {
      worker: new Worker(new URL('./replay-worker.ts', import.meta.url)),
      pending: [],
    };
    // (An unref() before the thread is online does not hold: it starts with a request, referenced.)
    thread.worker.on('message', (m: MappedLineChunk) => {
      thread.pending.shift()?.resolve(m);
      if (thread.pending.length === 0) thread.worker.unref();
    });
    const fail = (err: Error) => {
      for (const p of thread.pending.splice(0)) p.reject(err);
    };
    thread.worker.on('error', fail);
    thread.worker.on('exit', (code) => fail(new Error(`a replay mapping thread exited with code ${code}`)));
    return thread;
  }
}

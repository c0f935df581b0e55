/**
 * The bookkeeping of one window of a partition: the offsets it covers, its temp files by output directory, its
 * record and byte counts, and the byte budget of what its files hold in memory together.
 */
import { committedFileName, type SinkPaths } from './filenames.ts';
import { MANIFEST_VERSION, type Manifest } from './manifest.ts';
import type { TempFile } from './temp-file.ts';

/** Bytes appended between two checks of the buffered bytes (summing them costs one look per file). */
const BUDGET_CHECK_BYTES = 1024 * 1024;

export class Window {
  /** First offset covered: the previous window's end + 1 (or the first offset ever consumed). */
  readonly start: bigint;
  /** Last offset covered, written or dead-lettered. */
  end: bigint;
  readonly openedAt: number;
  readonly files = new Map<string, TempFile>();
  records = 0;
  bytes = 0;
  /**
   * Set once the window's manifest create was attempted: the manifest may exist, so its temp files then belong
   * to recovery, and an abort must leave them.
   */
  manifestAttempted = false;
  /** Bytes the files may hold together now: the partition's share of the sink's budget, which a rebalance moves. */
  private readonly budget: () => number;
  private sinceBudgetCheck = 0;

  constructor(start: bigint, end: bigint, openedAt: number, budget: () => number) {
    this.start = start;
    this.end = end;
    this.openedAt = openedAt;
    this.budget = budget;
  }

  /**
   * Counts a record added to one of the files. Now and then, when the files hold more than the budget together
   * (counting the bytes they handed out that are still being encoded), empties those holding most, down to half of
   * it, and returns a promise to await: it resolves once what the files handed out is encoded and their uploads
   * are not behind.
   *
   * Why wait for the encoding: jsonl.gz's blocks stay in memory until libdeflate compressed them, and a
   * compression's completion runs on the event loop, which a write loop of thousands of records does not leave;
   * with 300 open files (100 field-partition folders) 15-34 MiB of handed-out blocks waited there on top of the
   * budget (docs/benchmarks.md, "Seventh round: sink memory"). Waiting bounds the two together.
   */
  counted(valueBytes: number): Promise<void> | undefined {
    this.records++;
    this.bytes += valueBytes;
    this.sinceBudgetCheck += valueBytes;
    if (this.sinceBudgetCheck < BUDGET_CHECK_BYTES) return undefined;
    this.sinceBudgetCheck = 0;
    const budget = this.budget();
    let held = 0;
    let encoding = 0;
    for (const f of this.files.values()) {
      held += f.bufferedBytes;
      encoding += f.encodingBytes;
    }
    if (held + encoding <= budget) return undefined;
    const largestFirst = [...this.files.values()].sort((a, b) => b.bufferedBytes - a.bufferedBytes);
    const waits: Promise<void>[] = [];
    for (const f of largestFirst) {
      if (held <= budget / 2) break;
      held -= f.bufferedBytes;
      const wait = f.flush(true);
      if (wait) waits.push(wait);
    }
    for (const f of this.files.values()) if (f.encodingBytes > 0) waits.push(f.encoded());
    return waits.length > 0 ? Promise.all(waits).then(() => undefined) : undefined;
  }

  /** The manifest that commits this window once its files are complete (their persisted sizes are final). */
  manifest(o: {
    paths: SinkPaths;
    topic: string;
    partition: number;
    extension: string;
    writerId: string;
    createdAt: Date;
  }): Manifest {
    const { paths, topic, partition, extension } = o;
    return {
      version: MANIFEST_VERSION,
      topic,
      partition,
      startOffset: this.start.toString(),
      endOffset: this.end.toString(),
      files: [...this.files.values()].map((f) => ({
        tmp: f.tmp,
        final: paths.committedFile(
          topic,
          f.dir,
          committedFileName(topic, partition, f.firstOffset, f.lastOffset, extension),
        ),
        records: f.records,
        bytes: f.persisted,
        firstOffset: f.firstOffset.toString(),
        lastOffset: f.lastOffset.toString(),
      })),
      createdAt: o.createdAt.toISOString(),
      writerId: o.writerId,
    };
  }
}

/**
 * The source cursor: per source name, the newest tweet id that Kafka has acknowledged, kept in a JSON file in the
 * state directory so a restart resumes (stream: gap-filling search from there; search: since_id) instead of
 * losing or re-reading tweets.
 *
 * CursorStore persists with an atomic replace (write a temp file, fsync, rename, fsync the directory), so a crash
 * leaves either the old or the new file, never a torn one. CursorTracker decides *when* to save: only from ack(),
 * and only up to the newest id of the contiguous prefix of acknowledged batches (a later batch acked first does not
 * skip an earlier one still in flight), never past an id a source holds back (a gap not yet filled).
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { TweetpipeError } from '../errors.ts';
import { compareIds } from '../types.ts';
import { readStateFile, replaceFileAtomically } from './atomic-file.ts';
import type { Ack } from './source.ts';

const FILE_NAME = 'source-cursors.json';

interface CursorFile {
  version: 1;
  sources: Record<string, { newest_id: string; updated_at: string }>;
}

export class CursorStore {
  readonly path: string;
  readonly #dir: string;
  readonly #cursors: CursorFile['sources'];
  /** Saves are serialised so an older snapshot never overwrites a newer one. */
  #writing: Promise<void> = Promise.resolve();

  private constructor(dir: string, cursors: CursorFile['sources']) {
    this.#dir = dir;
    this.path = join(dir, FILE_NAME);
    this.#cursors = cursors;
  }

  /** Loads the cursors from `stateDir` (created when missing). A corrupt file is an error, not a silent reset. */
  static async open(stateDir: string): Promise<CursorStore> {
    try {
      await mkdir(stateDir, { recursive: true });
    } catch (err) {
      const why =
        (err as NodeJS.ErrnoException).code === 'EEXIST'
          ? 'it exists and is not a directory'
          : (err as Error).message;
      throw new TweetpipeError(
        'CONFIG_INVALID',
        `cannot use ${stateDir} as the producer state directory (producer.stateDir, --state-dir): ${why}`,
        { cause: err },
      );
    }
    const path = join(stateDir, FILE_NAME);
    const parsed = await readStateFile(path, 'the source cursor file', (why) => corrupt(path, why));
    if (parsed === undefined) return new CursorStore(stateDir, {});
    const sources = (parsed as Partial<CursorFile> | null)?.sources;
    if (typeof sources !== 'object' || sources === null) throw corrupt(path, 'no "sources" object');
    for (const [name, entry] of Object.entries(sources)) {
      if (typeof entry?.newest_id !== 'string' || !/^[0-9]{1,19}$/.test(entry.newest_id))
        throw corrupt(path, `source "${name}" has no decimal newest_id`);
    }
    return new CursorStore(stateDir, sources);
  }

  /** Newest acknowledged tweet id of `source`, if any. */
  get(source: string): string | undefined {
    return this.#cursors[source]?.newest_id;
  }

  /** Persists `newestId` for `source` unless the stored cursor is already at or past it. */
  async save(source: string, newestId: string, nowMs = Date.now()): Promise<void> {
    const current = this.get(source);
    if (current !== undefined && compareIds(newestId, current) <= 0) return;
    this.#cursors[source] = { newest_id: newestId, updated_at: new Date(nowMs).toISOString() };
    const snapshot = JSON.stringify({ version: 1, sources: this.#cursors } satisfies CursorFile, null, 2);
    const write = this.#writing.then(() =>
      replaceFileAtomically(this.#dir, FILE_NAME, snapshot).catch((err: unknown) => {
        throw new TweetpipeError(
          'INTERNAL',
          `cannot save the source cursor to ${this.path}: ${(err as Error).message}; the producer stops here, and a restart resumes from the cursor last saved`,
          { cause: err },
        );
      }),
    );
    this.#writing = write.catch(() => {});
    await write;
  }
}

function corrupt(path: string, why: string): TweetpipeError {
  return new TweetpipeError(
    'INTERNAL',
    `the source cursor file ${path} is corrupt (${why}); fix or delete it (deleting restarts the sources without a backfill)`,
  );
}

interface Entry {
  newestId: string | undefined;
  acked: boolean;
  releases: number | undefined;
}

/** Turns batch acks of one source into cursor saves; see the module comment for the rules. */
export class CursorTracker {
  readonly #store: CursorStore;
  readonly #source: string;
  readonly #entries: Entry[] = [];
  /** Hold token -> id the cursor must not pass (null: must not move at all). */
  readonly #holds = new Map<number, string | null>();
  #nextHold = 0;
  /** Newest id over the acknowledged prefix. */
  #ackedNewest: string | undefined;

  constructor(store: CursorStore, source: string) {
    this.#store = store;
    this.#source = source;
    this.#ackedNewest = store.get(source);
  }

  /** The persisted cursor this tracker started from or has saved since. */
  get saved(): string | undefined {
    return this.#store.get(this.#source);
  }

  /**
   * Registers the next batch, in read order, and returns its ack. `newestId` is what the cursor may move to once
   * this batch and every earlier one are acknowledged (undefined: the batch does not move it).
   * An ack with an error leaves the cursor where it is; a restart then resumes from the last saved id.
   */
  begin(newestId: string | undefined): Ack {
    const entry: Entry = { newestId, acked: false, releases: undefined };
    this.#entries.push(entry);
    let done = false;
    return async (err?: Error) => {
      if (done || err) return;
      done = true;
      entry.acked = true;
      await this.#advance();
    };
  }

  /** Moves the cursor to `newestId` once every batch registered so far is acknowledged (no batch of its own). */
  async complete(newestId: string): Promise<void> {
    this.#entries.push({ newestId, acked: true, releases: undefined });
    await this.#advance();
  }

  /**
   * Keeps the saved cursor at or below `id` until released (a gap after `id` is not filled yet); with no id,
   * the cursor does not move at all until released.
   */
  hold(id: string | undefined): number {
    const token = this.#nextHold++;
    this.#holds.set(token, id ?? null);
    return token;
  }

  /** Lifts a hold once every batch registered so far is acknowledged (the gap's tweets are in Kafka). */
  async releaseAfterPending(token: number): Promise<void> {
    this.#entries.push({ newestId: undefined, acked: true, releases: token });
    await this.#advance();
  }

  async #advance(): Promise<void> {
    while (this.#entries[0]?.acked) {
      const entry = this.#entries.shift()!;
      if (entry.releases !== undefined) this.#holds.delete(entry.releases);
      if (
        entry.newestId !== undefined &&
        (this.#ackedNewest === undefined || compareIds(entry.newestId, this.#ackedNewest) > 0)
      )
        this.#ackedNewest = entry.newestId;
    }
    let target = this.#ackedNewest;
    for (const held of this.#holds.values()) {
      if (held === null) return;
      if (target !== undefined && compareIds(held, target) < 0) target = held;
    }
    if (target !== undefined) await this.#store.save(this.#source, target);
  }
}

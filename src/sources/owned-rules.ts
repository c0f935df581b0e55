/**
 * The ids of the filtered-stream rules tweetpipe created, kept in the state directory (`x-rules.json`), so that
 * with x.rulesMode `owned` it deletes only its own rules and leaves those another tool or a colleague added.
 * A rule created but not recorded (a crash between the two) is treated as someone else's: never deleted, which
 * is the safe side.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { TweetpipeError } from '../errors.ts';
import { readStateFile, replaceFileAtomically } from './atomic-file.ts';

const FILE_NAME = 'x-rules.json';

interface OwnedRulesFile {
  version: 1;
  /** Rule ids as X returned them when tweetpipe added the rules. */
  created_ids: string[];
}

export class OwnedRulesStore {
  readonly path: string;
  readonly #dir: string;
  #ids: ReadonlySet<string>;

  private constructor(dir: string, ids: ReadonlySet<string>) {
    this.#dir = dir;
    this.path = join(dir, FILE_NAME);
    this.#ids = ids;
  }

  /** Loads the ids from `stateDir` (created when missing). A corrupt file is an error, not a silent reset. */
  static async open(stateDir: string): Promise<OwnedRulesStore> {
    await mkdir(stateDir, { recursive: true });
    const path = join(stateDir, FILE_NAME);
    const corrupt = () =>
      new TweetpipeError(
        'INTERNAL',
        `${path} is corrupt (expected {"version":1,"created_ids":["..."]}); fix it, or delete it to treat every rule on the app as someone else's`,
      );
    const parsed = await readStateFile(path, 'the stream rules file', corrupt);
    if (parsed === undefined) return new OwnedRulesStore(stateDir, new Set());
    const ids = (parsed as Partial<OwnedRulesFile> | null)?.created_ids;
    if (!Array.isArray(ids) || !ids.every((id) => typeof id === 'string')) throw corrupt();
    return new OwnedRulesStore(stateDir, new Set(ids));
  }

  ids(): ReadonlySet<string> {
    return this.#ids;
  }

  async save(ids: Iterable<string>): Promise<void> {
    const next = new Set(ids);
    const content = JSON.stringify({ version: 1, created_ids: [...next].sort() } satisfies OwnedRulesFile);
    await replaceFileAtomically(this.#dir, FILE_NAME, `${content}\n`);
    this.#ids = next;
  }
}

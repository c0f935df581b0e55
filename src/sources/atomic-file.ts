/**
 * The small JSON state files of the producer (source cursors, owned stream rules): read whole, and replaced so that
 * a crash leaves either the old or the new content, never a torn file.
 */
import { open, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { TweetpipeError } from '../errors.ts';

let tmpCounter = 0;

/** Writes a temp file, fsyncs it, renames it over `dir/name`, then fsyncs the directory (the rename's entry). */
export async function replaceFileAtomically(dir: string, name: string, content: string): Promise<void> {
  const tmp = join(dir, `.${name}.${process.pid}.${tmpCounter++}.tmp`);
  const file = await open(tmp, 'w');
  try {
    await file.writeFile(content);
    await file.sync();
  } finally {
    await file.close();
  }
  await rename(tmp, join(dir, name));
  const dirHandle = await open(dir, 'r');
  try {
    await dirHandle.sync();
  } finally {
    await dirHandle.close();
  }
}

/**
 * The parsed JSON of the state file at `path` (`what` names it in errors), or undefined when there is none yet. A
 * file that cannot be read is an INTERNAL error; one that is not JSON is the error `corrupt` makes: never a silent
 * reset.
 */
export async function readStateFile(
  path: string,
  what: string,
  corrupt: (why: string) => Error,
): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new TweetpipeError('INTERNAL', `cannot read ${what} ${path}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw corrupt((err as Error).message);
  }
}

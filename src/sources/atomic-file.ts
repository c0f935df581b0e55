/** Replaces a small state file so that a crash leaves either the old or the new content, never a torn file. */
import { open, rename } from 'node:fs/promises';
import { join } from 'node:path';

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

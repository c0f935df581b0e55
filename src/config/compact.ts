/** Scheduled compaction inside `tweetpipe run` (`compact.*`, docs/compaction.md). */
import { z } from 'zod';
import { parseDurationMs, parseSizeBytes } from './units.ts';

const unitOk = (parse: (what: string, text: string) => number) => (text: string) => {
  try {
    return parse('', text) > 0;
  } catch {
    return false;
  }
};
const isDuration = unitOk(parseDurationMs);
const isSize = unitOk(parseSizeBytes);
const durationMessage = (key: string) => ({ message: `${key} must be a duration like 90s, 15m, 2h or 1d` });
const sizeMessage = (key: string) => ({ message: `${key} must be a size like 512KB, 256MB or 1GB` });

export const compactSettings = z
  .strictObject({
    /** How often `tweetpipe run` compacts hdfs.dir, like `6h`; absent: never. */
    every: z.string().refine(isDuration, durationMessage('compact.every')).optional(),
    /** Only folders with no write for this long, as `tweetpipe compact --older-than`. */
    olderThan: z.string().refine(isDuration, durationMessage('compact.olderThan')).default('2h'),
    /** Size of the merged files, as `tweetpipe compact --target-size`. */
    targetSize: z.string().refine(isSize, sizeMessage('compact.targetSize')).default('256MB'),
    /**
     * With sink.hive: how long a rewrite run waits after moving catalog readers to the snapshot before it changes
     * a file, and after moving them back before it deletes the snapshot, so that queries planned before a move
     * finish reading what they listed. As `--reader-grace` of compact and compliance apply.
     */
    readerGrace: z.string().refine(isDuration, durationMessage('compact.readerGrace')).default('30s'),
  })
  .prefault({});

/**
 * Every path the sink writes, in one place, so the HDFS layout contract lives in one module:
 *
 *   <dir>/<topic>/<partition path>/<topic>+<kafka partition>+<first offset>+<last offset>.<ext>   committed
 *   <dir>/_tmp/<topic>/<kafka partition>/<writer id>/<window start>+<n>.<ext>                      in progress
 *   <dir>/_wal/<topic>/<kafka partition>/<window start, 20 digits>.json                          manifests
 *
 * Offsets in committed names are plain decimal without padding (like kafka-connect-hdfs): nothing sorts by
 * these names, recovery reads manifests. Kafka topic names cannot contain '+', so the name parses back.
 */
import { TweetpipeError } from '../errors.ts';

export interface CommittedFile {
  topic: string;
  partition: number;
  firstOffset: bigint;
  lastOffset: bigint;
  extension: string;
}

const EXTENSIONS = ['jsonl', 'jsonl.gz', 'parquet'];
const COMMITTED_NAME = /^([A-Za-z0-9._-]+)\+(\d+)\+(\d+)\+(\d+)\.([a-z.]+)$/;
const TOPIC = /^[A-Za-z0-9._-]{1,249}$/;

export function committedFileName(
  topic: string,
  partition: number,
  firstOffset: bigint,
  lastOffset: bigint,
  extension: string,
): string {
  if (!TOPIC.test(topic)) throw new TweetpipeError('INTERNAL', `not a Kafka topic name: ${topic}`);
  if (!Number.isInteger(partition) || partition < 0 || firstOffset < 0n || lastOffset < firstOffset)
    throw new TweetpipeError('INTERNAL', `bad file range ${partition}:${firstOffset}..${lastOffset}`);
  return `${topic}+${partition}+${firstOffset}+${lastOffset}.${extension}`;
}

/** The parts of a committed file name, or null when the name is not one. */
export function parseCommittedFileName(name: string): CommittedFile | null {
  const m = COMMITTED_NAME.exec(name);
  if (!m) return null;
  const [, topic = '', partition = '', first = '', last = '', extension = ''] = m;
  if (!EXTENSIONS.includes(extension)) return null;
  const firstOffset = BigInt(first);
  const lastOffset = BigInt(last);
  if (lastOffset < firstOffset || !Number.isSafeInteger(Number(partition))) return null;
  return { topic, partition: Number(partition), firstOffset, lastOffset, extension };
}

const TEMP_NAME = /^(\d+)\+\d+\.[a-z.]+$/;

/** The window start offset in a temp file name (`<window start>+<n>.<ext>`), or null for other names. */
export function parseTempFileWindowStart(name: string): bigint | null {
  const m = TEMP_NAME.exec(name);
  return m?.[1] ? BigInt(m[1]) : null;
}

const OFFSET_DIGITS = 20;
const MANIFEST_NAME = /^(\d{20})\.json$/;

/** Manifest file name: the window's start offset padded so that names sort like offsets. */
export function manifestFileName(startOffset: bigint): string {
  return `${startOffset.toString().padStart(OFFSET_DIGITS, '0')}.json`;
}

/** The window start offset of a manifest file name, or null for other names. */
export function parseManifestFileName(name: string): bigint | null {
  const m = MANIFEST_NAME.exec(name);
  return m?.[1] ? BigInt(m[1]) : null;
}

/** The directory layout under the sink's root directory. */
export class SinkPaths {
  readonly root: string;

  constructor(root: string) {
    if (!root.startsWith('/'))
      throw new TweetpipeError('CONFIG_INVALID', `HDFS directory must be absolute: ${root}`);
    this.root = root.replace(/\/+$/, '');
  }

  committedDir(topic: string, partitionPath: string): string {
    return `${this.root}/${topic}/${partitionPath}`;
  }

  committedFile(topic: string, partitionPath: string, name: string): string {
    return `${this.committedDir(topic, partitionPath)}/${name}`;
  }

  /** All in-progress files of one Kafka partition, one directory per writer instance. */
  partitionTmpDir(topic: string, partition: number): string {
    return `${this.root}/_tmp/${topic}/${partition}`;
  }

  /** In-progress files of one writer instance. */
  writerTmpDir(topic: string, partition: number, writerId: string): string {
    return `${this.partitionTmpDir(topic, partition)}/${writerId}`;
  }

  tmpFile(
    topic: string,
    partition: number,
    writerId: string,
    windowStart: bigint,
    index: number,
    ext: string,
  ) {
    return `${this.writerTmpDir(topic, partition, writerId)}/${windowStart}+${index}.${ext}`;
  }

  walDir(topic: string, partition: number): string {
    return `${this.root}/_wal/${topic}/${partition}`;
  }

  manifest(topic: string, partition: number, startOffset: bigint): string {
    return `${this.walDir(topic, partition)}/${manifestFileName(startOffset)}`;
  }
}

/** Writer ids become path components: keep them to safe characters. */
export function checkWriterId(id: string): string {
  if (!/^[A-Za-z0-9._-]{1,128}$/.test(id))
    throw new TweetpipeError('CONFIG_INVALID', `writer id must be 1-128 of [A-Za-z0-9._-]: ${id}`);
  return id;
}

/** Reading WebHDFS answers: typed fields of the JSON, FileStatus lists, and errors of a streamed body. */
import { TweetpipeError } from '../errors.ts';
import { transportError } from './webhdfs-errors.ts';
import type { HdfsFileStatus } from './webhdfs-types.ts';

export async function* mapStreamErrors(body: AsyncIterable<Buffer>, path: string): AsyncGenerator<Buffer> {
  try {
    yield* body;
  } catch (err) {
    throw transportError('OPEN', path, err);
  }
}

type Kind = { boolean: boolean; number: number; string: string; object: Record<string, unknown> };

/** Reads one typed field of a WebHDFS JSON answer; a different shape is an HDFS_REMOTE error. */
export function field<K extends keyof Kind>(
  json: unknown,
  name: string,
  kind: K,
  op: string,
  path: string,
): Kind[K] {
  const value =
    json !== null && typeof json === 'object' ? (json as Record<string, unknown>)[name] : undefined;
  const ok = kind === 'object' ? value !== null && typeof value === 'object' : typeof value === kind;
  if (!ok) throw unexpected(op, path, `"${name}" (${kind})`);
  return value as Kind[K];
}

export function statusArray(statuses: unknown, op: string, path: string): HdfsFileStatus[] {
  const list = field(statuses, 'FileStatus', 'object', op, path);
  if (!Array.isArray(list)) throw unexpected(op, path, 'a FileStatus array');
  return list.map((s) => asStatus(s, op, path));
}

export function asStatus(value: unknown, op: string, path: string): HdfsFileStatus {
  field(value, 'pathSuffix', 'string', op, path);
  field(value, 'type', 'string', op, path);
  field(value, 'length', 'number', op, path);
  return value as HdfsFileStatus;
}

export function unexpected(op: string, path: string, what: string): TweetpipeError {
  return new TweetpipeError('HDFS_REMOTE', `WebHDFS ${op} ${path}: expected ${what} in the answer`, {
    details: { op, path },
  });
}

/** HDFS paths as WebHDFS URLs take them. */
import { TweetpipeError } from '../errors.ts';

/** '/a//b/' -> '/a/b'; relative paths and '.' / '..' segments are refused, as HDFS refuses them. */
export function normalizePath(path: string): string {
  return `/${segments(path).join('/')}`;
}

/** Percent-encodes each segment, so '+', '=', spaces and unicode in file names reach HDFS unchanged. */
export function encodePath(path: string): string {
  return `/${segments(path).map(encodeURIComponent).join('/')}`;
}

function segments(path: string): string[] {
  const parts = path.split('/').filter(Boolean);
  if (!path.startsWith('/') || parts.some((p) => p === '.' || p === '..')) {
    throw new TweetpipeError('HDFS_REMOTE', `not an absolute HDFS path: ${path}`, { details: { path } });
  }
  return parts;
}

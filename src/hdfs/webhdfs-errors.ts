/**
 * Turns WebHDFS failures into TweetpipeErrors: the NameNode/DataNode `RemoteException` JSON by Java class name,
 * and undici transport errors by their code. Retry loops then decide from `code` and `retryable` alone.
 */
import { type ErrorCode, networkErrorCode, TweetpipeError } from '../errors.ts';

/** Java exception class (simple name) -> our code and whether trying again can succeed. */
const REMOTE_EXCEPTIONS: Record<string, { code: ErrorCode; retryable: boolean }> = {
  FileNotFoundException: { code: 'HDFS_NOT_FOUND', retryable: false },
  FileAlreadyExistsException: { code: 'HDFS_ALREADY_EXISTS', retryable: false },
  SafeModeException: { code: 'HDFS_SAFE_MODE', retryable: true },
  // The NameNode wraps SafeModeException in RetriableException while it leaves safe mode.
  RetriableException: { code: 'HDFS_SAFE_MODE', retryable: true },
  StandbyException: { code: 'HDFS_STANDBY', retryable: true },
  AlreadyBeingCreatedException: { code: 'HDFS_LEASE', retryable: true },
  LeaseExpiredException: { code: 'HDFS_LEASE', retryable: true },
  RecoveryInProgressException: { code: 'HDFS_LEASE', retryable: true },
  // Reading a file whose create died with the DataNode writing it: its last block stays of unknown length until
  // the NameNode recovers the lease (up to its hard limit), so retrying soon does not help.
  CannotObtainBlockLengthException: { code: 'HDFS_UNFINISHED', retryable: false },
  // A delegation token expired, cancelled or unknown (SecretManager$InvalidToken), or SPNEGO refused: the client
  // may replace its credentials once (webhdfs-auth.ts); otherwise final.
  InvalidToken: { code: 'HDFS_AUTH', retryable: false },
  AuthenticationException: { code: 'HDFS_AUTH', retryable: false },
  // WebHDFS wraps an expired token as "SecurityException: Failed to obtain user group information: ...InvalidToken".
  SecurityException: { code: 'HDFS_AUTH', retryable: false },
};

/** HTTP statuses that mean "a proxy or the server is briefly unavailable" when no RemoteException explains them. */
const TRANSIENT_HTTP = new Set([502, 503, 504]);

/** undici timeouts; `networkErrorCode` also knows them, but they deserve the TIMEOUT code. */
const TIMEOUT_CODES = new Set([
  'ETIMEDOUT',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

/** Failures to reach a server at all: the request was never processed, so another NameNode may be tried. */
const CONNECT_FAILURES = new Set([
  'ECONNREFUSED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'UND_ERR_CONNECT_TIMEOUT',
]);

interface RemoteExceptionBody {
  exception?: unknown;
  javaClassName?: unknown;
  message?: unknown;
}

/**
 * Maps a non-2xx WebHDFS response. `body` is the raw response text; WebHDFS sends
 * `{"RemoteException":{"exception","javaClassName","message"}}`, anything else is reported by status.
 */
export function remoteError(op: string, path: string, status: number, body: string): TweetpipeError {
  const remote = parseRemoteException(body);
  if (!remote && status === 401) {
    return new TweetpipeError(
      'HDFS_AUTH',
      `WebHDFS ${op} ${path}: HTTP 401, the server wants authentication (hdfs.auth kerberos or token)`,
      { details: { op, path, status } },
    );
  }
  if (!remote) {
    return new TweetpipeError('HDFS_REMOTE', `WebHDFS ${op} ${path}: HTTP ${status}`, {
      retryable: TRANSIENT_HTTP.has(status),
      details: { op, path, status },
    });
  }
  const exception = simpleClassName(remote);
  const known = REMOTE_EXCEPTIONS[exception];
  // DataNode messages carry the whole Java stack trace; the first line is the message.
  const message = typeof remote.message === 'string' ? (remote.message.split('\n')[0] ?? '') : '';
  return new TweetpipeError(known?.code ?? 'HDFS_REMOTE', `WebHDFS ${op} ${path}: ${exception}: ${message}`, {
    retryable: known?.retryable ?? false,
    details: { op, path, status, exception },
  });
}

/** Maps an error thrown by undici (or by a caller's body stream) for one WebHDFS request. */
export function transportError(op: string, path: string, err: unknown): TweetpipeError {
  if (err instanceof TweetpipeError) return err;
  const syscall = networkErrorCode(err);
  if (syscall && TIMEOUT_CODES.has(syscall)) {
    return new TweetpipeError('TIMEOUT', `WebHDFS ${op} ${path}: timed out (${syscall})`, {
      retryable: true,
      cause: err,
      details: { op, path, syscall },
    });
  }
  if (syscall) {
    return new TweetpipeError('NETWORK', `WebHDFS ${op} ${path}: network error ${syscall}`, {
      retryable: true,
      cause: err,
      details: { op, path, syscall },
    });
  }
  const message = err instanceof Error ? err.message : String(err);
  return new TweetpipeError('INTERNAL', `WebHDFS ${op} ${path}: ${message}`, {
    cause: err,
    details: { op, path },
  });
}

/** True when the server was never reached, so the request certainly had no effect. */
export function isConnectFailure(err: TweetpipeError): boolean {
  const syscall = err.details.syscall;
  return typeof syscall === 'string' && CONNECT_FAILURES.has(syscall);
}

/** True when the server answered with a RemoteException, so the outcome of the request is known. */
export function isRemoteAnswer(err: TweetpipeError): boolean {
  return typeof err.details.exception === 'string';
}

function parseRemoteException(body: string): RemoteExceptionBody | undefined {
  try {
    const parsed = JSON.parse(body) as { RemoteException?: unknown };
    const remote = parsed?.RemoteException;
    return remote && typeof remote === 'object' ? (remote as RemoteExceptionBody) : undefined;
  } catch {
    return undefined;
  }
}

function simpleClassName(remote: RemoteExceptionBody): string {
  if (typeof remote.exception === 'string' && remote.exception) return remote.exception;
  if (typeof remote.javaClassName === 'string')
    return remote.javaClassName.slice(remote.javaClassName.lastIndexOf('.') + 1);
  return 'RemoteException';
}

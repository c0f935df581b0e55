/**
 * A small typed WebHDFS REST client, hand-written on undici's `request` because no maintained npm HDFS client
 * exists (`webhdfs@1` sits on the deprecated `request` package); undici is faster than fetch and gives us a
 * keep-alive pool and per-request timeouts.
 *
 * - Data operations are two-step with `noredirect=true`: the NameNode answers `{"Location": ...}` and the body goes
 *   to that DataNode URL. The NameNode step has no side effect, so it is always safe to repeat. Uploads to the
 *   DataNode use node:http instead of undici (webhdfs-upload.ts says why).
 * - HA: with several NameNode URLs, a StandbyException or a failure to connect moves to the next URL, which is then
 *   remembered for every later call (webhdfs-namenodes.ts). A NameNode not yet tried in this call is tried at once;
 *   a full round backs off (webhdfs-call.ts).
 * - Retries happen only for retryable errors (see webhdfs-errors.ts), with the backoff of WEBHDFS_CALL (src/retry/schedules.ts).
 *   A request that may have reached the server without us seeing the answer (reset, timeout) makes the call
 *   "ambiguous", and the non-idempotent operations resolve that instead of trusting the retry's answer:
 *   - CREATE with overwrite=false: if a retry meets FileAlreadyExists after an ambiguous attempt, the file is read
 *     back; byte-for-byte our body means the earlier attempt landed (or someone wrote exactly what we meant to, which
 *     is the same outcome) and the call succeeds; otherwise HDFS_ALREADY_EXISTS. With overwrite=true a retry is
 *     simply repeated.
 *   - RENAME: a `false` (or NOT_FOUND / ALREADY_EXISTS from rename2) after an ambiguous attempt counts as success
 *     when the source is gone and the destination exists.
 *   - APPEND is never retried once the body may have reached the DataNode: it fails with `retryable: false` and
 *     `details.ambiguous`, because the bytes may already be in the file. A RemoteException answer proves nothing was
 *     appended, so those (lease recovery, safe mode) are retried.
 *   - A streaming body (AsyncIterable / Readable) can be sent once: its call is retried only before the DataNode
 *     step starts. A Uint8Array body is replayed.
 *   - DELETE and MKDIRS are idempotent and retried as they are (a retried DELETE may answer false for a path an
 *     earlier attempt removed).
 */
import http from 'node:http';
import https from 'node:https';
import { Readable } from 'node:stream';
import { Agent, type Dispatcher, request } from 'undici';
import { TweetpipeError } from '../errors.ts';
import { type Logger, silentLogger } from '../log.ts';
import { isClassicRenameRefusal, renameRefusal } from './httpfs.ts';
import { asStatus, field, mapStreamErrors, statusArray, unexpected } from './webhdfs-answers.ts';
import { type HdfsAuthSettings, type WebHdfsAuth, webHdfsAuth } from './webhdfs-auth.ts';
import { type CallRetrier, callWithRetries, DEFAULT_RETRY, type RetryPolicy } from './webhdfs-call.ts';
import { isConnectFailure, isRemoteAnswer, remoteError, transportError } from './webhdfs-errors.ts';
import { holds, renameLanded, statusOrNull } from './webhdfs-landed.ts';
import { NamenodeFailover, type NamenodeSwitch } from './webhdfs-namenodes.ts';
import { encodePath, normalizePath } from './webhdfs-paths.ts';
import type {
  Attempt,
  ContentSummary,
  HdfsFileStatus,
  OpenOptions,
  WebHdfsBody,
  WebHdfsCreateOptions,
  WebHdfsWriteOptions,
} from './webhdfs-types.ts';
import { type UploadAnswer, upload } from './webhdfs-upload.ts';

export interface WebHdfsClientOptions {
  /** One NameNode's WebHDFS base URL (http://host:9870), or several for an HA pair. */
  urls: string[];
  /** Sent as `user.name` (simple authentication) unless `auth` says otherwise. */
  user: string;
  /** Kerberos or a delegation token (webhdfs-auth.ts); absent: simple authentication as `user`. */
  auth?: HdfsAuthSettings;
  /** PEM certificates to trust for https:// URLs (NameNodes and DataNodes), beside the system's. */
  ca?: string;
  /** Connect timeout, and the longest silence on a connection (waiting for an answer, or for a streaming body). */
  timeoutMs?: number;
  retry?: Partial<RetryPolicy>;
  /** Open connections per NameNode (uploads to DataNodes are not capped: one per open file). */
  connections?: number;
  logger?: Logger;
  /** Told each time calls move to the next NameNode URL (a StandbyException, or one that cannot be reached). */
  onNamenodeSwitch?: NamenodeSwitch;
  /** Test seams: how to wait between retries and where jitter comes from. */
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

type Method = 'GET' | 'PUT' | 'POST' | 'DELETE';
type Params = Record<string, string>;

export class WebHdfsClient {
  private readonly namenodes: NamenodeFailover;
  private readonly auth: WebHdfsAuth;
  private readonly timeoutMs: number;
  private readonly retrier: CallRetrier;
  /** undici pool for the NameNode and for reads; uploads go through node:http (see webhdfs-upload.ts). */
  private readonly agent: Agent;
  private readonly uploadAgents: { http: http.Agent; https: https.Agent };
  private readonly log: Logger;

  constructor(options: WebHdfsClientOptions) {
    this.namenodes = new NamenodeFailover(options.urls, options.onNamenodeSwitch ?? (() => {}));
    this.timeoutMs = options.timeoutMs ?? 60_000;
    this.log = options.logger ?? silentLogger;
    // Below Jetty's 60 s idle timeout, so we never reuse a socket the NameNode is about to close.
    this.agent = new Agent({
      connections: options.connections ?? 16,
      keepAliveTimeout: 20_000,
      connectTimeout: this.timeoutMs,
      ...(options.ca ? { connect: { ca: options.ca } } : {}),
    });
    this.auth = webHdfsAuth(
      options.auth ?? { auth: 'simple', user: options.user },
      this.agent,
      this.timeoutMs,
      this.log,
    );
    this.retrier = {
      policy: { ...DEFAULT_RETRY, ...options.retry },
      namenodes: this.namenodes,
      reauthenticate: (err) => this.auth.refused(err),
      log: this.log,
      sleep: options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms))),
      random: options.random ?? Math.random,
    };
    // Uploads get a socket each, uncapped: the sink streams one upload per open file for the file's whole life, so
    // a cap below the open files (100 field-partition folders x 3 partitions) left a file waiting for a socket held
    // by another open file's upload, which ends only at that file's commit, and the sink stalled until uploads timed
    // out. What bounds the sockets is the open files; DataNodes close the connection after each upload.
    this.uploadAgents = {
      http: new http.Agent(),
      https: new https.Agent(options.ca ? { ca: options.ca } : {}),
    };
  }

  /** The NameNode URL that answered last (the active one of an HA pair). */
  get activeUrl(): string {
    return this.namenodes.activeUrl;
  }

  async create(path: string, body: WebHdfsBody, options: WebHdfsCreateOptions = {}): Promise<void> {
    const overwrite = options.overwrite ?? false;
    const params: Params = { overwrite: String(overwrite) };
    if (options.blockSize !== undefined) params.blocksize = String(options.blockSize);
    if (options.replication !== undefined) params.replication = String(options.replication);
    if (options.permission !== undefined) params.permission = options.permission;
    await this.call('CREATE', path, async (attempt) => {
      const location = await this.location('PUT', 'CREATE', path, params);
      try {
        await this.upload(location, 'PUT', 'CREATE', path, body, attempt, options);
      } catch (err) {
        const landed =
          err instanceof TweetpipeError &&
          err.code === 'HDFS_ALREADY_EXISTS' &&
          attempt.ambiguous &&
          !overwrite &&
          body instanceof Uint8Array &&
          (await holds(this, path, body));
        if (!landed) throw err;
      }
    });
  }

  async append(path: string, body: WebHdfsBody, options: WebHdfsWriteOptions = {}): Promise<void> {
    await this.call('APPEND', path, async (attempt) => {
      const location = await this.location('POST', 'APPEND', path, {});
      try {
        await this.upload(location, 'POST', 'APPEND', path, body, attempt, options);
      } catch (err) {
        if (err instanceof TweetpipeError && !isRemoteAnswer(err) && !isConnectFailure(err)) {
          throw new TweetpipeError(err.code, `${err.message} (the append may have landed; not retried)`, {
            retryable: false,
            cause: err,
            details: { ...err.details, ambiguous: true },
          });
        }
        throw err;
      }
    });
  }

  /**
   * Streams a file; read it to the end or destroy it, or it holds a connection. Errors before the first byte are
   * retried; errors mid-stream reach the consumer as TweetpipeErrors.
   */
  async open(path: string, options: OpenOptions = {}): Promise<Readable> {
    const body = await this.call('OPEN', path, () => this.openOnce(path, options));
    return Readable.from(mapStreamErrors(body, path));
  }

  /** Reads a whole file (or a range of it) into memory; retried as a whole. */
  async readAll(path: string, options: OpenOptions = {}): Promise<Buffer> {
    return this.call('OPEN', path, async () => {
      const body = await this.openOnce(path, options);
      try {
        return Buffer.from(await body.arrayBuffer());
      } catch (err) {
        throw transportError('OPEN', path, err);
      }
    });
  }

  /**
   * Classic HDFS rename: false when the source is missing, the destination exists as a file or its parent is
   * missing; an existing directory as destination receives the source inside it.
   */
  async rename(from: string, to: string): Promise<boolean> {
    const destination = normalizePath(to);
    return this.call('RENAME', from, async (attempt) => {
      const renamed = field(
        await this.json('PUT', 'RENAME', from, { destination }),
        'boolean',
        'boolean',
        'RENAME',
        from,
      );
      return renamed || (attempt.ambiguous && (await renameLanded(this, from, to)));
    });
  }

  /**
   * HDFS rename2 (FileContext semantics): never moves into an existing directory. Fails with HDFS_NOT_FOUND when
   * the source or the destination's parent is missing, HDFS_ALREADY_EXISTS when the destination exists (unless
   * overwrite replaces a file or an empty directory). Through an HttpFS gateway, which ignores the rename options,
   * the same errors come from its classic rename's `false` (httpfs.ts).
   */
  async rename2(from: string, to: string, options: { overwrite?: boolean } = {}): Promise<void> {
    const params = {
      destination: normalizePath(to),
      renameoptions: options.overwrite ? 'OVERWRITE' : 'NONE',
    };
    await this.call('RENAME', from, async (attempt) => {
      try {
        const answer = await (await this.nameNode('PUT', 'RENAME', from, params)).body.text();
        if (isClassicRenameRefusal(answer))
          throw await renameRefusal(from, to, async (p) => (await statusOrNull(this, p)) !== null);
      } catch (err) {
        const refused =
          err instanceof TweetpipeError &&
          (err.code === 'HDFS_NOT_FOUND' || err.code === 'HDFS_ALREADY_EXISTS');
        if (!(refused && attempt.ambiguous && (await renameLanded(this, from, to)))) throw err;
      }
    });
  }

  /** False when nothing was at the path. A non-empty directory without `recursive` fails (HDFS_REMOTE). */
  async delete(path: string, options: { recursive?: boolean } = {}): Promise<boolean> {
    const params = { recursive: String(options.recursive ?? false) };
    return this.call('DELETE', path, async () =>
      field(await this.json('DELETE', 'DELETE', path, params), 'boolean', 'boolean', 'DELETE', path),
    );
  }

  /** Creates a directory and its parents; succeeds when it already exists. */
  async mkdirs(path: string, options: { permission?: string } = {}): Promise<void> {
    const params: Params = options.permission === undefined ? {} : { permission: options.permission };
    await this.call('MKDIRS', path, async () => {
      if (!field(await this.json('PUT', 'MKDIRS', path, params), 'boolean', 'boolean', 'MKDIRS', path)) {
        throw new TweetpipeError('HDFS_REMOTE', `WebHDFS MKDIRS ${path}: the NameNode answered false`, {
          details: { op: 'MKDIRS', path },
        });
      }
    });
  }

  /** HDFS_NOT_FOUND when the path does not exist. */
  async getFileStatus(path: string): Promise<HdfsFileStatus> {
    return this.call('GETFILESTATUS', path, async () =>
      asStatus(
        field(await this.json('GET', 'GETFILESTATUS', path), 'FileStatus', 'object', 'GETFILESTATUS', path),
        'GETFILESTATUS',
        path,
      ),
    );
  }

  /** One request for the whole directory; prefer listStatusBatch for large ones. */
  async listStatus(path: string): Promise<HdfsFileStatus[]> {
    return this.call('LISTSTATUS', path, async () => {
      const statuses = field(
        await this.json('GET', 'LISTSTATUS', path),
        'FileStatuses',
        'object',
        'LISTSTATUS',
        path,
      );
      return statusArray(statuses, 'LISTSTATUS', path);
    });
  }

  /**
   * Pages of a directory listing (LISTSTATUS_BATCH), each at most the server's `dfs.ls.limit` entries, in the
   * NameNode's name order. Each page is one retried request that resumes after the last name seen.
   */
  async *listStatusBatch(path: string): AsyncGenerator<HdfsFileStatus[], void, undefined> {
    const op = 'LISTSTATUS_BATCH';
    let startAfter: string | undefined;
    for (;;) {
      // The NameNode matches this parameter name in lower case only ('startAfter', as documented, is ignored).
      const params: Params = startAfter === undefined ? {} : { startafter: startAfter };
      const listing = await this.call(op, path, async () =>
        field(await this.json('GET', op, path, params), 'DirectoryListing', 'object', op, path),
      );
      const page = statusArray(field(listing, 'partialListing', 'object', op, path).FileStatuses, op, path);
      // A server that ignored the cursor would send the same page forever.
      if (startAfter !== undefined && page.some((s) => s.pathSuffix === startAfter)) {
        throw unexpected(op, path, `entries after "${startAfter}" only`);
      }
      if (page.length > 0) yield page;
      const last = page.at(-1);
      if (field(listing, 'remainingEntries', 'number', op, path) === 0 || !last) return;
      startAfter = last.pathSuffix;
    }
  }

  /** ALLOWSNAPSHOT: makes a directory snapshottable (superuser only); repeating it is harmless. */
  async allowSnapshot(path: string): Promise<void> {
    await this.call('ALLOWSNAPSHOT', path, async () => {
      await (await this.nameNode('PUT', 'ALLOWSNAPSHOT', path)).body.text();
    });
  }

  /**
   * CREATESNAPSHOT. Not idempotent: a retry after an ambiguous attempt that is refused (a snapshot of that name
   * exists) counts as success when the snapshot is there, since the name is the caller's own.
   */
  async createSnapshot(path: string, name: string): Promise<void> {
    await this.call('CREATESNAPSHOT', path, async (attempt) => {
      try {
        await (await this.nameNode('PUT', 'CREATESNAPSHOT', path, { snapshotname: name })).body.text();
      } catch (err) {
        const landed =
          attempt.ambiguous &&
          err instanceof TweetpipeError &&
          err.code === 'HDFS_REMOTE' &&
          (await statusOrNull(this, `${normalizePath(path)}/.snapshot/${name}`)) !== null;
        if (!landed) throw err;
      }
    });
  }

  /** DELETESNAPSHOT; a missing snapshot is the server's SnapshotException (HDFS_REMOTE). */
  async deleteSnapshot(path: string, name: string): Promise<void> {
    await this.call('DELETESNAPSHOT', path, async () => {
      await (await this.nameNode('DELETE', 'DELETESNAPSHOT', path, { snapshotname: name })).body.text();
    });
  }

  async getContentSummary(path: string): Promise<ContentSummary> {
    return this.call('GETCONTENTSUMMARY', path, async () => {
      const json = await this.json('GET', 'GETCONTENTSUMMARY', path);
      return field(json, 'ContentSummary', 'object', 'GETCONTENTSUMMARY', path) as unknown as ContentSummary;
    });
  }

  private call<T>(op: string, path: string, attemptOnce: (attempt: Attempt) => Promise<T>): Promise<T> {
    return callWithRetries(this.retrier, op, path, attemptOnce);
  }

  /** Closes the connection pool after the requests in flight. */
  async close(): Promise<void> {
    await this.agent.close();
    this.uploadAgents.http.destroy();
    this.uploadAgents.https.destroy();
  }

  /** One request to the active NameNode; moves to the next one on standby or connect failure. */
  private async nameNode(method: Method, op: string, path: string, params: Params = {}) {
    const index = this.namenodes.active;
    const url = this.namenodes.urls[index] ?? '';
    try {
      const credentials = await this.auth.params(url);
      const query = Object.entries({ op, ...credentials, ...params })
        .map(([k, v]) => `${k}=${encodeURIComponent(v)}`)
        .join('&');
      return await this.send(`${url}/webhdfs/v1${encodePath(path)}?${query}`, method, op, path);
    } catch (err) {
      this.namenodes.failed(index, err);
      throw err;
    }
  }

  private async send(url: string, method: Method, op: string, path: string) {
    let res: Dispatcher.ResponseData;
    try {
      res = await request(url, {
        method,
        dispatcher: this.agent,
        headersTimeout: this.timeoutMs,
        bodyTimeout: this.timeoutMs,
      });
    } catch (err) {
      throw transportError(op, path, err);
    }
    if (res.statusCode >= 300) {
      const text = await res.body.text().catch(() => '');
      throw remoteError(op, path, res.statusCode, text);
    }
    return res;
  }

  private async json(method: Method, op: string, path: string, params: Params = {}): Promise<unknown> {
    const res = await this.nameNode(method, op, path, params);
    let text: string;
    try {
      text = await res.body.text();
    } catch (err) {
      throw transportError(op, path, err);
    }
    try {
      return JSON.parse(text);
    } catch {
      throw unexpected(op, path, 'a JSON body');
    }
  }

  /** The NameNode step of a data operation: where the DataNode wants the bytes. */
  private async location(method: Method, op: string, path: string, params: Params): Promise<string> {
    const json = await this.json(method, op, path, { ...params, noredirect: 'true' });
    const location = field(json, 'Location', 'string', op, path);
    // The NameNode sends unicode raw; URL re-encodes it and leaves the rest (+, %20) as the DataNode expects it.
    if (!URL.canParse(location)) throw unexpected(op, path, 'a valid Location URL');
    return new URL(location).href;
  }

  /** The DataNode step of CREATE / APPEND. */
  private async upload(
    location: string,
    method: 'PUT' | 'POST',
    op: string,
    path: string,
    body: WebHdfsBody,
    attempt: Attempt,
    { sent }: WebHdfsWriteOptions,
  ) {
    if (!(body instanceof Uint8Array)) attempt.stop = true;
    const payload = body instanceof Uint8Array || body instanceof Readable ? body : Readable.from(body);
    let answer: UploadAnswer;
    try {
      answer = await upload(location, payload, {
        method,
        agents: this.uploadAgents,
        timeoutMs: this.timeoutMs,
        ...(sent ? { sent } : {}),
      });
    } catch (err) {
      throw transportError(op, path, err);
    }
    if (answer.statusCode >= 300) throw remoteError(op, path, answer.statusCode, answer.text);
  }

  private async openOnce(path: string, options: OpenOptions) {
    const params: Params = {};
    if (options.offset !== undefined) params.offset = String(options.offset);
    if (options.length !== undefined) params.length = String(options.length);
    const location = await this.location('GET', 'OPEN', path, params);
    return (await this.send(location, 'GET', 'OPEN', path)).body;
  }
}

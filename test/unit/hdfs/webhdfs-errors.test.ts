/**
 * RemoteException mapping, retry policy and failover of the WebHDFS client, against a tiny node:http server that
 * plays NameNode and DataNode and fails on cue. Backoff sleeps are recorded, not waited for.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, test } from 'node:test';
import { TweetpipeError } from '../../../src/errors.ts';
import { WebHdfsClient, type WebHdfsClientOptions } from '../../../src/hdfs/webhdfs.ts';
import { remoteError } from '../../../src/hdfs/webhdfs-errors.ts';

interface Seen {
  method: string;
  /** Decoded path without the /webhdfs/v1 or /dn prefix. */
  path: string;
  /** The path exactly as sent. */
  rawPath: string;
  role: 'namenode' | 'datanode';
  query: URLSearchParams;
  body: Buffer;
}

type Handler = (req: Seen, res: ServerResponse) => void;

interface Fake {
  url: string;
  seen: Seen[];
  close(): Promise<void>;
}

const servers: Fake[] = [];
after(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

/** A WebHDFS stand-in; `handler` answers everything, `location` builds the DataNode URL for data operations. */
async function fake(handler: Handler): Promise<Fake> {
  const seen: Seen[] = [];
  const server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const url = new URL(req.url ?? '/', 'http://x');
    const datanode = url.pathname.startsWith('/dn/');
    const rawPath = url.pathname.slice(datanode ? 3 : '/webhdfs/v1'.length);
    const entry: Seen = {
      method: req.method ?? '',
      path: decodeURIComponent(rawPath),
      rawPath,
      role: datanode ? 'datanode' : 'namenode',
      query: url.searchParams,
      body: Buffer.concat(chunks),
    };
    seen.push(entry);
    handler(entry, res);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const f: Fake = {
    url,
    seen,
    close: async () => {
      if (!server.listening) return;
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
  servers.push(f);
  return f;
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

function remote(
  res: ServerResponse,
  status: number,
  exception: string,
  message = `${exception} happened`,
): void {
  json(res, status, {
    RemoteException: { exception, javaClassName: `org.apache.hadoop.x.${exception}`, message },
  });
}

/** The NameNode step of a data operation: send the client to our own /dn/ prefix. */
function redirect(f: () => string, req: Seen, res: ServerResponse, extraQuery = ''): void {
  json(res, 200, { Location: `${f()}/dn${req.rawPath}?op=${req.query.get('op')}${extraQuery}` });
}

function client(
  urls: string[],
  sleeps: number[],
  options: Partial<WebHdfsClientOptions> = {},
): WebHdfsClient {
  return new WebHdfsClient({
    urls,
    user: 'tp',
    timeoutMs: 2000,
    retry: { attempts: 4, baseMs: 100, capMs: 1000 },
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    random: () => 0.5,
    ...options,
  });
}

async function rejection(promise: Promise<unknown>): Promise<TweetpipeError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof TweetpipeError, `expected a TweetpipeError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected a rejection');
}

const FILE_STATUS = {
  pathSuffix: '',
  type: 'FILE',
  length: 3,
  modificationTime: 1,
  accessTime: 1,
  blockSize: 1,
  replication: 1,
  permission: '644',
  owner: 'tp',
  group: 'g',
};

describe('RemoteException mapping', () => {
  const cases: [string, string, boolean][] = [
    ['FileNotFoundException', 'HDFS_NOT_FOUND', false],
    ['FileAlreadyExistsException', 'HDFS_ALREADY_EXISTS', false],
    ['SafeModeException', 'HDFS_SAFE_MODE', true],
    ['RetriableException', 'HDFS_SAFE_MODE', true],
    ['StandbyException', 'HDFS_STANDBY', true],
    ['AlreadyBeingCreatedException', 'HDFS_LEASE', true],
    ['LeaseExpiredException', 'HDFS_LEASE', true],
    ['RecoveryInProgressException', 'HDFS_LEASE', true],
    ['CannotObtainBlockLengthException', 'HDFS_UNFINISHED', false],
    ['AccessControlException', 'HDFS_REMOTE', false],
    ['PathIsNotEmptyDirectoryException', 'HDFS_REMOTE', false],
  ];
  for (const [exception, code, retryable] of cases) {
    test(`${exception} -> ${code}${retryable ? ' (retryable)' : ''}`, () => {
      const body = JSON.stringify({
        RemoteException: { exception, javaClassName: `a.b.${exception}`, message: 'm' },
      });
      const err = remoteError('CREATE', '/x/y', 403, body);
      assert.equal(err.code, code);
      assert.equal(err.retryable, retryable);
      assert.equal(err.details.exception, exception);
    });
  }

  test('falls back to the simple name of javaClassName, and keeps only the first line of the message', () => {
    const body = JSON.stringify({
      RemoteException: {
        javaClassName: 'org.apache.hadoop.ipc.StandbyException',
        message: 'standby\n\tat a.b(C.java:1)',
      },
    });
    const err = remoteError('LISTSTATUS', '/d', 403, body);
    assert.equal(err.code, 'HDFS_STANDBY');
    assert.equal(err.message, 'WebHDFS LISTSTATUS /d: StandbyException: standby');
  });

  test('a body without RemoteException is HDFS_REMOTE, retryable only for 502/503/504', () => {
    assert.equal(remoteError('OPEN', '/f', 503, '<html>busy</html>').retryable, true);
    assert.equal(remoteError('OPEN', '/f', 500, 'oops').retryable, false);
    const err = remoteError('OPEN', '/f', 404, '');
    assert.equal(err.code, 'HDFS_REMOTE');
    assert.match(err.message, /OPEN \/f: HTTP 404/);
  });

  test('authentication refusals are HDFS_AUTH: a bare 401, an expired or unknown delegation token', () => {
    const unauthenticated = remoteError('OPEN', '/f', 401, '');
    assert.equal(unauthenticated.code, 'HDFS_AUTH');
    assert.match(unauthenticated.message, /OPEN \/f: HTTP 401.*hdfs\.auth/);
    // What a Kerberized NameNode answers for a token past its expiry (SecurityException wrapping InvalidToken).
    const expired = JSON.stringify({
      RemoteException: {
        exception: 'SecurityException',
        javaClassName: 'java.lang.SecurityException',
        message: 'Failed to obtain user group information: SecretManager$InvalidToken: Token  has expired',
      },
    });
    assert.equal(remoteError('CREATE', '/f', 403, expired).code, 'HDFS_AUTH');
    const invalid = JSON.stringify({
      RemoteException: {
        exception: 'InvalidToken',
        javaClassName: 'org.apache.hadoop.security.token.SecretManager$InvalidToken',
        message: 'token is cancelled',
      },
    });
    const err = remoteError('RENEWDELEGATIONTOKEN', '/', 403, invalid);
    assert.equal(err.code, 'HDFS_AUTH');
    assert.equal(err.retryable, false);
  });
});

describe('WebHdfsClient retries and failover', () => {
  test('paths are encoded per segment and user.name is on every request', async () => {
    const name = '/twitter_data/dt=2026-11-25/hour=06/twitter_data+3+120400+120999 é.jsonl.gz';
    const s = await fake((req, res) => {
      if (req.query.get('op') === 'RENAME') return json(res, 200, { boolean: true });
      json(res, 200, { FileStatus: FILE_STATUS });
    });
    const c = client([s.url], []);
    await c.getFileStatus(name);
    await c.rename(name, '/twitter_data/a+b=c d');
    await c.close();
    assert.equal(
      s.seen[0]?.rawPath,
      '/twitter_data/dt%3D2026-11-25/hour%3D06/twitter_data%2B3%2B120400%2B120999%20%C3%A9.jsonl.gz',
    );
    assert.equal(s.seen[0]?.path, name);
    assert.equal(s.seen[1]?.query.get('destination'), '/twitter_data/a+b=c d');
    assert.ok(s.seen.every((r) => r.query.get('user.name') === 'tp'));
  });

  test('a non-retryable RemoteException is thrown at once, naming the operation and path', async () => {
    const s = await fake((_req, res) =>
      remote(res, 404, 'FileNotFoundException', 'File does not exist: /nope'),
    );
    const sleeps: number[] = [];
    const err = await rejection(client([s.url], sleeps).getFileStatus('/nope'));
    assert.equal(err.code, 'HDFS_NOT_FOUND');
    assert.equal(err.retryable, false);
    assert.match(err.message, /^WebHDFS GETFILESTATUS \/nope: FileNotFoundException/);
    assert.equal(s.seen.length, 1);
    assert.deepEqual(sleeps, []);
  });

  test('safe mode is retried with growing backoff until it clears', async () => {
    let calls = 0;
    const s = await fake((_req, res) => {
      if (++calls <= 2) return remote(res, 403, 'RetriableException', 'Name node is in safe mode.');
      json(res, 200, { boolean: true });
    });
    const sleeps: number[] = [];
    await client([s.url], sleeps).mkdirs('/d');
    assert.equal(s.seen.length, 3);
    assert.deepEqual(sleeps, [75, 150]);
  });

  test('retries stop after the configured attempts, and the error says how many', async () => {
    const s = await fake((_req, res) => remote(res, 403, 'SafeModeException'));
    const sleeps: number[] = [];
    const err = await rejection(client([s.url], sleeps).delete('/d'));
    assert.equal(err.code, 'HDFS_SAFE_MODE');
    assert.equal(err.retryable, true);
    assert.equal(err.details.attempts, 4);
    assert.equal(s.seen.length, 4);
    assert.deepEqual(sleeps, [75, 150, 300]);
  });

  test('a standby NameNode makes the client try the other one at once, and remember it', async () => {
    const standby = await fake((_req, res) => remote(res, 403, 'StandbyException'));
    const active = await fake((_req, res) => json(res, 200, { FileStatus: FILE_STATUS }));
    const sleeps: number[] = [];
    const c = client([standby.url, active.url], sleeps);
    await c.getFileStatus('/f');
    assert.equal(c.activeUrl, active.url);
    await c.getFileStatus('/f');
    assert.equal(standby.seen.length, 1, 'the standby is not asked again');
    assert.equal(active.seen.length, 2);
    assert.deepEqual(sleeps, [], 'no backoff before trying the other NameNode');
  });

  test('two standby NameNodes: every full round backs off, then HDFS_STANDBY', async () => {
    const a = await fake((_req, res) => remote(res, 403, 'StandbyException'));
    const b = await fake((_req, res) => remote(res, 403, 'StandbyException'));
    const sleeps: number[] = [];
    const err = await rejection(client([a.url, b.url], sleeps).listStatus('/d'));
    assert.equal(err.code, 'HDFS_STANDBY');
    assert.equal(a.seen.length + b.seen.length, 4);
    assert.equal(sleeps.length, 1, 'a -> b at once, back off, a -> b at once');
  });

  test('connection refused is a retryable NETWORK error that fails over to the next URL', async () => {
    const gone = await fake(() => {});
    await gone.close();
    const live = await fake((_req, res) => json(res, 200, { FileStatus: FILE_STATUS }));
    const c = client([gone.url, live.url], []);
    assert.equal((await c.getFileStatus('/f')).type, 'FILE');
    assert.equal(c.activeUrl, live.url);

    const alone = await rejection(client([gone.url], [], { retry: { attempts: 2 } }).getFileStatus('/f'));
    assert.equal(alone.code, 'NETWORK');
    assert.equal(alone.retryable, true);
    assert.equal(alone.details.syscall, 'ECONNREFUSED');
  });

  test('a server that never answers gives a retryable TIMEOUT', async () => {
    const silent = await fake(() => {});
    const err = await rejection(
      client([silent.url], [], { timeoutMs: 100, retry: { attempts: 1 } }).getFileStatus('/f'),
    );
    assert.equal(err.code, 'TIMEOUT');
    assert.equal(err.retryable, true);
  });

  test('an APPEND whose DataNode connection dies after the body is not retried, and says so', async () => {
    const s = await fake((req, res) => {
      if (req.role === 'namenode') return redirect(() => s.url, req, res, '&delegation=SECRET-TOKEN');
      res.socket?.destroy();
    });
    const err = await rejection(client([s.url], []).append('/log', Buffer.from('line\n')));
    assert.equal(err.code, 'NETWORK');
    assert.equal(err.retryable, false);
    assert.equal(err.details.ambiguous, true);
    assert.doesNotMatch(err.message, /SECRET/);
    assert.equal(s.seen.filter((r) => r.role === 'datanode').length, 1);
  });

  test('an APPEND refused by a RemoteException (nothing appended) is retried', async () => {
    let refusals = 0;
    const s = await fake((req, res) => {
      if (req.role === 'namenode') return redirect(() => s.url, req, res);
      if (++refusals === 1) return remote(res, 403, 'RecoveryInProgressException');
      res.end();
    });
    await client([s.url], []).append('/log', Buffer.from('line\n'));
    const appends = s.seen.filter((r) => r.role === 'datanode');
    assert.equal(appends.length, 2);
    assert.ok(appends.every((r) => r.method === 'POST' && r.body.toString() === 'line\n'));
  });

  test('a DataNode that answers 100 Continue before the final status is understood', async () => {
    const s = await fake((req, res) => {
      if (req.role === 'namenode') return redirect(() => s.url, req, res);
      res.writeContinue();
      res.writeHead(201);
      res.end();
    });
    await client([s.url], []).create('/f', Buffer.from('abc'));
    assert.equal(s.seen.find((r) => r.role === 'datanode')?.body.toString(), 'abc');
  });

  describe('CREATE with overwrite=false after an attempt with an unknown outcome', () => {
    /** The first upload lands but its answer is lost; the retry then meets the file. */
    async function landedOnce(stored: string) {
      let uploads = 0;
      const s = await fake((req, res) => {
        const op = req.query.get('op');
        if (req.role === 'namenode' && (op === 'CREATE' || op === 'OPEN'))
          return redirect(() => s.url, req, res);
        if (op === 'GETFILESTATUS')
          return json(res, 200, { FileStatus: { ...FILE_STATUS, length: stored.length } });
        if (op === 'OPEN') return res.end(stored);
        if (++uploads === 1) return res.socket?.destroy();
        remote(res, 403, 'FileAlreadyExistsException');
      });
      return s;
    }

    test('succeeds when the file holds exactly our bytes', async () => {
      const s = await landedOnce('abc');
      await client([s.url], []).create('/manifest', Buffer.from('abc'));
      assert.equal(s.seen.filter((r) => r.role === 'datanode' && r.method === 'PUT').length, 2);
    });

    test('fails with HDFS_ALREADY_EXISTS when the file holds something else', async () => {
      const s = await landedOnce('xyz');
      const err = await rejection(client([s.url], []).create('/manifest', Buffer.from('abc')));
      assert.equal(err.code, 'HDFS_ALREADY_EXISTS');
    });

    test('without an earlier unknown outcome, FileAlreadyExists is final and nothing is read back', async () => {
      const s = await fake((req, res) => {
        if (req.role === 'namenode') return redirect(() => s.url, req, res);
        remote(res, 403, 'FileAlreadyExistsException');
      });
      const err = await rejection(client([s.url], []).create('/manifest', Buffer.from('abc')));
      assert.equal(err.code, 'HDFS_ALREADY_EXISTS');
      assert.equal(s.seen.length, 2);
    });
  });

  test('a streaming CREATE is not retried once the DataNode step started', async () => {
    const s = await fake((req, res) => {
      if (req.role === 'namenode') return redirect(() => s.url, req, res);
      res.socket?.destroy();
    });
    async function* body() {
      yield Buffer.from('a');
      yield Buffer.from('b');
    }
    const err = await rejection(client([s.url], []).create('/f', body(), { overwrite: true }));
    assert.equal(err.code, 'NETWORK');
    assert.equal(s.seen.filter((r) => r.role === 'datanode').length, 1);
  });

  test('a RENAME whose answer was lost counts as done when the source is gone and the destination exists', async () => {
    let renames = 0;
    const s = await fake((req, res) => {
      if (req.query.get('op') === 'RENAME') {
        if (++renames === 1) return res.socket?.destroy();
        return json(res, 200, { boolean: false });
      }
      if (req.path === '/from') return remote(res, 404, 'FileNotFoundException');
      json(res, 200, { FileStatus: FILE_STATUS });
    });
    assert.equal(await client([s.url], []).rename('/from', '/to'), true);
    assert.equal(renames, 2);
  });

  test('an OPEN stream cut mid-way fails its consumer with a TweetpipeError', async () => {
    const s = await fake((req, res) => {
      if (req.role === 'namenode') return redirect(() => s.url, req, res);
      res.writeHead(200, { 'content-length': '100' });
      res.write('only ten..');
      setImmediate(() => res.socket?.destroy());
    });
    const received: Buffer[] = [];
    const stream = await client([s.url], []).open('/f');
    const err = await rejection(
      (async () => {
        for await (const chunk of stream) received.push(chunk as Buffer);
      })(),
    );
    assert.equal(err.code, 'NETWORK');
    assert.equal(Buffer.concat(received).toString(), 'only ten..');
  });

  test('LISTSTATUS_BATCH follows remainingEntries with the startafter cursor', async () => {
    const names = ['a', 'b', 'c', 'd', 'e'];
    const s = await fake((req, res) => {
      const after = req.query.get('startafter');
      const rest = after === null ? names : names.slice(names.indexOf(after) + 1);
      const page = rest.slice(0, 2).map((n) => ({ ...FILE_STATUS, pathSuffix: n }));
      json(res, 200, {
        DirectoryListing: {
          partialListing: { FileStatuses: { FileStatus: page } },
          remainingEntries: rest.length - 2,
        },
      });
    });
    const pages: string[][] = [];
    for await (const page of client([s.url], []).listStatusBatch('/d'))
      pages.push(page.map((p) => p.pathSuffix));
    assert.deepEqual(pages, [['a', 'b'], ['c', 'd'], ['e']]);
  });

  test('LISTSTATUS_BATCH fails instead of looping when the server ignores the cursor', async () => {
    const s = await fake((_req, res) =>
      json(res, 200, {
        DirectoryListing: {
          partialListing: { FileStatuses: { FileStatus: [{ ...FILE_STATUS, pathSuffix: 'a' }] } },
          remainingEntries: 5,
        },
      }),
    );
    const pages: string[][] = [];
    const err = await rejection(
      (async () => {
        for await (const page of client([s.url], []).listStatusBatch('/d'))
          pages.push(page.map((p) => p.pathSuffix));
      })(),
    );
    assert.equal(err.code, 'HDFS_REMOTE');
    assert.deepEqual(pages, [['a']]);
  });
});

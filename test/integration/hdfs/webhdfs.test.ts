/**
 * WebHDFS client and Storage against a real HDFS (TWEETPIPE_WEBHDFS, default http://localhost:9870, which
 * `tweetpipe stack up` serves). An unreachable HDFS fails these tests: the test runner starts the stack first.
 * Everything is written under one directory per run, deleted at the end.
 */
import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { PassThrough, Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { TweetpipeError } from '../../../src/errors.ts';
import { WebHdfsClient, type WebHdfsClientOptions } from '../../../src/hdfs/webhdfs.ts';
import { WebHdfsStorage } from '../../../src/hdfs/webhdfs-storage.ts';
import { storageConformance } from '../../helpers/storage-conformance.ts';

const URLS = (process.env.TWEETPIPE_WEBHDFS ?? 'http://localhost:9870').split(',').map((u) => u.trim());
const RUN_ROOT = `/tmp/tweetpipe-it-${Date.now()}-${randomUUID().slice(0, 8)}`;

function client(overrides: Partial<WebHdfsClientOptions> = {}): WebHdfsClient {
  return new WebHdfsClient({
    urls: URLS,
    user: 'tweetpipe',
    timeoutMs: 20_000,
    retry: { attempts: 3, baseMs: 50, capMs: 500 },
    ...overrides,
  });
}

/** A port nothing listens on: bound by us, then released. */
async function deadPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Deterministic, non-periodic content for chunk `index` (xorshift32 seeded by the index). */
function fillChunk(buf: Buffer, index: number): void {
  let x = (index + 1) * 2654435761;
  for (let i = 0; i < buf.length; i += 4) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    buf.writeInt32LE(x | 0, i);
  }
}

async function codeOf(promise: Promise<unknown>): Promise<TweetpipeError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof TweetpipeError, `expected a TweetpipeError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected a rejection');
}

test(`WebHDFS answers at ${URLS.join(', ')} (start the stack first)`, async () => {
  const c = client();
  try {
    assert.equal((await c.getFileStatus('/')).type, 'DIRECTORY');
  } finally {
    await c.close();
  }
});

storageConformance('WebHdfsStorage', async () => {
  const c = client();
  const root = `${RUN_ROOT}/conformance`;
  await c.mkdirs(root);
  return {
    storage: new WebHdfsStorage(c),
    root,
    cleanup: async () => {
      await c.delete(root, { recursive: true });
      await c.close();
    },
  };
});

describe('WebHdfsClient on a real HDFS', () => {
  const hdfs = client();
  const dir = `${RUN_ROOT}/client`;

  before(async () => {
    await hdfs.mkdirs(dir);
  });
  after(async () => {
    await hdfs.delete(RUN_ROOT, { recursive: true });
    await hdfs.close();
  });

  test('streams a large CREATE without holding the body, and streams it back with OPEN', async () => {
    const path = `${dir}/big/stream.bin`;
    const chunkSize = 1024 * 1024;
    const chunks = 40;
    // Eight buffers reused round-robin: had anything buffered the whole body before sending, the reused buffers
    // would have been overwritten and the checksum of what HDFS received would differ.
    const pool = Array.from({ length: 8 }, () => Buffer.alloc(chunkSize));
    const sent = createHash('sha256');
    async function* body(): AsyncGenerator<Uint8Array> {
      for (let i = 0; i < chunks; i++) {
        const buf = pool[i % pool.length]!;
        fillChunk(buf, i);
        sent.update(buf);
        yield buf;
      }
    }
    // A small block size makes the stream cross several blocks.
    await hdfs.create(path, body(), { blockSize: 8 * chunkSize });
    assert.equal((await hdfs.getFileStatus(path)).length, chunks * chunkSize);

    const received = createHash('sha256');
    let pieces = 0;
    for await (const piece of await hdfs.open(path)) {
      received.update(piece as Buffer);
      pieces++;
    }
    assert.equal(received.digest('hex'), sent.digest('hex'));
    assert.ok(pieces > 1, 'OPEN delivered the file in pieces');

    // A range that straddles a chunk and a block boundary.
    const expected = Buffer.alloc(2 * chunkSize);
    fillChunk(expected.subarray(0, chunkSize), 7);
    fillChunk(expected.subarray(chunkSize), 8);
    const offset = 8 * chunkSize - 1000;
    const range = await hdfs.readAll(path, { offset, length: 5000 });
    assert.deepEqual(range, expected.subarray(chunkSize - 1000, chunkSize + 4000));
  });

  test('more streaming CREATEs at once than the client has connections: each gets its socket', async () => {
    // The sink keeps one streaming upload open per open file until the file commits; with more open files than
    // sockets (100 field-partition folders x 3 partitions), an upload waiting for a socket held by another open
    // file's upload, which ends only at its commit, stalled the sink until the uploads timed out.
    const few = client({ connections: 2 });
    const streams = Array.from({ length: 5 }, () => new PassThrough());
    const paths = streams.map((_, i) => `${dir}/open-uploads/${i}.bin`);
    const uploads = streams.map((body, i) => few.create(paths[i]!, body));
    for (const body of streams) body.write(Buffer.from('first\n'));
    try {
      // HDFS lists a file from the moment its upload reaches the DataNode, long before it ends.
      const deadline = Date.now() + 15_000;
      let open = 0;
      while (Date.now() < deadline) {
        open = (
          await Promise.all(
            paths.map((p) =>
              few.getFileStatus(p).then(
                () => 1,
                () => 0,
              ),
            ),
          )
        ).reduce<number>((a, b) => a + b, 0);
        if (open === paths.length) break;
        await sleep(200);
      }
      assert.equal(open, paths.length, 'every upload reached the DataNode while all of them were still open');
    } finally {
      for (const body of streams) body.end(Buffer.from('last\n'));
      await Promise.allSettled(uploads);
      await few.close();
    }
    await Promise.all(uploads);
    for (const p of paths) assert.equal((await hdfs.readAll(p)).toString(), 'first\nlast\n');
  });

  test('CREATE and APPEND report a streamed body sent only once the socket took it: buffers reused then arrive intact', async () => {
    // What the sink's encoders do: a few buffers, each refilled as soon as the upload reports its bytes sent.
    const path = `${dir}/reused-buffers.bin`;
    const chunkSize = 256 * 1024;
    const free: Buffer[] = Array.from({ length: 3 }, () => Buffer.alloc(chunkSize));
    const unsent: Buffer[] = [];
    let sentOfFirst = 0;
    let reported = 0;
    let freed: (() => void) | undefined;
    const sent = (bytes: number) => {
      reported += bytes;
      sentOfFirst += bytes;
      while (unsent.length > 0 && sentOfFirst >= chunkSize) {
        sentOfFirst -= chunkSize;
        free.push(unsent.shift()!);
      }
      freed?.();
    };
    const written = createHash('sha256');
    async function* body(from: number, count: number): AsyncGenerator<Buffer> {
      for (let i = from; i < from + count; i++) {
        while (free.length === 0) await new Promise<void>((resolve) => (freed = resolve));
        const buf = free.pop()!;
        fillChunk(buf, i);
        written.update(buf);
        unsent.push(buf);
        yield buf;
      }
    }
    await hdfs.create(path, Readable.from(body(0, 40)), { sent });
    await hdfs.append(path, Readable.from(body(40, 20)), { sent });
    assert.equal(reported, 60 * chunkSize, 'every byte reported sent');
    const stored = createHash('sha256');
    for await (const piece of await hdfs.open(path)) stored.update(piece as Buffer);
    assert.equal(stored.digest('hex'), written.digest('hex'));
  });

  test('APPEND takes a Readable body and a Uint8Array body', async () => {
    const path = `${dir}/append.log`;
    await hdfs.create(path, Buffer.from('a\n'));
    await hdfs.append(path, Readable.from([Buffer.from('b\n'), Buffer.from('c\n')]));
    await hdfs.append(path, Buffer.from('d\n'));
    assert.equal((await hdfs.readAll(path)).toString(), 'a\nb\nc\nd\n');
  });

  test('LISTSTATUS_BATCH pages through more than 1000 entries', async () => {
    const big = `${dir}/many`;
    const names = Array.from({ length: 1010 }, (_, i) => `hour=${String(i).padStart(4, '0')}`);
    // Directories cost one NameNode call each, files two; the listing does not care which.
    for (let i = 0; i < names.length; i += 20) {
      await Promise.all(names.slice(i, i + 20).map((n) => hdfs.mkdirs(`${big}/${n}`)));
    }
    const pages: string[][] = [];
    for await (const page of hdfs.listStatusBatch(big)) pages.push(page.map((s) => s.pathSuffix));
    assert.ok(pages.length >= 2, `expected several pages, got ${pages.length}`);
    assert.deepEqual(pages.flat(), names);
    assert.equal((await hdfs.listStatus(big)).length, names.length);
    assert.equal((await new WebHdfsStorage(hdfs).list(big)).length, names.length);
    assert.equal((await hdfs.getContentSummary(big)).directoryCount, names.length + 1);
  });

  test('a RemoteException becomes a typed error naming the operation and path, without the stack trace', async () => {
    const missing = await codeOf(hdfs.getFileStatus(`${dir}/no/such/file`));
    assert.equal(missing.code, 'HDFS_NOT_FOUND');
    assert.equal(missing.retryable, false);
    assert.match(missing.message, /GETFILESTATUS .*\/no\/such\/file/);
    assert.equal(missing.details.exception, 'FileNotFoundException');

    await hdfs.create(`${dir}/exists`, Buffer.from('x'));
    const exists = await codeOf(hdfs.create(`${dir}/exists`, Buffer.from('y')));
    assert.equal(exists.code, 'HDFS_ALREADY_EXISTS');
    assert.doesNotMatch(exists.message, /\n|\tat /);
    assert.equal(exists.details.attempts, 1, 'not retried');

    await hdfs.create(`${dir}/full/f`, Buffer.from('x'));
    const notEmpty = await codeOf(hdfs.delete(`${dir}/full`));
    assert.equal(notEmpty.code, 'HDFS_REMOTE');
    assert.equal(notEmpty.details.exception, 'PathIsNotEmptyDirectoryException');
  });

  test('classic RENAME reports its boolean and moves into an existing directory; rename2 does not', async () => {
    await hdfs.create(`${dir}/r/file`, Buffer.from('x'));
    await hdfs.mkdirs(`${dir}/r/into`);
    assert.equal(await hdfs.rename(`${dir}/r/missing`, `${dir}/r/other`), false);
    // rename2 refuses a file onto a directory (a plain IOException) and onto a file unless told to overwrite.
    assert.equal((await codeOf(hdfs.rename2(`${dir}/r/file`, `${dir}/r/into`))).code, 'HDFS_REMOTE');
    await hdfs.create(`${dir}/r/other`, Buffer.from('y'));
    assert.equal((await codeOf(hdfs.rename2(`${dir}/r/file`, `${dir}/r/other`))).code, 'HDFS_ALREADY_EXISTS');
    await hdfs.rename2(`${dir}/r/file`, `${dir}/r/other`, { overwrite: true });
    assert.equal((await hdfs.readAll(`${dir}/r/other`)).toString(), 'x');
    assert.equal(await hdfs.rename(`${dir}/r/other`, `${dir}/r/into`), true);
    assert.equal((await hdfs.getFileStatus(`${dir}/r/into/other`)).type, 'FILE');
  });

  test('fails over from a dead NameNode URL to a live one, and remembers it', async () => {
    const dead = `http://127.0.0.1:${await deadPort()}`;
    const ha = client({ urls: [dead, ...URLS] });
    try {
      const status = await ha.getFileStatus(dir);
      assert.equal(status.type, 'DIRECTORY');
      assert.equal(ha.activeUrl, URLS[0]);
      await ha.create(`${dir}/via-failover`, Buffer.from('ok'));
      assert.equal(ha.activeUrl, URLS[0]);
      assert.equal((await hdfs.readAll(`${dir}/via-failover`)).toString(), 'ok');
    } finally {
      await ha.close();
    }
  });

  test('only dead NameNodes give a retryable NETWORK error after the configured attempts', async () => {
    const dead = client({
      urls: [`http://127.0.0.1:${await deadPort()}`],
      retry: { attempts: 2, baseMs: 1 },
    });
    try {
      const err = await codeOf(dead.getFileStatus('/'));
      assert.equal(err.code, 'NETWORK');
      assert.equal(err.retryable, true);
      assert.equal(err.details.attempts, 2);
    } finally {
      await dead.close();
    }
  });
});

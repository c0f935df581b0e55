import assert from 'node:assert/strict';
import { once } from 'node:events';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { describe, test } from 'node:test';
import { upload } from '../../../src/hdfs/webhdfs-upload.ts';

const CHUNK_BYTES = 256 * 1024;
/** 16 MiB: more than loopback's socket buffers hold, so that chunks wait in the request's own buffers. */
const CHUNKS = 64;

describe('WebHDFS upload: sent', () => {
  test('reports a chunk only once the socket took its bytes: a body overwritten as reported still arrives intact', async () => {
    const chunks = Array.from({ length: CHUNKS }, (_, n) => Buffer.alloc(CHUNK_BYTES, n + 1));
    const expected = Buffer.concat(chunks);
    const body = Readable.from(chunks);
    // The DataNode reads nothing until the upload waits for the socket (or has handed it everything).
    const waiting = Promise.race([once(body, 'pause'), once(body, 'end')]);
    const server = http.createServer(async (req, res) => {
      req.pause();
      await waiting;
      const received: Buffer[] = [];
      for await (const piece of req) received.push(piece as Buffer);
      res.end(Buffer.concat(received).equals(expected) ? 'intact' : 'overwritten');
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const agents = { http: new http.Agent(), https: new https.Agent() };
    // What a caller that reuses its buffers does: each byte reported sent is overwritten at once.
    let reported = 0;
    const sent = (bytes: number) => {
      for (let end = reported + bytes; reported < end; reported++)
        chunks[Math.floor(reported / CHUNK_BYTES)]![reported % CHUNK_BYTES] = 0;
    };
    try {
      const { port } = server.address() as AddressInfo;
      const answer = await upload(`http://127.0.0.1:${port}/file`, body, {
        method: 'PUT',
        agents,
        timeoutMs: 30_000,
        sent,
      });
      assert.equal(answer.text, 'intact');
      assert.equal(reported, expected.length, 'every byte reported once');
    } finally {
      agents.http.destroy();
      server.close();
    }
  });
});

/**
 * The DataNode step of CREATE / APPEND, on node:http rather than undici: the DataNode answers every upload with an
 * unsolicited `HTTP/1.1 100 Continue` before the final status, and undici's HTTP/1.1 client destroys the socket on a
 * 1xx response ("bad response"), while node:http skips informational responses as HTTP allows.
 */
import http from 'node:http';
import https from 'node:https';
import type { Readable } from 'node:stream';

export interface UploadAnswer {
  statusCode: number;
  /** The response body (WebHDFS sends a RemoteException JSON on failure, nothing on success). */
  text: string;
}

export interface UploadOptions {
  method: 'PUT' | 'POST';
  agents: { http: http.Agent; https: https.Agent };
  /** Longest silence on the socket, while sending or waiting for the answer. */
  timeoutMs: number;
  /**
   * For a Readable body: told, in order, how many more of its bytes the socket took, so that the caller may reuse
   * the buffers that held them (a chunk waits in the request's and the socket's buffers until then).
   */
  sent?: (bytes: number) => void;
}

/**
 * Sends `body` and resolves with the DataNode's answer, whatever its status. Rejects with the socket's error
 * (code ECONNRESET, ETIMEDOUT, ...) or the body stream's error when no answer came. A Readable body is consumed,
 * and destroyed if the upload ends before it does.
 */
export function upload(
  url: string,
  body: Uint8Array | Readable,
  options: UploadOptions,
): Promise<UploadAnswer> {
  const target = new URL(url);
  const secure = target.protocol === 'https:';
  return new Promise<UploadAnswer>((resolve, reject) => {
    const headers: http.OutgoingHttpHeaders = { 'content-type': 'application/octet-stream' };
    if (body instanceof Uint8Array) headers['content-length'] = body.length;
    const request = { method: options.method, headers };
    const req = secure
      ? https.request(target, { ...request, agent: options.agents.https })
      : http.request(target, { ...request, agent: options.agents.http });
    const fail = (err: Error) => {
      req.destroy();
      if (!(body instanceof Uint8Array) && !body.readableEnded) body.destroy();
      reject(err);
    };
    req.setTimeout(options.timeoutMs, () =>
      fail(Object.assign(new Error(`no activity for ${options.timeoutMs} ms`), { code: 'ETIMEDOUT' })),
    );
    req.on('error', fail);
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', fail);
      res.on('end', () => {
        // An early answer (an error before the whole body was read) leaves the rest of a stream unread.
        if (!(body instanceof Uint8Array) && !body.readableEnded) body.destroy();
        resolve({ statusCode: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') });
      });
    });
    if (body instanceof Uint8Array) {
      req.end(body);
    } else {
      body.on('error', fail);
      pump(body, req, options.sent);
    }
  });
}

/**
 * `body.pipe(req)` that also says when each chunk's bytes left for the socket: the callback of a request's write
 * runs once the socket's write of it completed (node:http writes a chunk, in order, after the chunks before it).
 * Bytes of a write that failed are not reported: the socket may still hold them.
 */
function pump(body: Readable, req: http.ClientRequest, sent: ((bytes: number) => void) | undefined): void {
  const resume = () => body.resume();
  body.on('data', (chunk: Buffer) => {
    const more = sent
      ? req.write(chunk, (err) => {
          if (!err) sent(chunk.length);
        })
      : req.write(chunk);
    if (!more) {
      body.pause();
      req.once('drain', resume);
    }
  });
  body.on('end', () => req.end());
}

/**
 * A worker thread of the replay source: maps the lines of the chunks it is sent (replay-mapping.ts) and answers
 * each request in the order it came, its records' buffer transferred.
 */
import { parentPort } from 'node:worker_threads';
import { type LineChunkRequest, mapLineChunk, transferablesOf } from './replay-mapping.ts';

const port = parentPort;
if (!port) throw new Error('replay-worker.ts runs as a worker thread');
port.on('message', (req: LineChunkRequest) => {
  const mapped = mapLineChunk(req);
  port.postMessage(mapped, transferablesOf(mapped));
});

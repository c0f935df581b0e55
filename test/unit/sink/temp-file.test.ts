import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { setImmediate } from 'node:timers/promises';
import { gunzipSync } from 'node:zlib';
import { MemoryStorage } from '../../../src/hdfs/memory-storage.ts';
import type { Format } from '../../../src/sink/formats/format.ts';
import { jsonlGzipFormat } from '../../../src/sink/formats/jsonl.ts';
import { classify } from '../../../src/sink/sink-record.ts';
import { TempFile } from '../../../src/sink/temp-file.ts';
import { tweetRecords } from './fixtures.ts';
import { deferred, overriding } from './partition-writer-fixtures.ts';

const TMP = '/d/_tmp/file';

/**
 * Writes the records of `format` into one temp file whose storage reads nothing until the last record was added,
 * then reads all of it: every chunk waits unread in the upload meanwhile, while the encoder goes on filling blocks.
 */
async function writeWhileTheUploadWaits(
  format: Format,
  records: number,
): Promise<{ stored: Buffer; text: string }> {
  const memory = new MemoryStorage();
  const reading = deferred();
  const storage = overriding(memory, {
    create: async (path, body, opts) => {
      await reading.promise;
      await memory.create(path, body, opts);
    },
  });
  const file = new TempFile({
    storage,
    dir: 'dt=2026-11-25',
    tmp: TMP,
    encoder: format.open(),
    firstOffset: 0n,
    maxInFlight: 10_000,
    clock: () => 0,
    label: 'tweets/0',
  });
  let text = '';
  for (const kafkaRecord of tweetRecords(0, records)) {
    const c = classify(kafkaRecord);
    assert.ok(c.ok);
    text += `${c.record.value.toString()}\n`;
    await file.add(c.record);
    // A turn of the event loop: gzip members compressed on the thread pool meanwhile reach the upload.
    await setImmediate();
  }
  reading.resolve();
  await file.finish();
  return { stored: await memory.read(TMP), text };
}

describe('TempFile: output buffers reused only once the storage no longer reads them', () => {
  // jsonl.gz reuses its members' memory (plain jsonl keeps none). Small flushes: hundreds of members, each the
  // compressed 4 KiB of lines, in the upload at once.
  test('jsonl.gz: an upload that reads late still gets every line as it was written', async () => {
    const { stored, text } = await writeWhileTheUploadWaits(jsonlGzipFormat(4096), 600);
    assert.ok(text.length > 100 * 4096, 'far more bytes than one flush');
    assert.equal(gunzipSync(stored).toString(), text);
  });
});

import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { ReplaySource } from '../../../src/sources/replay.ts';
import { EndOfInput } from '../../../src/sources/source.ts';

// ReplaySource reads files in 1 MiB chunks: these payloads (~3 KB each) make lines that straddle chunk boundaries.
const LINES = 1500;
const line = (i: number) =>
  JSON.stringify({
    data: { id: String(i + 1), text: `${i}:${'x'.repeat(3000)}`, created_at: '2026-11-25T06:00:00.000Z' },
    matching_rules: [{ id: '1', tag: 'm' }],
  });

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tweetpipe-replay-lines-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function ids(file: string): Promise<string[]> {
  const source = new ReplaySource({ files: [file], pace: 'max', batchMaxTweets: 400 });
  await source.connect(AbortSignal.timeout(1_000));
  const out: string[] = [];
  for (;;) {
    try {
      const batch = await source.read(AbortSignal.timeout(5_000));
      assert.deepEqual(batch.deadLetters, [], 'no line is cut in two');
      for (const t of batch.tweets) out.push(t.id);
    } catch (err) {
      if (err instanceof EndOfInput) return out;
      throw err;
    }
  }
}

const expected = Array.from({ length: LINES }, (_, i) => String(i + 1));

test('lines that straddle read chunks, CRLF or LF, and a last line without a line break are all read once', async () => {
  const f = join(dir, 'big.ndjson');
  const text = Array.from({ length: LINES }, (_, i) => line(i)).join(LINES % 2 ? '\n' : '\r\n');
  await writeFile(f, `\n  \n${text}`);
  assert.ok(text.length > 3 * 1024 * 1024, 'the file spans several chunks');
  assert.deepEqual(await ids(f), expected);
});

test('the same across the chunks of a gzipped file', async () => {
  const f = join(dir, 'big.ndjson.gz');
  await writeFile(f, gzipSync(`${Array.from({ length: LINES }, (_, i) => line(i)).join('\n')}\n\n`));
  assert.deepEqual(await ids(f), expected);
});

test('a CRLF line that is not JSON goes to the dead letters without its CR', async () => {
  const f = join(dir, 'crlf.ndjson');
  await writeFile(f, `${line(0)}\r\nnot json\r\n${line(1)}`);
  const source = new ReplaySource({ files: [f], pace: 'max' });
  await source.connect(AbortSignal.timeout(1_000));
  const batch = await source.read(AbortSignal.timeout(5_000));
  assert.deepEqual(
    batch.tweets.map((t) => t.id),
    ['1', '2'],
  );
  assert.deepEqual(
    batch.deadLetters.map((d) => d.raw.toString()),
    ['not json'],
  );
});

test('records and dead letters keep their bytes after later chunks are read into the same buffer', async () => {
  const f = join(dir, 'held.ndjson');
  const text = Array.from({ length: LINES }, (_, i) => line(i)).join('\n');
  await writeFile(f, `not json at the start\n${text}\nnot json at the end\n`);
  const source = new ReplaySource({ files: [f], pace: 'max', batchMaxTweets: 400 });
  await source.connect(AbortSignal.timeout(1_000));
  const values: Buffer[] = [];
  const letters: string[] = [];
  for (;;) {
    try {
      const batch = await source.read(AbortSignal.timeout(5_000));
      for (const t of batch.tweets) values.push(t.value);
      for (const d of batch.deadLetters) letters.push(d.raw.toString());
    } catch (err) {
      if (err instanceof EndOfInput) break;
      throw err;
    }
  }
  // Checked only now, after every chunk of the file was read.
  assert.deepEqual(letters, ['not json at the start', 'not json at the end']);
  assert.deepEqual(
    values.map((v) => {
      const doc = JSON.parse(v.toString()) as { id: string; text: string };
      return doc.text.startsWith(`${Number(doc.id) - 1}:x`) ? doc.id : `bad ${doc.id}`;
    }),
    expected,
  );
});

import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { InThreadChunks, type MappedChunk, type MappedChunks } from '../../../src/sources/replay-mapping.ts';
import { ReplayThread } from '../../../src/sources/replay-thread.ts';
import { SyntheticTweets } from '../../../src/sources/synthetic-payloads.ts';
import { renderIncludes, renderPost } from '../../../src/x-emulator/era-rendering.ts';

const T0 = Date.UTC(2026, 10, 25, 6, 0, 0);
const RULES = [{ id: '1', tag: 'music' }];

/**
 * Stream lines of both eras (the byte path: authors, media, places, referenced posts), with search pages, X error
 * objects, invalid JSON and blank lines between them (the general path and dead letters): ~3.5 MB, several read
 * blocks and dozens of slabs.
 */
function lines(count: number): string[] {
  const tweets = new SyntheticTweets({ seed: 11, startTimeMs: T0 });
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const { data, includes } = tweets.nextTweet();
    const era = i % 3 === 0 ? '2.159' : '2.167';
    const post = renderPost(data as unknown as Record<string, unknown>, era);
    out.push(
      JSON.stringify({
        data: post,
        includes: renderIncludes(includes as unknown as Record<string, Record<string, unknown>[]>, era),
        matching_rules: RULES,
      }),
    );
    if (i % 97 === 5)
      out.push(JSON.stringify({ data: [post, { ...post, id: `9${i}` }], meta: { result_count: 2 } }));
    if (i % 211 === 7) out.push(`not json ${i}`, '   ');
    if (i % 301 === 9)
      out.push(
        JSON.stringify({ errors: [{ title: 'Operational Disconnect', detail: `line ${i}`, type: 'x' }] }),
      );
  }
  return out;
}

let dir: string;
let files: string[];
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tweetpipe-replay-thread-'));
  const all = lines(1600);
  files = [join(dir, 'a.ndjson'), join(dir, 'b.ndjson.gz')];
  await writeFile(files[0]!, all.slice(0, 1200).join('\r\n'));
  await writeFile(files[1]!, gzipSync(`${all.slice(1200).join('\n')}\n`));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Every chunk until the end (one ingestion time: the thread stamps a chunk it maps ahead with an earlier one). */
async function readAll(chunks: MappedChunks): Promise<MappedChunk[]> {
  const out: MappedChunk[] = [];
  try {
    for (let chunk = await chunks.next(T0); chunk; chunk = await chunks.next(T0)) out.push(chunk);
    return out;
  } finally {
    await chunks.close();
  }
}

test('the mapping thread hands out the records, dead letters and X problems of the in-thread mapping, chunk by chunk, in order', async () => {
  const here = await readAll(new InThreadChunks(files, 'replay', false));
  const there = await readAll(new ReplayThread(files, 'replay'));
  // Compared only now, after the whole input was read: no value is overwritten by a later chunk.
  const plain = (chunks: MappedChunk[]) =>
    chunks.map((c) => ({
      records: c.records.map((r) => ({
        id: r.id,
        createdAtMs: r.createdAtMs,
        value: r.value.toString('utf8'),
      })),
      deadLetters: c.deadLetters.map((d) => ({ raw: d.raw.toString('utf8'), reason: d.reason })),
      problems: c.problems,
    }));
  const expected = plain(here);
  assert.ok(expected.length > 3, 'several read blocks');
  const all = expected.flatMap((c) => c.records);
  assert.equal(
    new Set(all.map((r) => r.id)).size,
    1600 + 17,
    'every tweet, and the one each search page adds',
  );
  assert.ok(expected.some((c) => c.deadLetters.length > 0) && expected.some((c) => c.problems.length > 0));
  assert.deepEqual(plain(there), expected);
  for (const c of there) for (const r of c.records) assert.ok(Buffer.isBuffer(r.value));
});

test('a file that cannot be read fails next() with the reading error, then and on every later call', async () => {
  const chunks = new ReplayThread([join(dir, 'missing.ndjson')], 'replay');
  await assert.rejects(chunks.next(T0), /ENOENT/);
  await assert.rejects(chunks.next(T0), /ENOENT/);
});

test('after close(), next() answers the end of the input instead of waiting for a thread that is gone', async () => {
  const chunks = new ReplayThread(files, 'replay');
  assert.ok(await chunks.next(T0));
  await chunks.close();
  assert.equal(await chunks.next(T0), undefined);
});

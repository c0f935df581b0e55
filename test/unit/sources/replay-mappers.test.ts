import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { ReplayMappers } from '../../../src/sources/replay-mappers.ts';
import { type LineChunkRequest, unpackLineChunk } from '../../../src/sources/replay-mapping.ts';
import { fromJsonLine } from '../../../src/sources/tweet-record.ts';

const T0 = Date.UTC(2026, 10, 25, 6, 0, 0);
const tweet = (id: number, offsetMs: number) => ({
  id: String(id),
  text: `tweet ${id} ${'é'.repeat(id % 7)}`,
  created_at: new Date(T0 + offsetMs).toISOString(),
});
const streamLine = (id: number) =>
  JSON.stringify({ data: tweet(id, id * 1000), matching_rules: [{ id: '1', tag: 'm' }] });
const ctx = { source: 'replay', ingestedAtMs: T0 + 3_600_000 };

/** A request for `lines`, separated by a line break each, as the replay source sends them. */
function request(lines: string[], timeOrder = false): LineChunkRequest {
  const starts: number[] = [];
  const ends: number[] = [];
  const parts: Buffer[] = [];
  let at = 0;
  for (const l of lines) {
    const b = Buffer.from(`${l}\n`);
    starts.push(at);
    ends.push(at + b.length - 1);
    parts.push(b);
    at += b.length;
  }
  return {
    bytes: new Uint8Array(Buffer.concat(parts)),
    starts: Int32Array.from(starts),
    ends: Int32Array.from(ends),
    ...ctx,
    timeOrder,
  };
}

const mappers = new ReplayMappers(2);
after(() => mappers.close());

test('chunks mapped on two threads come back in the order they were sent, as the in-thread mapping makes them', async () => {
  // The first chunk is the largest: the second thread finishes its small chunk first.
  const chunks = [2000, 3, 500, 1, 40].map((n, c) =>
    Array.from({ length: n }, (_, i) => streamLine(c * 10_000 + i + 1)),
  );
  const answers = chunks.map((lines) => mappers.map(request(lines)));
  for (const [c, answer] of answers.entries()) {
    const { records, deadLetters } = unpackLineChunk(await answer);
    assert.deepEqual(deadLetters, []);
    const expected = chunks[c]!.flatMap((l) => fromJsonLine(Buffer.from(l), ctx).records);
    assert.equal(records.length, expected.length, `chunk ${c}`);
    for (const [i, r] of records.entries()) {
      assert.equal(r.id, expected[i]!.id, `chunk ${c} record ${i}`);
      assert.equal(r.createdAtMs, expected[i]!.createdAtMs);
      assert.ok(r.value.equals(expected[i]!.value), `chunk ${c} record ${i}: the same bytes`);
    }
  }
});

test("dead letters keep their line's bytes and reason; X's error objects come back; pace original sorts within a line", async () => {
  const page = JSON.stringify({
    data: [tweet(9, 9000), tweet(7, 7000), tweet(8, 8000)],
    meta: { result_count: 3 },
    errors: [{ title: 'Not Found Error', detail: 'Could not find tweet with ids: [6].', type: 'x' }],
  });
  const lines = [streamLine(20), 'not json {', page, streamLine(1)];
  const mapped = await mappers.map(request(lines, true));
  const { records, deadLetters } = unpackLineChunk(mapped);
  assert.deepEqual(
    records.map((r) => r.id),
    ['20', '7', '8', '9', '1'],
    "each line's records in time order, the lines in their order",
  );
  assert.equal(deadLetters.length, 1);
  assert.equal(deadLetters[0]!.raw.toString(), 'not json {');
  assert.match(deadLetters[0]!.reason, /^not JSON: /);
  assert.equal(mapped.errors.length, 1);
  assert.equal(mapped.errors[0]!.title, 'Not Found Error');
});

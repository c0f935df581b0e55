/**
 * The byte-level ISO-8601 reader against Date.parse as the oracle: it either agrees with Date.parse or declines
 * (NaN, so the caller asks Date.parse), and it reads the forms X and tweetpipe write itself.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isoUtcMillis } from '../../../../src/sink/formats/iso-time.ts';

const read = (text: string): number => {
  // Padded on both sides, as a member's value lies inside a record.
  const b = Buffer.from(`"${text}"`);
  return isoUtcMillis(b, 1, b.length - 1);
};

const EDGES = [
  '2026-02-30T00:00:00.000Z',
  '2026-04-31T23:59:59Z',
  '2026-13-01T00:00:00Z',
  '2026-00-10T00:00:00Z',
  '2026-01-00T00:00:00Z',
  '2026-01-32T00:00:00Z',
  '2026-01-01T24:00:00Z',
  '2026-01-01T23:60:00Z',
  '2026-01-01T23:59:60.000Z',
  '0050-06-01T00:00:00Z',
  '0100-01-01T00:00:00.000Z',
  '9999-12-31T23:59:59.999Z',
  '2026-1-01T00:00:00Z',
  '2026-01-01 00:00:00Z',
  '2026-01-01T00:00:00.000+01:00',
  '2026-01-01T00:00:00.000',
  '2026-01-01T00:00:00,000Z',
  '2026-01-01T0a:00:00.000Z',
  '2026-11-25T06:00:00.1234Z',
  'Wed Nov 25 2026 06:00:00 GMT',
];

describe('isoUtcMillis', () => {
  test('reads the forms the pipeline writes exactly as Date.parse does', () => {
    for (const text of ['2026-11-25T06:00:00.000Z', '2026-11-25T06:00:00Z', '2006-03-21T20:50:14.123Z'])
      assert.equal(read(text), Date.parse(text), text);
  });

  test('agrees with Date.parse or declines, on edge cases and random times', () => {
    const texts = [...EDGES];
    for (let k = 0; k < 2000; k++) {
      const ms = Math.floor(Math.random() * Date.UTC(9999, 11, 31));
      const iso = new Date(ms).toISOString();
      texts.push(iso, iso.replace(/\.\d{3}Z$/, 'Z'));
    }
    for (const text of texts) {
      const ms = read(text);
      if (!Number.isNaN(ms)) assert.equal(ms, Date.parse(text), text);
    }
    assert.ok(Number.isNaN(read('0050-06-01T00:00:00Z')), 'a two-digit year is left to Date.parse');
    assert.ok(Number.isNaN(read('2026-01-01T24:00:00Z')), 'hour 24 is left to Date.parse');
  });
});

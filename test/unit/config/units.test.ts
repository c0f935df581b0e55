/** The units of the compact flags and the compact.* keys, and their errors naming the flag or key. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseDurationMs, parseSizeBytes } from '../../../src/config/units.ts';
import { loadConfig } from '../../../src/config.ts';

describe('compact units', () => {
  it('reads durations and sizes', () => {
    assert.equal(parseDurationMs('--older-than', '2h'), 7_200_000);
    assert.equal(parseDurationMs('--older-than', '90s'), 90_000);
    assert.equal(parseSizeBytes('--target-size', '256MB'), 256 * 1024 * 1024);
    assert.equal(parseSizeBytes('--target-size', '1.5kb'), 1536);
  });

  it('names the flag and the expected form on bad input', () => {
    assert.throws(
      () => parseDurationMs('--older-than', '2 hours'),
      /--older-than must be .* like 2h: got "2 hours"/,
    );
    assert.throws(() => parseSizeBytes('--target-size', '0MB'), /--target-size must be .* like 256MB/);
  });

  it('compact.every is off by default and validated naming the key', () => {
    assert.equal(loadConfig({ flags: {} }).compact.every, undefined);
    assert.equal(loadConfig({ flags: { 'compact.every': '6h' } }).compact.every, '6h');
    assert.throws(() => loadConfig({ flags: { 'compact.every': 'often' } }), /compact\.every/);
  });
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { networkErrorCode, TweetpipeError, toTweetpipeError } from '../../src/errors.ts';

test('network errors are found in cause chains and in nested errors, and are retryable', () => {
  const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
  assert.equal(networkErrorCode(new TypeError('fetch failed', { cause: refused })), 'ECONNREFUSED');
  const multiple = Object.assign(
    new AggregateError([new Error('x'), new AggregateError([refused])], 'Listing topics failed.'),
    {
      code: 'PLT_KFK_MULTIPLE',
    },
  );
  assert.equal(networkErrorCode(multiple), 'ECONNREFUSED');
  const e = toTweetpipeError(multiple);
  assert.equal(e.code, 'NETWORK');
  assert.equal(e.retryable, true);
  assert.equal(networkErrorCode(new Error('plain')), undefined);
  assert.equal(toTweetpipeError(new Error('plain')).retryable, false);
});

test('a TweetpipeError keeps its own verdict', () => {
  const own = new TweetpipeError('HDFS_SAFE_MODE', 'safe mode', { retryable: true });
  assert.equal(toTweetpipeError(own), own);
});

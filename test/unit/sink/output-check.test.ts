import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TweetpipeError } from '../../../src/errors.ts';
import { MemoryStorage } from '../../../src/hdfs/memory-storage.ts';
import { remoteError } from '../../../src/hdfs/webhdfs-errors.ts';
import { silentLogger } from '../../../src/log.ts';
import { checkOutputWritable } from '../../../src/sink/output-check.ts';

const DENIED =
  'Permission denied: user=intruder, access=WRITE, inode="/data":tweetpipe:supergroup:drwxr-xr-x';

/** A storage whose creates fail with `err`. */
function failingCreates(err: Error): MemoryStorage {
  const storage = new MemoryStorage();
  storage.create = () => Promise.reject(err);
  return storage;
}

test('a writable output directory passes and keeps nothing of the check', async () => {
  const storage = new MemoryStorage();
  await checkOutputWritable(storage, '/data', 'tweetpipe', silentLogger);
  assert.deepEqual(await storage.list('/data/_tmp'), []);
});

test('permission denied: an error naming the directory, the user and the refused permission', async () => {
  const body = JSON.stringify({
    RemoteException: {
      exception: 'AccessControlException',
      javaClassName: 'x.AccessControlException',
      message: DENIED,
    },
  });
  const storage = failingCreates(remoteError('CREATE', '/data/_tmp/.write-check', 403, body));
  await assert.rejects(
    checkOutputWritable(storage, '/data', 'intruder', silentLogger),
    (err: TweetpipeError) => {
      assert.equal(err.code, 'CONFIG_INVALID');
      assert.match(err.message, /HDFS user "intruder" may not write the output directory \/data/);
      assert.match(err.message, /access=WRITE/);
      assert.match(err.message, /drwxr-xr-x/);
      return true;
    },
  );
});

test('other failures do not hold the start: the sink loop retries and reports them', async () => {
  const down = new TweetpipeError('NETWORK', 'WebHDFS CREATE: ECONNREFUSED', { retryable: true });
  await checkOutputWritable(failingCreates(down), '/data', 'tweetpipe', silentLogger);
});

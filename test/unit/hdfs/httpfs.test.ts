/** An HttpFS gateway's classic-rename answer to rename2, turned into the refusal a NameNode gives (httpfs.ts). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isClassicRenameRefusal, renameRefusal } from '../../../src/hdfs/httpfs.ts';

test('only a {"boolean":false} answer is a refused classic rename', () => {
  assert.equal(isClassicRenameRefusal('{"boolean":false}'), true);
  assert.equal(isClassicRenameRefusal('{"boolean":true}'), false);
  // A NameNode's rename2 answers with an empty body.
  assert.equal(isClassicRenameRefusal(''), false);
  assert.equal(isClassicRenameRefusal('not json'), false);
});

test('a refusal is HDFS_ALREADY_EXISTS when the destination exists, else HDFS_NOT_FOUND', async () => {
  const existing = new Set(['/d/to']);
  const exists = async (p: string) => existing.has(p);
  assert.equal((await renameRefusal('/d/from', '/d/to', exists)).code, 'HDFS_ALREADY_EXISTS');
  const missing = await renameRefusal('/d/missing', '/d/other', exists);
  assert.equal(missing.code, 'HDFS_NOT_FOUND');
  assert.equal(missing.details.destination, '/d/other');
});

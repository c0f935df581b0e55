/**
 * `compliance apply --from-x` against the X emulator, in both API eras: the ids stored in a date range are
 * uploaded to a batch compliance job, the job is polled to `complete`, its result downloaded and applied, so the
 * posts X reports deleted are gone from the stored files and the others stay. And the emulator's compliance jobs
 * follow each era's spec (2.167 refuses an unknown create property, 2.159 ignores it).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { applyDeletions, storedIds } from '../../../src/compact/compliance.ts';
import { rowCodec } from '../../../src/compact/file-rows.ts';
import { runXComplianceJob } from '../../../src/compact/x-compliance-job.ts';
import { MemoryStorage } from '../../../src/hdfs/memory-storage.ts';
import { silentLogger } from '../../../src/log.ts';
import { startXEmulator } from '../../../src/x-emulator/server.ts';
import { filesUnder, tweetRecords } from '../sink/fixtures.ts';
import { items, ROOT, TOPIC, writer } from '../sink/partition-writer-fixtures.ts';

const idOf = (offset: number) => String(1_993_000_000_000_000_000n + BigInt(offset));
const DELETED_AT_X = [3, 17, 42].map(idOf);
/** Deleted at X but never stored here: must not matter. */
const NOT_STORED = '1';

async function storedTree(): Promise<MemoryStorage> {
  const storage = new MemoryStorage();
  const w = writer({ storage, format: 'parquet', rotation: { maxRecords: 10 } });
  await w.recover();
  // 100 tweets a minute apart from 2026-11-25T06:00Z: all in dt=2026-11-25.
  await w.write(items(tweetRecords(0, 100, { msPerRecord: 60_000 })));
  await w.close(false);
  return storage;
}

async function allIds(storage: MemoryStorage): Promise<string[]> {
  const ids: string[] = [];
  for (const { path, data } of filesUnder(storage, `${ROOT}/${TOPIC}`))
    ids.push(...(await rowCodec('parquet').read(data, path)).ids);
  return ids.sort();
}

for (const era of ['2.159', '2.167'] as const) {
  describe(`compliance apply --from-x against the X emulator (${era})`, () => {
    it('uploads the stored ids, waits for the job, applies its result', async () => {
      const x = await startXEmulator({
        naming: era,
        rate: 0,
        token: 'test-token',
        deletedPostIds: [...DELETED_AT_X, NOT_STORED],
        complianceProcessingMs: 100,
      });
      try {
        const storage = await storedTree();
        const stored = await storedIds(storage, ROOT, '2026-11-25', '2026-11-25');
        assert.equal(stored.size, 100);
        assert.equal((await storedIds(storage, ROOT, '2026-11-26', '2026-11-30')).size, 0);
        const deleted = await runXComplianceJob({
          apiUrl: x.url,
          bearerToken: 'test-token',
          ids: stored,
          logger: silentLogger,
          pollMs: 50,
        });
        assert.deepEqual([...deleted].sort(), [...DELETED_AT_X].sort());
        const report = await applyDeletions({ storage, root: ROOT, ids: deleted, logger: silentLogger });
        assert.equal(report.removedRecords, 3);
        const expected = Array.from({ length: 100 }, (_, i) => idOf(i)).filter(
          (id) => !DELETED_AT_X.includes(id),
        );
        assert.deepEqual(await allIds(storage), expected.sort());
      } finally {
        await x.close();
      }
    });

    it(`the emulator ${era === '2.167' ? 'refuses' : 'ignores'} an unknown property in the create body, and needs the bearer token`, async () => {
      const x = await startXEmulator({ naming: era, rate: 0, token: 'test-token' });
      try {
        const create = (body: unknown, token = 'test-token') =>
          fetch(`${x.url}/2/compliance/jobs`, {
            method: 'POST',
            headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
            body: JSON.stringify(body),
          });
        const extra = await create({ type: 'tweets', colour: 'blue' });
        assert.equal(extra.status, era === '2.167' ? 400 : 200, await extra.text());
        assert.equal((await create({ type: 'spaces' })).status, 400);
        assert.equal((await create({ type: 'tweets' }, 'wrong')).status, 401);
        const ok = (await (await create({ type: 'tweets', name: 'n' })).json()) as {
          data: Record<string, unknown>;
        };
        assert.equal(ok.data.status, 'created');
        assert.equal(ok.data.type, 'tweets');
        for (const key of [
          'id',
          'created_at',
          'upload_url',
          'download_url',
          'upload_expires_at',
          'download_expires_at',
        ])
          assert.equal(typeof ok.data[key], 'string', key);
        const byId = await fetch(`${x.url}/2/compliance/jobs/${ok.data.id}`, {
          headers: { authorization: 'Bearer test-token' },
        });
        assert.equal(((await byId.json()) as { data: { id: string } }).data.id, ok.data.id);
      } finally {
        await x.close();
      }
    });
  });
}

/**
 * The Thrift client against Hive Metastore 4.0.1 (stack up --hive runs 3.1.3; the subset IDL must also speak 4.x,
 * where get_table is gone). This test alone fetches hive-standalone-metastore-server 4.0.1 from Maven Central
 * (test/helpers/poms/hive-metastore-4), starts it on a spare port with Derby embedded (schema created by
 * DataNucleus: the 4.x schema scripts live only in a tarball this test does not need) and its warehouse on the shared
 * HDFS, runs the registrar's calls against it, and stops it.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { openSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { withMetastore } from '../../../src/hive/metastore-client.ts';
import { MetastorePartitionLocations } from '../../../src/hive/partition-locations.ts';
import { addPartitions, ensureTable, locationPath } from '../../../src/hive/partition-sync.ts';
import { ensureJars } from '../../../src/stack/maven.ts';
import { portIsFree } from '../../../src/stack/process.ts';
import { tableSpec } from '../../../src/table/table-schema.ts';
import { testHdfsClient } from '../../helpers/hdfs-readback.ts';
import { testConfig } from '../../helpers/topics.ts';

const PORT = 9084;
const URI = `thrift://localhost:${PORT}`;
const POM = join(dirname(fileURLToPath(import.meta.url)), '../../helpers/poms/hive-metastore-4/pom.xml');
/** Jars are kept between runs (a marker once complete); the Derby database is per run. */
const CACHE = join(tmpdir(), 'tweetpipe-test-hive-metastore-4.0.1');
const LIB = join(CACHE, 'lib');
const RUN = `${Date.now().toString(36)}${randomUUID().slice(0, 6)}`;
const HOME = join(tmpdir(), `tweetpipe-hms4-${RUN}`);
const HDFS_BASE = `/tmp/tweetpipe-hms4-it-${RUN}`;

const config = testConfig();
const hdfs = testHdfsClient();
let server: ChildProcess | undefined;

function metastoreSite(): string {
  const props: Record<string, string | number> = {
    'javax.jdo.option.ConnectionURL': `jdbc:derby:;databaseName=${join(HOME, 'metastore_db')};create=true`,
    'javax.jdo.option.ConnectionDriverName': 'org.apache.derby.jdbc.EmbeddedDriver',
    'datanucleus.schema.autoCreateAll': 'true',
    'metastore.schema.verification': 'false',
    'metastore.thrift.port': PORT,
    'metastore.warehouse.dir': `${config.hdfs.uri.replace(/\/$/, '')}${HDFS_BASE}/warehouse`,
    'metastore.event.db.notification.api.auth': 'false',
  };
  const body = Object.entries(props)
    .map(([k, v]) => `  <property><name>${k}</name><value>${v}</value></property>`)
    .join('\n');
  return `<?xml version="1.0"?>\n<configuration>\n${body}\n</configuration>\n`;
}

async function startMetastore(): Promise<void> {
  await mkdir(join(HOME, 'conf'), { recursive: true });
  await writeFile(join(HOME, 'conf', 'metastore-site.xml'), metastoreSite());
  const log = openSync(join(HOME, 'metastore.log'), 'a');
  server = spawn(
    'java',
    [
      '-Xmx512m',
      '-Djava.net.preferIPv4Stack=true',
      `-Dderby.stream.error.file=${join(HOME, 'derby.log')}`,
      '-cp',
      `${join(HOME, 'conf')}:${LIB}/*`,
      'org.apache.hadoop.hive.metastore.HiveMetaStore',
    ],
    { stdio: ['ignore', log, log], cwd: HOME },
  );
  for (let i = 0; i < 240; i++) {
    if (server.exitCode !== null) break;
    try {
      await withMetastore(URI, 2000, (c) => c.get_all_databases());
      return;
    } catch {
      await sleep(500);
    }
  }
  const tail = (await readFile(join(HOME, 'metastore.log'), 'utf8')).split('\n').slice(-30).join('\n');
  throw new Error(`Hive Metastore 4.0.1 did not answer on ${URI}; log tail:\n${tail}`);
}

describe('the Thrift client against Hive Metastore 4.0.1', { timeout: 1_500_000 }, () => {
  before(async () => {
    assert.ok(await portIsFree(PORT), `port ${PORT} is taken: this test starts its own metastore there`);
    await ensureJars({ name: 'Hive Metastore 4.0.1', path: POM }, LIB, (line) =>
      process.stderr.write(`# ${line}\n`),
    );
    await startMetastore();
  });

  after(async () => {
    if (server && server.exitCode === null) {
      const exited = new Promise((resolve) => server?.once('exit', resolve));
      server.kill('SIGTERM');
      await Promise.race([exited, sleep(15_000)]);
      if (server.exitCode === null) server.kill('SIGKILL');
    }
    await hdfs.delete(HDFS_BASE, { recursive: true }).catch(() => {});
    await rm(HOME, { recursive: true, force: true });
  });

  for (const format of ['jsonl', 'parquet'] as const) {
    test(`${format}: create db and table, add partitions if not exists, list partition names, move them there and back`, async () => {
      const spec = {
        ...tableSpec(config, format),
        database: `tp_hms4_${RUN}`,
        table: `tp_${format}`,
        location: `${config.hdfs.uri.replace(/\/$/, '')}${HDFS_BASE}/${format}`,
      };
      const first = ['dt=2026-11-25/hour=06', 'dt=2026-11-25/hour=07'];
      const second = ['dt=2026-11-25/hour=07', 'dt=2026-11-26/hour=00'];
      const names = await withMetastore(URI, 30_000, async (c) => {
        assert.equal(await ensureTable(c, spec), 'created');
        assert.equal(await ensureTable(c, spec), 'exists', 'a rerun finds the table (get_table_req)');
        await addPartitions(c, spec, first);
        // An overlap with what is registered is no error (ifNotExists), as after a crash or with two sinks.
        await addPartitions(c, spec, second);
        assert.ok((await c.get_all_databases()).includes(spec.database));
        return (await c.get_partition_names(spec.database, spec.table, -1)).sort();
      });
      assert.deepEqual(names, [...new Set([...first, ...second])].sort());
      // The compaction's catalog swap (get_partitions_by_names, alter_partitions): there and back.
      const partitions = new MetastorePartitionLocations(URI, 30_000, spec);
      const folders = names.map((n) => `${locationPath(spec.location)}/${n}`);
      const at = await partitions.locations(folders);
      assert.deepEqual([...at.values()].sort(), names.map((n) => `${spec.location}/${n}`).sort());
      const elsewhere = (l: string) => l.replace(HDFS_BASE, `${HDFS_BASE}/.snapshot/s`);
      const moves = [...at].map(([folder, from]) => ({ folder, from, to: elsewhere(from) }));
      assert.equal(await partitions.move(moves), names.length);
      assert.deepEqual(
        [...(await partitions.locations(folders)).values()].sort(),
        moves.map((m) => m.to).sort(),
      );
      assert.equal(await partitions.move(moves.map((m) => ({ ...m, from: m.to, to: m.from }))), names.length);
      assert.deepEqual(await partitions.locations(folders), at);
    });
  }
});

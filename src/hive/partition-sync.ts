/**
 * Registering the output's partitions in a Hive Metastore: the table is created when missing, and each partition
 * directory is added if not present (`add_partitions_req` with ifNotExists), so every step is idempotent under
 * retries, crashes and several sinks at once. What HDFS holds is the truth: a catch-up lists the partition
 * directories under the table location and adds them all.
 */
import type { Storage } from '../hdfs/storage.ts';
import type { TableSpec } from '../table/table-schema.ts';
import { isAlreadyExists, isNoSuchObject, type MetastoreClient, types } from './metastore-client.ts';
import { metastorePartition, metastoreTable, partitionValues } from './metastore-table.ts';

/** The HDFS path of a URI location (`hdfs://nn:9000/a/b` -> `/a/b`). */
export const locationPath = (location: string): string => new URL(location).pathname;

/** Creates the database and the table when missing; an existing table is left as it is. */
export async function ensureTable(client: MetastoreClient, spec: TableSpec): Promise<'created' | 'exists'> {
  try {
    await client.get_table_req(new types.GetTableRequest({ dbName: spec.database, tblName: spec.table }));
    return 'exists';
  } catch (err) {
    if (!isNoSuchObject(err)) throw err;
  }
  if (!(await client.get_all_databases()).includes(spec.database)) {
    try {
      await client.create_database(
        new types.Database({ name: spec.database, description: 'created by tweetpipe', parameters: {} }),
      );
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
    }
  }
  try {
    await client.create_table(metastoreTable(spec));
    return 'created';
  } catch (err) {
    // Another sink created it first.
    if (isAlreadyExists(err)) return 'exists';
    throw err;
  }
}

/** Adds the partitions of these relative directories (`dt=.../hour=...`) that the metastore lacks. */
export async function addPartitions(
  client: MetastoreClient,
  spec: TableSpec,
  dirs: Iterable<string>,
): Promise<void> {
  const parts = [];
  for (const dir of dirs) {
    const values = partitionValues(spec, dir);
    if (values) parts.push(metastorePartition(spec, dir, values));
  }
  if (parts.length === 0) return;
  await client.add_partitions_req(
    new types.AddPartitionsRequest({
      dbName: spec.database,
      tblName: spec.table,
      parts,
      ifNotExists: true,
      needResult: false,
    }),
  );
}

/** Every partition directory under the table location, relative to it (`dt=2026-11-25/hour=06`). */
export async function partitionDirs(storage: Storage, spec: TableSpec): Promise<string[]> {
  let level = [''];
  for (const key of spec.partitions) {
    const next: string[] = [];
    for (const rel of level) {
      const base = rel === '' ? locationPath(spec.location) : `${locationPath(spec.location)}/${rel}`;
      for (const entry of await storage.list(base)) {
        if (entry.type === 'DIRECTORY' && entry.name.startsWith(`${key}=`))
          next.push(rel === '' ? entry.name : `${rel}/${entry.name}`);
      }
    }
    level = next;
  }
  return level;
}

/** The partition directory of a committed file's path, or null when the path is not under the table. */
export function partitionDirOf(spec: TableSpec, filePath: string): string | null {
  const root = `${locationPath(spec.location)}/`;
  if (!filePath.startsWith(root)) return null;
  const dir = filePath.slice(root.length).split('/').slice(0, -1).join('/');
  return partitionValues(spec, dir) ? dir : null;
}

/**
 * Where the output table's partitions point, read and moved in the Hive Metastore: what a rewrite uses to keep
 * catalog readers on a frozen copy of the folders it rewrites (src/compact/catalog-swap.ts). Partitions are named
 * by their HDFS folders; a folder outside the table, or a partition the metastore lacks, is simply not there.
 */
import type { Config } from '../config.ts';
import { TweetpipeError } from '../errors.ts';
import { type TableSpec, tableSpec } from '../table/table-schema.ts';
import { type MetastoreClient, type Partition, withMetastore } from './metastore-client.ts';
import { partitionValues } from './metastore-table.ts';
import { locationPath } from './partition-sync.ts';

/** One partition's move: taken only while it still points at `from`. */
export interface LocationMove {
  /** The partition's folder (absolute HDFS path). */
  folder: string;
  from: string;
  to: string;
}

export interface PartitionLocations {
  /** The metastore and table, for logs and errors. */
  readonly name: string;
  /** The location of each of these folders the table has as a partition (folder -> location URI). */
  locations(folders: readonly string[]): Promise<Map<string, string>>;
  /**
   * Points each partition still at `from` to `to`; one at `to` already counts as moved (a repeated move is
   * harmless), one dropped or moved elsewhere meanwhile is left alone. Returns how many point at `to`.
   */
  move(moves: readonly LocationMove[]): Promise<number>;
}

/** Names per call: bounds the size of one Thrift message; each batch is altered in one transaction. */
const BATCH = 500;

export class MetastorePartitionLocations implements PartitionLocations {
  readonly name: string;
  private readonly uri: string;
  private readonly timeoutMs: number;
  private readonly spec: TableSpec;

  constructor(uri: string, timeoutMs: number, spec: TableSpec) {
    this.uri = uri;
    this.timeoutMs = timeoutMs;
    this.spec = spec;
    this.name = `${uri} ${spec.database}.${spec.table}`;
  }

  async locations(folders: readonly string[]): Promise<Map<string, string>> {
    const { names, folderOf } = this.partitionsOf(folders);
    const out = new Map<string, string>();
    await this.eachBatch('reading the locations', names, async (client, batch) => {
      for (const p of await client.get_partitions_by_names(this.spec.database, this.spec.table, batch)) {
        const folder = folderOf.get(valuesKey(p.values));
        if (folder) out.set(folder, p.sd.location);
      }
    });
    return out;
  }

  async move(moves: readonly LocationMove[]): Promise<number> {
    const byFolder = new Map(moves.map((m) => [m.folder, m]));
    const { names, folderOf } = this.partitionsOf(moves.map((m) => m.folder));
    let at = 0;
    await this.eachBatch('moving', names, async (client, batch) => {
      const changed: Partition[] = [];
      for (const p of await client.get_partitions_by_names(this.spec.database, this.spec.table, batch)) {
        const m = byFolder.get(folderOf.get(valuesKey(p.values)) ?? '');
        if (!m || (p.sd.location !== m.from && p.sd.location !== m.to)) continue;
        at++;
        if (p.sd.location === m.to) continue;
        p.sd.location = m.to;
        // Spark's form of a JSON table repeats the location as the serde's `path` (metastore-table.ts).
        if (p.sd.serdeInfo.parameters?.path === m.from) p.sd.serdeInfo.parameters.path = m.to;
        changed.push(p);
      }
      if (changed.length > 0) await client.alter_partitions(this.spec.database, this.spec.table, changed);
    });
    return at;
  }

  /**
   * Hive's partition names of the folders that are partitions of the table (`dt=2026-11-25/hour=06`: the folder's
   * path below the table, escaped as the partitioner escaped it), and each folder by its values, which is how the
   * metastore answers.
   */
  private partitionsOf(folders: readonly string[]): { names: string[]; folderOf: Map<string, string> } {
    const base = `${locationPath(this.spec.location)}/`;
    const names: string[] = [];
    const folderOf = new Map<string, string>();
    for (const folder of folders) {
      const name = folder.startsWith(base) ? folder.slice(base.length) : '';
      const values = partitionValues(this.spec, name);
      if (!values) continue;
      names.push(name);
      folderOf.set(valuesKey(values), folder);
    }
    return { names, folderOf };
  }

  /** One connection for all batches; failures name the metastore, the table and the partitions. */
  private async eachBatch(
    what: string,
    names: string[],
    work: (client: MetastoreClient, batch: string[]) => Promise<void>,
  ): Promise<void> {
    if (names.length === 0) return;
    try {
      await withMetastore(this.uri, this.timeoutMs, async (client) => {
        for (let i = 0; i < names.length; i += BATCH) await work(client, names.slice(i, i + BATCH));
      });
    } catch (err) {
      const shown =
        names.length > 3 ? `${names.slice(0, 3).join(', ')} and ${names.length - 3} more` : names.join(', ');
      throw new TweetpipeError(
        'METASTORE',
        `Hive Metastore ${this.uri}: ${what} of partitions ${shown} of ${this.spec.database}.${this.spec.table} failed: ${(err as Error)?.message ?? String(err)}`,
        {
          retryable: err instanceof TweetpipeError && err.retryable,
          cause: err,
          details: { partitions: names },
        },
      );
    }
  }
}

const valuesKey = (values: readonly string[]): string => JSON.stringify(values);

/** The partitions of the configured table when `sink.hive` is enabled; null without a metastore. */
export function configuredPartitionLocations(config: Config): PartitionLocations | null {
  const { enabled, metastoreUri, timeoutMs } = config.sink.hive;
  return enabled ? new MetastorePartitionLocations(metastoreUri, timeoutMs, tableSpec(config)) : null;
}

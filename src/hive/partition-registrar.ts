/**
 * `sink.hive`: registers the partitions of committed files in the Hive Metastore, beside the sink, never in its
 * way. The sink reports each file after its window is committed (manifest written, files renamed), so no partition
 * is registered before its files exist. Registration runs in the background: a metastore that is down or slow
 * holds registration, never the sink; the directories wait and are retried with back-off. On start, and after any
 * failure, the registrar catches up from what HDFS holds (a sink killed between a commit and its registration
 * leaves nothing unregistered once a sink runs again).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Config } from '../config.ts';
import type { Storage } from '../hdfs/storage.ts';
import type { Logger } from '../log.ts';
import { delayFor } from '../retry/backoff.ts';
import { HIVE_REGISTER } from '../retry/schedules.ts';
import { tableSpec } from '../table/table-schema.ts';
import { withMetastore } from './metastore-client.ts';
import { addPartitions, ensureTable, partitionDirOf, partitionDirs } from './partition-sync.ts';

export class PartitionRegistrar {
  private readonly config: Config;
  private readonly storage: Storage;
  private readonly log: Logger;
  private readonly spec;
  private readonly pending = new Set<string>();
  private readonly registered = new Set<string>();
  private catchUp = true;
  private tableReady = false;
  private wake: (() => void) | null = null;
  private stopped = false;
  private readonly loop: Promise<void>;

  constructor(config: Config, storage: Storage, log: Logger) {
    this.config = config;
    this.storage = storage;
    this.log = log;
    this.spec = tableSpec(config);
    this.loop = this.run();
  }

  /** A file of a committed window (its path in HDFS). */
  onCommit(path: string): void {
    const dir = partitionDirOf(this.spec, path);
    if (dir === null || this.registered.has(dir)) return;
    this.pending.add(dir);
    this.wake?.();
  }

  /** Stops after the attempt in flight (each call has a deadline); what is left is caught up by the next start. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.loop;
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (!this.stopped) {
      if (this.pending.size === 0 && !this.catchUp) {
        await new Promise<void>((resolve) => {
          this.wake = resolve;
        });
        this.wake = null;
        continue;
      }
      try {
        await this.registerOnce();
        failures = 0;
      } catch (err) {
        this.catchUp = true;
        const backoffMs = delayFor(HIVE_REGISTER, ++failures);
        this.log.warn(
          { err, pending: this.pending.size, retryInMs: backoffMs },
          `sink.hive: registering partitions of ${this.spec.database}.${this.spec.table} in ${this.config.sink.hive.metastoreUri} failed; the sink goes on, registration is retried`,
        );
        await Promise.race([
          sleep(backoffMs),
          new Promise<void>((resolve) => {
            this.wake = () => {
              if (this.stopped) resolve();
            };
          }),
        ]);
        this.wake = null;
      }
    }
  }

  private async registerOnce(): Promise<void> {
    const { metastoreUri, timeoutMs } = this.config.sink.hive;
    const catchUp = this.catchUp;
    const dirs = new Set(this.pending);
    if (catchUp) for (const dir of await partitionDirs(this.storage, this.spec)) dirs.add(dir);
    await withMetastore(metastoreUri, timeoutMs, async (client) => {
      if (!this.tableReady) {
        const table = await ensureTable(client, this.spec);
        this.tableReady = true;
        if (table === 'created')
          this.log.info({ table: `${this.spec.database}.${this.spec.table}` }, 'sink.hive: table created');
      }
      await addPartitions(client, this.spec, dirs);
    });
    for (const dir of dirs) {
      this.pending.delete(dir);
      this.registered.add(dir);
    }
    if (catchUp) this.catchUp = false;
    if (dirs.size > 0) this.log.debug({ partitions: [...dirs] }, 'sink.hive: partitions registered');
  }
}

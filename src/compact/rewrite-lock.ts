/**
 * One rewrite (compaction or compliance) at a time per output tree: two runs planning from the same listing would
 * both merge the same inputs and double their records. The lock is a file under `_wal/+rewrite/` created with
 * overwrite=false; its holder rewrites it every lease/3 while it works.
 *
 * A holder that died (kill -9) must not block the next run for long: its lock is stale when it names a process
 * on this host that no longer exists, or this process but no lock this process holds (a run whose release
 * failed, inside `tweetpipe run`), or when its NameNode modification time is older than the lease. A stale
 * lock is taken over the retry-safe way of src/sink/manifest.ts: renamed aside to a unique name, checked to be
 * the lock judged stale, deleted; the taker then creates its own with overwrite=false, so of two takers only one
 * wins.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { TweetpipeError } from '../errors.ts';
import type { Storage } from '../hdfs/storage.ts';
import type { Logger } from '../log.ts';
import { rewriteWalDir } from './rewrite-job.ts';

interface LockBody {
  owner: string;
  host: string;
  pid: number;
  purpose: string;
}

export const DEFAULT_LEASE_MS = 10 * 60_000;

/** Owners of the locks this process holds now. */
const heldHere = new Set<string>();

function processGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

export class RewriteLock {
  private readonly storage: Storage;
  private readonly root: string;
  private readonly path: string;
  private readonly body: LockBody;
  private readonly leaseMs: number;
  private readonly log: Logger;
  private timer: NodeJS.Timeout | null = null;

  constructor(opts: { storage: Storage; root: string; purpose: string; logger: Logger; leaseMs?: number }) {
    this.storage = opts.storage;
    this.root = opts.root;
    this.path = `${rewriteWalDir(opts.root)}/lock`;
    this.body = { owner: randomUUID(), host: hostname(), pid: process.pid, purpose: opts.purpose };
    this.leaseMs = opts.leaseMs ?? DEFAULT_LEASE_MS;
    this.log = opts.logger;
  }

  /** Takes the lock, or throws FENCED naming who holds it. */
  async acquire(): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.storage.create(this.path, this.encoded(), { overwrite: false });
        break;
      } catch (err) {
        if (!(err instanceof TweetpipeError && err.code === 'HDFS_ALREADY_EXISTS') || attempt >= 3) throw err;
      }
      const held = await this.readHeld();
      if (held && !held.stale)
        throw new TweetpipeError(
          'FENCED',
          `another rewrite (${held.body.purpose}, pid ${held.body.pid} on ${held.body.host}) holds ${this.path}; try again once it has finished`,
          { retryable: true, details: { lock: this.path } },
        );
      if (held) await this.takeOver(held.body);
    }
    heldHere.add(this.body.owner);
    this.timer = setInterval(() => void this.refresh(), Math.max(1000, this.leaseMs / 3));
    this.timer.unref();
    await this.sweepAside();
  }

  /**
   * Deletes the locks set aside by takeovers that died between their rename and their delete. One holding our
   * own lock is a concurrent taker's, which it renames back: that one stays.
   */
  private async sweepAside(): Promise<void> {
    const dir = rewriteWalDir(this.root);
    for (const file of await this.storage.list(dir)) {
      if (!file.name.startsWith('lock.stale-')) continue;
      const path = `${dir}/${file.name}`;
      const owner = await this.storage
        .read(path)
        .then((b) => (JSON.parse(b.toString('utf8')) as LockBody).owner)
        .catch(() => '');
      if (owner !== this.body.owner) await this.storage.delete(path);
    }
  }

  async release(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    heldHere.delete(this.body.owner);
    const held = await this.readHeld();
    if (held?.body.owner === this.body.owner) await this.storage.delete(this.path);
  }

  private encoded(): Buffer {
    return Buffer.from(JSON.stringify(this.body));
  }

  private async readHeld(): Promise<{ body: LockBody; stale: boolean } | null> {
    const status = await this.storage.status(this.path);
    if (!status) return null;
    let body: LockBody;
    try {
      body = JSON.parse((await this.storage.read(this.path)).toString('utf8')) as LockBody;
    } catch {
      // Torn (its creator died creating it) or vanished since the status: stale either way.
      return { body: { owner: '', host: '', pid: 0, purpose: 'unknown' }, stale: true };
    }
    const here = body.host === hostname();
    const gone = here && (body.pid === process.pid ? !heldHere.has(body.owner) : processGone(body.pid));
    return { body, stale: gone || Date.now() - status.modificationTime > this.leaseMs };
  }

  private async takeOver(stale: LockBody): Promise<void> {
    const aside = `${this.path}.stale-${randomUUID()}`;
    if (!(await this.storage.rename(this.path, aside))) return;
    const moved = await this.storage.read(aside).catch(() => Buffer.alloc(0));
    let owner = '';
    try {
      owner = (JSON.parse(moved.toString('utf8')) as LockBody).owner;
    } catch {}
    if (owner !== stale.owner && (await this.storage.rename(aside, this.path))) return;
    this.log.warn({ lock: this.path, holder: stale }, 'taking over the lock of a rewrite that died');
    await this.storage.delete(aside);
  }

  private async refresh(): Promise<void> {
    try {
      await this.storage.create(this.path, this.encoded(), { overwrite: true });
    } catch (err) {
      this.log.warn({ err, lock: this.path }, 'could not refresh the rewrite lock');
    }
  }
}

/**
 * Test data and storage doubles for the sink tests: realistic tweet records (the record contract's shape, with
 * the author embedded) and a Storage wrapper that "crashes" at a chosen mutating call.
 */
import type { MemoryStorage } from '../../../src/hdfs/memory-storage.ts';
import type {
  CreateOptions,
  FileStatus,
  Storage,
  StorageBody,
  WriteOptions,
} from '../../../src/hdfs/storage.ts';
import type { KafkaRecord } from '../../../src/types.ts';

const LANGS = ['en', 'en', 'en', 'es', 'ja', 'pt', 'fr', 'ar'];
const WORDS = [
  'music',
  'live',
  'tonight',
  'new',
  'album',
  'tour',
  'concert',
  'vinyl',
  'jazz',
  'guitar',
  '🎸',
  '🔥',
];
const BASE_MS = Date.UTC(2026, 10, 25, 6, 0, 0);

/** A tweet document per docs/record-schema.md: v2 `data` with the author embedded, rules and `_ingest`. */
export function tweetDoc(i: number, createdAtMs = BASE_MS + i * 1000): Record<string, unknown> {
  const id = String(1_993_000_000_000_000_000n + BigInt(i));
  const words = Array.from({ length: 12 + (i % 9) }, (_, k) => WORDS[(i * 7 + k * 3) % WORDS.length]);
  const tag = `tag${i % 5}`;
  const doc: Record<string, unknown> = {
    id,
    text: `${words.join(' ')} #${tag} @user${i % 11} https://t.co/abc${i}`,
    created_at: new Date(createdAtMs).toISOString(),
    lang: LANGS[i % LANGS.length],
    author_id: String(1000 + (i % 97)),
    author: {
      id: String(1000 + (i % 97)),
      username: `user_${i % 97}`,
      name: `User ${i % 97} ✨`,
      verified: i % 13 === 0,
      public_metrics: {
        followers_count: (i * 31) % 100_000,
        following_count: 10,
        tweet_count: 5,
        listed_count: 0,
      },
    },
    conversation_id: id,
    edit_history_tweet_ids: [id],
    possibly_sensitive: false,
    reply_settings: 'everyone',
    public_metrics: {
      retweet_count: i % 17,
      reply_count: i % 5,
      like_count: i % 101,
      quote_count: i % 3,
      bookmark_count: 0,
      impression_count: i % 7 === 0 ? undefined : i * 3,
    },
    entities: {
      hashtags: [{ start: 0, end: 4, tag }],
      mentions: [{ start: 5, end: 11, username: `user${i % 11}`, id: '42' }],
      urls: [{ start: 12, end: 35, url: `https://t.co/abc${i}`, expanded_url: `https://example.com/${i}` }],
    },
    matching_rules: [{ id: '1', tag: 'music' }],
    _ingest: {
      source: 'x-stream',
      ingested_at: new Date(createdAtMs + 500).toISOString(),
      schema_version: 1,
    },
  };
  if (i % 4 === 1) {
    doc.referenced_tweets = [{ type: 'replied_to', id: String(1_992_000_000_000_000_000n + BigInt(i)) }];
    doc.in_reply_to_user_id = '77';
  }
  return doc;
}

export function kafkaRecord(
  offset: number | bigint,
  value: Buffer | string | null,
  opts: { topic?: string; partition?: number; timestamp?: number } = {},
): KafkaRecord {
  return {
    topic: opts.topic ?? 'tweets',
    partition: opts.partition ?? 0,
    offset: BigInt(offset),
    timestamp: opts.timestamp ?? BASE_MS,
    key: null,
    value: typeof value === 'string' ? Buffer.from(value) : value,
    headers: new Map([['source', Buffer.from('synthetic')]]),
  };
}

/** Records for offsets [from, to) of one partition; the timestamp is the tweet's created_at. */
export function tweetRecords(
  from: number,
  to: number,
  opts: { topic?: string; partition?: number; msPerRecord?: number } = {},
): KafkaRecord[] {
  const out: KafkaRecord[] = [];
  for (let i = from; i < to; i++) {
    const ts = BASE_MS + i * (opts.msPerRecord ?? 1000);
    const r = kafkaRecord(i, JSON.stringify(tweetDoc(i, ts)), { ...opts, timestamp: ts });
    out.push(r);
  }
  return out;
}

export class SimulatedCrash extends Error {
  constructor(step: number, op: string) {
    super(`simulated crash at mutating call #${step} (${op})`);
    this.name = 'SimulatedCrash';
  }
}

/**
 * Passes calls to a MemoryStorage and throws SimulatedCrash instead of performing mutating call number
 * `crashAt` (1-based) and every call after it, like a process killed at that instant.
 */
export class CrashingStorage implements Storage {
  readonly inner: MemoryStorage;
  crashAt: number;
  mutations = 0;
  private crashed = false;

  constructor(inner: MemoryStorage, crashAt = Number.POSITIVE_INFINITY) {
    this.inner = inner;
    this.crashAt = crashAt;
  }

  private step(op: string): void {
    if (this.crashed) throw new SimulatedCrash(this.mutations, op);
    this.mutations++;
    if (this.mutations >= this.crashAt) {
      this.crashed = true;
      throw new SimulatedCrash(this.mutations, op);
    }
  }

  private guard(): void {
    if (this.crashed) throw new SimulatedCrash(this.mutations, 'read after crash');
  }

  async create(path: string, data: StorageBody, opts?: CreateOptions): Promise<void> {
    this.step(`create ${path}`);
    return this.inner.create(path, data, opts);
  }
  async append(path: string, data: StorageBody, opts?: WriteOptions): Promise<void> {
    this.step(`append ${path}`);
    return this.inner.append(path, data, opts);
  }
  async rename(from: string, to: string): Promise<boolean> {
    this.step(`rename ${from}`);
    return this.inner.rename(from, to);
  }
  async delete(path: string, recursive?: boolean): Promise<boolean> {
    this.step(`delete ${path}`);
    return this.inner.delete(path, recursive);
  }
  async mkdirs(path: string): Promise<void> {
    this.step(`mkdirs ${path}`);
    return this.inner.mkdirs(path);
  }
  async read(path: string): Promise<Buffer> {
    this.guard();
    return this.inner.read(path);
  }
  async list(dir: string): Promise<FileStatus[]> {
    this.guard();
    return this.inner.list(dir);
  }
  async status(path: string): Promise<FileStatus | null> {
    this.guard();
    return this.inner.status(path);
  }
  async allowSnapshots(dir: string): Promise<void> {
    this.step(`allowSnapshots ${dir}`);
    return this.inner.allowSnapshots(dir);
  }
  async createSnapshot(dir: string, name: string): Promise<void> {
    this.step(`createSnapshot ${dir} ${name}`);
    return this.inner.createSnapshot(dir, name);
  }
  async deleteSnapshot(dir: string, name: string): Promise<boolean> {
    this.step(`deleteSnapshot ${dir} ${name}`);
    return this.inner.deleteSnapshot(dir, name);
  }
}

/** Every file under `dir` (recursively) with its bytes, sorted by path. */
export function filesUnder(storage: MemoryStorage, dir: string): { path: string; data: Buffer }[] {
  const prefix = dir.endsWith('/') ? dir : `${dir}/`;
  const out: { path: string; data: Buffer }[] = [];
  for (const [path, node] of storage.nodes) {
    if (node.type === 'FILE' && path.startsWith(prefix)) out.push({ path, data: node.data });
  }
  return out.sort((a, b) => (a.path < b.path ? -1 : 1));
}

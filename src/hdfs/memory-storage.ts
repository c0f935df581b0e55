/** In-memory Storage with HDFS semantics, for unit tests of the sink; passes the same conformance suite as WebHDFS. */
import { TweetpipeError } from '../errors.ts';
import {
  type CreateOptions,
  type FileStatus,
  type Storage,
  type StorageBody,
  snapshotPath,
  type WriteOptions,
} from './storage.ts';

interface Node {
  type: 'FILE' | 'DIRECTORY';
  data: Buffer;
  modificationTime: number;
}

const normalize = (p: string): string => {
  if (!p.startsWith('/')) throw new TweetpipeError('HDFS_REMOTE', `path must be absolute: ${p}`);
  const parts = p.split('/').filter(Boolean);
  return `/${parts.join('/')}`;
};
const parentOf = (p: string): string => p.slice(0, p.lastIndexOf('/')) || '/';
const nameOf = (p: string): string => p.slice(p.lastIndexOf('/') + 1);

export class MemoryStorage implements Storage {
  readonly nodes = new Map<string, Node>([
    ['/', { type: 'DIRECTORY', data: Buffer.alloc(0), modificationTime: 0 }],
  ]);
  /** Number of calls per operation, so tests can assert recovery cost. */
  readonly calls = new Map<string, number>();
  /** Directories made snapshottable. */
  private readonly snapshottable = new Set<string>();

  private count(op: string): void {
    this.calls.set(op, (this.calls.get(op) ?? 0) + 1);
  }

  async create(path: string, body: StorageBody, opts: CreateOptions = {}): Promise<void> {
    this.count('create');
    const p = normalize(path);
    const existing = this.nodes.get(p);
    if (existing?.type === 'DIRECTORY')
      throw new TweetpipeError('HDFS_ALREADY_EXISTS', `${p} already exists as a directory`);
    if (existing && !opts.overwrite) throw new TweetpipeError('HDFS_ALREADY_EXISTS', `${p} already exists`);
    this.mkdirsSync(parentOf(p), p);
    const node: Node = { type: 'FILE', data: Buffer.alloc(0), modificationTime: Date.now() };
    this.nodes.set(p, node);
    await this.land(p, node, body, opts);
  }

  async append(path: string, body: StorageBody, opts: WriteOptions = {}): Promise<void> {
    this.count('append');
    const p = normalize(path);
    const node = this.nodes.get(p);
    if (node?.type === 'DIRECTORY')
      throw new TweetpipeError('HDFS_ALREADY_EXISTS', `Cannot append to directory ${path}`);
    if (!node) throw new TweetpipeError('HDFS_NOT_FOUND', `File does not exist: ${path}`);
    await this.land(p, node, body, opts);
  }

  /**
   * Adds the body to the file once it has all arrived: like HDFS, a file under construction shows its earlier
   * length, and one that was deleted or replaced meanwhile cannot be completed (the writer lost its lease). A stream's
   * chunks are copied as they come, and reported sent once copied.
   */
  private async land(p: string, node: Node, body: StorageBody, { sent }: WriteOptions): Promise<void> {
    let data: Uint8Array;
    if (body instanceof Uint8Array) data = body;
    else {
      const copies: Buffer[] = [];
      for await (const chunk of body as AsyncIterable<Buffer>) {
        copies.push(Buffer.from(chunk));
        sent?.(chunk.length);
      }
      data = Buffer.concat(copies);
    }
    if (this.nodes.get(p) !== node)
      throw new TweetpipeError(
        'HDFS_NOT_FOUND',
        `No lease on ${p}: the file was deleted while it was written`,
      );
    node.data = Buffer.concat([node.data, data]);
    node.modificationTime = Date.now();
  }

  async read(path: string): Promise<Buffer> {
    this.count('read');
    const node = this.nodes.get(normalize(path));
    if (node?.type !== 'FILE') throw new TweetpipeError('HDFS_NOT_FOUND', `File does not exist: ${path}`);
    return Buffer.from(node.data);
  }

  async rename(from: string, to: string): Promise<boolean> {
    this.count('rename');
    const src = normalize(from);
    const dst = normalize(to);
    if (!this.nodes.has(src) || this.nodes.has(dst) || !this.nodes.has(parentOf(dst))) return false;
    for (const [p, node] of [...this.nodes]) {
      if (p === src || p.startsWith(`${src}/`)) {
        this.nodes.delete(p);
        this.nodes.set(dst + p.slice(src.length), node);
      }
    }
    return true;
  }

  async delete(path: string, recursive = false): Promise<boolean> {
    this.count('delete');
    const p = normalize(path);
    if (!this.nodes.has(p)) return false;
    const children = [...this.nodes.keys()].filter((k) => k.startsWith(p === '/' ? '/' : `${p}/`) && k !== p);
    if (children.length > 0 && !recursive)
      throw new TweetpipeError('HDFS_REMOTE', `${p} is non empty': Directory is not empty`);
    for (const c of children) this.nodes.delete(c);
    if (p !== '/') this.nodes.delete(p);
    return true;
  }

  async mkdirs(path: string): Promise<void> {
    this.count('mkdirs');
    this.mkdirsSync(normalize(path));
  }

  /** `requested` is the path the caller named: a file there is "already exists", above it "not a directory". */
  private mkdirsSync(p: string, requested = p): void {
    const parts = p.split('/').filter(Boolean);
    let cur = '';
    for (const part of parts) {
      cur += `/${part}`;
      const node = this.nodes.get(cur);
      // As HDFS: FileAlreadyExistsException for the path itself, ParentNotDirectoryException for an ancestor.
      if (node?.type === 'FILE' && cur === requested)
        throw new TweetpipeError('HDFS_ALREADY_EXISTS', `Path is not a directory: ${cur}`);
      if (node?.type === 'FILE') throw new TweetpipeError('HDFS_REMOTE', `${cur} (is not a directory)`);
      if (!node)
        this.nodes.set(cur, { type: 'DIRECTORY', data: Buffer.alloc(0), modificationTime: Date.now() });
    }
  }

  async list(dir: string): Promise<FileStatus[]> {
    this.count('list');
    const p = normalize(dir);
    const node = this.nodes.get(p);
    if (!node) return [];
    if (node.type === 'FILE') return [toStatus(p, node)];
    const prefix = p === '/' ? '/' : `${p}/`;
    const out: FileStatus[] = [];
    for (const [k, n] of this.nodes) {
      const name = k.slice(prefix.length);
      // As in HDFS, a directory's snapshots are reachable by path but never listed.
      if (k !== p && k.startsWith(prefix) && !name.includes('/') && name !== '.snapshot')
        out.push(toStatus(k, n));
    }
    return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  async allowSnapshots(dir: string): Promise<void> {
    this.count('allowSnapshots');
    const p = normalize(dir);
    if (this.nodes.get(p)?.type !== 'DIRECTORY')
      throw new TweetpipeError('HDFS_NOT_FOUND', `Directory does not exist: ${p}`);
    this.snapshottable.add(p);
  }

  /** Copies what is under `dir` to its snapshot path: the copy is a twin of HDFS's frozen view. */
  async createSnapshot(dir: string, name: string): Promise<void> {
    this.count('createSnapshot');
    const p = normalize(dir);
    if (!this.snapshottable.has(p))
      throw new TweetpipeError('HDFS_NOT_SNAPSHOTTABLE', `${p} is not a snapshottable directory`);
    const at = snapshotPath(p, name);
    if (this.nodes.has(at))
      throw new TweetpipeError('HDFS_REMOTE', `there is already a snapshot with the same name "${name}"`);
    this.mkdirsSync(at);
    for (const [k, node] of [...this.nodes]) {
      const rel = k.slice(p.length);
      if (k.startsWith(`${p}/`) && !rel.startsWith('/.snapshot/') && rel !== '/.snapshot')
        this.nodes.set(`${at}${rel}`, { ...node, data: Buffer.from(node.data) });
    }
  }

  async deleteSnapshot(dir: string, name: string): Promise<boolean> {
    this.count('deleteSnapshot');
    return this.delete(snapshotPath(normalize(dir), name), true);
  }

  async status(path: string): Promise<FileStatus | null> {
    this.count('status');
    const p = normalize(path);
    const node = this.nodes.get(p);
    return node ? toStatus(p, node) : null;
  }
}

function toStatus(path: string, node: Node): FileStatus {
  return {
    name: nameOf(path),
    type: node.type,
    length: node.data.length,
    modificationTime: node.modificationTime,
  };
}

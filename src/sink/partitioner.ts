/**
 * Chooses the Hive-style output directory of a record: `dt=YYYY-MM-DD[/hour=HH[/minute=MM]]` from the record
 * timestamp in a configured IANA zone, then optional `field=value` directories taken from the tweet JSON.
 *
 * Time zones: Intl.DateTimeFormat is far too slow to call per record, so the zone's UTC offset is computed once
 * per 15-minute UTC bucket (every offset and every DST transition of the tz database since 1970 falls on a
 * 15-minute boundary, so the offset is constant inside a bucket, including +05:30 and +05:45 zones) and the
 * resulting directory string is cached per local day/hour/minute. A record costs two Map lookups.
 */
import { TweetpipeError } from '../errors.ts';
import type { SinkRecord } from './sink-record.ts';

export type Granularity = 'day' | 'hour' | 'minute';

export interface Partitioner {
  /** Relative directory of the record, e.g. `dt=2026-11-25/hour=06/lang=en` (no leading or trailing slash). */
  path(record: SinkRecord): string;
}

export interface PartitionerOptions {
  granularity: Granularity;
  /** IANA zone name; 'UTC' by default. */
  timeZone?: string;
  /** Dotted paths into the tweet JSON (e.g. `lang`, `author.verified`), each becoming a `name=value` directory. */
  fields?: readonly string[];
}

/** Hive's name for the partition of a null or empty value. */
export const HIVE_DEFAULT_PARTITION = '__HIVE_DEFAULT_PARTITION__';

const QUARTER_HOUR_MS = 15 * 60_000;
const UNIT_MS: Record<Granularity, number> = { day: 86_400_000, hour: 3_600_000, minute: 60_000 };
/** Cached entries per partitioner before a cache is dropped and rebuilt (bounds memory for replayed history). */
const CACHE_LIMIT = 4096;

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    try {
      f = new Intl.DateTimeFormat('en-US', {
        timeZone,
        hourCycle: 'h23',
        year: 'numeric',
        month: 'numeric',
        day: 'numeric',
        hour: 'numeric',
        minute: 'numeric',
        second: 'numeric',
      });
    } catch (err) {
      throw new TweetpipeError(
        'CONFIG_INVALID',
        `unknown time zone "${timeZone}": expected an IANA name such as Europe/Paris`,
        {
          cause: err,
        },
      );
    }
    formatters.set(timeZone, f);
  }
  return f;
}

/** Offset of the zone from UTC at `utcMs` (a whole second), in ms (positive east of Greenwich). */
function zoneOffsetMs(formatter: Intl.DateTimeFormat, utcMs: number): number {
  const parts: Record<string, number> = {};
  for (const p of formatter.formatToParts(utcMs)) if (p.type !== 'literal') parts[p.type] = Number(p.value);
  const asUtc = Date.UTC(
    parts.year ?? 1970,
    (parts.month ?? 1) - 1,
    parts.day ?? 1,
    parts.hour ?? 0,
    parts.minute ?? 0,
    parts.second ?? 0,
  );
  return asUtc - utcMs;
}

const pad2 = (n: number): string => (n < 10 ? `0${n}` : String(n));

function timePath(localMs: number, granularity: Granularity): string {
  const d = new Date(localMs);
  const dt = `dt=${String(d.getUTCFullYear()).padStart(4, '0')}-${pad2(d.getUTCMonth() + 1)}-${pad2(d.getUTCDate())}`;
  if (granularity === 'day') return dt;
  const hour = `${dt}/hour=${pad2(d.getUTCHours())}`;
  return granularity === 'hour' ? hour : `${hour}/minute=${pad2(d.getUTCMinutes())}`;
}

/** Maps a record timestamp (epoch ms) to its time directory. */
export class TimePartitioner {
  readonly granularity: Granularity;
  readonly timeZone: string;
  private readonly unitMs: number;
  private readonly formatter: Intl.DateTimeFormat | null;
  private readonly offsets = new Map<number, number>();
  private readonly paths = new Map<number, string>();

  constructor(granularity: Granularity, timeZone = 'UTC') {
    this.granularity = granularity;
    this.timeZone = timeZone;
    this.unitMs = UNIT_MS[granularity];
    // The default zone needs no Intl: a first Intl.DateTimeFormat reads ICU's data into memory (~4.5 MiB of the
    // sink's resident set, docs/benchmarks.md "Eleventh round").
    const formatter = timeZone === 'UTC' ? null : formatterFor(timeZone);
    const resolved = formatter?.resolvedOptions().timeZone;
    this.formatter = !formatter || resolved === 'UTC' || resolved === 'Etc/UTC' ? null : formatter;
  }

  path(timestampMs: number): string {
    const localMs = timestampMs + this.offsetAt(timestampMs);
    const unit = Math.floor(localMs / this.unitMs);
    let path = this.paths.get(unit);
    if (path === undefined) {
      if (this.paths.size >= CACHE_LIMIT) this.paths.clear();
      path = timePath(unit * this.unitMs, this.granularity);
      this.paths.set(unit, path);
    }
    return path;
  }

  private offsetAt(utcMs: number): number {
    if (!this.formatter) return 0;
    const bucket = Math.floor(utcMs / QUARTER_HOUR_MS);
    let offset = this.offsets.get(bucket);
    if (offset === undefined) {
      if (this.offsets.size >= CACHE_LIMIT) this.offsets.clear();
      offset = zoneOffsetMs(this.formatter, bucket * QUARTER_HOUR_MS);
      this.offsets.set(bucket, offset);
    }
    return offset;
  }
}

/** HDFS rejects path components longer than this many bytes (dfs.namenode.fs-limits.max-component-length). */
const MAX_COMPONENT_BYTES = 255;
const SAFE_VALUE = /^[A-Za-z0-9_.+@,-]+$/;

/**
 * Escapes a partition value the way Hive's FileUtils.escapePathName does (%XX, upper-case hex), for the same
 * characters: ASCII controls, DEL, and " # % ' * / : = ? \ { [ ] ^. C1 controls (U+0080..U+009F) are escaped too;
 * Hive's unescape turns them back into the same characters. `..` cannot escape the directory because the
 * value always follows `name=` and `/` and `\` are escaped. A lone surrogate (JSON allows `"\ud800"`) has no
 * UTF-8 form, so no HDFS path can hold it (WebHDFS cannot even URL-encode it): it becomes U+FFFD, as in every
 * UTF-8 column the record is written to.
 */
export function escapePartitionValue(value: string): string {
  let out = '';
  for (const ch of value) {
    const code = ch.codePointAt(0) ?? 0;
    const needsEscape =
      code < 0x20 || (code >= 0x7f && code <= 0x9f) || (code < 0x80 && '"#%\'*/:=?\\{[]^'.includes(ch));
    if (needsEscape) out += `%${code.toString(16).toUpperCase().padStart(2, '0')}`;
    else out += code >= 0xd800 && code <= 0xdfff ? '\ufffd' : ch;
  }
  return out;
}

/** Cuts a string to at most `maxBytes` UTF-8 bytes without splitting a character or a %XX escape. */
function truncateUtf8(s: string, maxBytes: number): string {
  if (Buffer.byteLength(s) <= maxBytes) return s;
  let out = '';
  let bytes = 0;
  const tokens = s.match(/%[0-9A-F]{2}|[\s\S]/gu) ?? [];
  for (const token of tokens) {
    const size = Buffer.byteLength(token);
    if (bytes + size > maxBytes) break;
    out += token;
    bytes += size;
  }
  return out;
}

function lookup(doc: Record<string, unknown>, path: readonly string[]): unknown {
  let v: unknown = doc;
  for (const key of path) {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return undefined;
    v = (v as Record<string, unknown>)[key];
  }
  return v;
}

/** One `name=value` directory from a field of the tweet JSON. */
export class FieldPartitioner {
  readonly field: string;
  private readonly path: readonly string[];
  private readonly prefix: string;
  private readonly cache = new Map<string, string>();

  constructor(field: string) {
    if (!/^[A-Za-z_][A-Za-z0-9_.]*$/.test(field))
      throw new TweetpipeError(
        'CONFIG_INVALID',
        `bad partition field "${field}": expected a dotted name like author.verified`,
      );
    this.field = field;
    this.path = field.split('.');
    this.prefix = `${field}=`;
  }

  directory(doc: Record<string, unknown>): string {
    const v = lookup(doc, this.path);
    const raw = typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : '';
    let dir = this.cache.get(raw);
    if (dir === undefined) {
      const value =
        raw === '' ? HIVE_DEFAULT_PARTITION : SAFE_VALUE.test(raw) ? raw : escapePartitionValue(raw);
      dir = truncateUtf8(this.prefix + value, MAX_COMPONENT_BYTES);
      if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
      this.cache.set(raw, dir);
    }
    return dir;
  }
}

/** The time directory followed by the field directories, in the configured order. */
export function createPartitioner(opts: PartitionerOptions): Partitioner {
  const time = new TimePartitioner(opts.granularity, opts.timeZone ?? 'UTC');
  const fields = (opts.fields ?? []).map((f) => new FieldPartitioner(f));
  if (fields.length === 0) return { path: (r) => time.path(r.timestampMs) };
  return {
    path(r) {
      let p = time.path(r.timestampMs);
      for (const f of fields) p += `/${f.directory(r.doc)}`;
      return p;
    },
  };
}

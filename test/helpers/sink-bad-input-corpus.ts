/**
 * The sink's bad input corpus (docs/architecture.md, "Bad input"): Kafka record values and timestamps that a
 * topic fed by anything but tweetpipe's producer can hold, each with what the sink must do with it. The unit test
 * (test/unit/sink/bad-input.test.ts) runs it through the SinkTask on the in-memory storage in every format; the
 * integration test (test/integration/sink/bad-input.test.ts) produces it raw to Kafka and runs `tweetpipe sink`.
 * The sink runs with hour granularity in UTC and `sink.partitionFields: ["lang"]`.
 */

/** The field partition the corpus is written with. */
export const PARTITION_FIELDS = ['lang'];

/** Record timestamp of most cases: in the past, which every broker accepts. */
const BASE_MS = Date.UTC(2026, 0, 15, 6, 30);
const BASE_DIR = 'dt=2026-01-15/hour=06';

export interface Written {
  /** The id a reader finds in the record. */
  id: string;
  /** Partition directory below the topic directory. */
  dir: string;
  /** The JSON Lines line, without its newline. */
  line: string;
  /** The Parquet created_at column (epoch ms). */
  createdAtMs: number;
}

export interface BadInputCase {
  name: string;
  value: Buffer;
  /** Kafka record timestamp (epoch ms); 0 is what a producer that sets none leaves usable to the sink: nothing. */
  timestampMs: number;
  /** Kafka refuses the record (so only the unit test has it): why. */
  unitOnly?: string;
  expect: { written: Written } | { deadLetter: RegExp };
}

/** What a reader finds of one written record: its JSON Lines line, or its Parquet `id` and `created_at` (ms). */
export function readerView(format: 'jsonl' | 'jsonl.gz' | 'parquet', w: Written): string {
  return format === 'parquet' ? `${w.id} ${w.createdAtMs}` : w.line;
}

/** Per partition directory, what a reader must find there, in offset order. */
export function expectedDirs(
  corpus: readonly BadInputCase[],
  format: 'jsonl' | 'jsonl.gz' | 'parquet',
): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const c of corpus)
    if ('written' in c.expect) {
      const { dir } = c.expect.written;
      out.set(dir, [...(out.get(dir) ?? []), readerView(format, c.expect.written)]);
    }
  return out;
}

let serial = 0;

/** A small tweet of the record contract; `over` replaces or adds top-level members. */
function tweet(over: Record<string, unknown> = {}): Record<string, unknown> {
  serial++;
  return {
    id: String(1_990_000_000_000_000_000n + BigInt(serial)),
    created_at: new Date(BASE_MS).toISOString(),
    text: `bad input corpus ${serial}`,
    lang: 'en',
    ...over,
  };
}

/** A case whose value is written byte for byte. */
function asIs(
  name: string,
  doc: Record<string, unknown>,
  opts: { timestampMs?: number; dir?: string; createdAtMs?: number; unitOnly?: string } = {},
): BadInputCase {
  const line = JSON.stringify(doc);
  return written(name, Buffer.from(line), line, doc, opts);
}

function written(
  name: string,
  value: Buffer,
  line: string,
  doc: Record<string, unknown>,
  opts: { timestampMs?: number; dir?: string; createdAtMs?: number; unitOnly?: string },
): BadInputCase {
  const timestampMs = opts.timestampMs ?? BASE_MS;
  return {
    name,
    value,
    timestampMs,
    ...(opts.unitOnly ? { unitOnly: opts.unitOnly } : {}),
    expect: {
      written: {
        id: String(doc.id),
        dir: opts.dir ?? `${BASE_DIR}/lang=${doc.lang}`,
        line,
        createdAtMs: opts.createdAtMs ?? Date.parse(String(doc.created_at)),
      },
    },
  };
}

function deadLetter(
  name: string,
  value: Buffer | string,
  reason: RegExp,
  timestampMs = BASE_MS,
): BadInputCase {
  return { name, value: Buffer.from(value), timestampMs, expect: { deadLetter: reason } };
}

/** The corpus, in the order it is produced; fresh ids on every call. */
export function badInputCorpus(): BadInputCase[] {
  const pretty = tweet({ public_metrics: { like_count: 3 } });
  const big = tweet();
  const bigPretty = `{\n  "id": "${big.id}",\n  "created_at": "${big.created_at}",\n  "lang": "en",\n  "impressions": 12345678901234567890,\n  "ratio": 1.0\n}`;
  const deep = tweet();
  const nested = `${'['.repeat(10_000)}${']'.repeat(10_000)}`;
  const deepLine = `${JSON.stringify(deep).slice(0, -1)},"nested":${nested}}`;
  const deepPretty = tweet();
  const deepPrettyLine = `${JSON.stringify(deepPretty).slice(0, -1)},"nested":${nested}}`;
  const surrogate = tweet();
  const surrogateLine = JSON.stringify(surrogate).replace('"lang":"en"', '"lang":"\\ud800"');
  const farPast = Date.UTC(1970, 0, 1, 0, 0, 0, 1);
  const farFutureMs = Date.UTC(9999, 11, 31, 23, 59, 59, 999);
  return [
    asIs('an ordinary tweet before the corpus', tweet()),
    deadLetter(
      'invalid UTF-8',
      Buffer.concat([Buffer.from('{"id":"1","text":"'), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from('"}')]),
      /^value is not valid UTF-8$/,
    ),
    deadLetter(
      'truncated JSON',
      JSON.stringify(tweet()).slice(0, 60),
      /^value is not JSON: unexpected end of input$/,
    ),
    deadLetter('an empty value', '', /^value is empty$/),
    written(
      'pretty-printed JSON, compacted to one line',
      Buffer.from(JSON.stringify(pretty, null, 2)),
      JSON.stringify(pretty),
      pretty,
      {},
    ),
    written(
      'pretty-printed JSON with an integer above 2^53: compacted, every digit kept',
      Buffer.from(bigPretty),
      `{"id":"${big.id}","created_at":"${big.created_at}","lang":"en","impressions":12345678901234567890,"ratio":1.0}`,
      big,
      {},
    ),
    asIs('a 2 MB record', tweet({ text: 'x'.repeat(2 * 1024 * 1024) })),
    written('10,000 levels of nesting', Buffer.from(deepLine), deepLine, deep, {}),
    written(
      '10,000 levels of nesting, pretty-printed',
      Buffer.from(deepPrettyLine.replaceAll('[', '[\n ').replace('{', '{\n')),
      deepPrettyLine,
      deepPretty,
      {},
    ),
    deadLetter(
      'a numeric id above 2^53',
      `{"id":12345678901234567890,"created_at":"2026-01-15T06:30:00.000Z"}`,
      /^no string id: id is a JSON number, which loses digits above 2\^53; expected the tweet id as a JSON string/,
    ),
    asIs('a string id above 2^53', tweet({ id: '12345678901234567890123' })),
    asIs('an id with a slash', tweet({ id: `a/b/${serial}` })),
    asIs('an id with ..', tweet({ id: `../../${serial}` })),
    asIs('created_at missing: placed by the record timestamp', tweet({ created_at: undefined }), {
      createdAtMs: BASE_MS,
    }),
    deadLetter(
      'created_at missing, no record timestamp',
      JSON.stringify(tweet({ created_at: undefined })),
      /^no usable timestamp: the record timestamp is missing and created_at is missing or not a string$/,
      0,
    ),
    asIs(
      'created_at garbled: placed by the record timestamp',
      tweet({ created_at: 'yesterday, around noon' }),
      {
        createdAtMs: BASE_MS,
      },
    ),
    deadLetter(
      'created_at garbled, no record timestamp',
      JSON.stringify(tweet({ created_at: 'yesterday, around noon' })),
      /^no usable timestamp: .* created_at is "yesterday, around noon", not an ISO 8601 time$/,
      0,
    ),
    asIs(
      'created_at a number beyond any date: the record timestamp in Parquet',
      tweet({ created_at: 1e300 }),
      {
        createdAtMs: BASE_MS,
      },
    ),
    asIs(
      'created_at far future: placed by the record timestamp',
      tweet({ created_at: '9999-12-31T23:59:59.999Z' }),
    ),
    asIs(
      'created_at far future, no record timestamp: its own far-future hour',
      tweet({ created_at: '9999-12-31T23:59:59.999Z' }),
      { timestampMs: 0, dir: 'dt=9999-12-31/hour=23/lang=en' },
    ),
    deadLetter(
      'created_at after year 9999, no record timestamp',
      JSON.stringify(tweet({ created_at: '+010000-01-01T00:00:00.000Z' })),
      /^no usable timestamp: .* created_at is "\+010000-01-01T00:00:00.000Z", outside 1970..9999$/,
      0,
    ),
    asIs(
      'created_at far past: placed by the record timestamp',
      tweet({ created_at: '0001-01-01T00:00:00.000Z' }),
    ),
    deadLetter(
      'created_at far past, no record timestamp',
      JSON.stringify(tweet({ created_at: '0001-01-01T00:00:00.000Z' })),
      /^no usable timestamp: .* created_at is "0001-01-01T00:00:00.000Z", outside 1970..9999$/,
      0,
    ),
    asIs('a record timestamp 1 ms after the epoch', tweet({ created_at: new Date(farPast).toISOString() }), {
      timestampMs: farPast,
      dir: 'dt=1970-01-01/hour=00/lang=en',
    }),
    asIs('a record timestamp in year 9999', tweet({ created_at: new Date(farFutureMs).toISOString() }), {
      timestampMs: farFutureMs,
      dir: 'dt=9999-12-31/hour=23/lang=en',
      unitOnly: 'Kafka refuses a CreateTime more than log.message.timestamp.after.max.ms (1 h) ahead',
    }),
    asIs('lang ../', tweet({ lang: '../' }), { dir: `${BASE_DIR}/lang=..%2F` }),
    asIs('lang ../../etc', tweet({ lang: '../../etc' }), { dir: `${BASE_DIR}/lang=..%2F..%2Fetc` }),
    asIs('lang /', tweet({ lang: '/' }), { dir: `${BASE_DIR}/lang=%2F` }),
    asIs('lang %', tweet({ lang: '50%' }), { dir: `${BASE_DIR}/lang=50%25` }),
    asIs('lang %2F', tweet({ lang: '%2F' }), { dir: `${BASE_DIR}/lang=%252F` }),
    asIs('lang newline', tweet({ lang: 'a\nb' }), { dir: `${BASE_DIR}/lang=a%0Ab` }),
    asIs('lang NUL', tweet({ lang: 'a\u0000b' }), { dir: `${BASE_DIR}/lang=a%00b` }),
    asIs('lang empty', tweet({ lang: '' }), { dir: `${BASE_DIR}/lang=__HIVE_DEFAULT_PARTITION__` }),
    asIs('lang +, space and =', tweet({ lang: 'a+b c=d' }), { dir: `${BASE_DIR}/lang=a+b c%3Dd` }),
    written('lang a lone surrogate', Buffer.from(surrogateLine), surrogateLine, surrogate, {
      dir: `${BASE_DIR}/lang=\ufffd`,
    }),
    asIs('an ordinary tweet after the corpus', tweet()),
  ];
}

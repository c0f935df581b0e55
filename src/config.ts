/**
 * Configuration: flags > environment > config file > defaults, validated once into a typed object.
 * Unknown keys are errors that name the key (like Vector's deny_unknown_fields); every error says where the
 * bad value came from (flag, env var or file) and what form is expected.
 */

import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { parseDurationMs, parseSizeBytes } from './compact/units.ts';
import { TweetpipeError } from './errors.ts';
import { DEFAULT_GZIP_LEVEL } from './sink/formats/jsonl.ts';

// Leaves accept the native type or its string form, so env vars and flags go through the same validation.
const int = (min: number, max = Number.MAX_SAFE_INTEGER) =>
  z.preprocess(
    (v) => (typeof v === 'string' && v.trim() !== '' && !Number.isNaN(Number(v)) ? Number(v) : v),
    z.number().int().min(min).max(max),
  );
const num = (min: number) =>
  z.preprocess(
    (v) => (typeof v === 'string' && v.trim() !== '' && !Number.isNaN(Number(v)) ? Number(v) : v),
    z.number().min(min),
  );
const bool = () =>
  z.preprocess(
    (v) => (v === 'true' || v === '1' ? true : v === 'false' || v === '0' ? false : v),
    z.boolean(),
  );
const list = <T extends z.ZodType>(item: T) =>
  z.preprocess(
    (v) =>
      typeof v === 'string'
        ? v
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean)
        : v,
    z.array(item),
  );
const url = () =>
  z.string().regex(/^https?:\/\/[^\s/]+/, 'expected an http(s) URL such as http://localhost:9870');
const hostPort = z.string().regex(/^[^\s:]+:\d{1,5}$/, 'expected host:port, for example localhost:9092');
const hdfsPath = z.string().regex(/^\/[^\s]*$/, 'expected an absolute HDFS path such as /twitter_data');
const port = () => int(0, 65535);

const ruleSchema = z.strictObject({
  value: z.string().min(1),
  tag: z.string().min(1),
});

export const SECURITY_PROTOCOLS = ['PLAINTEXT', 'SSL', 'SASL_PLAINTEXT', 'SASL_SSL'] as const;
export type SecurityProtocol = (typeof SECURITY_PROTOCOLS)[number];

const saslSchema = z.strictObject({
  mechanism: z.enum(['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512', 'OAUTHBEARER']),
  username: z.string().min(1).optional(),
  password: z.string().min(1).optional(),
  /** A file holding the password (its trailing newline ignored), read when a client connects. */
  passwordFile: z.string().min(1).optional(),
  /** OAUTHBEARER: an OAuth 2 client-credentials grant at the token endpoint, the token refreshed before expiry. */
  oauthbearer: z
    .strictObject({
      tokenEndpoint: url(),
      clientId: z.string().min(1),
      clientSecret: z.string().min(1).optional(),
      clientSecretFile: z.string().min(1).optional(),
      scope: z.string().min(1).optional(),
      /** SASL extensions some services require (Confluent Cloud: logicalCluster, identityPoolId). */
      extensions: z.record(z.string(), z.string()).optional(),
    })
    .optional(),
});

const tlsSchema = z.strictObject({
  /** PEM file of the CA(s) that signed the brokers' certificates; absent: the system's CAs. */
  ca: z.string().min(1).optional(),
  /** PEM files of the client certificate and its private key (mutual TLS). */
  cert: z.string().min(1).optional(),
  key: z.string().min(1).optional(),
  /** The name the brokers' certificates must carry (SNI and verification), when it is not the host dialled. */
  servername: z.string().min(1).optional(),
  /** Accept any broker certificate: for a test cluster only, logged as a warning by every command. */
  insecureSkipVerify: bool().default(false),
});

type KafkaSecurity = {
  securityProtocol?: SecurityProtocol | undefined;
  sasl?: z.infer<typeof saslSchema> | undefined;
  tls?: z.infer<typeof tlsSchema> | undefined;
};

/** The protocol in force: the one set, or the one the other settings imply. */
export function securityProtocolOf(kafka: KafkaSecurity): SecurityProtocol {
  if (kafka.securityProtocol) return kafka.securityProtocol;
  return `${kafka.sasl ? 'SASL_' : ''}${kafka.tls ? 'SSL' : 'PLAINTEXT'}` as SecurityProtocol;
}

/** Settings that contradict each other or lack a part, named by key, as Kafka's own clients would refuse them. */
function checkKafkaSecurity(kafka: KafkaSecurity, ctx: z.RefinementCtx): void {
  const issue = (path: string[], message: string) => ctx.addIssue({ code: 'custom', path, message });
  const protocol = securityProtocolOf(kafka);
  const { sasl, tls } = kafka;
  if (protocol.startsWith('SASL_') && !sasl)
    issue(
      ['securityProtocol'],
      `${protocol} needs kafka.sasl ({"mechanism":...,"username":...,"password":...})`,
    );
  if (!protocol.startsWith('SASL_') && sasl)
    issue(
      ['sasl'],
      `kafka.sasl is set but kafka.securityProtocol is ${protocol}: use SASL_SSL (or SASL_PLAINTEXT)`,
    );
  if (
    !protocol.endsWith('SSL') &&
    tls &&
    (tls.ca || tls.cert || tls.key || tls.servername || tls.insecureSkipVerify)
  )
    issue(['tls'], `kafka.tls is set but kafka.securityProtocol is ${protocol}: use SSL or SASL_SSL`);
  if (tls && Boolean(tls.cert) !== Boolean(tls.key))
    issue(
      ['tls', tls.cert ? 'key' : 'cert'],
      'kafka.tls.cert and kafka.tls.key go together (client certificate and its key, PEM)',
    );
  if (!sasl) return;
  if (sasl.mechanism === 'OAUTHBEARER') {
    if (!sasl.oauthbearer)
      issue(
        ['sasl', 'oauthbearer'],
        'OAUTHBEARER needs kafka.sasl.oauthbearer ({"tokenEndpoint":...,"clientId":...,"clientSecret":...})',
      );
    else if (Boolean(sasl.oauthbearer.clientSecret) === Boolean(sasl.oauthbearer.clientSecretFile))
      issue(['sasl', 'oauthbearer'], 'expected exactly one of clientSecret and clientSecretFile');
    if (sasl.username || sasl.password || sasl.passwordFile)
      issue(
        ['sasl'],
        'OAUTHBEARER takes no username or password (the token comes from kafka.sasl.oauthbearer)',
      );
    return;
  }
  if (!sasl.username) issue(['sasl', 'username'], `${sasl.mechanism} needs a username`);
  if (Boolean(sasl.password) === Boolean(sasl.passwordFile))
    issue(['sasl'], `${sasl.mechanism} needs exactly one of password and passwordFile`);
  if (sasl.oauthbearer)
    issue(['sasl', 'oauthbearer'], `only for the OAUTHBEARER mechanism, not ${sasl.mechanism}`);
}

// --- compact (issue 17) ---
const unitOk = (parse: (what: string, text: string) => number) => (text: string) => {
  try {
    return parse('', text) > 0;
  } catch {
    return false;
  }
};
const isDuration = unitOk(parseDurationMs);
const isSize = unitOk(parseSizeBytes);
const durationMessage = (key: string) => ({ message: `${key} must be a duration like 90s, 15m, 2h or 1d` });
const sizeMessage = (key: string) => ({ message: `${key} must be a size like 512KB, 256MB or 1GB` });
// --- end compact ---

export const configSchema = z.strictObject({
  kafka: z
    .strictObject({
      brokers: list(hostPort).pipe(z.array(z.string()).min(1)).default(['localhost:9092']),
      clientId: z.string().min(1).default('tweetpipe'),
      /** Kafka's security.protocol; absent: from the other settings (SASL_ when kafka.sasl is set, SSL when kafka.tls). */
      securityProtocol: z.enum(SECURITY_PROTOCOLS).optional(),
      /** Kafka's sasl.mechanism and its credentials; the password and the client secret are secrets. */
      sasl: saslSchema.optional(),
      /** TLS (files in PEM); `true` is TLS with the system's CAs, as `{}`. */
      tls: z.preprocess(
        (v) => (v === true || v === 'true' ? {} : v === false || v === 'false' ? undefined : v),
        tlsSchema.optional(),
      ),
    })
    .superRefine(checkKafkaSecurity)
    .prefault({}),
  topic: z
    .strictObject({
      name: z
        .string()
        .regex(/^[A-Za-z0-9._-]{1,249}$/, 'expected a Kafka topic name: letters, digits, . _ -')
        .default('twitter_data'),
      partitions: int(1, 10000).default(3),
      replication: int(1, 32).default(1),
      /** Partitions of the dead-letter topic `<name>.dlq` when tweetpipe creates it (its replication: `replication`). */
      dlqPartitions: int(1, 10000).default(1),
      /** -1 keeps records forever. */
      retentionMs: int(-1).default(7 * 24 * 3600 * 1000),
    })
    .prefault({}),
  hdfs: z
    .strictObject({
      /** One WebHDFS URL, or several for an HA pair (the active one is found and remembered). */
      webhdfs: list(url()).pipe(z.array(z.string()).min(1)).default(['http://localhost:9870']),
      user: z.string().min(1).default('tweetpipe'),
      dir: hdfsPath.default('/twitter_data'),
      /** The file system URI readers (Spark, Hive, Trino) put before hdfs.dir in table locations. */
      uri: z
        .string()
        .regex(
          /^[a-z][a-z0-9+.-]*:\/\/[^\s/]+\/?$/,
          'expected a file system URI such as hdfs://localhost:9000',
        )
        .default('hdfs://localhost:9000'),
      timeoutMs: int(100).default(60_000),
    })
    .prefault({}),
  stack: z
    .strictObject({
      /** Where the servers keep their data and logs. */
      home: z.string().min(1).default('.tweetpipe/stack'),
      /** Where the Maven-fetched jars are cached (shared across checkouts). */
      cacheDir: z.string().min(1).default('~/.cache/tweetpipe'),
      kafkaPort: port().default(9092),
      controllerPort: port().default(9093),
      /** `stack up --secure`: the SASL_SSL listener (SCRAM-SHA-256/512 and PLAIN users) and the mutual-TLS one. */
      kafkaSaslSslPort: port().default(9094),
      kafkaSslPort: port().default(9095),
      namenodeRpcPort: port().default(9000),
      webhdfsPort: port().default(9870),
      datanodeHttpPort: port().default(9864),
      datanodePort: port().default(9866),
      datanodeIpcPort: port().default(9867),
      kafkaHeapMb: int(128).default(1024),
      hdfsHeapMb: int(128).default(768),
      /** The Hive Metastore of `stack up --hive`. */
      metastorePort: port().default(9083),
      metastoreHeapMb: int(128).default(384),
      startTimeoutS: int(5).default(120),
    })
    .prefault({}),
  x: z
    .strictObject({
      apiUrl: url().default('https://api.x.com'),
      bearerToken: z.string().min(1).optional(),
      rules: z.array(ruleSchema).default([{ value: 'music lang:en -is:retweet', tag: 'music' }]),
      /**
       * Which of the stream's server rules tweetpipe manages: `owned` only those it created (ids in stateDir),
       * `exact` all of them (rules not declared are deleted), `add-only` it adds declared rules and deletes none.
       */
      rulesMode: z.enum(['owned', 'exact', 'add-only']).default('owned'),
      query: z.string().min(1).default('music lang:en -is:retweet'),
      /** X API era (`auto`: per endpoint, from the server's /2/openapi.json or its first 400). */
      apiEra: z.enum(['auto', '2.159', '2.167']).default('auto'),
      /** Post fields; absent: the era's defaults (src/sources/x-api/selection.ts). */
      tweetFields: list(z.string()).optional(),
      userFields: list(z.string()).default([
        'username',
        'name',
        'verified',
        'public_metrics',
        'created_at',
        'location',
      ]),
      /** Absent: the era's defaults, like tweetFields. */
      expansions: list(z.string()).optional(),
      mediaFields: list(z.string()).default(['type', 'url', 'width', 'height', 'duration_ms']),
      placeFields: list(z.string()).default(['full_name', 'country_code', 'place_type', 'geo']),
      /** Seconds between recent-search polls when the rate limit allows. */
      pollIntervalS: num(1).default(15),
      /** Silence on the stream (no tweet, no heartbeat) that means the connection is dead. */
      stallTimeoutS: num(1).default(30),
      /**
       * Outages up to this many minutes are refilled by the stream itself (`backfill_minutes`, 1-5, on X plans
       * that have it); 0 fills every gap with recent search.
       */
      backfillMinutes: int(0, 5).default(0),
    })
    .prefault({}),
  producer: z
    .strictObject({
      /** How many recent tweet ids are remembered to drop duplicates. */
      dedupWindow: int(0).default(1_000_000),
      compression: z.enum(['zstd', 'lz4', 'snappy', 'gzip', 'none']).default('zstd'),
      /**
       * zstd level of the record batches. Measured on 256 KB batches of synthetic tweets: level 1 compresses at
       * 1.4x the speed of level 3 (Kafka's default) for 2% larger batches (ratio 8.27 vs 8.46).
       */
      zstdLevel: int(1, 22).default(1),
      /** Records read from the source but not yet acked by Kafka, above which the source pauses. */
      maxInFlight: int(1).default(50_000),
      /** Where the source cursor (newest id acked by Kafka) is kept across restarts. */
      stateDir: z.string().min(1).default('.tweetpipe/state'),
    })
    .prefault({}),
  sink: z
    .strictObject({
      group: z.string().min(1).default('twitter_hdfs_group'),
      format: z.enum(['jsonl', 'jsonl.gz', 'parquet']).default('jsonl.gz'),
      /** Compression of Parquet pages; snappy for readers that predate zstd. */
      parquetCodec: z.enum(['zstd', 'snappy']).default('zstd'),
      /** gzip level of jsonl.gz (0-9); see DEFAULT_GZIP_LEVEL for the CPU each level costs. */
      gzipLevel: int(0, 9).default(DEFAULT_GZIP_LEVEL),
      maxRecords: int(1).default(500_000),
      maxBytes: int(1024).default(128 * 1024 * 1024),
      maxAgeS: num(0.1).default(60),
      timezone: z.string().min(1).default('UTC'),
      granularity: z.enum(['day', 'hour', 'minute']).default('hour'),
      /** Extra partition columns taken from the tweet, e.g. ["lang"]. */
      partitionFields: list(z.string().regex(/^[A-Za-z_][A-Za-z0-9_.]*$/)).default([]),
      /**
       * A sink that dies (kill -9) keeps its partitions until the group coordinator misses it for this long: the
       * restart waits about as long. Shorter reacts faster; too short evicts a sink stalled by GC or a slow HDFS call.
       */
      sessionTimeoutS: num(6).default(10),
      /** Bytes an open file gathers in memory (encoded) before they go out on its HDFS upload. */
      flushBytes: int(1024).default(8 * 1024 * 1024),
      /**
       * Sink threads in one process, each a consumer group member with its own partitions (a topic with fewer
       * partitions than workers leaves some idle). One thread is CPU-bound near 30-37k tweets/s; on a 2-core
       * machine that also runs Kafka and the DataNode, 2 threads measured no steadier gain and 1.7x the memory.
       */
      workers: int(1, 64).default(1),
      /** The table over the output (`tweetpipe table ddl`), and its partitions registered in a Hive Metastore. */
      hive: z
        .strictObject({
          /** Register each committed partition in the metastore (and create the table when missing). */
          enabled: bool().default(false),
          metastoreUri: z
            .string()
            .regex(
              /^thrift:\/\/[^\s:/]+:\d{1,5}$/,
              'expected thrift://host:port, for example thrift://localhost:9083',
            )
            .default('thrift://localhost:9083'),
          database: z
            .string()
            .regex(/^[a-z0-9_]+$/, 'expected a Hive database name: lower-case letters, digits, _')
            .default('default'),
          /** Default: the topic name with every character other than letters, digits and _ made _. */
          table: z
            .string()
            .regex(/^[a-z0-9_]+$/, 'expected a Hive table name: lower-case letters, digits, _')
            .optional(),
          /** Deadline of each metastore call. */
          timeoutMs: int(100).default(10_000),
        })
        .prefault({}),
    })
    .prefault({}),
  health: z
    .strictObject({
      /**
       * A stage whose errors keep coming with no progress for this long is stalled: /readyz turns not-ready with
       * the reason, tweetpipe_stalled{stage} is 1, and an error line names what is stuck. An outage shorter than
       * this is ridden out quietly (retries still log warnings). It also bounds how long `sink --exit-when-idle`
       * waits, idle, for partitions that still hold uncommitted records before it exits 1.
       */
      stallAfterS: num(1).default(120),
    })
    .prefault({}),
  // --- compact (issue 17): scheduled compaction inside `tweetpipe run` (docs/compaction.md) ---
  compact: z
    .strictObject({
      /** How often `tweetpipe run` compacts hdfs.dir, like `6h`; absent: never. */
      every: z.string().refine(isDuration, durationMessage('compact.every')).optional(),
      /** Only folders with no write for this long, as `tweetpipe compact --older-than`. */
      olderThan: z.string().refine(isDuration, durationMessage('compact.olderThan')).default('2h'),
      /** Size of the merged files, as `tweetpipe compact --target-size`. */
      targetSize: z.string().refine(isSize, sizeMessage('compact.targetSize')).default('256MB'),
    })
    .prefault({}),
  // --- end compact ---
  metrics: z
    .strictObject({
      host: z.string().min(1).default('127.0.0.1'),
      port: port().default(8787),
    })
    .prefault({}),
  log: z
    .strictObject({
      level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
      format: z.enum(['auto', 'json', 'pretty']).default('auto'),
    })
    .prefault({}),
});

export type Config = z.infer<typeof configSchema>;

/** Short env names that issues and the README promise; every leaf also has TWEETPIPE_<SECTION>_<KEY>. */
const ENV_ALIASES: Record<string, string> = {
  TWEETPIPE_BROKERS: 'kafka.brokers',
  TWEETPIPE_WEBHDFS: 'hdfs.webhdfs',
  TWEETPIPE_HDFS_USER: 'hdfs.user',
  TWEETPIPE_HDFS_DIR: 'hdfs.dir',
  TWEETPIPE_TOPIC: 'topic.name',
  TWEETPIPE_GROUP: 'sink.group',
  X_BEARER_TOKEN: 'x.bearerToken',
  X_API_BASE_URL: 'x.apiUrl',
  // Credentials one at a time, so a password can come from a secret store without the rest of kafka.sasl.
  TWEETPIPE_KAFKA_SASL_USERNAME: 'kafka.sasl.username',
  TWEETPIPE_KAFKA_SASL_PASSWORD: 'kafka.sasl.password',
  TWEETPIPE_KAFKA_SASL_PASSWORD_FILE: 'kafka.sasl.passwordFile',
};
/** TWEETPIPE_* variables that are not config keys. */
const ENV_NOT_CONFIG = new Set(['TWEETPIPE_CONFIG', 'TWEETPIPE_LOG_LEVEL', 'TWEETPIPE_LOG_FORMAT']);

/** Settings whose values are secrets: masked, by path, in every value tweetpipe prints (errors, `config`). */
const SECRET_PATHS = ['kafka.sasl.password', 'kafka.sasl.oauthbearer.clientSecret', 'x.bearerToken'];
const REDACTED = '[REDACTED]';

/**
 * `value`, found at `path`, with every secret in it masked. Where a secret belongs but the value is not an
 * object (an unparsed string, say), the whole value is masked: it may hold the secret in any form.
 */
function masked(path: string, value: unknown): unknown {
  if (value === undefined) return value;
  if (SECRET_PATHS.some((secret) => path === secret || path.startsWith(`${secret}.`))) return REDACTED;
  if (!SECRET_PATHS.some((secret) => path === '' || secret.startsWith(`${path}.`))) return value;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return REDACTED;
  return Object.fromEntries(
    Object.entries(value).map(([key, v]) => [key, masked(path === '' ? key : `${path}.${key}`, v)]),
  );
}

type ZodDef = { type: string; innerType?: ZodLike; in?: ZodLike; out?: ZodLike; element?: ZodLike };
type ZodLike = { def: ZodDef; shape?: Record<string, unknown> };

/** The schema under defaults, optionals and preprocessing: what a setting's value is. */
function baseSchema(schema: ZodLike): ZodLike {
  const { def } = schema;
  if (def.innerType) return baseSchema(def.innerType);
  if (def.type === 'pipe' && def.in && def.out)
    return baseSchema(def.out.def.type === 'transform' ? def.in : def.out);
  return schema;
}

function settingSchema(path: string): ZodLike | undefined {
  let schema: ZodLike | undefined = baseSchema(configSchema as unknown as ZodLike);
  for (const key of path.split('.')) {
    const next = schema?.shape?.[key] as ZodLike | undefined;
    schema = next && baseSchema(next);
  }
  return schema;
}

/** How an object or array setting is written in an environment variable, from the schema (for errors). */
function envForm(name: string, schema: ZodLike): string {
  const example = (object: ZodLike) =>
    `{${Object.keys(object.shape ?? {})
      .map((k) => `"${k}":...`)
      .join(',')}}`;
  if (schema.def.type === 'object') return `a JSON object, for example ${name}='${example(schema)}'`;
  const element = schema.def.element && baseSchema(schema.def.element);
  if (element?.def.type === 'object')
    return `a JSON array of objects, for example ${name}='[${example(element)}]'`;
  return `a comma-separated list (a,b) or a JSON array (["a","b"])`;
}

/**
 * An environment variable's value for the setting at `path`: objects and arrays are JSON (arrays of strings may
 * also be comma lists, which the schema splits); scalars stay strings for the schema to coerce.
 */
function envValue(name: string, path: string, text: string): unknown {
  const schema = settingSchema(path);
  const kind = schema?.def.type;
  if (!schema || (kind !== 'object' && kind !== 'array')) return text;
  const element = schema.def.element && baseSchema(schema.def.element);
  const commaList = kind === 'array' && element?.def.type !== 'object';
  if (commaList && !text.trimStart().startsWith('[')) return text;
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new TweetpipeError(
      'CONFIG_INVALID',
      `environment variable ${name} (config key "${path}"): not valid JSON (${jsonSyntaxError(err)}); expected ${envForm(name, schema)}`,
    );
  }
}

/** A JSON.parse error without the excerpt of the input V8 quotes in some of them: the input may hold secrets. */
function jsonSyntaxError(err: unknown): string {
  const message = (err as Error).message;
  return /^(Unexpected token '.+?'), .* is not valid JSON$/s.exec(message)?.[1] ?? message;
}

const screaming = (key: string) => key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();

/** Config path -> the environment variables that set it, in schema order (docs, `tweetpipe config --keys`). */
export function configEnvNames(): [string, string[]][] {
  const byPath = new Map<string, string[]>();
  for (const [env, path] of leafEnvNames()) byPath.set(path, [...(byPath.get(path) ?? []), env]);
  return [...byPath];
}

function leafEnvNames(): Map<string, string> {
  const names = new Map<string, string>();
  for (const [section, schema] of Object.entries(configSchema.shape)) {
    const inner = (schema as unknown as { def: { innerType: z.ZodObject } }).def.innerType;
    for (const key of Object.keys(inner.shape)) {
      names.set(`TWEETPIPE_${screaming(section)}_${screaming(key)}`, `${section}.${key}`);
    }
  }
  for (const [env, path] of Object.entries(ENV_ALIASES)) names.set(env, path);
  return names;
}

type Raw = Record<string, Record<string, unknown>>;

/** Sets a value by dotted path; a deeper path (kafka.sasl.password) goes into the object set above it. */
function setPath(target: Raw, path: string, value: unknown): void {
  const [section, ...rest] = path.split('.');
  if (!section || rest.length === 0) throw new Error(`bad config path ${path}`);
  target[section] ??= {};
  let parent: Record<string, unknown> = target[section];
  for (const key of rest.slice(0, -1)) {
    const child = parent[key];
    parent[key] = typeof child === 'object' && child !== null && !Array.isArray(child) ? { ...child } : {};
    parent = parent[key] as Record<string, unknown>;
  }
  parent[rest.at(-1) as string] = value;
}

export interface LoadOptions {
  /** Config file path (JSON); TWEETPIPE_CONFIG when absent. */
  file?: string | undefined;
  env?: NodeJS.ProcessEnv;
  /** Values from command-line flags, by dotted path (e.g. {"sink.format": "parquet"}). */
  flags?: Record<string, unknown>;
}

/** Builds the validated config; throws TweetpipeError CONFIG_INVALID naming the key, its origin and the form. */
export function loadConfig(opts: LoadOptions = {}): Config {
  const env = opts.env ?? process.env;
  const origin = new Map<string, string>();
  const raw: Raw = {};

  const file = opts.file ?? env.TWEETPIPE_CONFIG;
  if (file) {
    let parsed: unknown;
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new TweetpipeError(
        'CONFIG_INVALID',
        `cannot read config file ${file}: ${(err as Error).message}`,
      );
    }
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      throw new TweetpipeError(
        'CONFIG_INVALID',
        `config file ${file} is not valid JSON: ${jsonSyntaxError(err)}`,
      );
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
      throw new TweetpipeError('CONFIG_INVALID', `config file ${file}: expected a JSON object of sections`);
    for (const [section, values] of Object.entries(parsed)) {
      if (typeof values !== 'object' || values === null || Array.isArray(values)) {
        raw[section] = values as Record<string, unknown>;
        origin.set(section, `config file ${file}`);
        continue;
      }
      raw[section] ??= {};
      for (const [key, value] of Object.entries(values)) {
        setPath(raw, `${section}.${key}`, value);
        origin.set(`${section}.${key}`, `config file ${file}`);
      }
    }
  }

  const envNames = leafEnvNames();
  // Deeper paths last: TWEETPIPE_KAFKA_SASL_PASSWORD completes TWEETPIPE_KAFKA_SASL instead of being replaced by it.
  const depth = (name: string) => envNames.get(name)?.split('.').length ?? 0;
  const envEntries = Object.entries(env).sort(([a], [b]) => depth(a) - depth(b));
  for (const [name, value] of envEntries) {
    if (value === undefined || value === '') continue;
    const path = envNames.get(name);
    if (path) {
      setPath(raw, path, envValue(name, path, value));
      origin.set(path, `environment variable ${name}`);
    } else if (name.startsWith('TWEETPIPE_') && !ENV_NOT_CONFIG.has(name)) {
      throw new TweetpipeError(
        'CONFIG_INVALID',
        `unknown environment variable ${name}: not a tweetpipe setting (see docs/configuration.md for the list)`,
      );
    }
  }

  for (const [path, value] of Object.entries(opts.flags ?? {})) {
    if (value === undefined) continue;
    setPath(raw, path, value);
    origin.set(path, 'command-line flag');
  }

  const result = configSchema.safeParse(raw);
  if (!result.success) {
    const lines = result.error.issues.map((issue) => {
      const key = issue.path.join('.');
      const sectionKey = issue.path.slice(0, 2).join('.');
      const from = origin.get(sectionKey) ?? origin.get(String(issue.path[0])) ?? 'defaults';
      if (issue.code === 'unrecognized_keys') {
        const where = key ? `${key}.` : '';
        return `unknown config key ${issue.keys.map((k) => `"${where}${k}"`).join(', ')}`;
      }
      const value = valueAt(raw, issue.path);
      const got = value === undefined ? '' : ` (got ${JSON.stringify(masked(key, value))})`;
      return `config key "${key}" from ${from}: ${issue.message}${got}`;
    });
    throw new TweetpipeError('CONFIG_INVALID', lines.join('\n'));
  }
  return result.data;
}

function valueAt(raw: Raw, path: PropertyKey[]): unknown {
  const [section, key, ...rest] = path.map(String);
  let v: unknown = section === undefined ? raw : raw[section];
  if (key !== undefined) v = (v as Record<string, unknown> | undefined)?.[key];
  for (const p of rest) v = (v as Record<string, unknown> | undefined)?.[p];
  return v;
}

/** The config with secrets masked, for `tweetpipe config` and logs. */
export function redactedConfig(config: Config): unknown {
  return masked('', config);
}

/**
 * Settings from environment variables: every leaf is TWEETPIPE_<SECTION>_<KEY>, plus the short aliases the README
 * promises; object and array values are JSON (string arrays may be comma lists).
 */
import type { z } from 'zod';
import { TweetpipeError } from '../errors.ts';
import { configSchema } from './schema.ts';

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
export const ENV_NOT_CONFIG = new Set(['TWEETPIPE_CONFIG', 'TWEETPIPE_LOG_LEVEL', 'TWEETPIPE_LOG_FORMAT']);

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
export function envValue(name: string, path: string, text: string): unknown {
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
export function jsonSyntaxError(err: unknown): string {
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

/** Environment variable -> the config path it sets. */
export function leafEnvNames(): Map<string, string> {
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

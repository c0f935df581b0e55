/**
 * Configuration: flags > environment > config file > defaults, validated once into a typed object.
 * Unknown keys are errors that name the key (like Vector's deny_unknown_fields); every error says where the
 * bad value came from (flag, env var or file) and what form is expected.
 *
 * The entry point every module imports. Each component's settings and their defaults live in
 * src/config/<component>.ts (kafka, hdfs, stack, x, producer, sink, observe), put together in src/config/schema.ts.
 */
import { readFileSync } from 'node:fs';
import { ENV_NOT_CONFIG, envValue, jsonSyntaxError, leafEnvNames } from './config/env-vars.ts';
import { type Config, configSchema } from './config/schema.ts';
import { masked } from './config/secrets.ts';
import { TweetpipeError } from './errors.ts';

export { configEnvNames } from './config/env-vars.ts';
export { SECURITY_PROTOCOLS, type SecurityProtocol, securityProtocolOf } from './config/kafka.ts';
export { type Config, configSchema } from './config/schema.ts';
export { redactedConfig } from './config/secrets.ts';

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

/** Settings whose values are secrets, and the masking of them in every value tweetpipe prints (errors, `config`). */
import type { Config } from './schema.ts';

const SECRET_PATHS = [
  'kafka.sasl.password',
  'kafka.sasl.oauthbearer.clientSecret',
  'x.bearerToken',
  'hdfs.delegationToken',
];
const REDACTED = '[REDACTED]';

/**
 * `value`, found at `path`, with every secret in it masked. Where a secret belongs but the value is not an
 * object (an unparsed string, say), the whole value is masked: it may hold the secret in any form.
 */
export function masked(path: string, value: unknown): unknown {
  if (value === undefined) return value;
  if (SECRET_PATHS.some((secret) => path === secret || path.startsWith(`${secret}.`))) return REDACTED;
  if (!SECRET_PATHS.some((secret) => path === '' || secret.startsWith(`${path}.`))) return value;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return REDACTED;
  return Object.fromEntries(
    Object.entries(value).map(([key, v]) => [key, masked(path === '' ? key : `${path}.${key}`, v)]),
  );
}

/** The config with secrets masked, for `tweetpipe config` and logs. */
export function redactedConfig(config: Config): unknown {
  return masked('', config);
}

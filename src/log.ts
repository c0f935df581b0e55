/**
 * Structured logs: JSON lines by default, pretty on a terminal. Secrets are removed here, at the logger,
 * so no call site can leak them by accident.
 */
import { type Logger, pino } from 'pino';
import type { Config } from './config.ts';

export type { Logger };

const REDACT_PATHS = [
  'token',
  'bearerToken',
  'password',
  'authorization',
  'headers.authorization',
  '*.token',
  '*.bearerToken',
  '*.password',
  '*.authorization',
  'config.x.bearerToken',
  'config.kafka.sasl.password',
  'config.kafka.sasl.oauthbearer.clientSecret',
  '*.clientSecret',
];

const secrets = new Set<string>();

/** Registers a secret value so that it is masked wherever it appears in a log message. */
export function registerSecret(value: string | undefined): void {
  if (value && value.length >= 4) secrets.add(value);
}

/** Replaces every registered secret in a string; used by the logger and by error formatting. */
export function maskSecrets(text: string): string {
  let out = text;
  for (const s of secrets) out = out.split(s).join('[REDACTED]');
  return out;
}

export interface LogOptions {
  level?: string;
  /** 'json' | 'pretty' | 'auto' (pretty when stderr is a TTY). */
  format?: 'json' | 'pretty' | 'auto';
}

/** 'auto' is pretty on a terminal; resolved once where stderr is known (a worker thread's stderr is no TTY). */
export function resolveLogFormat(format: LogOptions['format'] = 'auto'): 'json' | 'pretty' {
  return format === 'pretty' || (format === 'auto' && process.stderr.isTTY === true) ? 'pretty' : 'json';
}

/** Registers the secrets of a loaded config, before anything can log them. */
export function registerConfigSecrets(config: Pick<Config, 'x' | 'kafka'>): void {
  registerSecret(config.x.bearerToken);
  registerSecret(config.kafka.sasl?.password);
  registerSecret(config.kafka.sasl?.oauthbearer?.clientSecret);
}

export function createLogger(opts: LogOptions = {}): Logger {
  const level = opts.level ?? process.env.TWEETPIPE_LOG_LEVEL ?? 'info';
  const pretty =
    resolveLogFormat(opts.format ?? (process.env.TWEETPIPE_LOG_FORMAT as LogOptions['format'])) === 'pretty';
  const options = {
    level,
    base: { pid: process.pid },
    redact: { paths: REDACT_PATHS, censor: '[REDACTED]' },
    hooks: {
      logMethod(args: unknown[], method: (...a: unknown[]) => void) {
        method.apply(
          this,
          args.map((a) => (typeof a === 'string' ? maskSecrets(a) : a)),
        );
      },
    },
    serializers: {
      err: (e: unknown) => serializeError(e),
    },
  };
  if (pretty) {
    return pino(
      options,
      pino.transport({ target: 'pino-pretty', options: { destination: 2, colorize: true } }),
    );
  }
  return pino(options, pino.destination({ dest: 2, sync: false }));
}

function serializeError(e: unknown): unknown {
  if (!(e instanceof Error)) return e;
  const out: Record<string, unknown> = { type: e.name, message: maskSecrets(e.message) };
  const code = (e as { code?: unknown }).code;
  if (code !== undefined) out.code = code;
  const retryable = (e as { retryable?: unknown }).retryable;
  if (retryable !== undefined) out.retryable = retryable;
  if (e.stack) out.stack = maskSecrets(e.stack);
  if (e.cause !== undefined) out.cause = serializeError(e.cause);
  return out;
}

/** A logger that drops everything; for tests and library use. */
export const silentLogger: Logger = pino({ level: 'silent' });

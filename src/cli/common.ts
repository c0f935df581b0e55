/** Pieces every command shares: common flags, config loading from flags, exit codes. */
import type { Command } from 'commander';
import { type Config, loadConfig } from '../config.ts';
import { type ErrorCode, TweetpipeError } from '../errors.ts';
import { insecureKafkaSettings } from '../kafka/client-options.ts';
import { createLogger, type Logger, registerConfigSecrets } from '../log.ts';

export const EXIT_OK = 0;
export const EXIT_RUNTIME = 1;
export const EXIT_USAGE = 2;

/** Flag name -> config path, for the flags that several commands share. */
const COMMON_FLAGS: Record<string, string> = {
  brokers: 'kafka.brokers',
  webhdfs: 'hdfs.webhdfs',
  hdfsUser: 'hdfs.user',
  hdfsDir: 'hdfs.dir',
  topic: 'topic.name',
  logLevel: 'log.level',
  logFormat: 'log.format',
  stackHome: 'stack.home',
  cacheDir: 'stack.cacheDir',
};

export function addConfigOption(cmd: Command): Command {
  return cmd
    .option('--config <file>', 'JSON config file (also TWEETPIPE_CONFIG)')
    .option('--log-level <level>', 'trace|debug|info|warn|error')
    .option('--log-format <format>', 'json|pretty|auto (auto: pretty on a terminal)');
}

export function addKafkaOptions(cmd: Command): Command {
  return cmd.option('--brokers <list>', 'Kafka bootstrap brokers, comma separated (TWEETPIPE_BROKERS)');
}

export function addHdfsOptions(cmd: Command): Command {
  return cmd
    .option('--webhdfs <urls>', 'WebHDFS URL(s), comma separated for an HA pair (TWEETPIPE_WEBHDFS)')
    .option('--hdfs-user <user>', 'HDFS user name (TWEETPIPE_HDFS_USER)');
}

export function addStackOptions(cmd: Command): Command {
  return cmd
    .option('--stack-home <dir>', 'where the local stack keeps data and logs (TWEETPIPE_STACK_HOME)')
    .option('--cache-dir <dir>', 'where Maven-fetched jars are cached (TWEETPIPE_STACK_CACHE_DIR)');
}

/**
 * Loads the config with the command's flags on top. `extra` maps a command's own flag names to config paths.
 * Registers secrets with the logger before anything can log them.
 */
export function configFromFlags(opts: Record<string, unknown>, extra: Record<string, string> = {}): Config {
  const flags: Record<string, unknown> = {};
  for (const [flag, path] of Object.entries({ ...COMMON_FLAGS, ...extra })) {
    if (opts[flag] !== undefined) flags[path] = opts[flag];
  }
  const config = loadConfig({ file: opts.config as string | undefined, flags });
  registerConfigSecrets(config);
  return config;
}

/** The command's logger; it first says, as a warning, which settings switch a protection off. */
export function loggerFor(config: Config): Logger {
  const log = createLogger({ level: config.log.level, format: config.log.format });
  for (const warning of insecureKafkaSettings(config)) log.warn(warning);
  return log;
}

/**
 * Errors that only a change of settings or permissions can fix (a bad flag or key, credentials the broker rejects,
 * a certificate it does not trust, an ACL it lacks): exit code 2, like a usage error, not 1 (a runtime failure).
 */
const FIX_THE_SETTINGS = new Set<ErrorCode>(['CONFIG_INVALID', 'USAGE', 'KAFKA_AUTH', 'KAFKA_DENIED']);

/** Exit code for an error that reached the top of a command. */
export function exitCodeFor(err: unknown): number {
  if (err instanceof TweetpipeError && FIX_THE_SETTINGS.has(err.code)) return EXIT_USAGE;
  return EXIT_RUNTIME;
}

/** An AbortSignal fired by the first SIGINT/SIGTERM; a second signal exits at once (committed data is safe). */
export function shutdownSignal(log: Logger): AbortSignal {
  const controller = new AbortController();
  const onSignal = (sig: NodeJS.Signals) => {
    if (controller.signal.aborted) {
      log.warn({ signal: sig }, 'second signal: exiting now');
      process.exit(130);
    }
    log.info({ signal: sig }, 'stopping: finishing in-flight work (send the signal again to exit at once)');
    controller.abort(new TweetpipeError('ABORTED', `stopped by ${sig}`));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return controller.signal;
}

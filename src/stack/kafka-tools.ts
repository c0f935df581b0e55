/**
 * Kafka's own command-line tools (console consumer, producer/consumer performance) run from the stack's jars.
 * Tests use the console consumer as an independent reader of what tweetpipe produced; benchmarks use the
 * performance tools as the ceiling to compare against.
 */
import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Config } from '../config.ts';
import { TweetpipeError } from '../errors.ts';
import { stackPaths } from './paths.ts';

/** Kafka's command-line tools log warnings only, to stderr, so their stdout stays data. */
const TOOLS_LOG4J2 = `rootLogger.level = WARN
rootLogger.appenderRef.stderr.ref = STDERR
appender.stderr.type = Console
appender.stderr.name = STDERR
appender.stderr.target = SYSTEM_ERR
appender.stderr.layout.type = PatternLayout
appender.stderr.layout.pattern = [%d] %p %m (%c)%n
`;

export async function runKafkaTool(
  config: Config,
  mainClass: string,
  args: string[],
  timeoutMs: number,
  /** Told the tool's pid once it runs (the bench measures its CPU). */
  onStart?: (pid: number) => void,
): Promise<{ stdout: string; stderr: string }> {
  const { kafkaLib, kafkaConf } = stackPaths(config);
  // Written here, not only by `stack up`: a tool must not print log lines into the data it outputs.
  await mkdir(kafkaConf, { recursive: true });
  await writeFile(join(kafkaConf, 'tools-log4j2.properties'), TOOLS_LOG4J2);
  return new Promise((resolve, reject) => {
    const child = execFile(
      'java',
      [
        '-Xmx512m',
        `-Dlog4j2.configurationFile=${kafkaConf}/tools-log4j2.properties`,
        '-cp',
        `${kafkaLib}/*`,
        mainClass,
        ...args,
      ],
      { timeout: timeoutMs, maxBuffer: 1024 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if (err && !stdout)
          return reject(
            new TweetpipeError('KAFKA', `${mainClass} failed: ${stderr.slice(-2000)}`, { cause: err }),
          );
        resolve({ stdout, stderr });
      },
    );
    if (child.pid !== undefined) onStart?.(child.pid);
  });
}

/** Every key of a topic, read from the beginning by Kafka's ConsoleConsumer (stops after `idleMs` of silence). */
export async function consoleConsumeKeys(
  config: Config,
  topic: string,
  opts: { idleMs?: number; timeoutMs?: number } = {},
): Promise<string[]> {
  const { stdout } = await runKafkaTool(
    config,
    'org.apache.kafka.tools.consumer.ConsoleConsumer',
    [
      '--bootstrap-server',
      config.kafka.brokers.join(','),
      '--topic',
      topic,
      '--from-beginning',
      '--timeout-ms',
      String(opts.idleMs ?? 5000),
      '--property',
      'print.key=true',
      '--property',
      'print.value=false',
    ],
    opts.timeoutMs ?? 300_000,
  );
  return stdout.split('\n').filter((l) => l.length > 0);
}

/** Checks the machine has what the stack needs, with install advice instead of a Java stack trace. */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { TweetpipeError } from '../errors.ts';

const run = promisify(execFile);

async function versionOf(cmd: string, args: string[]): Promise<string | null> {
  try {
    const { stdout, stderr } = await run(cmd, args, { timeout: 30_000 });
    return `${stdout}${stderr}`;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    const e = err as { stdout?: string; stderr?: string };
    return `${e.stdout ?? ''}${e.stderr ?? ''}`;
  }
}

export async function checkJava(): Promise<number> {
  const out = await versionOf('java', ['-version']);
  if (out === null)
    throw new TweetpipeError(
      'DEPENDENCY_MISSING',
      'java not found: Kafka and HDFS need a JDK 17 or newer on PATH (Debian/Ubuntu: apt-get install openjdk-17-jdk-headless)',
    );
  const m = /version "(\d+)(?:\.(\d+))?/.exec(out);
  const major = m ? Number(m[1] === '1' ? m[2] : m[1]) : 0;
  if (major < 17)
    throw new TweetpipeError(
      'DEPENDENCY_MISSING',
      `java ${major || '?'} found, but Hadoop 3.5 and Kafka 4 need Java 17 or newer (apt-get install openjdk-17-jdk-headless)`,
    );
  return major;
}

export async function checkMaven(): Promise<void> {
  const out = await versionOf('mvn', ['-v']);
  if (out === null)
    throw new TweetpipeError(
      'DEPENDENCY_MISSING',
      'mvn not found: the first `stack up` fetches the Kafka and Hadoop jars from Maven Central with Maven (Debian/Ubuntu: apt-get install maven)',
    );
}

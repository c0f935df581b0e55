/**
 * Fetches the server jars from Maven Central once, one lib directory per server (Kafka's and Hadoop's dependency
 * trees conflict, so they never share a classpath). A marker with the pom's hash makes later runs offline.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TweetpipeError } from '../errors.ts';
import { checkMaven } from './prereqs.ts';

export type ServerName = 'kafka' | 'hdfs' | 'hive' | 'httpfs';

/** A pom whose runtime dependencies are a server's jars; `name` says whose in messages. */
export interface ServerPom {
  name: string;
  path: string;
}

/** The pom of one of the stack's servers (src/stack/poms/<name>/pom.xml). */
export const serverPom = (name: ServerName): ServerPom => ({
  name,
  path: join(dirname(fileURLToPath(import.meta.url)), 'poms', name, 'pom.xml'),
});

/** Ensures `libDir` holds the jars of `server`'s pom; returns true when it had to download. */
export async function ensureJars(
  server: ServerPom,
  libDir: string,
  onProgress: (msg: string) => void,
): Promise<boolean> {
  const { name } = server;
  const pom = await readFile(server.path);
  const hash = createHash('sha256').update(pom).digest('hex');
  const marker = join(dirname(libDir), '.complete');
  if (existsSync(marker) && (await readFile(marker, 'utf8')).trim() === hash) return false;

  await checkMaven();
  onProgress(`fetching ${name} jars from Maven Central into ${libDir} (first run only)`);
  await rm(libDir, { recursive: true, force: true });
  await mkdir(libDir, { recursive: true });
  await new Promise<void>((resolve, reject) => {
    execFile(
      'mvn',
      [
        '-B',
        '-q',
        '-f',
        server.path,
        'dependency:copy-dependencies',
        `-DoutputDirectory=${libDir}`,
        '-DincludeScope=runtime',
      ],
      { timeout: 20 * 60_000, maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if (!err) return resolve();
        const tail = `${stdout}${stderr}`.trim().split('\n').slice(-15).join('\n');
        reject(
          new TweetpipeError('DEPENDENCY_MISSING', `Maven could not fetch the ${name} jars:\n${tail}`, {
            retryable: true,
            cause: err,
          }),
        );
      },
    );
  });
  await writeFile(marker, `${hash}\n`);
  return true;
}

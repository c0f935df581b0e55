/**
 * Stops and restarts the NameNode of the running local stack for chaos tests, with the stack's own process code
 * (the same spec `tweetpipe stack up` starts it with). Before stopping anything it checks that the NameNode can
 * be started again exactly as it runs now, because every later test needs HDFS: a test that stops the NameNode
 * must restart it in a `finally` and wait for `hdfsHealth`.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Config } from '../../src/config.ts';
import { hdfsHealth, namenodeSpec } from '../../src/stack/hdfs-server.ts';
import { stackPaths } from '../../src/stack/paths.ts';
import { isAlive, logTail, runningPid, type ServerSpec, startServer } from '../../src/stack/process.ts';
import { testConfig } from './topics.ts';

function spec(config: Config): ServerSpec {
  return namenodeSpec(config, stackPaths(config));
}

/**
 * Why the NameNode of the configured stack cannot be stopped and restarted safely, or null when it can: it must
 * run from this stack's pid file, serve the WebHDFS URL the tests use, and run from the jars the spec names.
 */
export async function namenodeRestartProblem(config: Config = testConfig()): Promise<string | null> {
  const s = spec(config);
  const pid = await runningPid(s);
  if (pid === null) return `no NameNode runs from ${s.pidFile} (start the stack with \`tweetpipe stack up\`)`;
  const served = `http://localhost:${config.stack.webhdfsPort}`;
  if (!config.hdfs.webhdfs.some((u) => u.replace(/\/+$/, '') === served))
    return `the tests use WebHDFS ${config.hdfs.webhdfs.join(', ')}, but the stack's NameNode serves ${served}`;
  const argv = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0');
  const classpath = argv[argv.indexOf('-cp') + 1];
  if (classpath !== s.classpath)
    return `the NameNode runs with classpath ${classpath}, but a restart would use ${s.classpath} (set TWEETPIPE_STACK_CACHE_DIR / TWEETPIPE_STACK_HOME as when the stack was started)`;
  if (!existsSync(stackPaths(config).hdfsLib)) return `no HDFS jars in ${stackPaths(config).hdfsLib}`;
  return null;
}

/** Stops the NameNode: SIGKILL (a crash) or SIGTERM (an orderly stop), and waits until the process is gone. */
export async function stopNamenode(
  signal: 'SIGKILL' | 'SIGTERM',
  config: Config = testConfig(),
): Promise<void> {
  const pid = await runningPid(spec(config));
  if (pid === null) return;
  process.kill(pid, signal);
  const deadline = Date.now() + 30_000;
  while (isAlive(pid)) {
    if (Date.now() > deadline) {
      process.kill(pid, 'SIGKILL');
      while (isAlive(pid)) await sleep(50);
      break;
    }
    await sleep(50);
  }
}

/**
 * Starts the NameNode unless it runs, then waits until HDFS is healthy again (WebHDFS answers, the DataNode has
 * re-registered, safe mode is off). A NameNode that dies while starting (its ports not yet released, say) is
 * started again, a few times.
 */
export async function startNamenode(timeoutMs = 120_000, config: Config = testConfig()): Promise<void> {
  const s = spec(config);
  const deadline = Date.now() + timeoutMs;
  let starts = 0;
  for (;;) {
    if ((await runningPid(s)) === null) {
      if (starts === 3)
        throw new Error(`the NameNode died at start ${starts} times; its log:\n${await logTail(s.logFile)}`);
      if (starts > 0) await sleep(1000);
      await startServer(s);
      starts++;
    }
    const health = await hdfsHealth(config);
    if (health.ok) return;
    if (Date.now() > deadline)
      throw new Error(
        `HDFS not healthy within ${timeoutMs} ms (${health.detail}); NameNode log:\n${await logTail(s.logFile)}`,
      );
    await sleep(250);
  }
}

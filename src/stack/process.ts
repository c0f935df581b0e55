/** Starting, finding and stopping the stack's Java servers, which outlive the CLI (detached, pid files). */
import { spawn } from 'node:child_process';
import { openSync, readdirSync, readFileSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { TweetpipeError } from '../errors.ts';

export interface ServerSpec {
  /** Short name: kafka, namenode, datanode. */
  name: string;
  mainClass: string;
  classpath: string;
  jvmArgs: string[];
  args: string[];
  logFile: string;
  pidFile: string;
}

/** The pid in the pid file when that process is alive and still runs our main class (pids get reused). */
export async function runningPid(spec: Pick<ServerSpec, 'pidFile' | 'mainClass'>): Promise<number | null> {
  let pid: number;
  try {
    pid = Number((await readFile(spec.pidFile, 'utf8')).trim());
  } catch {
    return null;
  }
  if (!Number.isInteger(pid) || pid <= 0) return null;
  if (!isAlive(pid)) return null;
  try {
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8');
    return cmdline.split('\0').includes(spec.mainClass) ? pid : null;
  } catch {
    return null;
  }
}

export async function startServer(spec: ServerSpec): Promise<number> {
  const out = openSync(spec.logFile, 'a');
  const child = spawn('java', [...spec.jvmArgs, '-cp', spec.classpath, spec.mainClass, ...spec.args], {
    detached: true,
    stdio: ['ignore', out, out],
  });
  const pid = child.pid;
  if (pid === undefined)
    throw new TweetpipeError('SERVER_DIED', `could not start ${spec.name} (java did not spawn)`);
  child.unref();
  await writeFile(spec.pidFile, `${pid}\n`);
  return pid;
}

/**
 * True while the process runs. A killed server whose parent has not reaped it yet (a zombie) counts as gone: it
 * holds no port and no file, and waiting for it to disappear could wait forever. A process is a zombie only when
 * every thread is: a JVM's first thread can exit while the others still serve (and hold the ports).
 */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return true;
  }
  return tasks.some((tid) => {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      return stat[stat.lastIndexOf(')') + 2] !== 'Z';
    } catch {
      return false;
    }
  });
}

/** SIGTERM, wait up to `graceMs`, then SIGKILL. Returns how it ended. */
export async function stopServer(
  spec: Pick<ServerSpec, 'pidFile' | 'mainClass'>,
  graceMs: number,
): Promise<'not-running' | 'stopped' | 'killed'> {
  const pid = await runningPid(spec);
  if (pid === null) {
    await rm(spec.pidFile, { force: true });
    return 'not-running';
  }
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) break;
    await sleep(100);
  }
  let result: 'stopped' | 'killed' = 'stopped';
  if (isAlive(pid)) {
    process.kill(pid, 'SIGKILL');
    result = 'killed';
    while (isAlive(pid)) await sleep(50);
  }
  await rm(spec.pidFile, { force: true });
  return result;
}

/** True when nothing listens on the port (checked on the loopback address the servers bind). */
export function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => server.close(() => resolve(true)));
  });
}

export async function assertPortsFree(owner: string, ports: Record<string, number>): Promise<void> {
  for (const [what, port] of Object.entries(ports)) {
    if (!(await portIsFree(port)))
      throw new TweetpipeError(
        'PORT_IN_USE',
        `port ${port} (${owner} ${what}) is already in use by another program: stop it, or choose another port (e.g. TWEETPIPE_STACK_${what.replace(/([a-z])([A-Z])/g, '$1_$2').toUpperCase()})`,
      );
  }
}

export async function logTail(logFile: string, lines = 30): Promise<string> {
  try {
    return (await readFile(logFile, 'utf8')).trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

export const pidFileFor = (runDir: string, name: string): string => join(runDir, `${name}.pid`);

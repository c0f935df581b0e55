/**
 * The real `tweetpipe` CLI as a child process (the same entry point users run), for the tests and the benchmarks
 * alike (neither imports the other's folder): stderr is kept whole and its JSON log lines are parsed as they
 * arrive, so a caller can wait for a log message, time a run by its logs, or kill -9 it at any instant.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = fileURLToPath(new URL('../bin/tweetpipe.js', import.meta.url));

/** One pino line (`--log-format json`). */
export interface LogLine {
  level: number;
  msg: string;
  [field: string]: unknown;
}

export interface CliExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface CliProcess {
  readonly child: ChildProcess;
  /** JSON log lines seen on stderr so far. */
  readonly logs: LogLine[];
  stdout(): string;
  stderr(): string;
  readonly exited: Promise<CliExit>;
  /** Resolves with the first log line (already seen or still to come) for which `match` is true. */
  waitForLog(match: (line: LogLine) => boolean, timeoutMs: number): Promise<LogLine>;
}

/** Environment for a child: ours, with `env` on top (an undefined value removes the variable). */
function childEnv(env: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = { ...process.env };
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined) delete out[k];
    else out[k] = v;
  }
  return out;
}

/** Starts `tweetpipe <args>` with `env` on top of ours. */
export function startCli(args: string[], env: Record<string, string | undefined> = {}): CliProcess {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: ROOT,
    env: childEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: LogLine[] = [];
  const waiters = new Set<{ match: (l: LogLine) => boolean; resolve: (l: LogLine) => void }>();
  let out = '';
  let err = '';
  let partial = '';
  child.stdout!.setEncoding('utf8').on('data', (s: string) => {
    out += s;
  });
  child.stderr!.setEncoding('utf8').on('data', (s: string) => {
    err += s;
    const lines = (partial + s).split('\n');
    partial = lines.pop() ?? '';
    for (const text of lines) {
      if (!text.startsWith('{')) continue;
      let line: LogLine;
      try {
        line = JSON.parse(text) as LogLine;
      } catch {
        continue;
      }
      logs.push(line);
      for (const w of waiters) if (w.match(line)) w.resolve(line);
    }
  });
  let closed = false;
  const exited = new Promise<CliExit>((resolve) =>
    child.on('close', (code, signal) => {
      closed = true;
      resolve({ code, signal });
    }),
  );

  const waitForLog = (match: (line: LogLine) => boolean, timeoutMs: number): Promise<LogLine> => {
    const seen = logs.find(match);
    if (seen) return Promise.resolve(seen);
    if (closed) return Promise.reject(new Error(`the process has exited; stderr tail:\n${err.slice(-3000)}`));
    return new Promise<LogLine>((resolve, reject) => {
      const waiter = {
        match,
        resolve: (l: LogLine) => {
          settle();
          resolve(l);
        },
      };
      const fail = (why: string) => {
        settle();
        reject(new Error(`${why}; stderr tail:\n${err.slice(-3000)}`));
      };
      const timer = setTimeout(() => fail(`no matching log line within ${timeoutMs} ms`), timeoutMs);
      const onExit = () => fail('the process exited before the log line appeared');
      const settle = () => {
        clearTimeout(timer);
        waiters.delete(waiter);
        child.off('close', onExit);
      };
      waiters.add(waiter);
      child.once('close', onExit);
    });
  };

  return { child, logs, stdout: () => out, stderr: () => err, exited, waitForLog };
}

/**
 * The CLI as integration and chaos tests run it (harness/cli-process.ts starts it), so they cover flag parsing,
 * exit codes, signals and logs, and can kill -9 the process at any instant: run to its end, or stopped.
 */
import { type CliExit, type CliProcess, type LogLine, startCli } from '../../harness/cli-process.ts';

export { type CliExit, type CliProcess, type LogLine, startCli };

/** Runs the CLI to its end; kills it (SIGKILL) and fails if it runs longer than `timeoutMs`. */
export async function runCli(
  args: string[],
  env: Record<string, string | undefined> = {},
  timeoutMs = 60_000,
): Promise<CliExit & { stdout: string; stderr: string; logs: LogLine[] }> {
  const run = startCli(args, env);
  const timer = setTimeout(() => run.child.kill('SIGKILL'), timeoutMs);
  const exit = await run.exited.finally(() => clearTimeout(timer));
  if (exit.signal === 'SIGKILL')
    throw new Error(
      `tweetpipe ${args.join(' ')} ran longer than ${timeoutMs} ms:\n${run.stderr().slice(-3000)}`,
    );
  return { ...exit, stdout: run.stdout(), stderr: run.stderr(), logs: run.logs };
}

/** Stops a running CLI with `signal` and waits for it to exit (SIGKILL after `graceMs`). */
export async function stopCli(run: CliProcess, signal: NodeJS.Signals, graceMs = 30_000): Promise<CliExit> {
  if (run.child.exitCode !== null || run.child.signalCode !== null) return run.exited;
  run.child.kill(signal);
  const timer = setTimeout(() => run.child.kill('SIGKILL'), graceMs);
  return run.exited.finally(() => clearTimeout(timer));
}

/** `tweetpipe x-emulator`: the local X API v2 emulator, for demos without a token and for manual testing. */
import type { Command } from 'commander';
import { TweetpipeError } from '../../errors.ts';
import { createLogger, registerSecret } from '../../log.ts';
import { API_ERAS, type ApiEra } from '../../sources/x-api/eras.ts';
import { parseScenarios, SCENARIOS } from '../../x-emulator/scenarios.ts';
import { startXEmulator } from '../../x-emulator/server.ts';
import { shutdownSignal } from '../common.ts';

function integer(flag: string, raw: string, min: number, max: number): number {
  const n = /^[0-9]+$/.test(raw) ? Number(raw) : Number.NaN;
  if (!(n >= min && n <= max))
    throw new TweetpipeError('USAGE', `--${flag} must be an integer in ${min}..${max}, got '${raw}'`);
  return n;
}

export function registerXEmulator(program: Command): void {
  program
    .command('x-emulator')
    .description('a local X API v2 emulator: stream rules, filtered stream, recent search, failure scenarios')
    .option('--port <n>', 'port to listen on (0 picks a free one)', '8080')
    .option('--host <host>', 'interface to listen on', '127.0.0.1')
    .option('--rate <n>', 'tweets generated per second (0: none)', '50')
    .option('--seed <n>', 'seed of the synthetic tweets', '1')
    .option('--scenario <list>', `comma-separated failure scenarios: ${SCENARIOS.join(', ')}`)
    .option('--heartbeat-ms <n>', 'milliseconds between stream heartbeats', '20000')
    .option('--token <token>', 'accept only this bearer token (default: any non-empty token)')
    .option(
      '--naming <era>',
      'API naming era: 2.159 (tweet.fields, includes.tweets) or 2.167 (post.fields, includes.posts)',
      '2.159',
    )
    .option('--log-level <level>', 'trace|debug|info|warn|error', 'info')
    .action(async (opts: Record<string, string | undefined>) => {
      const naming = opts.naming as ApiEra;
      if (!API_ERAS.includes(naming))
        throw new TweetpipeError('USAGE', `--naming must be one of ${API_ERAS.join(', ')}`);
      registerSecret(opts.token);
      const log = createLogger({ level: opts.logLevel ?? 'info' });
      const scenarios = parseScenarios(opts.scenario ?? '');
      const rate = integer('rate', opts.rate ?? '', 0, 1_000_000);
      const emulator = await startXEmulator({
        port: integer('port', opts.port ?? '', 0, 65_535),
        host: opts.host ?? '127.0.0.1',
        rate,
        seed: integer('seed', opts.seed ?? '', 0, 2 ** 32 - 1),
        heartbeatMs: integer('heartbeat-ms', opts.heartbeatMs ?? '', 1, 3_600_000),
        naming,
        scenarios,
        ...(opts.token === undefined ? {} : { token: opts.token }),
        log,
      });
      const say = (line: string) => process.stdout.write(`${line}\n`);
      say(`X API v2 emulator listening on ${emulator.url} (API ${naming}, ${rate} tweets/s)`);
      if (scenarios.length > 0) say(`  scenarios: ${scenarios.join(', ')}`);
      say(
        `  point tweetpipe at it: X_API_BASE_URL=${emulator.url} X_BEARER_TOKEN=${opts.token ? '<your token>' : 'any-token'}`,
      );
      const signal = shutdownSignal(log);
      await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
      await emulator.close();
      const s = emulator.stats();
      say(
        `x-emulator stopped: ${s.generated} tweets generated, ${s.delivered} delivered on ${s.connections} stream connections`,
      );
    });
}

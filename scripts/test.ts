/**
 * The one test command (`npm test`): typecheck, lint, then every test file (unit, integration, chaos) in one
 * node:test run against the local stack (with its secured listeners, `stack up --secure`) and its Hive Metastore,
 * which are started when not running and stopped afterwards if this script started them. Files run one at a time:
 * the chaos tests stop and restart servers that the others use, and the machine has two cores. Extra arguments are
 * passed to `node --test` (e.g. `npm test -- --test-name-pattern=sink`).
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, globSync } from 'node:fs';
import { loadConfig } from '../src/config.ts';
import { kerberosDown } from '../src/stack/kerberos-stack.ts';
import { metastoreDown, metastoreUp, stackDown, stackStatus, stackUp } from '../src/stack/stack.ts';

const say = (line: string) => process.stdout.write(`[test] ${line}\n`);
const run = (cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): number => {
  say(`$ ${cmd} ${args.join(' ')}`);
  return spawnSync(cmd, args, { stdio: 'inherit', env }).status ?? 1;
};
/**
 * For the test run itself: asynchronous, because this process is the parent of the stack servers it started, and
 * a blocked event loop would not reap a server a chaos test kills (it would linger as a zombie).
 */
const runAsync = (cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<number> => {
  say(`$ ${cmd} ${args.join(' ')}`);
  return new Promise((resolve) => {
    spawn(cmd, args, { stdio: 'inherit', env }).on('close', (code) => resolve(code ?? 1));
  });
};

const bin = (name: string) => `node_modules/.bin/${name}`;

// The dashboard test drives a real headless Chromium; Debian's package is the one that works here (browser
// downloads by test tools do not). Installed when missing and we are allowed to (root, as in CI).
const chromium = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
if (!existsSync(chromium)) {
  if (process.getuid?.() === 0) {
    say('installing Debian chromium for the dashboard browser test');
    run('apt-get', ['update', '-qq']);
    if (run('apt-get', ['install', '-y', '-qq', 'chromium']) !== 0) process.exit(1);
  } else {
    say(`no Chromium at ${chromium}: install it (sudo apt-get install chromium) or set CHROMIUM_PATH`);
  }
}
if (run(bin('tsc'), ['-p', 'tsconfig.json']) !== 0) process.exit(1);
if (run(bin('biome'), ['check', '.']) !== 0) process.exit(1);

// The tests talk to the stack through the same variables users set; the stack's own config comes from defaults
// and TWEETPIPE_STACK_* variables.
const stackEnv = Object.fromEntries(
  Object.entries(process.env).filter(
    ([k]) => !k.startsWith('TWEETPIPE_') || k.startsWith('TWEETPIPE_STACK_'),
  ),
);
const config = loadConfig({ env: stackEnv });
const before = await stackStatus(config);
const startedHere = !before.healthy;
// Always with the secured listeners (test/integration/kafka/security.test.ts): on a running stack this only sets the
// users and ACLs again, or says that its Kafka must be restarted with them. The CA and certificates are made once.
const up = await stackUp(config, say, { secure: true });
say(startedHere ? `stack healthy in ${up.seconds.toFixed(1)} s` : 'using the stack that is already running');
// The Hive Metastore of `stack up --hive`, for test/integration/hive/tables.test.ts; started beside a stack that was
// already running too, and stopped afterwards only if started here.
// A metastore that fails to start fails that test file (it names the metastore), not the whole run.
const metastoreStartedHere = await metastoreUp(config, say).catch((err: Error) => {
  say(`the Hive Metastore did not start: ${err.message}`);
  return false;
});

const files = globSync([
  'test/unit/**/*.test.ts',
  'test/integration/**/*.test.ts',
  'test/chaos/**/*.test.ts',
]).sort();
const env = {
  ...process.env,
  TWEETPIPE_BROKERS: `localhost:${config.stack.kafkaPort}`,
  TWEETPIPE_WEBHDFS: `http://localhost:${config.stack.webhdfsPort}`,
  TWEETPIPE_LOG_LEVEL: process.env.TWEETPIPE_LOG_LEVEL ?? 'warn',
};
let status = 1;
try {
  status = await runAsync(
    process.execPath,
    ['--test', '--test-reporter=spec', '--test-concurrency=1', ...process.argv.slice(2), ...files],
    env,
  );
} finally {
  // The Kerberized HDFS and broker (stack up --kerberos), started by test/integration/hdfs/kerberos*.test.ts.
  if (startedHere) await kerberosDown(config, say);
  if (startedHere) await stackDown(config, say);
  else if (metastoreStartedHere) await metastoreDown(config, say);
}
process.exit(status);

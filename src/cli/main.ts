/** The `tweetpipe` command line: one subcommand per module in ./commands. */
import { Command, CommanderError } from 'commander';
import { TweetpipeError } from '../errors.ts';
import { maskSecrets } from '../log.ts';
import { registerCompact } from './commands/compact.ts';
import { registerConfig } from './commands/config.ts';
import { registerProduce } from './commands/produce.ts';
import { registerRun } from './commands/run.ts';
import { registerSink } from './commands/sink.ts';
import { registerStack } from './commands/stack.ts';
import { registerTable } from './commands/table.ts';
import { registerXEmulator } from './commands/x-emulator.ts';
import { EXIT_USAGE, exitCodeFor } from './common.ts';

const program = new Command('tweetpipe')
  .description('Real-time X API v2 -> Kafka -> HDFS pipeline, exactly once')
  .version('0.1.0')
  .showHelpAfterError('(run with --help for usage)')
  .exitOverride();

registerStack(program);
registerProduce(program);
registerSink(program);
registerRun(program);
registerTable(program);
registerCompact(program);
registerConfig(program);
registerXEmulator(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    // --help and --version exit through here with code 0; usage errors are already printed by commander.
    process.exitCode = err.exitCode === 0 ? 0 : EXIT_USAGE;
  } else {
    const code = err instanceof TweetpipeError ? ` [${err.code}]` : '';
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`tweetpipe: error${code}: ${maskSecrets(message)}\n`);
    process.exitCode = exitCodeFor(err);
  }
}

/** `tweetpipe config`: the effective configuration (secrets masked) and where each key can be set. */
import type { Command } from 'commander';
import { configEnvNames, configSchema, redactedConfig } from '../../config.ts';
import { addConfigOption, configFromFlags } from '../common.ts';

export function registerConfig(program: Command): void {
  addConfigOption(program.command('config'))
    .description('print the effective configuration (flags > env > file > defaults; secrets masked)')
    .option('--keys', 'list every key with its environment variable and default instead')
    .action((opts) => {
      if (opts.keys) {
        const defaults = configSchema.parse({}) as Record<string, Record<string, unknown>>;
        for (const [path, envs] of configEnvNames()) {
          const [section, key] = path.split('.') as [string, string];
          const value = defaults[section]?.[key];
          process.stdout.write(
            `${path.padEnd(24)} ${envs.join(', ').padEnd(52)} ${value === undefined ? '(unset)' : JSON.stringify(value)}\n`,
          );
        }
        return;
      }
      process.stdout.write(`${JSON.stringify(redactedConfig(configFromFlags(opts)), null, 2)}\n`);
    });
}

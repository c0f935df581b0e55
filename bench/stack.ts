/**
 * The bench runs against the local stack, like `npm test`: it starts the stack when it is not running and stops it
 * afterwards only if it started it. The stack's own config comes from defaults and TWEETPIPE_STACK_* variables;
 * other TWEETPIPE_* variables are ignored so a user's topic or sink settings cannot change what is measured.
 */

import type { Config } from '../src/config.ts';
import { loadConfig } from '../src/config.ts';
import { stackDown, stackStatus, stackUp } from '../src/stack/stack.ts';

export interface BenchStack {
  /** Config whose brokers and WebHDFS URL are the local stack's. */
  config: Config;
  /** The same endpoints as environment variables for the tweetpipe children, other TWEETPIPE_* removed. */
  env: Record<string, string | undefined>;
  startedHere: boolean;
  /** Stops the stack if this run started it. */
  release(): Promise<void>;
}

export async function acquireStack(say: (line: string) => void): Promise<BenchStack> {
  const isUserSetting = (key: string) => key.startsWith('TWEETPIPE_') && !key.startsWith('TWEETPIPE_STACK_');
  const stackEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !isUserSetting(k)));
  const stackConfig = loadConfig({ env: stackEnv });
  const endpoints = {
    TWEETPIPE_BROKERS: `localhost:${stackConfig.stack.kafkaPort}`,
    TWEETPIPE_WEBHDFS: `http://localhost:${stackConfig.stack.webhdfsPort}`,
  };
  const startedHere = !(await stackStatus(stackConfig)).healthy;
  if (startedHere) {
    const up = await stackUp(stackConfig, say);
    say(`stack healthy in ${up.seconds.toFixed(1)} s`);
  } else {
    say('using the stack that is already running');
  }
  const removed = Object.fromEntries(
    Object.keys(process.env)
      .filter(isUserSetting)
      .map((k) => [k, undefined]),
  );
  return {
    config: loadConfig({ env: { ...stackEnv, ...endpoints } }),
    env: { ...removed, ...endpoints },
    startedHere,
    release: async () => {
      if (startedHere) await stackDown(stackConfig, say);
    },
  };
}

/** Builds the source named on the command line from the validated config. */
import type { Config } from '../config.ts';
import { TweetpipeError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { CursorStore } from './cursor-store.ts';
import { OwnedRulesStore } from './owned-rules.ts';
import { ReplaySource } from './replay.ts';
import type { Source } from './source.ts';
import { SyntheticSource } from './synthetic.ts';
import { XHttpClient } from './x-http.ts';
import { XSearchSource } from './x-search.ts';
import { XStreamSource } from './x-stream.ts';

export const SOURCE_KINDS = ['x-stream', 'x-search', 'replay', 'synthetic'] as const;
export type SourceKind = (typeof SOURCE_KINDS)[number];

export interface SourceArgs {
  kind: SourceKind;
  /** synthetic */
  rate?: number | undefined;
  seed?: number | undefined;
  maxTweets?: number | undefined;
  /** replay */
  files?: string[] | undefined;
  pace?: 'original' | 'max' | undefined;
}

export async function createSource(args: SourceArgs, config: Config, log: Logger): Promise<Source> {
  switch (args.kind) {
    case 'synthetic':
      return new SyntheticSource({ seed: args.seed ?? 1, rate: args.rate, maxTweets: args.maxTweets });
    case 'x-stream':
    case 'x-search': {
      if (!config.x.bearerToken)
        throw new TweetpipeError(
          'CONFIG_INVALID',
          `--source ${args.kind} needs an X API bearer token: set X_BEARER_TOKEN (or x.bearerToken in the config file)`,
        );
      const client = new XHttpClient({
        baseUrl: config.x.apiUrl,
        bearerToken: config.x.bearerToken,
        apiEra: config.x.apiEra,
        logger: log,
      });
      const cursorStore = await CursorStore.open(config.producer.stateDir);
      const fields = {
        tweetFields: config.x.tweetFields,
        userFields: config.x.userFields,
        expansions: config.x.expansions,
        mediaFields: config.x.mediaFields,
        placeFields: config.x.placeFields,
      };
      if (args.kind === 'x-stream')
        return new XStreamSource({
          client,
          fields,
          rules: config.x.rules,
          rulesOwnership:
            config.x.rulesMode === 'exact'
              ? { mode: 'exact' }
              : { mode: config.x.rulesMode, store: await OwnedRulesStore.open(config.producer.stateDir) },
          cursorStore,
          logger: log,
          stallTimeoutMs: config.x.stallTimeoutS * 1000,
          backfillMinutes: config.x.backfillMinutes,
        });
      return new XSearchSource({
        client,
        fields,
        query: config.x.query,
        cursorStore,
        logger: log,
        pollIntervalMs: config.x.pollIntervalS * 1000,
      });
    }
    case 'replay':
      if (!args.files || args.files.length === 0)
        throw new TweetpipeError(
          'USAGE',
          '--source replay needs --file <path...> (NDJSON of X API v2 payloads, .gz allowed)',
        );
      return new ReplaySource({
        files: args.files,
        pace: args.pace ?? 'max',
        logger: log,
      });
  }
}

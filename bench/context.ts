/**
 * What every benchmark shares: the config that points at the local stack, the environment the tweetpipe children
 * run with, a run id that makes topic, group and HDFS names unique, and where scratch files go.
 */
import type { Config } from '../src/config.ts';
import type { CpuMeter } from './cpu-usage.ts';

export interface BenchContext {
  config: Config;
  /** Environment overrides for tweetpipe children (undefined removes a variable). */
  env: Record<string, string | undefined>;
  runId: string;
  /** Local scratch directory of this run (payload file, producer state). */
  workDir: string;
  /** HDFS directory under which this run writes. */
  hdfsRoot: string;
  /** When set, tweetpipe children write a V8 CPU profile here. */
  cpuProfDir?: string | undefined;
  /** Samples the machine's and the processes' CPU for the whole run (null where /proc is not there). */
  cpu?: CpuMeter | undefined;
  say: (line: string) => void;
}

/** Decimal megabytes, as the tables print them. */
export const MB = 1e6;

/** Where the local stack keeps jars, configs, data, logs and pid files. */
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Config } from '../config.ts';

export interface StackPaths {
  home: string;
  cache: string;
  kafkaLib: string;
  hdfsLib: string;
  hiveLib: string;
  /** HttpFS runs on its own Hadoop client jars (see poms/httpfs/pom.xml). */
  httpfsLib: string;
  /** The metastore's conf, Derby database and schema scripts. */
  hiveHome: string;
  kafkaConf: string;
  hdfsConf: string;
  kafkaData: string;
  hdfsName: string;
  hdfsData: string;
  logs: string;
  run: string;
}

const expandHome = (p: string): string => (p === '~' || p.startsWith('~/') ? join(homedir(), p.slice(1)) : p);

export function stackPaths(config: Config): StackPaths {
  const home = resolve(expandHome(config.stack.home));
  const cache = resolve(expandHome(config.stack.cacheDir));
  return {
    home,
    cache,
    kafkaLib: join(cache, 'kafka', 'lib'),
    hdfsLib: join(cache, 'hdfs', 'lib'),
    hiveLib: join(cache, 'hive', 'lib'),
    httpfsLib: join(cache, 'httpfs', 'lib'),
    hiveHome: join(home, 'hive'),
    kafkaConf: join(home, 'kafka', 'conf'),
    hdfsConf: join(home, 'hdfs', 'conf'),
    kafkaData: join(home, 'kafka', 'data'),
    hdfsName: join(home, 'hdfs', 'name'),
    hdfsData: join(home, 'hdfs', 'data'),
    logs: join(home, 'logs'),
    run: join(home, 'run'),
  };
}

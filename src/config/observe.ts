/** Health, metrics endpoint and logging (`health.*`, `metrics.*`, `log.*`). */
import { z } from 'zod';
import { num, port } from './setting-types.ts';

export const healthSettings = z
  .strictObject({
    /**
     * A stage whose errors keep coming with no progress for this long is stalled: /readyz turns not-ready with
     * the reason, tweetpipe_stalled{stage} is 1, and an error line names what is stuck. An outage shorter than
     * this is ridden out quietly (retries still log warnings). It also bounds how long `sink --exit-when-idle`
     * waits, idle, for partitions that still hold uncommitted records before it exits 1.
     */
    stallAfterS: num(1).default(120),
  })
  .prefault({});

export const metricsSettings = z
  .strictObject({
    host: z.string().min(1).default('127.0.0.1'),
    port: port().default(8787),
  })
  .prefault({});

export const logSettings = z
  .strictObject({
    level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
    format: z.enum(['auto', 'json', 'pretty']).default('auto'),
  })
  .prefault({});

/**
 * The whole settings schema: one section a component, each defined with its defaults in src/config/<component>.ts.
 * A new section is one import and one line here.
 */
import { z } from 'zod';
import { compactSettings } from './compact.ts';
import { hdfsSettings } from './hdfs.ts';
import { kafkaSettings, topicSettings } from './kafka.ts';
import { healthSettings, logSettings, metricsSettings } from './observe.ts';
import { producerSettings } from './producer.ts';
import { sinkSettings } from './sink.ts';
import { stackSettings } from './stack.ts';
import { xSettings } from './x.ts';

export const configSchema = z.strictObject({
  kafka: kafkaSettings,
  topic: topicSettings,
  hdfs: hdfsSettings,
  stack: stackSettings,
  x: xSettings,
  producer: producerSettings,
  sink: sinkSettings,
  health: healthSettings,
  compact: compactSettings,
  metrics: metricsSettings,
  log: logSettings,
});

export type Config = z.infer<typeof configSchema>;

/** Connection options shared by every Kafka client tweetpipe creates (brokers, SASL, TLS, client id). */
import type { Config } from '../config.ts';
import { installZstdCodec } from './zstd-codec.ts';

export interface KafkaConnection {
  clientId: string;
  bootstrapBrokers: string[];
  sasl?: { mechanism: 'PLAIN' | 'SCRAM-SHA-256' | 'SCRAM-SHA-512'; username: string; password: string };
  tls?: Record<string, never>;
}

export function kafkaConnection(config: Config, role: string): KafkaConnection {
  installZstdCodec(config.producer.zstdLevel);
  const conn: KafkaConnection = {
    clientId: `${config.kafka.clientId}-${role}`,
    bootstrapBrokers: config.kafka.brokers,
  };
  if (config.kafka.sasl) conn.sasl = { ...config.kafka.sasl };
  if (config.kafka.tls) conn.tls = {};
  return conn;
}

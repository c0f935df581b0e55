/**
 * The Kerberized broker of `stack up --kerberos`: a Kafka of its own (not a listener on the plain stack's broker,
 * so adding Kerberos never restarts the broker other work uses), with a SASL_PLAINTEXT GSSAPI listener on
 * localhost:9096 for clients. Its inter-broker and controller listeners (9016, 9017) are plaintext on localhost.
 * The broker's principal is kafka/localhost@TWEETPIPE.LOCAL, so clients use sasl service name `kafka`.
 */
import { join } from 'node:path';
import type { Config } from '../config.ts';
import { kafkaSpec, prepareKafka } from './kafka-server.ts';
import { REALM } from './kdc.ts';
import type { StackPaths } from './paths.ts';
import type { ServerSpec } from './process.ts';

export const GSSAPI_PORT = 9096;
export const BROKER_PRINCIPAL = `kafka/localhost@${REALM}`;

/** The plain broker's settings moved to the Kerberized stack's home and ports. */
export function kerberosBrokerConfig(config: Config): Config {
  return { ...config, stack: { ...config.stack, kafkaPort: 9016, controllerPort: 9017 } };
}

export function kerberosBrokerSpec(config: Config, paths: StackPaths, krb5Conf: string): ServerSpec {
  const spec = kafkaSpec(kerberosBrokerConfig(config), paths);
  return { ...spec, jvmArgs: [...spec.jvmArgs, `-Djava.security.krb5.conf=${krb5Conf}`] };
}

export async function prepareKerberosBroker(
  config: Config,
  paths: StackPaths,
  keytab: string,
): Promise<void> {
  const jaas =
    'com.sun.security.auth.module.Krb5LoginModule required useKeyTab=true storeKey=true ' +
    `keyTab="${keytab}" principal="${BROKER_PRINCIPAL}";`;
  await prepareKafka(kerberosBrokerConfig(config), paths, {
    listeners: [`SASL_PLAINTEXT://localhost:${GSSAPI_PORT}`],
    protocolMap: ['SASL_PLAINTEXT:SASL_PLAINTEXT'],
    properties: [
      'sasl.enabled.mechanisms=GSSAPI',
      'sasl.kerberos.service.name=kafka',
      `listener.name.sasl_plaintext.gssapi.sasl.jaas.config=${jaas}`,
      '',
    ].join('\n'),
  });
}

export const brokerKeytab = (dir: string): string => join(dir, 'kafka.keytab');

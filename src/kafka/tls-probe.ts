/**
 * A TLS handshake of our own with the first broker, to learn why a secured connection failed. Under TLS 1.3 a broker
 * refuses a client certificate after the client's handshake is done, with an alert the Kafka client reports only as
 * "Connection closed" (the alert is dropped on the way); a plain TLS socket keeps it as its error code.
 */
import { connect } from 'node:tls';
import { TLS_PROBE_DEFAULTS } from '../config/kafka.ts';
import type { KafkaConnection } from './client-options.ts';

/** The error the handshake with the first broker ends with, or null when it succeeds (or the broker is away). */
export function tlsHandshakeError(conn: KafkaConnection, timeoutMs = 5000): Promise<Error | null> {
  const [host, port] = (conn.bootstrapBrokers[0] ?? '').split(':');
  if (!conn.tls || !host || !port) return Promise.resolve(null);
  return new Promise((resolve) => {
    const socket = connect({
      ...conn.tls,
      host,
      port: Number(port),
      servername: conn.tlsServerName ?? host,
    });
    const done = (result: Error | null) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    };
    const timer = setTimeout(() => done(null), timeoutMs);
    socket.on('error', (err: NodeJS.ErrnoException) =>
      done(err.code?.startsWith('ERR_SSL') || /CERT/.test(err.code ?? '') ? err : null),
    );
    socket.on('data', () => {});
    socket.once('secureConnect', () => {
      clearTimeout(timer);
      setTimeout(() => done(null), TLS_PROBE_DEFAULTS.alertWaitMs);
    });
  });
}

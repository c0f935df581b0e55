/**
 * Kafka SASL/GSSAPI (Kerberos) for @platformatic/kafka, which has no GSSAPI of its own but takes a custom SASL
 * authenticator. The exchange is RFC 4752's, as Kafka's Java client does it: GSS-API context tokens back and forth
 * through SaslAuthenticate until the context is complete, then the broker's wrapped security-layer offer is
 * unwrapped and answered (wrapped) with "no security layer" and our authorization id. GSS-API itself comes from
 * src/kerberos/gssapi.ts (the npm `kerberos` binding to the OS's libkrb5), loaded only when this mechanism is used.
 */
import type { SASLCustomAuthenticator } from '@platformatic/kafka';
import { type GssClient, gssClient, type KerberosCredentials, kerberosError } from '../kerberos/gssapi.ts';

export interface GssapiSettings {
  credentials: KerberosCredentials;
  /** The broker principal's first component: kafka for kafka/broker.example.com@REALM. */
  serviceName: string;
}

type Send = (bytes: Buffer) => Promise<Buffer>;

/** The GSSAPI exchange over `send` (one SaslAuthenticate round trip); returns the broker's last answer. */
export async function gssapiExchange(
  client: GssClient & { contextComplete?: boolean },
  send: Send,
  authzid: string,
) {
  let token: string | null = await client.step('');
  for (;;) {
    // A step that completes the context may have nothing to send (null): an empty message then.
    const answer = await send(Buffer.from(token ?? '', 'base64'));
    if (client.contextComplete) {
      // The broker's offer: 1 byte of security layers, 3 of max message size, wrapped. We take no layer.
      const offer = await client.unwrap(answer.toString('base64'));
      const reply = await client.wrap(offer, { user: authzid });
      return send(Buffer.from(reply ?? '', 'base64'));
    }
    token = await client.step(answer.toString('base64'));
  }
}

export function gssapiAuthenticator(settings: GssapiSettings): SASLCustomAuthenticator {
  return (_mechanism, connection, authenticate, _user, _password, _token, callback) => {
    const host = connection.host ?? 'localhost';
    const service = `${settings.serviceName}@${host}`;
    let last: Parameters<typeof callback>[1] | undefined;
    const send: Send = (bytes) =>
      new Promise((resolve, reject) => {
        authenticate(connection, bytes, (err, response) => {
          if (err) return reject(err);
          last = response;
          resolve(response?.authBytes ?? Buffer.alloc(0));
        });
      });
    (async () => {
      const client = await gssClient(settings.credentials, service, 'krb5', 'KAFKA_AUTH');
      try {
        await gssapiExchange(client, send, settings.credentials.principal ?? '');
      } catch (err) {
        // The broker's own refusals come back as they are; GSS-API failures name principal or keytab.
        if (err instanceof Error && err.name !== 'Error') throw err;
        throw kerberosError(settings.credentials, service, err, 'KAFKA_AUTH');
      }
      return last;
    })().then(
      (response) => callback(null, response as NonNullable<typeof response>),
      (err: Error) => callback(err, undefined as never),
    );
  };
}

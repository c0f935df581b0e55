/**
 * OAUTHBEARER tokens from an OAuth 2 client-credentials grant (RFC 6749 4.4), the way Kafka's own Java client gets
 * them (HttpAccessTokenRetriever): POST grant_type=client_credentials with HTTP Basic client authentication. The Kafka
 * client asks for a token at each connection and each re-authentication, which it starts at 80% of the session the
 * broker granted, a session that ends when the token expires. A token is therefore handed out only while at least
 * half of its lifetime remains, and replaced after that, before it expires: a re-authentication never receives a
 * token about to expire (one that did re-authenticated for its last second and then stalled the connection).
 */

import { OAUTH_TOKEN_DEFAULTS } from '../config/kafka.ts';
import { TweetpipeError } from '../errors.ts';
import { registerSecret } from '../log.ts';

export interface ClientCredentials {
  tokenEndpoint: string;
  clientId: string;
  clientSecret: string;
  scope?: string | undefined;
}

export class OAuthTokenSource {
  private token: { value: string; refreshAt: number } | undefined;
  private pending: Promise<string> | undefined;
  private readonly credentials: ClientCredentials;
  private readonly now: () => number;

  constructor(credentials: ClientCredentials, now: () => number = Date.now) {
    this.credentials = credentials;
    this.now = now;
  }

  /** A valid token: the cached one while it is fresh, else a new one (one request however many callers wait). */
  async get(): Promise<string> {
    if (this.token && this.now() < this.token.refreshAt) return this.token.value;
    this.pending ??= this.fetchToken().finally(() => {
      this.pending = undefined;
    });
    return this.pending;
  }

  private async fetchToken(): Promise<string> {
    const { tokenEndpoint, clientId, clientSecret, scope } = this.credentials;
    const body = new URLSearchParams({ grant_type: 'client_credentials' });
    if (scope) body.set('scope', scope);
    const basic = Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`).toString(
      'base64',
    );
    const startedAt = this.now();
    let response: Response;
    try {
      response = await fetch(tokenEndpoint, {
        method: 'POST',
        headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
        body,
        signal: AbortSignal.timeout(OAUTH_TOKEN_DEFAULTS.requestTimeoutMs),
      });
    } catch (err) {
      throw new TweetpipeError(
        'KAFKA',
        `OAUTHBEARER: no answer from the token endpoint ${tokenEndpoint} (kafka.sasl.oauthbearer.tokenEndpoint)`,
        { retryable: true, cause: err },
      );
    }
    const text = await response.text();
    if (!response.ok) {
      // 400/401: the client id, secret or scope is wrong, and will be on every retry.
      const final = response.status >= 400 && response.status < 500 && response.status !== 429;
      throw new TweetpipeError(
        final ? 'KAFKA_AUTH' : 'KAFKA',
        `OAUTHBEARER: the token endpoint ${tokenEndpoint} answered HTTP ${response.status}${oauthError(text)}; ` +
          'check kafka.sasl.oauthbearer (clientId, clientSecret or clientSecretFile, scope)',
        { retryable: !final },
      );
    }
    const parsed = parseTokenResponse(text);
    if (!parsed)
      throw new TweetpipeError(
        'KAFKA_AUTH',
        `OAUTHBEARER: the token endpoint ${tokenEndpoint} answered without an access_token (expected JSON {"access_token":...,"expires_in":...})`,
      );
    registerSecret(parsed.token);
    this.token = {
      value: parsed.token,
      refreshAt: startedAt + parsed.lifetimeS * 1000 * OAUTH_TOKEN_DEFAULTS.refreshAt,
    };
    return parsed.token;
  }
}

function parseTokenResponse(text: string): { token: string; lifetimeS: number } | null {
  try {
    const json = JSON.parse(text) as { access_token?: unknown; expires_in?: unknown };
    if (typeof json.access_token !== 'string' || json.access_token === '') return null;
    const expires = Number(json.expires_in);
    return { token: json.access_token, lifetimeS: expires > 0 ? expires : OAUTH_TOKEN_DEFAULTS.lifetimeS };
  } catch {
    return null;
  }
}

/** RFC 6749 5.2 error code and description, when the answer has them (they carry no secret). */
function oauthError(text: string): string {
  try {
    const json = JSON.parse(text) as { error?: unknown; error_description?: unknown };
    if (typeof json.error !== 'string') return '';
    return ` (${json.error}${typeof json.error_description === 'string' ? `: ${json.error_description}` : ''})`;
  } catch {
    return '';
  }
}

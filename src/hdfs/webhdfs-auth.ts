/**
 * How WebHDFS calls prove who we are (hdfs.auth):
 * - `simple`: `user.name=<hdfs.user>`, trusted as given (a cluster without Kerberos).
 * - `token`: `delegation=<token>`, a delegation token the user fetched (its URL-safe string form). It cannot be
 *   renewed by us (the NameNode renews tokens only for a Kerberos caller): when it expires, calls fail HDFS_AUTH.
 * - `kerberos`: SPNEGO (src/kerberos/gssapi.ts) to the NameNode once, for GETDELEGATIONTOKEN; every call then
 *   carries `delegation=`, and the NameNode puts it in the DataNode redirect too, so DataNodes need no Kerberos of
 *   ours. The token is renewed (RENEWDELEGATIONTOKEN, SPNEGO again) when three quarters of its life are gone, and
 *   a new one is fetched when a renewal no longer extends it past half its lifetime (the token's max lifetime is
 *   near), or when the NameNode refuses it (expired, cancelled, NameNode restarted without its secrets).
 *   A token is never cancelled by us: a DataNode URL already handed out may still carry it.
 * The token is a secret: it never goes into a log line or an error (maskToken for URLs).
 */
import { type Dispatcher, request } from 'undici';
import { TweetpipeError } from '../errors.ts';
import { type KerberosCredentials, negotiateHeader } from '../kerberos/gssapi.ts';
import { type Logger, silentLogger } from '../log.ts';
import { remoteError, transportError } from './webhdfs-errors.ts';

export interface WebHdfsAuth {
  /** Query parameters that authenticate one NameNode call to `baseUrl` (one of hdfs.webhdfs). */
  params(baseUrl: string): Promise<Record<string, string>>;
  /** The NameNode refused the credentials of an earlier `params`: true when new ones are worth one more try. */
  refused(err: TweetpipeError): Promise<boolean>;
}

export type HdfsAuthSettings =
  | { auth: 'simple'; user: string }
  | { auth: 'token'; token: string }
  | { auth: 'kerberos'; user: string; kerberos: KerberosCredentials };

/** `delegation=...` replaced by `delegation=***`, for URLs that may be logged. */
export const maskToken = (url: string): string => url.replace(/([?&]delegation=)[^&]*/g, '$1***');

export function simpleAuth(user: string): WebHdfsAuth {
  return { params: async () => ({ 'user.name': user }), refused: async () => false };
}

export function tokenAuth(token: string): WebHdfsAuth {
  return { params: async () => ({ delegation: token }), refused: async () => false };
}

interface Token {
  value: string;
  /** Server time (ms) the token expires unless renewed. */
  expires: number;
  /** Expiry minus the time of the last renewal: the renew interval, as long as the max lifetime is far. */
  interval: number;
}

export interface KerberosAuthOptions {
  credentials: KerberosCredentials;
  /** Short name of the principal allowed to renew the token: ours. */
  renewer: string;
  dispatcher: Dispatcher;
  timeoutMs: number;
  logger?: Logger;
  now?: () => number;
}

export class KerberosTokenAuth implements WebHdfsAuth {
  private token: Promise<Token> | undefined;
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly options: KerberosAuthOptions;

  constructor(options: KerberosAuthOptions) {
    this.options = options;
    this.log = options.logger ?? silentLogger;
    this.now = options.now ?? Date.now;
  }

  async params(baseUrl: string): Promise<Record<string, string>> {
    this.token ??= this.fetchToken(baseUrl);
    let token: Token;
    try {
      token = await this.token;
    } catch (err) {
      this.token = undefined;
      throw err;
    }
    const left = token.expires - this.now();
    if (left < token.interval / 4) this.token = this.renewOrReplace(baseUrl, token);
    return { delegation: (await this.token).value };
  }

  async refused(err: TweetpipeError): Promise<boolean> {
    this.log.warn(
      { code: err.code },
      'WebHDFS: the NameNode refused the delegation token; fetching a new one',
    );
    this.token = undefined;
    return true;
  }

  private async renewOrReplace(baseUrl: string, token: Token): Promise<Token> {
    try {
      const expires = await this.renew(baseUrl, token.value);
      // Renewals stop extending the token at its max lifetime: then a new one is due.
      if (expires - this.now() >= token.interval / 2) {
        this.log.info({ expires: new Date(expires).toISOString() }, 'WebHDFS: delegation token renewed');
        return { ...token, expires };
      }
    } catch (err) {
      if (!(err instanceof TweetpipeError && err.code === 'HDFS_AUTH')) {
        // The NameNode is unreachable: keep the token, the next call tries again.
        return token;
      }
    }
    this.log.info('WebHDFS: the delegation token cannot be renewed any longer; fetching a new one');
    return this.fetchToken(baseUrl);
  }

  private async fetchToken(baseUrl: string): Promise<Token> {
    const renewer = encodeURIComponent(this.options.renewer);
    const json = await this.negotiated(baseUrl, 'GET', `op=GETDELEGATIONTOKEN&renewer=${renewer}`);
    const value = (json as { Token?: { urlString?: unknown } } | null)?.Token?.urlString;
    if (typeof value !== 'string' || value === '')
      throw new TweetpipeError(
        'HDFS_REMOTE',
        'WebHDFS GETDELEGATIONTOKEN: expected Token.urlString in the answer',
      );
    const issued = this.now();
    // The answer has no expiry: a renewal right away tells it, and the renew interval with it.
    const expires = await this.renew(baseUrl, value);
    this.log.info({ expires: new Date(expires).toISOString() }, 'WebHDFS: got a delegation token (SPNEGO)');
    return { value, expires, interval: Math.max(expires - issued, 1000) };
  }

  private async renew(baseUrl: string, token: string): Promise<number> {
    const json = await this.negotiated(baseUrl, 'PUT', `op=RENEWDELEGATIONTOKEN&token=${token}`);
    const expires = (json as { long?: unknown } | null)?.long;
    if (typeof expires !== 'number')
      throw new TweetpipeError('HDFS_REMOTE', 'WebHDFS RENEWDELEGATIONTOKEN: expected "long" in the answer');
    return expires;
  }

  /** One NameNode request authenticated by SPNEGO (a fresh token: SPNEGO tokens cannot be replayed). */
  private async negotiated(baseUrl: string, method: 'GET' | 'PUT', query: string): Promise<unknown> {
    const op = /op=([A-Z]+)/.exec(query)?.[1] ?? 'SPNEGO';
    const url = new URL(`${baseUrl}/webhdfs/v1/?${query}`);
    const authorization = await negotiateHeader(this.options.credentials, url.hostname);
    let res: Dispatcher.ResponseData;
    try {
      res = await request(url, {
        method,
        headers: { authorization },
        dispatcher: this.options.dispatcher,
        headersTimeout: this.options.timeoutMs,
        bodyTimeout: this.options.timeoutMs,
      });
    } catch (err) {
      throw transportError(op, '/', err);
    }
    const text = await res.body.text().catch(() => '');
    if (res.statusCode >= 300) throw remoteError(op, '/', res.statusCode, text);
    try {
      return JSON.parse(text);
    } catch {
      throw new TweetpipeError('HDFS_REMOTE', `WebHDFS ${op}: expected a JSON answer`);
    }
  }
}

/** The WebHdfsAuth of these settings; `dispatcher` is the client's connection pool (its TLS trust included). */
export function webHdfsAuth(
  settings: HdfsAuthSettings,
  dispatcher: Dispatcher,
  timeoutMs: number,
  logger?: Logger,
): WebHdfsAuth {
  switch (settings.auth) {
    case 'simple':
      return simpleAuth(settings.user);
    case 'token':
      return tokenAuth(settings.token);
    case 'kerberos': {
      const principal = settings.kerberos.principal;
      // The renewer is a short name: the principal's first component (tweetpipe/host@REALM -> tweetpipe).
      const renewer = principal ? (principal.split(/[/@]/)[0] ?? settings.user) : settings.user;
      return new KerberosTokenAuth({
        credentials: settings.kerberos,
        renewer,
        dispatcher,
        timeoutMs,
        ...(logger ? { logger } : {}),
      });
    }
  }
}

/**
 * A small HTTP client for X API v2 endpoints (api.x.com or the local X API emulator): bearer auth, timeouts,
 * `x-rate-limit-*` headers, X's error shapes mapped to TweetpipeError, and the field-parameter name negotiation.
 *
 * Why not a library: `@xdevplatform/xdk` (0.6.x, generated from one OpenAPI snapshot) and `twitter-api-v2`
 * (1.29.x) both exist. tweetpipe needs exact control of X's documented reconnect/backoff rules and of heartbeat
 * stall detection on the stream (xdk's event stream leaves reconnect unimplemented and drops unparsable lines
 * silently), must speak both API eras at once (`tweet.fields` / `includes.tweets` of API 2.159 and
 * `post.fields` / `includes.posts` of 2.167, per endpoint, see x-api/era-negotiation.ts), and must reach a
 * configurable base URL over plain http for the emulator. The protocol surface used is four requests, so a thin
 * client over undici is less code than adapting either SDK.
 *
 * The bearer token is registered with the logger's secret masking and never put into an error message.
 */

import type { Readable } from 'node:stream';
import { request } from 'undici';
import { X_API_DEFAULTS } from '../config/x.ts';
import { TweetpipeError } from '../errors.ts';
import { type Logger, maskSecrets, registerSecret, silentLogger } from '../log.ts';
import { type ApiEraSetting, EraNegotiation } from './x-api/era-negotiation.ts';
import type { XEndpoint } from './x-api/eras.ts';
import { type FieldSelectionConfig, selectionQuery } from './x-api/selection.ts';

/** An X error object: an RFC 7807 problem (`type`, `title`, `detail`) or a v1-style `{message, parameters}`. */
export interface XApiProblem {
  type?: string;
  title?: string;
  detail?: string;
  message?: string;
  status?: number;
  [key: string]: unknown;
}

/** What the `x-rate-limit-*` headers said; absent fields were not sent. */
export interface RateLimit {
  limit?: number;
  remaining?: number;
  /** Epoch ms when the window resets (the header is in epoch seconds). */
  resetAtMs?: number;
}

/** Field selection, named like the `x` config section so it can be passed straight through. */
export type XFieldSelection = FieldSelectionConfig;

type QueryValue = string | number | boolean | readonly string[] | undefined;

export interface XRequestOptions {
  query?: Record<string, QueryValue>;
  /** The field selection, sent in the API era of `endpoint` (negotiated, see x-api/era-negotiation.ts). */
  selection?: { endpoint: XEndpoint; fields: XFieldSelection };
  signal?: AbortSignal;
  /** Time allowed until the response headers (and, for JSON requests, between body bytes). */
  timeoutMs?: number;
}

export interface XJsonResponse {
  status: number;
  body: unknown;
  rateLimit: RateLimit;
}

export interface XStreamResponse {
  status: number;
  /** The chunked response body; destroy it to close the connection. */
  body: Readable;
  rateLimit: RateLimit;
}

export interface XHttpClientOptions {
  /** For example https://api.x.com or http://127.0.0.1:8080 (the emulator). */
  baseUrl: string;
  bearerToken: string;
  /** Default 30 s. */
  timeoutMs?: number;
  /** `auto` (default): per endpoint, from the server's /2/openapi.json or its first 400; or a fixed era. */
  apiEra?: ApiEraSetting;
  logger?: Logger;
}

const SERVED_SPEC_PATH = '/2/openapi.json';

export class XHttpClient {
  readonly baseUrl: string;
  readonly #token: string;
  readonly #timeoutMs: number;
  readonly #logger: Logger;
  readonly #eras: EraNegotiation;

  constructor(opts: XHttpClientOptions) {
    if (!opts.bearerToken)
      throw new TweetpipeError(
        'X_AUTH',
        'no X bearer token: set X_BEARER_TOKEN (or x.bearerToken in the config file)',
      );
    registerSecret(opts.bearerToken);
    this.baseUrl = opts.baseUrl.replace(/\/+$/, '');
    this.#token = opts.bearerToken;
    this.#timeoutMs = opts.timeoutMs ?? X_API_DEFAULTS.requestTimeoutMs;
    this.#logger = opts.logger ?? silentLogger;
    this.#eras = new EraNegotiation(opts.apiEra ?? 'auto', () => this.#servedSpec(), this.#logger);
  }

  async get(path: string, opts: XRequestOptions = {}): Promise<XJsonResponse> {
    return this.#json('GET', path, opts, undefined);
  }

  async post(path: string, body: unknown, opts: XRequestOptions = {}): Promise<XJsonResponse> {
    return this.#json('POST', path, opts, JSON.stringify(body));
  }

  /** Opens a streaming GET; the body is not read and has no body timeout (the caller watches for stalls). */
  async stream(path: string, opts: XRequestOptions = {}): Promise<XStreamResponse> {
    const res = await this.#send('GET', path, opts, undefined, 0);
    return { status: res.statusCode, body: res.body, rateLimit: parseRateLimit(res.headers) };
  }

  async #json(
    method: string,
    path: string,
    opts: XRequestOptions,
    body: string | undefined,
  ): Promise<XJsonResponse> {
    const timeoutMs = opts.timeoutMs ?? this.#timeoutMs;
    const res = await this.#send(method, path, opts, body, timeoutMs);
    const rateLimit = parseRateLimit(res.headers);
    let text: string;
    try {
      text = await res.body.text();
    } catch (err) {
      throw this.#networkError(err, path, opts.signal);
    }
    try {
      return { status: res.statusCode, body: text === '' ? {} : JSON.parse(text), rateLimit };
    } catch {
      throw new TweetpipeError('X_HTTP', `X API ${path}: the response is not JSON: ${excerpt(text)}`, {
        retryable: true,
        details: { status: res.statusCode, path },
      });
    }
  }

  async #send(
    method: string,
    path: string,
    opts: XRequestOptions,
    body: string | undefined,
    bodyTimeout: number,
  ) {
    const selection = opts.selection;
    for (let retried = false; ; retried = true) {
      const selectionParams =
        selection &&
        selectionQuery(selection.fields, await this.#eras.eraFor(selection.endpoint), selection.endpoint);
      const url = this.#url(path, { ...opts.query, ...selectionParams });
      let res: Awaited<ReturnType<typeof request>>;
      try {
        res = await request(url, {
          method: method as 'GET' | 'POST',
          headers: {
            authorization: `Bearer ${this.#token}`,
            accept: 'application/json',
            'user-agent': 'tweetpipe',
            ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          },
          ...(body === undefined ? {} : { body }),
          ...(opts.signal ? { signal: opts.signal } : {}),
          headersTimeout: opts.timeoutMs ?? this.#timeoutMs,
          bodyTimeout,
        });
      } catch (err) {
        throw this.#networkError(err, path, opts.signal);
      }
      if (res.statusCode < 300) {
        if (selection) this.#eras.succeeded(selection.endpoint);
        return res;
      }
      const text = await res.body.text().catch(() => '');
      const parsed = parseJson(text);
      if (res.statusCode === 400 && selection && !retried) {
        if (this.#eras.rejected(selection.endpoint, problemsOf(parsed))) continue;
      }
      throw httpError(res.statusCode, path, parsed, text, parseRateLimit(res.headers));
    }
  }

  /** The OpenAPI document the server serves, or undefined (none, not JSON, unreachable). */
  async #servedSpec(): Promise<unknown> {
    try {
      const res = await request(`${this.baseUrl}${SERVED_SPEC_PATH}`, {
        headers: { accept: 'application/json', 'user-agent': 'tweetpipe' },
        headersTimeout: this.#timeoutMs,
        bodyTimeout: this.#timeoutMs,
      });
      const text = await res.body.text();
      return res.statusCode === 200 ? parseJson(text) : undefined;
    } catch (err) {
      this.#logger.debug({ err }, `no ${SERVED_SPEC_PATH} from ${this.baseUrl}`);
      return undefined;
    }
  }

  #url(path: string, query: XRequestOptions['query']): string {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(query ?? {})) {
      if (value === undefined) continue;
      if (typeof value === 'object') {
        if (value.length > 0) params.set(key, value.join(','));
      } else params.set(key, String(value));
    }
    const qs = params.toString();
    return `${this.baseUrl}${path}${qs ? `?${qs}` : ''}`;
  }

  #networkError(err: unknown, path: string, signal: AbortSignal | undefined): unknown {
    if (signal?.aborted) return signal.reason ?? err;
    const message = err instanceof Error ? err.message : String(err);
    return new TweetpipeError('NETWORK', maskSecrets(`cannot reach ${this.baseUrl}${path}: ${message}`), {
      retryable: true,
      cause: err,
      details: { path },
    });
  }
}

function parseRateLimit(headers: Record<string, string | string[] | undefined>): RateLimit {
  const num = (name: string): number | undefined => {
    const raw = headers[name];
    const value = Number(Array.isArray(raw) ? raw[0] : raw);
    return raw === undefined || !Number.isFinite(value) ? undefined : value;
  };
  const out: RateLimit = {};
  const limit = num('x-rate-limit-limit');
  const remaining = num('x-rate-limit-remaining');
  const reset = num('x-rate-limit-reset');
  if (limit !== undefined) out.limit = limit;
  if (remaining !== undefined) out.remaining = remaining;
  if (reset !== undefined) out.resetAtMs = reset * 1000;
  return out;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The error objects of an X error body: the top-level object when it is one (a Problem with `title` / `detail`, or
 * the spec's plain Error `{code, message}`), and each of `errors`.
 */
export function problemsOf(body: unknown): XApiProblem[] {
  if (!isObject(body)) return [];
  const out: XApiProblem[] = [];
  if (typeof body.title === 'string' || typeof body.detail === 'string' || typeof body.message === 'string')
    out.push(body as XApiProblem);
  if (Array.isArray(body.errors)) for (const e of body.errors) if (isObject(e)) out.push(e as XApiProblem);
  return out;
}

/** One line of what X said, for messages and logs. */
export function problemText(p: XApiProblem): string {
  const parts: string[] = [];
  if (p.title) parts.push(p.title);
  const said = p.detail ?? p.message;
  if (said && said !== p.title) parts.push(said);
  if (Array.isArray(p.details)) parts.push(p.details.map(String).join('; '));
  return parts.join(': ');
}

/** Stream-level messages (disconnects, connection limits): handled by the stream, not dead letters. */
export function isOperationalProblem(p: XApiProblem): boolean {
  return (
    'disconnect_type' in p ||
    'connection_issue' in p ||
    p.title === 'operational-disconnect' ||
    p.title === 'ConnectionException' ||
    (typeof p.type === 'string' && /\/problems\/(operational-disconnect|streaming-connection)$/.test(p.type))
  );
}

function excerpt(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > 300 ? `${flat.slice(0, 300)}...` : flat;
}

function httpError(
  status: number,
  path: string,
  body: unknown,
  text: string,
  rateLimit: RateLimit,
): TweetpipeError {
  const problems = problemsOf(body);
  const said = maskSecrets(
    problems.map(problemText).filter(Boolean).join(' | ') || excerpt(text) || `HTTP ${status}`,
  );
  const details: Record<string, unknown> = { status, path, problems };
  const first = problems[0] ?? {};
  switch (true) {
    case status === 401:
      return new TweetpipeError(
        'X_AUTH',
        `X API ${path}: the bearer token was rejected (X_BEARER_TOKEN); check that it is current and copied whole. X says: ${said}`,
        { details },
      );
    case status === 403:
      return forbiddenError(path, first, said, details);
    case status === 429: {
      const until =
        rateLimit.resetAtMs === undefined ? '' : ` until ${new Date(rateLimit.resetAtMs).toISOString()}`;
      const issue = typeof first.connection_issue === 'string' ? first.connection_issue : undefined;
      if (rateLimit.resetAtMs !== undefined) details.resetAtMs = rateLimit.resetAtMs;
      if (issue) details.connectionIssue = issue;
      return new TweetpipeError(
        'X_RATE_LIMITED',
        `X API ${path}: too many requests (429)${until}. X says: ${said}`,
        {
          retryable: true,
          details,
        },
      );
    }
    case status >= 500:
      return new TweetpipeError('X_HTTP', `X API ${path}: server error ${status}. X says: ${said}`, {
        retryable: true,
        details,
      });
    default:
      return new TweetpipeError('X_HTTP', `X API ${path}: HTTP ${status}. X says: ${said}`, { details });
  }
}

/** What to do about each `reason` of the spec's ClientForbiddenProblem. */
const FORBIDDEN_ADVICE: Record<string, string> = {
  'client-not-enrolled':
    'the app behind X_BEARER_TOKEN is not enrolled for this endpoint: in the X developer portal, attach the app to a Project whose access level includes it, then use a bearer token of that app',
  'official-client-forbidden':
    'X does not allow this client to call the endpoint: use the bearer token of your own developer app',
};

/**
 * A 403, as one error that says what to do: from the spec's ClientForbiddenProblem (`reason`, `registration_url`)
 * when X sent one, else from the access-level wording of X's other 403 bodies.
 */
function forbiddenError(
  path: string,
  first: XApiProblem,
  said: string,
  details: Record<string, unknown>,
): TweetpipeError {
  const reason = typeof first.reason === 'string' ? first.reason : undefined;
  const advice =
    (reason && FORBIDDEN_ADVICE[reason]) ??
    'the endpoint is not in the access level of the app behind X_BEARER_TOKEN: check its plan and permissions in the X developer portal';
  const register =
    typeof first.registration_url === 'string' ? `; register or upgrade at ${first.registration_url}` : '';
  return new TweetpipeError('X_AUTH', `X API refused ${path} (403): ${advice}${register}. X says: ${said}`, {
    details: reason ? { ...details, reason } : details,
  });
}

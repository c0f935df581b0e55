/**
 * A local X API v2 emulator on node:http, so tests and the no-token demo run tweetpipe's real client path: bearer
 * auth, stream rules, the filtered stream (NDJSON, heartbeats, one connection), recent search (since_id,
 * until_id, next_token, field selection), rate limits with `x-rate-limit-*` headers, both naming eras, and the
 * failure scenarios of ./scenarios.ts.
 *
 * It generates tweets in real time from its own clock (or on `publish(n)`), keeps every one of them in a bounded
 * history, and serves recent search from that history, so a client that misses stream lines can recover them.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { TweetpipeError } from '../errors.ts';
import { type Logger, silentLogger } from '../log.ts';
import { SyntheticTweets, snowflakeFromTime, timeFromSnowflake } from '../sources/synthetic-payloads.ts';
import { type ApiEra, openApiSpec, X_ENDPOINTS, type XEndpoint } from '../sources/x-api/eras.ts';
import { ComplianceJobs } from './compliance-jobs.ts';
import { renderAnswer } from './era-rendering.ts';
import { project, readParams, readSelection } from './fields.ts';
import { type HistoryEntry, TweetHistory } from './history.ts';
import { withPostVariants } from './post-variants.ts';
import {
  clientNotEnrolled,
  invalidRequest,
  type JsonAnswer,
  methodNotAllowed,
  notFound,
  tooManyConnections,
  tooManyRequests,
  unauthorized,
} from './problems.ts';
import { type RateLimitConfig, type RateLimitHeaders, RateWindow } from './rate-limit.ts';
import { encodeToken, readSearchQuery, streamBackfill } from './request-params.ts';
import { tweetFacts } from './rule-language.ts';
import { RuleStore, type RuleView } from './rules-store.ts';
import { DEFAULT_SCENARIO_SETTINGS, type ScenarioName, type ScenarioSettings } from './scenarios.ts';
import { StreamHub, type StreamStats } from './stream.ts';

type Endpoint = XEndpoint;

interface Reply {
  answer: JsonAnswer;
  headers: Record<string, string>;
}

export interface XEmulatorOptions {
  /** Default 0 (an ephemeral port). */
  port?: number;
  host?: string;
  /** Accept only this bearer token; by default any non-empty bearer token is accepted. */
  token?: string;
  seed?: number;
  /** Tweets generated per second of the emulator's clock; 0 generates only on publish(). Default 50. */
  rate?: number;
  /** Default 20 000, X's heartbeat interval. */
  heartbeatMs?: number;
  /**
   * The API era whose OpenAPI document the emulator follows: '2.159' (default; `tweet.fields`, `includes.tweets`)
   * or '2.167' (`post.fields` on recent search, 2.167's object and error schemas, `includes.posts`).
   */
  naming?: ApiEra;
  /** Serve the era's OpenAPI document at /2/openapi.json, as X does (default true). */
  openApi?: boolean;
  scenarios?: readonly ScenarioName[];
  scenarioSettings?: Partial<ScenarioSettings>;
  /** Stream rules present from the start. */
  rules?: readonly { value: string; tag?: string }[];
  /** Concurrent stream connections allowed (X allows 1 below Enterprise). */
  maxConnections?: number;
  /** Honour backfill_minutes and start_time on the stream (Enterprise); otherwise they are refused. */
  backfill?: boolean;
  maxRules?: number;
  /** Characters per rule (default 512). */
  maxRuleLength?: number;
  /** Characters per recent-search query (default 4096, the spec's maxLength). */
  maxQueryLength?: number;
  rateLimits?: Partial<Record<Endpoint, RateLimitConfig>>;
  /** Post ids that batch compliance jobs report as deleted (src/x-emulator/compliance-jobs.ts). */
  deletedPostIds?: Iterable<string>;
  /** How long a compliance job stays in_progress after its upload (default 1000 ms). */
  complianceProcessingMs?: number;
  /** Bounds of the tweet history that recent search serves. */
  history?: { maxTweets?: number; retentionMs?: number };
  authors?: number;
  /** The emulator's clock (default Date.now). */
  now?: () => number;
  log?: Logger;
}

export interface XEmulatorStats extends StreamStats {
  generated: number;
  activeConnections: number;
  searchRequests: number;
  /** 429 answers, from exhausted windows and from the rate-limit scenario. */
  rateLimited: number;
  /** 400 answers per endpoint. */
  badRequests: Record<Endpoint, number>;
}

export interface XEmulator {
  readonly url: string;
  readonly port: number;
  /** Generates `n` tweets now (history + stream delivery); returns their ids. */
  publish(n?: number): string[];
  /** Ids of the tweets in the history, oldest first; with `matching`, only those that matched a stream rule. */
  published(opts?: { matching?: boolean }): string[];
  rules(): RuleView[];
  stats(): XEmulatorStats;
  /** Cuts every open stream connection. */
  disconnectStreams(): void;
  close(): Promise<void>;
}

const FIFTEEN_MINUTES = 15 * 60_000;
/** Pro-level app limits per 15 minutes. */
const DEFAULT_RATE_LIMITS: Record<Endpoint, RateLimitConfig> = {
  stream: { limit: 50, windowMs: FIFTEEN_MINUTES },
  rulesLookup: { limit: 450, windowMs: FIFTEEN_MINUTES },
  rulesUpdate: { limit: 100, windowMs: FIFTEEN_MINUTES },
  search: { limit: 450, windowMs: FIFTEEN_MINUTES },
};

const ROUTES: Record<string, Partial<Record<string, Endpoint>>> = {};
for (const [endpoint, { method, path }] of Object.entries(X_ENDPOINTS)) {
  ROUTES[path] = { ...ROUTES[path], [method.toUpperCase()]: endpoint as Endpoint };
}
const OPENAPI_PATH = '/2/openapi.json';
const SEVEN_DAYS = 7 * 86_400_000;
const GENERATION_TICK_MS = 20;
const MAX_BODY_BYTES = 1 << 20;

export async function startXEmulator(opts: XEmulatorOptions = {}): Promise<XEmulator> {
  const now = opts.now ?? Date.now;
  const log = opts.log ?? silentLogger;
  const naming = opts.naming ?? '2.159';
  const scenarios = new Set(opts.scenarios ?? []);
  const settings: ScenarioSettings = { ...DEFAULT_SCENARIO_SETTINGS, ...opts.scenarioSettings };
  const rate = opts.rate ?? 50;
  const maxQueryLength = opts.maxQueryLength ?? 4096;
  const generator = new SyntheticTweets({
    seed: opts.seed ?? 1,
    startTimeMs: now(),
    ...(opts.authors === undefined ? {} : { authors: opts.authors }),
  });
  let ruleSeq = 0;
  const rules = new RuleStore({
    maxRules: opts.maxRules ?? 1000,
    maxRuleLength: opts.maxRuleLength ?? 512,
    newId: () => snowflakeFromTime(now(), ruleSeq++ % 4096, 1023),
    now,
  });
  rules.seed(opts.rules ?? []);
  const history = new TweetHistory({
    maxTweets: opts.history?.maxTweets ?? 100_000,
    retentionMs: opts.history?.retentionMs ?? SEVEN_DAYS,
    now,
  });
  const hub = new StreamHub({
    heartbeatMs: opts.heartbeatMs ?? 20_000,
    maxConnections: opts.maxConnections ?? 1,
    scenarios,
    settings,
    era: naming,
    now,
    log,
  });
  const limits = { ...DEFAULT_RATE_LIMITS, ...opts.rateLimits };
  const windows: Record<Endpoint, RateWindow> = {
    stream: new RateWindow(limits.stream, now),
    rulesLookup: new RateWindow(limits.rulesLookup, now),
    rulesUpdate: new RateWindow(limits.rulesUpdate, now),
    search: new RateWindow(limits.search, now),
  };
  const compliance = new ComplianceJobs({
    era: naming,
    now,
    baseUrl: () => url,
    deletedPostIds: new Set(opts.deletedPostIds ?? []),
    ...(opts.complianceProcessingMs === undefined ? {} : { processingMs: opts.complianceProcessingMs }),
  });
  const counters = { generated: 0, searchRequests: 0, rateLimited: 0 };
  const badRequests: Record<Endpoint, number> = { stream: 0, rulesLookup: 0, rulesUpdate: 0, search: 0 };
  /** Stream connects and searches seen by the rate-limit scenario. */
  let scenarioRequests = 0;

  const generate = (n: number): string[] => {
    const ids: string[] = [];
    const at = now();
    for (let i = 0; i < n; i++) {
      const payload = withPostVariants(generator.nextTweet(at), counters.generated + 1);
      const facts = tweetFacts(payload);
      const entry: HistoryEntry = {
        id: payload.data.id,
        createdAtMs: timeFromSnowflake(payload.data.id),
        payload,
        facts,
        matchingRules: rules.matching(facts),
      };
      history.add(entry);
      counters.generated++;
      ids.push(entry.id);
      if (entry.matchingRules.length > 0) hub.deliver(entry);
    }
    return ids;
  };

  let carry = 0;
  let lastTick = now();
  const ticker =
    rate > 0
      ? setInterval(() => {
          const t = now();
          // Bounded catch-up: after an event-loop stall, at most one second's worth of tweets at once.
          carry = Math.min(carry + ((t - lastTick) * rate) / 1000, Math.max(rate, 1));
          lastTick = t;
          const n = Math.floor(carry);
          carry -= n;
          if (n > 0) generate(n);
        }, GENERATION_TICK_MS)
      : undefined;

  // ---- endpoints ----

  const authorized = (req: IncomingMessage): boolean => {
    const match = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '');
    return match !== null && (opts.token === undefined || match[1] === opts.token);
  };

  /** Opens the stream, or says why not. */
  const stream = (url: URL, res: ServerResponse, headers: RateLimitHeaders): JsonAnswer | undefined => {
    const params = readParams(url, naming, 'stream');
    if (!(params instanceof Map)) return params;
    const selection = readSelection(params, naming, 'stream');
    if (!('tweet' in selection)) return selection;
    const backfill = streamBackfill(params, opts.backfill === true, now());
    if (typeof backfill === 'object') return backfill;
    if (hub.isFull()) {
      hub.stats.rejectedConnections++;
      return tooManyConnections();
    }
    const backlog: HistoryEntry[] = [];
    if (backfill !== undefined) {
      for (const e of history.since(backfill)) {
        const matchingRules = rules.matching(e.facts);
        if (matchingRules.length > 0) backlog.push({ ...e, matchingRules });
      }
    }
    hub.open(res, selection, headers, backlog);
    return undefined;
  };

  const search = (url: URL): JsonAnswer => {
    counters.searchRequests++;
    const params = readParams(url, naming, 'search');
    if (!(params instanceof Map)) return params;
    const selection = readSelection(params, naming, 'search');
    if (!('tweet' in selection)) return selection;
    const query = readSearchQuery(params, maxQueryLength, now());
    if ('status' in query) return query;
    const { entries, more } = history.search(query);
    const first = entries[0];
    const last = entries[entries.length - 1];
    if (!first || !last) return { status: 200, body: { meta: { result_count: 0 } } };
    const { data, includes } = project(
      entries.map((e) => e.payload),
      selection,
    );
    const meta: Record<string, unknown> = {
      newest_id: first.id,
      oldest_id: last.id,
      result_count: entries.length,
    };
    if (more) meta.next_token = encodeToken(last.id);
    return { status: 200, body: includes ? { data, includes, meta } : { data, meta } };
  };

  /** Auth, scenario and rate-limit gates, then the endpoint; undefined when a stream took over the response. */
  const route = async (req: IncomingMessage, res: ServerResponse): Promise<Reply | undefined> => {
    const url = new URL(req.url ?? '/', 'http://x-emulator');
    if (ComplianceJobs.isTransfer(url.pathname))
      return void (await compliance.transfer(req, res, url.pathname));
    if (ComplianceJobs.isApi(url.pathname)) {
      const headers = { 'api-version': naming };
      if (!authorized(req)) return { answer: unauthorized(), headers };
      const answer = await compliance.api(req, url, async () => {
        const body = await readJsonBody(req);
        return body.ok ? body.value : undefined;
      });
      return { answer, headers };
    }
    if (url.pathname === OPENAPI_PATH && req.method === 'GET' && opts.openApi !== false)
      return { answer: { status: 200, body: openApiSpec(naming) }, headers: { 'api-version': naming } };
    const methods = ROUTES[url.pathname];
    const endpoint = methods?.[req.method ?? 'GET'];
    const headers = { 'api-version': naming };
    if (!endpoint) return { answer: methods ? methodNotAllowed() : notFound(), headers };
    if (!authorized(req)) return { answer: unauthorized(), headers };
    if (scenarios.has('client-not-enrolled')) return { answer: clientNotEnrolled(), headers };
    const window = windows[endpoint];
    if (
      scenarios.has('rate-limit') &&
      (endpoint === 'stream' || endpoint === 'search') &&
      ++scenarioRequests % settings.rateLimitEvery === 0
    ) {
      counters.rateLimited++;
      return { answer: tooManyRequests(), headers: { ...headers, ...window.exhausted() } };
    }
    const budget = window.take();
    const limited = { ...headers, ...budget.headers };
    if (!budget.allowed) {
      counters.rateLimited++;
      return { answer: tooManyRequests(), headers: limited };
    }
    switch (endpoint) {
      case 'stream': {
        const refused = stream(url, res, limited);
        return refused && { answer: refused, headers: limited };
      }
      case 'search':
        return { answer: search(url), headers: limited };
      case 'rulesLookup': {
        const params = readParams(url, naming, 'rulesLookup');
        return { answer: params instanceof Map ? rules.lookup(params) : params, headers: limited };
      }
      case 'rulesUpdate': {
        const params = readParams(url, naming, 'rulesUpdate');
        if (!(params instanceof Map)) return { answer: params, headers: limited };
        const body = await readJsonBody(req);
        return { answer: body.ok ? rules.update(body.value, params) : body.error, headers: limited };
      }
    }
  };

  const server = createServer((req, res) => {
    route(req, res)
      .then((reply) => {
        if (!reply) return;
        const endpoint = ROUTES[new URL(req.url ?? '/', 'http://x-emulator').pathname]?.[req.method ?? 'GET'];
        if (reply.answer.status === 400 && endpoint) badRequests[endpoint]++;
        send(res, renderAnswer(reply.answer, naming), reply.headers);
      })
      .catch((err: unknown) => {
        log.error({ err }, 'x-emulator: request failed');
        if (!res.headersSent)
          send(res, { status: 500, body: { title: 'Internal Server Error', type: 'about:blank' } }, {});
        else res.destroy();
      });
  });
  const port = await listen(server, opts.port ?? 0, opts.host ?? '127.0.0.1');
  const url = `http://${opts.host ?? '127.0.0.1'}:${port}`;
  log.info({ url, naming, scenarios: [...scenarios], rate }, 'x-emulator: listening');

  return {
    url,
    port,
    publish: (n = 1) => generate(n),
    published: (o = {}) => history.ids(o.matching ? (e) => e.matchingRules.length > 0 : undefined),
    rules: () => rules.list(),
    stats: () => ({
      ...hub.stats,
      ...counters,
      badRequests: { ...badRequests },
      activeConnections: hub.active,
    }),
    disconnectStreams: () => hub.closeAll(),
    close: async () => {
      if (ticker) clearInterval(ticker);
      hub.closeAll();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function send(res: ServerResponse, answer: JsonAnswer, headers: Record<string, string>): void {
  const body = JSON.stringify(answer.body);
  // The spec's error responses: a Problem as application/problem+json, the plain Error as application/json.
  const problem = answer.status >= 400 && typeof answer.body.type === 'string';
  res.writeHead(answer.status, {
    ...headers,
    'content-type': `application/${problem ? 'problem+json' : 'json'}; charset=utf-8`,
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
}

function listen(server: ReturnType<typeof createServer>, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      reject(
        err.code === 'EADDRINUSE'
          ? new TweetpipeError('PORT_IN_USE', `x-emulator: port ${port} on ${host} is in use`, { cause: err })
          : err,
      );
    });
    server.listen(port, host, () => resolve((server.address() as AddressInfo).port));
  });
}

async function readJsonBody(
  req: IncomingMessage,
): Promise<{ ok: true; value: unknown } | { ok: false; error: JsonAnswer }> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES)
      return { ok: false, error: invalidRequest([{ message: 'The request body is too large' }]) };
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return { ok: true, value: undefined };
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false, error: invalidRequest([{ message: 'The request body is not valid JSON' }]) };
  }
}

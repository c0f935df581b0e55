/**
 * The endpoint-specific query parameters of the X API emulator, checked with X's limits and messages: recent
 * search (query, max_results 10..100, since_id / until_id, start_time / end_time, next_token) and the stream's
 * recovery parameters (backfill_minutes, start_time), which X reserves for Enterprise access.
 */
import type { ReadParams } from './fields.ts';
import type { HistoryQuery } from './history.ts';
import { invalidRequest, type JsonAnswer } from './problems.ts';
import { compileRule } from './rule-language.ts';

const SEVEN_DAYS = 7 * 86_400_000;
const ID = /^[0-9]{1,19}$/;
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/;

const invalid = (name: string, value: string, message: string): JsonAnswer =>
  invalidRequest([{ parameters: { [name]: [value] }, message }]);

/** next_token: the id of the oldest tweet of the previous page in base 36, opaque to clients like X's tokens. */
export function encodeToken(oldestId: string): string {
  return `b${BigInt(oldestId).toString(36)}`;
}

export function decodeToken(token: string): string | undefined {
  if (!/^b[0-9a-z]{1,13}$/.test(token)) return undefined;
  let value = 0n;
  for (const c of token.slice(1)) value = value * 36n + BigInt(Number.parseInt(c, 36));
  const id = value.toString();
  return ID.test(id) ? id : undefined;
}

function dateTime(params: ReadParams, name: string): number | JsonAnswer | undefined {
  const raw = params.get(name);
  if (raw === undefined) return undefined;
  const ms = DATE_TIME.test(raw) ? Date.parse(raw) : Number.NaN;
  if (Number.isNaN(ms)) {
    return invalid(
      name,
      raw,
      `The \`${name}\` query parameter value [${raw}] is not a valid RFC 3339 date-time`,
    );
  }
  return ms;
}

/** GET /2/tweets/search/recent: the history query, or X's Invalid Request. */
export function readSearchQuery(
  params: ReadParams,
  maxQueryLength: number,
  nowMs: number,
): HistoryQuery | JsonAnswer {
  const query = params.get('query');
  if (query === undefined || query === '') {
    return invalid('query', query ?? '', 'The `query` query parameter can not be empty');
  }
  const compiled = compileRule(query, maxQueryLength);
  if (!compiled.ok) {
    return invalid(
      'query',
      query,
      `There were errors processing your request: ${compiled.details.join(', ')}`,
    );
  }
  const maxRaw = params.get('max_results') ?? '10';
  const limit = /^[0-9]{1,4}$/.test(maxRaw) ? Number(maxRaw) : Number.NaN;
  if (!(limit >= 10 && limit <= 100)) {
    return invalid(
      'max_results',
      maxRaw,
      `The \`max_results\` query parameter value [${maxRaw}] is not between 10 and 100`,
    );
  }
  const out: HistoryQuery = { match: compiled.match, limit };
  for (const name of ['since_id', 'until_id'] as const) {
    const id = params.get(name);
    if (id === undefined) continue;
    if (!ID.test(id))
      return invalid(name, id, `The \`${name}\` query parameter value [${id}] does not match ^[0-9]{1,19}$`);
    if (name === 'since_id') out.sinceId = id;
    else out.untilId = id;
  }
  // relevancy is accepted and served in recency order: the emulator has no relevance model.
  const sort = params.get('sort_order');
  if (sort !== undefined && sort !== 'recency' && sort !== 'relevancy') {
    return invalid(
      'sort_order',
      sort,
      `The \`sort_order\` query parameter value [${sort}] is not one of [recency,relevancy]`,
    );
  }
  const start = dateTime(params, 'start_time');
  if (typeof start === 'object') return start;
  const end = dateTime(params, 'end_time');
  if (typeof end === 'object') return end;
  if (start !== undefined) {
    const oldest = nowMs - SEVEN_DAYS;
    const raw = params.get('start_time')!;
    if (start < oldest) {
      return invalid(
        'start_time',
        raw,
        `Invalid 'start_time':'${raw}'. 'start_time' must be on or after ${new Date(oldest).toISOString()}`,
      );
    }
    if (end !== undefined && start >= end) {
      return invalid(
        'start_time',
        raw,
        `Invalid 'start_time':'${raw}'. 'start_time' must be before 'end_time'`,
      );
    }
    out.startMs = start;
  }
  if (end !== undefined) {
    const raw = params.get('end_time')!;
    if (end > nowMs - 10_000) {
      return invalid(
        'end_time',
        raw,
        `Invalid 'end_time':'${raw}'. 'end_time' must be a minimum of 10 seconds prior to the request time.`,
      );
    }
    out.endMs = end;
  }
  for (const name of ['next_token', 'pagination_token'] as const) {
    const token = params.get(name);
    if (token === undefined) continue;
    const before = decodeToken(token);
    if (before === undefined)
      return invalid(name, token, `The \`${name}\` query parameter value [${token}] is not valid`);
    if (out.untilId === undefined || BigInt(before) < BigInt(out.untilId)) out.untilId = before;
  }
  return out;
}

/**
 * GET /2/tweets/search/stream recovery parameters: the epoch ms to replay matching history from, undefined for
 * none, or X's refusal when the access level (here: `backfill` off) does not include them.
 */
export function streamBackfill(
  params: ReadParams,
  enabled: boolean,
  nowMs: number,
): number | undefined | JsonAnswer {
  const minutesRaw = params.get('backfill_minutes');
  const minutes = minutesRaw === undefined ? 0 : /^[0-9]$/.test(minutesRaw) ? Number(minutesRaw) : Number.NaN;
  if (minutesRaw !== undefined && !(minutes >= 0 && minutes <= 5)) {
    return invalid(
      'backfill_minutes',
      minutesRaw,
      `The \`backfill_minutes\` query parameter value [${minutesRaw}] is not between 0 and 5`,
    );
  }
  const requested: [string, string][] = [];
  if (minutes > 0) requested.push(['backfill_minutes', minutesRaw!]);
  for (const name of ['start_time', 'end_time']) {
    const raw = params.get(name);
    if (raw !== undefined) requested.push([name, raw]);
  }
  if (!enabled && requested.length > 0) {
    return invalidRequest(
      requested.map(([name, value]) => ({
        parameters: { [name]: [value] },
        message: `The \`${name}\` query parameter requires Enterprise access (recovery and redundancy features are not available for this client application)`,
      })),
    );
  }
  const endRaw = params.get('end_time');
  if (endRaw !== undefined) {
    return invalid(
      'end_time',
      endRaw,
      'The `end_time` query parameter is not supported by the tweetpipe X API emulator',
    );
  }
  const start = dateTime(params, 'start_time');
  if (typeof start === 'object') return start;
  if (start !== undefined) return Math.max(start, nowMs - SEVEN_DAYS);
  return minutes > 0 ? nowMs - minutes * 60_000 : undefined;
}

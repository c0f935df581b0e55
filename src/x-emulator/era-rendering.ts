/**
 * What the X API emulator changes to answer in API 2.167 rather than 2.159, per X's two OpenAPI documents.
 *
 * Objects: 2.167's Post schema says `referenced_posts`, `note_post`, `edit_history_post_ids` and
 * `public_metrics.repost_count`, its Expansions `posts`, its User `pinned_post_id`, `most_recent_post_id` and
 * `public_metrics.post_count`. The emulator keeps payloads in 2.159 names and renames on the way out.
 *
 * Errors: 2.167's Problem is one of nine problem types under https://api.x.com/2/problems/ (no client-forbidden,
 * connection, operational-disconnect or rule problems any more), and an Invalid Request carries `parameter` and
 * `value` instead of an `errors` list; what has no Problem type is answered with the spec's plain Error
 * `{code, message}` (X's numeric error codes).
 */
import type { ApiEra } from '../sources/x-api/eras.ts';
import type { JsonAnswer, Problem } from './problems.ts';

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

const POST_RENAMES: Record<string, string> = {
  referenced_tweets: 'referenced_posts',
  note_tweet: 'note_post',
  edit_history_tweet_ids: 'edit_history_post_ids',
};
const USER_RENAMES: Record<string, string> = {
  pinned_tweet_id: 'pinned_post_id',
  most_recent_tweet_id: 'most_recent_post_id',
};

function renamed(object: Json, names: Record<string, string>, metric: [string, string]): Json {
  const out: Json = {};
  for (const [key, value] of Object.entries(object)) {
    if (key === 'public_metrics' && isObject(value)) {
      const metrics: Json = {};
      for (const [m, n] of Object.entries(value)) metrics[m === metric[0] ? metric[1] : m] = n;
      out[key] = metrics;
    } else out[names[key] ?? key] = value;
  }
  return out;
}

/** A post object as the era names it. */
export function renderPost(post: Json, era: ApiEra): Json {
  return era === '2.167' ? renamed(post, POST_RENAMES, ['retweet_count', 'repost_count']) : post;
}

/** `includes` as the era names it (2.167: `posts`, and the renamed post and user fields). */
export function renderIncludes(includes: Record<string, Json[]>, era: ApiEra): Record<string, Json[]> {
  if (era === '2.159') return includes;
  const out: Record<string, Json[]> = {};
  for (const [key, list] of Object.entries(includes)) {
    if (key === 'tweets') out.posts = list.map((p) => renderPost(p, era));
    else if (key === 'users')
      out.users = list.map((u) => renamed(u, USER_RENAMES, ['tweet_count', 'post_count']));
    else out[key] = list;
  }
  return out;
}

const PROBLEMS_2167 = 'https://api.x.com/2/problems';
/** 2.167 problem types, by the last path segment of the 2.159 type they replace. */
const PROBLEM_TYPES_2167: Record<string, string> = {
  'invalid-request': 'invalid-request',
  'resource-not-found': 'resource-not-found',
  // Rule problems have no 2.167 type: they become Invalid Requests that keep X's title (DuplicateRule, ...).
  'invalid-rules': 'invalid-request',
  'duplicate-rules': 'invalid-request',
  'rule-cap': 'invalid-request',
  'noncompliant-rules': 'invalid-request',
};
/** X's numeric error codes for what 2.167 answers with the plain Error schema, by HTTP status. */
const ERROR_CODES: Record<number, number> = { 401: 32, 403: 453, 404: 34, 405: 34, 429: 88 };

/** One error object as the era shapes it; undefined when the era has no such message (2.167 stream messages). */
export function renderProblem(problem: Problem, era: ApiEra): Problem | undefined {
  if (era === '2.159') return problem;
  const segment = problem.type.split('/').pop() ?? '';
  const type = PROBLEM_TYPES_2167[segment];
  if (!type) return undefined;
  const { errors, type: _old, ...rest } = problem;
  const out: Problem = { ...rest, type: `${PROBLEMS_2167}/${type}` };
  if (Array.isArray(errors) && errors.length > 0) {
    const first = errors[0] as { parameters?: Record<string, string[]> };
    const [parameter, values] = Object.entries(first.parameters ?? {})[0] ?? [];
    out.detail = errors.map((e: { message?: string }) => e.message).join('; ');
    if (parameter !== undefined) out.parameter = parameter;
    if (values?.[0] !== undefined) out.value = values[0];
  }
  out.detail ??= problem.title;
  return out;
}

/**
 * An answer as the era shapes it: an error as a Problem the era has a type for, else as the plain Error
 * `{code, message}`; the `errors` of a 200 body as the era's problems.
 */
export function renderAnswer(answer: JsonAnswer, era: ApiEra): JsonAnswer {
  if (era === '2.159') return answer;
  if (answer.status < 400) {
    const { errors } = answer.body;
    if (!Array.isArray(errors)) return answer;
    return {
      status: answer.status,
      body: { ...answer.body, errors: renderErrors(errors as Problem[], era) },
    };
  }
  if (typeof answer.body.type !== 'string') return answer;
  const problem = renderProblem(answer.body as Problem, era);
  if (problem) return { status: answer.status, body: { ...problem, status: answer.status } };
  const said = answer.body.detail ?? answer.body.title;
  return {
    status: answer.status,
    body: { code: ERROR_CODES[answer.status] ?? answer.status, message: String(said) },
  };
}

/** The errors list of a 200 body or stream line in the era; messages the era lacks are left out. */
export function renderErrors(errors: readonly Problem[], era: ApiEra): Problem[] {
  return errors.map((e) => renderProblem(e, era)).filter((e): e is Problem => e !== undefined);
}

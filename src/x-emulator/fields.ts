/**
 * Query parameters and field selection of the X API emulator, per API era and endpoint as X's OpenAPI documents
 * declare them (the table of ../x-api/eras.ts): X answers only the fields asked for (`tweet.fields`, or
 * `post.fields` on 2.167's recent search, plus `user.fields`, `media.fields`, `place.fields`, `poll.fields`),
 * includes only what `expansions` ask for, and rejects unknown or repeated parameters and unknown values with an
 * Invalid Request naming them. Payloads are kept in 2.159 names; era-rendering.ts renames what 2.167 renamed.
 */

import { mergeIncludes, type TweetPayload } from '../sources/synthetic-payloads.ts';
import { type ApiEra, eraTable, postFieldsParam, type XEndpoint } from '../sources/x-api/eras.ts';
import { renderIncludes, renderPost } from './era-rendering.ts';
import { type InvalidParameter, invalidRequest, type JsonAnswer } from './problems.ts';

/** Parameter name -> value, after the unknown-name and duplicate checks. */
export type ReadParams = Map<string, string>;

/** Reads the query string against the endpoint's parameters in the era; unknown and repeated names are refused. */
export function readParams(url: URL, era: ApiEra, endpoint: XEndpoint): ReadParams | JsonAnswer {
  const allowed = Object.keys(eraTable(era)[endpoint]);
  const params: ReadParams = new Map();
  const errors: InvalidParameter[] = [];
  for (const [name, value] of url.searchParams) {
    if (!allowed.includes(name)) {
      errors.push({
        parameters: { [name]: [value] },
        message: `The query parameter [${name}] is not one of [${allowed.join(',')}]`,
      });
    } else if (params.has(name)) {
      errors.push({
        parameters: { [name]: [params.get(name)!, value] },
        message: `Duplicate parameters are not allowed: the \`${name}\` query parameter`,
      });
    } else {
      params.set(name, value);
    }
  }
  return errors.length > 0 ? invalidRequest(errors) : params;
}

/** A selection in 2.159 names (the names the stored payloads use). */
export interface Selection {
  tweet: Set<string>;
  user: Set<string>;
  media: Set<string>;
  place: Set<string>;
  poll: Set<string>;
  expansions: Set<string>;
  /** The author_id expansion also covers the posts under includes (2.167 has no referenced-author expansion). */
  authorsOfIncluded: boolean;
  era: ApiEra;
}

/** 2.167 values of a selection and the 2.159 names the stored payloads use. */
const CANONICAL: Record<string, string> = {
  note_post: 'note_tweet',
  referenced_posts: 'referenced_tweets.id',
  edit_history_post_ids: 'edit_history_tweet_ids',
};

/** Validates the field-selection parameters against the endpoint's allowed values in the era. */
export function readSelection(params: ReadParams, era: ApiEra, endpoint: XEndpoint): Selection | JsonAnswer {
  const table = eraTable(era)[endpoint];
  const errors: InvalidParameter[] = [];
  const list = (name: string | undefined): Set<string> => {
    const raw = name === undefined ? undefined : params.get(name);
    if (name === undefined || raw === undefined) return new Set();
    const allowed = table[name]?.values ?? [];
    const values = raw.split(',');
    for (const v of values) {
      if (!allowed.includes(v)) {
        errors.push({
          parameters: { [name]: [raw] },
          message: `The \`${name}\` query parameter value [${v}] is not one of [${allowed.join(',')}]`,
        });
      }
    }
    return new Set(values.map((v) => CANONICAL[v] ?? v));
  };
  const expansions = list('expansions');
  const selection: Selection = {
    tweet: list(postFieldsParam(era, endpoint)),
    expansions,
    user: list('user.fields'),
    media: list('media.fields'),
    place: list('place.fields'),
    poll: list('poll.fields'),
    authorsOfIncluded:
      expansions.has('referenced_tweets.id.author_id') ||
      (expansions.has('author_id') && !table.expansions?.values?.includes('referenced_tweets.id.author_id')),
    era,
  };
  return errors.length > 0 ? invalidRequest(errors) : selection;
}

const DEFAULT_TWEET_FIELDS = ['id', 'text', 'edit_history_tweet_ids'];
const DEFAULT_USER_FIELDS = ['id', 'name', 'username'];
const DEFAULT_MEDIA_FIELDS = ['media_key', 'type'];
const DEFAULT_PLACE_FIELDS = ['id', 'full_name'];
const DEFAULT_POLL_FIELDS = ['id', 'options'];

/** The tweet field an expansion expands; X returns it even when the field list does not name it. */
const EXPANDED_FIELD: Record<string, string> = {
  author_id: 'author_id',
  'entities.mentions.username': 'entities',
  in_reply_to_user_id: 'in_reply_to_user_id',
  'referenced_tweets.id': 'referenced_tweets',
  'referenced_tweets.id.author_id': 'referenced_tweets',
  'attachments.media_keys': 'attachments',
  'attachments.poll_ids': 'attachments',
  edit_history_tweet_ids: 'edit_history_tweet_ids',
  'geo.place_id': 'geo',
};

export type JsonObject = Record<string, unknown>;

export interface Projected {
  data: JsonObject[];
  includes?: Record<string, JsonObject[]>;
}

/** What X would answer for these tweets under this selection: selected fields only, includes per expansion. */
export function project(payloads: readonly TweetPayload[], sel: Selection): Projected {
  const exp = sel.expansions;
  const tweetKeys = new Set([...DEFAULT_TWEET_FIELDS, ...sel.tweet]);
  for (const e of exp) {
    const field = EXPANDED_FIELD[e];
    if (field) tweetKeys.add(field);
  }
  const referenced = exp.has('referenced_tweets.id');
  const referencedAuthors = sel.authorsOfIncluded;
  const users = new Set<string>();
  const tweets = new Set<string>();
  const media = new Set<string>();
  const places = new Set<string>();
  const polls = new Set<string>();
  for (const { data, includes } of payloads) {
    if (exp.has('author_id')) users.add(data.author_id);
    if (exp.has('entities.mentions.username')) for (const m of data.entities?.mentions ?? []) users.add(m.id);
    if (exp.has('in_reply_to_user_id') && data.in_reply_to_user_id) users.add(data.in_reply_to_user_id);
    for (const ref of data.referenced_tweets ?? []) {
      if (referenced) tweets.add(ref.id);
      const author = referencedAuthors ? includes.tweets?.find((t) => t.id === ref.id)?.author_id : undefined;
      if (author) users.add(author);
    }
    if (exp.has('attachments.media_keys'))
      for (const key of data.attachments?.media_keys ?? []) media.add(key);
    if (exp.has('geo.place_id') && data.geo) places.add(data.geo.place_id);
    if (exp.has('attachments.poll_ids')) for (const id of data.attachments?.poll_ids ?? []) polls.add(id);
  }
  const projected: Projected = {
    data: payloads.map((p) => renderPost(pick(p.data, tweetKeys), sel.era)),
  };
  if (users.size + tweets.size + media.size + places.size + polls.size === 0) return projected;

  const merged = mergeIncludes(payloads.map((p) => p.includes));
  const includes: Record<string, JsonObject[]> = {};
  /** The included objects of one kind that the posts reference (`wanted`), with the selected fields only. */
  const put = <T extends object>(
    key: string,
    objects: readonly T[] | undefined,
    wanted: ReadonlySet<string>,
    idOf: (object: T) => string,
    keys: ReadonlySet<string>,
  ) => {
    const picked = (objects ?? []).filter((o) => wanted.has(idOf(o))).map((o) => pick(o, keys));
    if (picked.length > 0) includes[key] = picked;
  };
  const byId = (object: { id: string }) => object.id;
  put('users', merged.users, users, byId, new Set([...DEFAULT_USER_FIELDS, ...sel.user]));
  const includedTweetKeys = referencedAuthors ? new Set([...tweetKeys, 'author_id']) : tweetKeys;
  put('tweets', merged.tweets, tweets, byId, includedTweetKeys);
  put('media', merged.media, media, (m) => m.media_key, new Set([...DEFAULT_MEDIA_FIELDS, ...sel.media]));
  put('places', merged.places, places, byId, new Set([...DEFAULT_PLACE_FIELDS, ...sel.place]));
  put('polls', merged.polls, polls, byId, new Set([...DEFAULT_POLL_FIELDS, ...sel.poll]));
  if (Object.keys(includes).length > 0) projected.includes = renderIncludes(includes, sel.era);
  return projected;
}

function pick(source: object, keys: ReadonlySet<string>): JsonObject {
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(source)) if (keys.has(k)) out[k] = v;
  return out;
}

/**
 * Query parameters and field selection of the X API emulator, per naming era: X answers only the fields asked for
 * (`tweet.fields` in API 2.159, `post.fields` in 2.167, plus `user.fields`, `media.fields`, `place.fields`),
 * includes only what `expansions` ask for (`includes.tweets` in 2.159, `includes.posts` in 2.167), and rejects
 * unknown or repeated parameters and unknown field names with an Invalid Request naming them.
 */
import { mergeIncludes, type TweetPayload } from '../synthetic-payloads.ts';
import { type InvalidParameter, invalidRequest, type JsonAnswer } from './problems.ts';

export type Naming = '2.159' | '2.167';

export const NAMINGS: readonly Naming[] = ['2.159', '2.167'];

/** The tweet-field selection parameter of a naming era. */
export const fieldsParam = (naming: Naming): 'tweet.fields' | 'post.fields' =>
  naming === '2.167' ? 'post.fields' : 'tweet.fields';

/** Where referenced tweets go under `includes` in a naming era. */
export const includesTweetsKey = (naming: Naming): 'tweets' | 'posts' =>
  naming === '2.167' ? 'posts' : 'tweets';

/** Parameter name -> value, after the unknown-name and duplicate checks. */
export type ReadParams = Map<string, string>;

// Enumerations from components.parameters of openapi-2.159.json (space-separated to stay readable).
const TWEET_FIELDS = (
  'article attachments author_id card_uri community_id context_annotations conversation_id created_at ' +
  'display_text_range edit_controls edit_history_tweet_ids entities geo id in_reply_to_user_id lang ' +
  'media_metadata non_public_metrics note_tweet organic_metrics possibly_sensitive promoted_metrics ' +
  'public_metrics referenced_tweets reply_settings scopes source suggested_source_links ' +
  'suggested_source_links_with_counts text withheld'
).split(' ');
// 2.167's post.fields enumeration leaves out the id fields (author_id, referenced_tweets, ...) that its own Post
// schema still returns; the emulator accepts the union so clients can ask for what they will parse.
const POST_FIELDS = [
  ...TWEET_FIELDS,
  ...'article_title matched_media_notes note_post note_request_suggestions paid_partnership'.split(' '),
];
const EXPANSIONS = (
  'article.cover_media article.media_entities attachments.media_keys attachments.media_source_tweet ' +
  'attachments.poll_ids author_id edit_history_tweet_ids entities.mentions.username geo.place_id ' +
  'in_reply_to_user_id entities.note.mentions.username referenced_tweets.id ' +
  'referenced_tweets.id.attachments.media_keys referenced_tweets.id.author_id'
).split(' ');
const EXPANSIONS_2167 = [...EXPANSIONS, 'edit_history_post_ids', 'referenced_posts', 'username'];
const USER_FIELDS = (
  'affiliation confirmed_email connection_status created_at description entities id is_identity_verified ' +
  'location most_recent_tweet_id name parody pinned_tweet_id profile_banner_url profile_image_url protected ' +
  'public_metrics receives_your_dm subscription subscription_type url username verified ' +
  'verified_followers_count verified_type withheld'
).split(' ');
const MEDIA_FIELDS = (
  'alt_text duration_ms height media_key non_public_metrics organic_metrics preview_image_url ' +
  'promoted_metrics public_metrics type url variants width'
).split(' ');
const PLACE_FIELDS = 'contained_within country country_code full_name geo id name place_type'.split(' ');
const POLL_FIELDS = 'duration_minutes end_datetime id options voting_status'.split(' ');

/** The field-selection parameter names of an endpoint, in the order X lists them in its error message. */
export const selectionParams = (naming: Naming): string[] => [
  'expansions',
  fieldsParam(naming),
  'media.fields',
  'poll.fields',
  'place.fields',
  'user.fields',
];

/** Reads the query string; unknown names and repeated names are rejected with X's messages. */
export function readParams(url: URL, allowed: readonly string[]): ReadParams | JsonAnswer {
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

export interface Selection {
  tweet: Set<string>;
  user: Set<string>;
  media: Set<string>;
  place: Set<string>;
  expansions: Set<string>;
}

/** Validates the field-selection parameters against the era's enumerations. */
export function readSelection(params: ReadParams, naming: Naming): Selection | JsonAnswer {
  const errors: InvalidParameter[] = [];
  const list = (name: string, allowed: readonly string[]): Set<string> => {
    const raw = params.get(name);
    if (raw === undefined) return new Set();
    const values = raw.split(',');
    for (const v of values) {
      if (!allowed.includes(v)) {
        errors.push({
          parameters: { [name]: [raw] },
          message: `The \`${name}\` query parameter value [${v}] is not one of [${allowed.join(',')}]`,
        });
      }
    }
    return new Set(values);
  };
  const selection: Selection = {
    tweet: list(fieldsParam(naming), naming === '2.167' ? POST_FIELDS : TWEET_FIELDS),
    expansions: list('expansions', naming === '2.167' ? EXPANSIONS_2167 : EXPANSIONS),
    user: list('user.fields', USER_FIELDS),
    media: list('media.fields', MEDIA_FIELDS),
    place: list('place.fields', PLACE_FIELDS),
  };
  list('poll.fields', POLL_FIELDS);
  return errors.length > 0 ? invalidRequest(errors) : selection;
}

const DEFAULT_TWEET_FIELDS = ['id', 'text', 'edit_history_tweet_ids'];
const DEFAULT_USER_FIELDS = ['id', 'name', 'username'];
const DEFAULT_MEDIA_FIELDS = ['media_key', 'type'];
const DEFAULT_PLACE_FIELDS = ['id', 'full_name'];

/** The tweet field an expansion expands; X returns it even when the field list does not name it. */
const EXPANDED_FIELD: Record<string, string> = {
  author_id: 'author_id',
  'entities.mentions.username': 'entities',
  in_reply_to_user_id: 'in_reply_to_user_id',
  'referenced_tweets.id': 'referenced_tweets',
  referenced_posts: 'referenced_tweets',
  'referenced_tweets.id.author_id': 'referenced_tweets',
  'attachments.media_keys': 'attachments',
  'geo.place_id': 'geo',
};

export type JsonObject = Record<string, unknown>;

export interface Projected {
  data: JsonObject[];
  includes?: Record<string, JsonObject[]>;
}

/** What X would answer for these tweets under this selection: selected fields only, includes per expansion. */
export function project(payloads: readonly TweetPayload[], sel: Selection, naming: Naming): Projected {
  const exp = sel.expansions;
  const tweetKeys = new Set([...DEFAULT_TWEET_FIELDS, ...sel.tweet]);
  for (const e of exp) {
    const field = EXPANDED_FIELD[e];
    if (field) tweetKeys.add(field);
  }
  const referenced = exp.has('referenced_tweets.id') || exp.has('referenced_posts');
  const referencedAuthors = exp.has('referenced_tweets.id.author_id');
  const users = new Set<string>();
  const tweets = new Set<string>();
  const media = new Set<string>();
  const places = new Set<string>();
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
  }
  const projected: Projected = { data: payloads.map((p) => pick(p.data, tweetKeys)) };
  if (users.size + tweets.size + media.size + places.size === 0) return projected;

  const merged = mergeIncludes(payloads.map((p) => p.includes));
  const includes: Record<string, JsonObject[]> = {};
  const put = (key: string, objects: JsonObject[]) => {
    if (objects.length > 0) includes[key] = objects;
  };
  const userKeys = new Set([...DEFAULT_USER_FIELDS, ...sel.user]);
  put(
    'users',
    (merged.users ?? []).filter((u) => users.has(u.id)).map((u) => pick(u, userKeys)),
  );
  const includedTweetKeys = referencedAuthors ? new Set([...tweetKeys, 'author_id']) : tweetKeys;
  put(
    includesTweetsKey(naming),
    (merged.tweets ?? []).filter((t) => tweets.has(t.id)).map((t) => pick(t, includedTweetKeys)),
  );
  const mediaKeys = new Set([...DEFAULT_MEDIA_FIELDS, ...sel.media]);
  put(
    'media',
    (merged.media ?? []).filter((m) => media.has(m.media_key)).map((m) => pick(m, mediaKeys)),
  );
  const placeKeys = new Set([...DEFAULT_PLACE_FIELDS, ...sel.place]);
  put(
    'places',
    (merged.places ?? []).filter((p) => places.has(p.id)).map((p) => pick(p, placeKeys)),
  );
  if (Object.keys(includes).length > 0) projected.includes = includes;
  return projected;
}

function pick(source: object, keys: ReadonlySet<string>): JsonObject {
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(source)) if (keys.has(k)) out[k] = v;
  return out;
}

/**
 * The field-selection query (`tweet.fields` / `post.fields`, `expansions`, `user.fields`, ...) sent to an endpoint in
 * an API era. The defaults ask for the same information in every era (author, referenced posts with their authors,
 * long text, metrics, entities, geo, media); values a user configured are checked against the era's allowed values
 * (eras.ts) and translated where a name maps one to one, so a bad value fails with a message naming the key rather
 * than with X's 400.
 */
import { TweetpipeError } from '../../errors.ts';
import { type ApiEra, eraTable, X_ENDPOINTS, type XEndpoint } from './eras.ts';

/** Field selection as configured (the `x` config section); absent post fields / expansions take the era's defaults. */
export interface FieldSelectionConfig {
  tweetFields?: readonly string[] | undefined;
  expansions?: readonly string[] | undefined;
  userFields: readonly string[];
  mediaFields: readonly string[];
  placeFields: readonly string[];
}

type PostFieldsParam = 'tweet.fields' | 'post.fields';

/**
 * Defaults per naming of the post-fields parameter. Where `post.fields` (2.167 recent search) has no value for an id
 * field, the expansion of the same name returns it: `author_id`, `in_reply_to_user_id`, `referenced_posts`. 2.167 has
 * no expansion for the authors of referenced posts; its `author_id` expansion covers every post of the response.
 */
const DEFAULTS: Record<PostFieldsParam, { fields: readonly string[]; expansions: readonly string[] }> = {
  'tweet.fields': {
    fields: [
      'author_id',
      'created_at',
      'lang',
      'public_metrics',
      'entities',
      'referenced_tweets',
      'geo',
      'conversation_id',
      'in_reply_to_user_id',
      'possibly_sensitive',
      'source',
      'note_tweet',
      'attachments',
    ],
    expansions: [
      'author_id',
      'referenced_tweets.id',
      'referenced_tweets.id.author_id',
      'attachments.media_keys',
      'geo.place_id',
    ],
  },
  'post.fields': {
    fields: [
      'created_at',
      'lang',
      'public_metrics',
      'entities',
      'geo',
      'conversation_id',
      'possibly_sensitive',
      'source',
      'note_post',
      'attachments',
    ],
    expansions: [
      'author_id',
      'referenced_posts',
      'in_reply_to_user_id',
      'attachments.media_keys',
      'geo.place_id',
    ],
  },
};

/** Values renamed one to one between the eras, per parameter (either direction). */
const RENAMES: Record<string, readonly (readonly [string, string])[]> = {
  postFields: [['note_tweet', 'note_post']],
  expansions: [
    ['referenced_tweets.id', 'referenced_posts'],
    ['edit_history_tweet_ids', 'edit_history_post_ids'],
  ],
};

function translate(value: string, renames: readonly (readonly [string, string])[]): string | undefined {
  for (const [a, b] of renames) {
    if (value === a) return b;
    if (value === b) return a;
  }
  return undefined;
}

/** The selection query parameters for `endpoint` in `era`; throws CONFIG_INVALID for a value the era lacks. */
export function selectionQuery(
  config: FieldSelectionConfig,
  era: ApiEra,
  endpoint: XEndpoint,
): Record<string, readonly string[]> {
  const params = eraTable(era)[endpoint];
  const postFields: PostFieldsParam = 'post.fields' in params ? 'post.fields' : 'tweet.fields';
  const query: Record<string, readonly string[]> = {};
  const take = (
    param: string,
    key: string,
    configured: readonly string[] | undefined,
    fallback: readonly string[],
    renames: readonly (readonly [string, string])[] = [],
  ) => {
    const allowed = params[param]?.values;
    if (!allowed) return;
    const values = configured ?? fallback;
    const out = new Set<string>();
    for (const value of values) {
      const sent = allowed.includes(value) ? value : translate(value, renames);
      if (sent === undefined || !allowed.includes(sent)) {
        const { method, path } = X_ENDPOINTS[endpoint];
        throw new TweetpipeError(
          'CONFIG_INVALID',
          `config key "${key}": "${value}" is not a value of ${param} on ${method.toUpperCase()} ${path} in X API ${era}; expected some of: ${allowed.join(', ')}`,
        );
      }
      out.add(sent);
    }
    if (out.size > 0) query[param] = [...out];
  };
  take(postFields, 'x.tweetFields', config.tweetFields, DEFAULTS[postFields].fields, RENAMES.postFields);
  take('expansions', 'x.expansions', config.expansions, DEFAULTS[postFields].expansions, RENAMES.expansions);
  take('user.fields', 'x.userFields', config.userFields, []);
  take('media.fields', 'x.mediaFields', config.mediaFields, []);
  take('place.fields', 'x.placeFields', config.placeFields, []);
  return query;
}

/** Names of the field-selection parameters in any era: a 400 about one of them may mean the wrong era. */
export const SELECTION_PARAMS: readonly string[] = [
  'tweet.fields',
  'post.fields',
  'expansions',
  'user.fields',
  'media.fields',
  'place.fields',
  'poll.fields',
];

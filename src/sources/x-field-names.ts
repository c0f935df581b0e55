/**
 * The field names X API v2 renamed between spec 2.159 and 2.167 (components.schemas Tweet -> Post, User,
 * Expansions), and the one place that turns either era's object into the record's shape: the 2.167 name is the
 * record's name, and a 2.159 object keeps its own names and also carries the 2.167 ones (docs/record-schema.md).
 * The Parquet columns read through `eitherEra` so that records of every schema version fill them.
 */

/** A field X calls `now` in spec 2.167 and called `was` in 2.159. */
export interface FieldRename {
  readonly was: string;
  readonly now: string;
}

/** How one kind of object (a post, a user) changed: its own fields and those of its `public_metrics`. */
export interface ObjectRenames {
  readonly fields: readonly FieldRename[];
  readonly publicMetrics: readonly FieldRename[];
}

export const POST_RENAMES: ObjectRenames = {
  fields: [
    { was: 'referenced_tweets', now: 'referenced_posts' },
    { was: 'note_tweet', now: 'note_post' },
    { was: 'edit_history_tweet_ids', now: 'edit_history_post_ids' },
  ],
  publicMetrics: [{ was: 'retweet_count', now: 'repost_count' }],
};

export const USER_RENAMES: ObjectRenames = {
  fields: [
    { was: 'pinned_tweet_id', now: 'pinned_post_id' },
    { was: 'most_recent_tweet_id', now: 'most_recent_post_id' },
  ],
  publicMetrics: [{ was: 'tweet_count', now: 'post_count' }],
};

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

const WAS_BY_NOW = new Map(
  [
    ...POST_RENAMES.fields,
    ...POST_RENAMES.publicMetrics,
    ...USER_RENAMES.fields,
    ...USER_RENAMES.publicMetrics,
  ].map((r) => [r.now, r.was]),
);

/** `object[now]`, else the value under the name 2.159 gave that field. */
export function eitherEra(object: Json, now: string): unknown {
  const value = object[now];
  if (value !== undefined) return value;
  const was = WAS_BY_NOW.get(now);
  return was === undefined ? undefined : object[was];
}

/**
 * Adds to `object` (which the caller owns: it is changed in place) the 2.167 name of every field it carries
 * only under its 2.159 name, values shared. `public_metrics` is replaced by a copy, as X's object may be shared.
 */
export function addCurrentNames(object: Json, renames: ObjectRenames): void {
  for (const { was, now } of renames.fields)
    if (object[now] === undefined && object[was] !== undefined) object[now] = object[was];
  const metrics = object.public_metrics;
  if (!isObject(metrics)) return;
  let copy: Json | undefined;
  for (const { was, now } of renames.publicMetrics) {
    if (metrics[now] !== undefined || metrics[was] === undefined) continue;
    copy ??= { ...metrics };
    copy[now] = metrics[was];
  }
  if (copy) object.public_metrics = copy;
}

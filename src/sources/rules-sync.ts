/**
 * Brings the filtered stream's server-side rules to the rules declared in config: rules whose (tag, value) is
 * declared are kept, the missing ones added (a tag whose value changed is a delete plus an add). Which other rules
 * are deleted depends on the mode (x.rulesMode): `exact` deletes every one, `owned` only those tweetpipe created
 * (OwnedRulesStore), `add-only` none; rules left in place are someone else's, and posts that match only them are
 * not tweetpipe's to publish (`matchesOwnRule`). New rules are validated with a dry run first, so an invalid rule
 * fails the sync before anything on the server is deleted, and the error lists X's own message for each rejected
 * rule.
 */
import { TweetpipeError } from '../errors.ts';
import { type Logger, silentLogger } from '../log.ts';
import type { OwnedRulesStore } from './owned-rules.ts';
import { problemsOf, problemText, type XApiProblem, type XHttpClient } from './x-http.ts';

export const RULES_PATH = '/2/tweets/search/stream/rules';

export interface StreamRule {
  value: string;
  tag: string;
}

export interface ServerRule {
  id: string;
  value: string;
  tag?: string;
}

export type RulesMode = 'owned' | 'exact' | 'add-only';

/** Which server rules the sync may delete: all (`exact`), or only those `store` says tweetpipe created. */
export type RulesOwnership = { mode: 'exact' } | { mode: 'owned' | 'add-only'; store: OwnedRulesStore };

export interface RulesPlan {
  keep: ServerRule[];
  remove: ServerRule[];
  add: StreamRule[];
  /** Rules not declared that the mode does not let tweetpipe delete. */
  leave: ServerRule[];
}

export interface RulesSyncResult {
  /** The declared rules on the server after the sync (kept + added), with their ids. */
  rules: ServerRule[];
  added: ServerRule[];
  removed: ServerRule[];
  /** Rules left in place though not declared (modes other than `exact`). */
  left: ServerRule[];
}

const key = (tag: string | undefined, value: string) => `${tag ?? ''}\u0000${value}`;

/** Pure diff of the server's rules against the declared ones; `ownedIds` are the rules tweetpipe created. */
export function planRulesSync(
  current: readonly ServerRule[],
  declared: readonly StreamRule[],
  mode: RulesMode = 'exact',
  ownedIds: ReadonlySet<string> = new Set(),
): RulesPlan {
  const wanted = new Map(declared.map((r) => [key(r.tag, r.value), r]));
  const plan: RulesPlan = { keep: [], remove: [], add: [], leave: [] };
  const kept = new Set<string>();
  for (const rule of current) {
    const k = key(rule.tag, rule.value);
    // A second server rule with the same (tag, value) is redundant too.
    if (wanted.has(k) && !kept.has(k)) {
      kept.add(k);
      plan.keep.push(rule);
    } else if (mode === 'exact' || (mode === 'owned' && ownedIds.has(rule.id))) plan.remove.push(rule);
    else plan.leave.push(rule);
  }
  for (const [k, rule] of wanted) if (!kept.has(k)) plan.add.push(rule);
  return plan;
}

export interface RulesOptions {
  logger?: Logger;
  signal?: AbortSignal;
}

/** Whether a post's `matching_rules` name one of `ownIds` (the rules a sync returned). */
export function matchesOwnRule(matchingRules: unknown, ownIds: ReadonlySet<string>): boolean {
  return (
    Array.isArray(matchingRules) &&
    matchingRules.some(
      (r) => typeof r === 'object' && r !== null && ownIds.has((r as { id?: unknown }).id as string),
    )
  );
}

/** All rules currently on the server (follows meta.next_token). */
export async function listRules(client: XHttpClient, opts: RulesOptions = {}): Promise<ServerRule[]> {
  const rules: ServerRule[] = [];
  let token: string | undefined;
  do {
    const res = await client.get(
      RULES_PATH,
      withSignal({ query: { max_results: 1000, pagination_token: token } }, opts),
    );
    const body = res.body as { data?: unknown; meta?: { next_token?: unknown } };
    if (Array.isArray(body.data)) for (const r of body.data) if (isRule(r)) rules.push(toServerRule(r));
    token = typeof body.meta?.next_token === 'string' ? body.meta.next_token : undefined;
  } while (token);
  return rules;
}

export async function syncRules(
  client: XHttpClient,
  declared: readonly StreamRule[],
  opts: RulesOptions & { ownership?: RulesOwnership } = {},
): Promise<RulesSyncResult> {
  const logger = opts.logger ?? silentLogger;
  const ownership = opts.ownership ?? { mode: 'exact' };
  const owned = ownership.mode === 'exact' ? undefined : ownership.store;
  const current = await listRules(client, opts);
  const plan = planRulesSync(current, declared, ownership.mode, owned?.ids());
  if (plan.add.length > 0) {
    // Duplicates are expected here: a rule whose tag changed still exists under its old tag until the delete.
    const dry = await postRules(client, { add: plan.add }, true, opts);
    throwIfInvalid(dry.errors, plan.add);
  }
  if (plan.remove.length > 0)
    await postRules(client, { delete: { ids: plan.remove.map((r) => r.id) } }, false, opts);
  const added: ServerRule[] = [];
  /** Added by this sync; `added` also holds rules adopted from a DuplicateRule answer, which stay someone else's. */
  const created: ServerRule[] = [];
  if (plan.add.length > 0) {
    const res = await postRules(client, { add: plan.add }, false, opts);
    throwIfInvalid(res.errors, plan.add);
    added.push(...res.data);
    created.push(...res.data);
    // A duplicate is a rule that exists already (a server without dry-run support, or a race): adopt its id.
    for (const e of res.errors.filter(isDuplicate)) {
      if (typeof e.id === 'string' && typeof e.value === 'string') {
        const tag = plan.add.find((r) => r.value === e.value)?.tag;
        added.push(tag === undefined ? { id: e.id, value: e.value } : { id: e.id, value: e.value, tag });
      }
    }
  }
  if (owned && (created.length > 0 || plan.remove.length > 0)) {
    // A crash before this save leaves the new rules looking like someone else's: never deleted, the safe side.
    const removed = new Set(plan.remove.map((r) => r.id));
    const stillOwned = current.filter((r) => owned.ids().has(r.id) && !removed.has(r.id));
    await owned.save([...stillOwned, ...created].map((r) => r.id));
  }
  const result = { rules: [...plan.keep, ...added], added, removed: plan.remove, left: plan.leave };
  if (plan.leave.length > 0)
    logger.warn(
      { left: plan.leave.length, mode: ownership.mode },
      `${plan.leave.length} stream rule(s) on this X app are not tweetpipe's to delete (x.rulesMode=${ownership.mode}): left in place; posts that match only them are counted and dropped`,
    );
  logger.info(
    {
      kept: plan.keep.length,
      added: added.map((r) => ({ tag: r.tag, value: r.value })),
      removed: plan.remove.map((r) => ({ tag: r.tag, value: r.value })),
    },
    'stream rules synced',
  );
  return result;
}

async function postRules(
  client: XHttpClient,
  body: unknown,
  dryRun: boolean,
  opts: RulesOptions,
): Promise<{ data: ServerRule[]; errors: XApiProblem[] }> {
  let resBody: unknown;
  try {
    resBody = (
      await client.post(RULES_PATH, body, withSignal({ query: { dry_run: dryRun || undefined } }, opts))
    ).body;
  } catch (err) {
    // X may answer a rejected rule with a 4xx whose errors name the rule; those are rule errors, not HTTP ones.
    const problems =
      err instanceof TweetpipeError && err.code === 'X_HTTP' ? err.details.problems : undefined;
    if (Array.isArray(problems) && problems.some(isRuleProblem)) return { data: [], errors: problems };
    throw err;
  }
  const data = (resBody as { data?: unknown }).data;
  return {
    data: Array.isArray(data) ? data.filter(isRule).map(toServerRule) : [],
    errors: problemsOf(resBody).filter((p) => p !== resBody),
  };
}

function throwIfInvalid(errors: readonly XApiProblem[], adding: readonly StreamRule[]): void {
  const invalid = errors.filter((e) => !isDuplicate(e));
  if (invalid.length === 0) return;
  const lines = invalid.map((e) => {
    const rule = adding.find((r) => r.value === e.value);
    const which = typeof e.value === 'string' ? `rule ${JSON.stringify(e.value)}` : 'a rule';
    return `  ${which}${rule ? ` (tag ${JSON.stringify(rule.tag)})` : ''}: ${problemText(e)}`;
  });
  throw new TweetpipeError(
    'X_RULES_INVALID',
    `X rejected ${invalid.length} stream rule(s):\n${lines.join('\n')}`,
    {
      details: { problems: invalid },
    },
  );
}

const isDuplicate = (p: XApiProblem) =>
  p.title === 'DuplicateRule' || (typeof p.type === 'string' && p.type.endsWith('/duplicate-rules'));

const isRuleProblem = (p: XApiProblem) =>
  typeof p.value === 'string' ||
  (typeof p.type === 'string' && /\/(invalid|duplicate|noncompliant)-rules$/.test(p.type));

function isRule(r: unknown): r is { id: string; value: string; tag?: unknown } {
  return (
    typeof r === 'object' &&
    r !== null &&
    typeof (r as { id?: unknown }).id === 'string' &&
    typeof (r as { value?: unknown }).value === 'string'
  );
}

function toServerRule(r: { id: string; value: string; tag?: unknown }): ServerRule {
  return typeof r.tag === 'string' ? { id: r.id, value: r.value, tag: r.tag } : { id: r.id, value: r.value };
}

function withSignal<T extends object>(req: T, opts: RulesOptions): T & { signal?: AbortSignal } {
  return opts.signal ? { ...req, signal: opts.signal } : req;
}

/**
 * Outage gaps of the filtered stream: what a gap is, and filling one with recent search (one query per stream
 * rule, from the newest id seen before the outage, or from its start time when no id was seen).
 */
import type { Logger } from '../log.ts';
import type { ServerRule } from './rules-sync.ts';
import { type MatchingRule, toTweetRecords } from './tweet-record.ts';
import { type RecentSearch, SEARCH_WINDOW_MS, type SearchWindow } from './x-search.ts';

/** Twitter's snowflake epoch: ids carry their creation time in ms since this instant, shifted left by 22 bits. */
const SNOWFLAKE_EPOCH_MS = 1_288_834_974_657;

export /** Tweets published while disconnected: after `sinceId`, or from `startMs` when no id was seen yet. */
interface Gap {
  sinceId: string | undefined;
  startMs: number | undefined;
  /** CursorTracker hold keeping the saved cursor at the gap's start until the gap is in Kafka. */
  hold: number;
}

/** The creation time encoded in a snowflake id, when the id is one (a plausible time not in the future). */
export function snowflakeTimeMs(id: string, nowMs: number): number | undefined {
  const ms = Number(BigInt(id) >> 22n) + SNOWFLAKE_EPOCH_MS;
  return ms > SNOWFLAKE_EPOCH_MS && ms <= nowMs + 86_400_000 ? ms : undefined;
}

/** What searching a gap needs from the stream source. */
export interface GapSearchContext {
  /** The source's name, for `_ingest.source`. */
  source: string;
  rules: readonly ServerRule[];
  search: RecentSearch;
  logger: Logger;
  now: () => number;
  /** Queues one page's records and dead letters (waiting for room first) and counts its problems. */
  deliver(mapped: ReturnType<typeof toTweetRecords>, signal: AbortSignal): Promise<void>;
}

/** Fills `gap` with recent search; a gap older than search reaches (7 days) is filled from 7 days back. */
export async function searchGap(gap: Gap, ctx: GapSearchContext, signal: AbortSignal): Promise<void> {
  const now = ctx.now();
  const tooOld = gap.startMs !== undefined && now - gap.startMs > SEARCH_WINDOW_MS - 120_000;
  if (tooOld)
    ctx.logger.warn('the outage is longer than recent search reaches back (7 days): older tweets are lost');
  let total = 0;
  for (const rule of ctx.rules) {
    const window: SearchWindow =
      gap.sinceId !== undefined && !tooOld
        ? { query: rule.value, sinceId: gap.sinceId }
        : {
            query: rule.value,
            startTimeMs: tooOld ? now - SEARCH_WINDOW_MS + 120_000 : (gap.startMs ?? now),
          };
    const matchingRules: MatchingRule[] = [
      rule.tag === undefined ? { id: rule.id } : { id: rule.id, tag: rule.tag },
    ];
    let token: string | undefined;
    do {
      const page = await ctx.search.page(window, token, signal);
      const mapped = toTweetRecords(page.body, {
        source: ctx.source,
        ingestedAtMs: ctx.now(),
        matchingRules,
      });
      total += mapped.records.length;
      await ctx.deliver(mapped, signal);
      token = page.nextToken;
    } while (token);
  }
  ctx.logger.info(
    { sinceId: gap.sinceId, startMs: gap.startMs, tweets: total },
    'outage gap filled with recent search',
  );
}

/**
 * Kinds of post the synthetic generator does not make but X serves, added by the X API emulator to some of the
 * tweets it generates so clients meet them: long posts (the full text in `note_tweet`), edited posts (an edit
 * history of two ids), and polls (`attachments.poll_ids` with the poll in `includes.polls`). Which tweets get
 * which kind follows from their position in the emulator's sequence, so a seed still gives the same tweets.
 */
import type { TweetPayload } from '../sources/synthetic-payloads.ts';

/** Every n-th generated tweet gets the variant (primes, so the variants combine on some tweets). */
const LONG_POST_EVERY = 7;
const EDITED_EVERY = 11;
const POLL_EVERY = 13;

const LONG_TAIL =
  ' The rest of this post goes past the 280 characters of a classic post, which is why X returns the whole ' +
  'text in note_tweet (note_post in API 2.167) and only its beginning in text; a client that stores text alone ' +
  'keeps a truncated post.';

/** Returns the payload of the `seq`-th generated tweet with its variants applied (the input is not changed). */
export function withPostVariants(payload: TweetPayload, seq: number): TweetPayload {
  const data = { ...payload.data };
  const includes = { ...payload.includes };
  if (seq % LONG_POST_EVERY === 0) {
    data.note_tweet = { text: `${data.text}${LONG_TAIL}` };
  }
  if (seq % EDITED_EVERY === 0) {
    const createdMs = Date.parse(data.created_at);
    data.edit_history_tweet_ids = [(BigInt(data.id) - 4_194_304_000n).toString(), data.id];
    data.edit_controls = {
      is_edit_eligible: true,
      editable_until: new Date(createdMs + 3_600_000).toISOString(),
      edits_remaining: 4,
    };
  }
  if (seq % POLL_EVERY === 0) {
    const pollId = (BigInt(data.id) + 1n).toString();
    data.attachments = { ...data.attachments, poll_ids: [pollId] };
    includes.polls = [
      {
        id: pollId,
        options: [
          { position: 1, label: 'yes', votes: seq % 97 },
          { position: 2, label: 'no', votes: seq % 89 },
        ],
        voting_status: 'open',
        duration_minutes: 1440,
        end_datetime: new Date(Date.parse(data.created_at) + 86_400_000).toISOString(),
      },
    ];
  }
  return { data, includes };
}

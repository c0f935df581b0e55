/**
 * The source contract (Benthos-style): a batch's position advances only after it is acknowledged downstream,
 * so a crash between read and ack replays the batch instead of losing it.
 */
import type { DeadLetter, TweetRecord } from '../types.ts';

/** Called once Kafka has acked every record of the batch (or with an error when it could not). */
export type Ack = (err?: Error) => Promise<void>;

export interface SourceBatch {
  tweets: TweetRecord[];
  /** Malformed payloads to publish to the dead-letter topic, acked with the batch. */
  deadLetters: DeadLetter[];
  ack: Ack;
}

/** Thrown by read() when a finite source (replay, --max-tweets) has nothing more. */
export class EndOfInput extends Error {
  constructor() {
    super('end of input');
    this.name = 'EndOfInput';
  }
}

/** What a source reports for the operator view (progress line, dashboard, metrics). */
export interface SourceState {
  state: 'connecting' | 'connected' | 'backing-off' | 'stopped';
  /** When backing off: epoch ms of the next attempt. */
  until?: number;
  reason?: string;
  reconnects: number;
}

export interface Source {
  /** Present on sources that count reconnects, X problems, heartbeats (bound to metrics by the produce loop). */
  readonly counters?: SourceCounters;
  readonly name: string;
  connect(signal: AbortSignal): Promise<void>;
  /** Resolves with the next batch; rejects with EndOfInput when done, or an AbortError when signalled. */
  read(signal: AbortSignal): Promise<SourceBatch>;
  close(): Promise<void>;
  state(): SourceState;
}

/**
 * Counters every source keeps for metrics and the operator view (read by the caller, never reset).
 */
export interface SourceCounters {
  /** Records handed out by read(). */
  tweets: number;
  deadLetters: number;
  /** Error objects X reported inside payloads (stream error lines, partial errors on pages). */
  xProblems: number;
  heartbeats: number;
  /** Connections lost or refused that led to a retry. */
  reconnects: number;
  /** Tweets collected by gap-filling searches after outages (before dedup). */
  backfilledTweets: number;
  /** Stream tweets dropped because they matched only rules that are not tweetpipe's (x.rulesMode). */
  foreignRuleTweets: number;
}

export function newSourceCounters(): SourceCounters {
  return {
    tweets: 0,
    deadLetters: 0,
    xProblems: 0,
    heartbeats: 0,
    reconnects: 0,
    backfilledTweets: 0,
    foreignRuleTweets: 0,
  };
}

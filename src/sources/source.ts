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
  readonly name: string;
  connect(signal: AbortSignal): Promise<void>;
  /** Resolves with the next batch; rejects with EndOfInput when done, or an AbortError when signalled. */
  read(signal: AbortSignal): Promise<SourceBatch>;
  close(): Promise<void>;
  state(): SourceState;
}

/**
 * Which NameNode of an HA pair (or more) WebHDFS calls go to: the one that answered last, remembered for every later
 * call; a StandbyException or a failure to connect moves all calls to the next URL.
 */
import { type ErrorCode, TweetpipeError } from '../errors.ts';
import { isConnectFailure } from './webhdfs-errors.ts';

export type NamenodeSwitch = (event: { from: string; to: string; code: ErrorCode }) => void;

export class NamenodeFailover {
  readonly urls: readonly string[];
  readonly #onSwitch: NamenodeSwitch;
  #active = 0;

  constructor(urls: string[], onSwitch: NamenodeSwitch) {
    if (urls.length === 0) throw new TweetpipeError('CONFIG_INVALID', 'WebHDFS needs at least one URL');
    this.urls = urls.map((u) => u.replace(/\/+$/, ''));
    this.#onSwitch = onSwitch;
  }

  /** The index of the NameNode calls go to now. */
  get active(): number {
    return this.#active;
  }

  get activeUrl(): string {
    return this.urls[this.#active] ?? '';
  }

  /** After a call to NameNode `index` failed with `err`: moves calls to the next one when `err` says to. */
  failed(index: number, err: unknown): void {
    const failover = err instanceof TweetpipeError && (err.code === 'HDFS_STANDBY' || isConnectFailure(err));
    // Compare first: a concurrent call may already have moved on, and must not be moved back.
    if (failover && this.urls.length > 1 && this.#active === index) {
      this.#active = (index + 1) % this.urls.length;
      this.#onSwitch({ from: this.urls[index] ?? '', to: this.activeUrl, code: err.code });
    }
  }
}

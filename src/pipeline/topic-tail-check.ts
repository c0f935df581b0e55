/**
 * What a failed send already put in the topic. The idempotent producer drops the duplicates of its own retries,
 * but once it gives up (a broker down longer than its few retries) the produce loop sends the batch again as a new
 * request with new sequence numbers, and the records that reached the log before the failure (their ack lost with
 * the broker) would be written twice. Before such a re-send the loop drops the keys already at the end of the
 * topic. One read of the tail serves every batch that failed before the read began; a batch that failed later
 * needs a read that began after its failure.
 */
export class TopicTailCheck {
  readonly #readTail: () => Promise<string[]>;
  #failures = 0;
  #read: { covers: number; keys: Promise<Set<string>> } | undefined;

  /** `readTail` returns the keys at the end of every partition, deep enough to hold every unacked record. */
  constructor(readTail: () => Promise<string[]>) {
    this.#readTail = readTail;
  }

  /** Records a failed send; the ticket asks `keysAfter` for a read that began after it. */
  failed(): number {
    return ++this.#failures;
  }

  async keysAfter(ticket: number): Promise<Set<string>> {
    if (this.#read === undefined || this.#read.covers < ticket) {
      const read = { covers: this.#failures, keys: this.#readTail().then((keys) => new Set(keys)) };
      this.#read = read;
      read.keys.catch(() => {
        if (this.#read === read) this.#read = undefined;
      });
    }
    return this.#read.keys;
  }
}

/** Calls `onStall` when touch() has not been called for `timeoutMs` (paused while we are the slow side). */
export class StallWatchdog {
  readonly #timeoutMs: number;
  readonly #onStall: () => void;
  #timer: NodeJS.Timeout | undefined;

  constructor(timeoutMs: number, onStall: () => void) {
    this.#timeoutMs = timeoutMs;
    this.#onStall = onStall;
    this.touch();
  }

  touch(): void {
    if (this.#timer) this.#timer.refresh();
    else this.#timer = setTimeout(this.#onStall, this.#timeoutMs);
  }

  pause(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}

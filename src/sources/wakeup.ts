/** Wakes everyone currently waiting; each wait may also end by timeout or abort. */
export class Wakeup {
  readonly #waiters = new Set<() => void>();

  wake(): void {
    for (const resolve of this.#waiters) resolve();
  }

  wait(signal: AbortSignal, timeoutMs?: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const settle = (err?: unknown) => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        this.#waiters.delete(done);
        if (err === undefined) resolve();
        else reject(err);
      };
      const done = () => settle();
      const onAbort = () => settle(signal.reason ?? new Error('aborted'));
      const timer = timeoutMs === undefined ? undefined : setTimeout(done, Math.max(0, timeoutMs));
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      this.#waiters.add(done);
    });
  }
}

/**
 * X's per-endpoint rate limits for the X API emulator: a request budget per window that starts with the first
 * request (X's 15-minute windows), reported on every answer in `x-rate-limit-limit/remaining/reset` (reset in
 * epoch seconds).
 */

export interface RateLimitConfig {
  limit: number;
  windowMs: number;
}

export type RateLimitHeaders = Record<
  'x-rate-limit-limit' | 'x-rate-limit-remaining' | 'x-rate-limit-reset',
  string
>;

export class RateWindow {
  private readonly config: RateLimitConfig;
  private readonly now: () => number;
  private windowEndMs = 0;
  private used = 0;

  constructor(config: RateLimitConfig, now: () => number) {
    this.config = config;
    this.now = now;
  }

  /** Spends one request if the budget allows it; the headers describe the state after this request. */
  take(): { allowed: boolean; headers: RateLimitHeaders } {
    this.roll();
    const allowed = this.used < this.config.limit;
    if (allowed) this.used++;
    return { allowed, headers: this.headers(this.config.limit - this.used) };
  }

  /** Headers of an exhausted window, for the rate-limit scenario's injected 429s. */
  exhausted(): RateLimitHeaders {
    this.roll();
    return this.headers(0);
  }

  private roll(): void {
    const now = this.now();
    if (now >= this.windowEndMs) {
      this.windowEndMs = now + this.config.windowMs;
      this.used = 0;
    }
  }

  private headers(remaining: number): RateLimitHeaders {
    return {
      'x-rate-limit-limit': String(this.config.limit),
      'x-rate-limit-remaining': String(remaining),
      'x-rate-limit-reset': String(Math.ceil(this.windowEndMs / 1000)),
    };
  }
}

/**
 * Long-running commands show progress: on a terminal, one line rewritten every second (rates and totals from the
 * metrics registry); otherwise a structured log line every `intervalS` seconds, so log collectors get the same.
 */
import type { Counter } from 'prom-client';
import type { Logger } from '../log.ts';
import type { Metrics } from './metrics.ts';

export interface ProgressItem {
  label: string;
  counter: Counter;
  /** Show the per-second rate beside the total. */
  rate?: boolean;
}

export function startProgress(
  metrics: Metrics,
  items: ProgressItem[],
  log: Logger,
  opts: { tty?: boolean; intervalS?: number; extra?: () => string } = {},
): () => void {
  const tty = opts.tty ?? process.stderr.isTTY === true;
  const intervalMs = (tty ? 1 : (opts.intervalS ?? 10)) * 1000;
  const last = new Map<string, number>();
  let lastAt = performance.now();
  const tick = async () => {
    const now = performance.now();
    const seconds = (now - lastAt) / 1000;
    lastAt = now;
    const parts: string[] = [];
    const fields: Record<string, number> = {};
    for (const item of items) {
      const total = await metrics.total(item.counter);
      const rate = (total - (last.get(item.label) ?? 0)) / seconds;
      last.set(item.label, total);
      fields[item.label] = total;
      if (item.rate) fields[`${item.label}_per_s`] = Math.round(rate);
      parts.push(item.rate ? `${item.label} ${fmt(total)} (${fmt(rate)}/s)` : `${item.label} ${fmt(total)}`);
    }
    const extra = opts.extra?.() ?? '';
    if (tty) process.stderr.write(`\r\x1b[2K${parts.join(' | ')}${extra ? ` | ${extra}` : ''}`);
    else log.info({ progress: fields, ...(extra ? { state: extra } : {}) }, 'progress');
  };
  const timer = setInterval(() => void tick(), intervalMs);
  timer.unref();
  return () => {
    clearInterval(timer);
    if (tty) process.stderr.write('\n');
  };
}

const fmt = (n: number): string =>
  n >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : n >= 1e4 ? `${(n / 1e3).toFixed(1)}k` : String(Math.round(n));

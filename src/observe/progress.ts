/**
 * Long-running commands show progress: on a terminal, one line rewritten every second (rates and totals from the
 * metrics registry); otherwise a structured log line every `intervalS` seconds, so log collectors get the same.
 */
import type { Counter } from 'prom-client';
import type { Logger } from '../log.ts';
import type { Metrics } from './metrics.ts';

interface ProgressItem {
  counter: (metrics: Metrics) => Counter;
  /** Show the per-second rate beside the total. */
  rate?: boolean;
}

/** What a progress line can show, by label: the counter it totals, and whether its rate is shown too. */
const PROGRESS_ITEMS = {
  produced: { counter: (m) => m.produced, rate: true },
  consumed: { counter: (m) => m.consumed, rate: true },
  written: { counter: (m) => m.written, rate: true },
  files: { counter: (m) => m.filesCommitted },
  duplicates: { counter: (m) => m.duplicates },
  dlq: { counter: (m) => m.deadLetters },
  reconnects: { counter: (m) => m.reconnects },
  errors: { counter: (m) => m.errors },
} satisfies Record<string, ProgressItem>;

export type ProgressLabel = keyof typeof PROGRESS_ITEMS;

export function startProgress(
  metrics: Metrics,
  labels: ProgressLabel[],
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
    for (const label of labels) {
      const item: ProgressItem = PROGRESS_ITEMS[label];
      const total = await metrics.total(item.counter(metrics));
      const rate = (total - (last.get(label) ?? 0)) / seconds;
      last.set(label, total);
      fields[label] = total;
      if (item.rate) fields[`${label}_per_s`] = Math.round(rate);
      parts.push(item.rate ? `${label} ${fmt(total)} (${fmt(rate)}/s)` : `${label} ${fmt(total)}`);
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

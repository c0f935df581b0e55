/** The human units of the compact flags and compact.every: durations (`90s`, `15m`, `2h`, `1d`) and sizes (`256MB`). */
import { TweetpipeError } from '../errors.ts';

const DURATION_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const SIZE_BYTES: Record<string, number> = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 };

function parseUnit(what: string, text: string, units: Record<string, number>, example: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]+)\s*$/i.exec(text);
  const factor = m?.[2] ? units[m[2].toLowerCase()] : undefined;
  const value = factor === undefined ? Number.NaN : Number(m?.[1]) * factor;
  if (!(value > 0))
    throw new TweetpipeError(
      'USAGE',
      `${what} must be a positive number with a unit (${Object.keys(units).join(', ')}), like ${example}: got "${text}"`,
    );
  return Math.round(value);
}

/** Milliseconds of a duration like `2h`; `what` names the flag or key in the error. */
export const parseDurationMs = (what: string, text: string): number =>
  parseUnit(what, text, DURATION_MS, '2h');

/** Bytes of a size like `256MB` (binary multiples). */
export const parseSizeBytes = (what: string, text: string): number =>
  parseUnit(what, text, SIZE_BYTES, '256MB');

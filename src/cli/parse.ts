/** Flag value parsers that fail with the flag's name and the expected form (exit code 2). */
import { InvalidArgumentError } from 'commander';

export const positiveInt =
  (flag: string) =>
  (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 0)
      throw new InvalidArgumentError(`${flag} expects a whole number >= 0, got "${value}"`);
    return n;
  };

export const positiveNumber =
  (flag: string) =>
  (value: string): number => {
    const n = Number(value);
    if (!Number.isFinite(n) || n <= 0)
      throw new InvalidArgumentError(`${flag} expects a number > 0, got "${value}"`);
    return n;
  };

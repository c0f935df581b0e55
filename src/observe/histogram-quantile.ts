/** Quantiles from a Prometheus histogram's cumulative buckets, as the dashboard shows latency. */
export interface HistogramBucket {
  /** Upper bound (Infinity for the last bucket). */
  le: number;
  /** Cumulative count of observations <= le. */
  count: number;
}

export interface HistogramReading {
  buckets: HistogramBucket[];
  sum: number;
}

/**
 * Estimates a quantile from cumulative buckets the way Prometheus' histogram_quantile does: linear interpolation
 * inside the bucket the rank falls in; a rank in the +Inf bucket answers the highest finite bound.
 */
export function histogramQuantile(buckets: HistogramBucket[], q: number): number | null {
  const total = buckets.at(-1)?.count ?? 0;
  if (total <= 0) return null;
  const rank = q * total;
  let lowerBound = 0;
  let lowerCount = 0;
  for (const bucket of buckets) {
    if (bucket.count >= rank) {
      if (!Number.isFinite(bucket.le)) return lowerBound;
      const inBucket = bucket.count - lowerCount;
      return inBucket > 0
        ? lowerBound + ((bucket.le - lowerBound) * (rank - lowerCount)) / inBucket
        : lowerBound;
    }
    lowerBound = bucket.le;
    lowerCount = bucket.count;
  }
  return lowerBound;
}

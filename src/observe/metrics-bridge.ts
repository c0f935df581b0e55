/**
 * Carries metric updates from a worker thread to the process's registry, so that /metrics, the progress line and
 * the dashboard of a sink with worker threads count like those of one running on the main thread.
 *
 * The worker's Metrics has its counters, gauges and histograms wrapped: each update is applied locally and queued;
 * updates are coalesced per metric and label set (increments summed, the last value of a gauge kept, observations
 * listed) and flushed as one message. prom-client's own AggregatorRegistry merges whole registries for the
 * cluster module, but the process's readers (progress line, dashboard, the final summary) read Metrics objects,
 * not the exposition text, so the updates themselves travel.
 */
import { Counter, Gauge, Histogram } from 'prom-client';
import type { Metrics } from './metrics.ts';

type Method = 'inc' | 'dec' | 'set' | 'observe';
type Labels = Record<string, string | number>;

/** One coalesced update: `values` holds one number for inc/dec/set, every observation for observe. */
export interface MetricOp {
  metric: string;
  method: Method;
  labels: Labels;
  values: number[];
}

const METHODS: Record<Method, true> = { inc: true, dec: true, set: true, observe: true };

function metricsOf(metrics: Metrics): [string, Counter | Gauge | Histogram][] {
  return Object.entries(metrics).filter(
    (entry): entry is [string, Counter | Gauge | Histogram] =>
      entry[1] instanceof Counter || entry[1] instanceof Gauge || entry[1] instanceof Histogram,
  );
}

/** prom-client's update signatures: (value?), (labels, value?). */
function split(method: Method, args: unknown[]): { labels: Labels; value: number } {
  const [first, second] = args;
  const withLabels = typeof first === 'object' && first !== null;
  const raw = withLabels ? second : first;
  const value = typeof raw === 'number' ? raw : method === 'inc' || method === 'dec' ? 1 : Number.NaN;
  return { labels: withLabels ? (first as Labels) : {}, value };
}

/** Wraps the updates of `metrics` so that they are also queued; `flush()` hands the queue to `send`. */
export function forwardMetrics(metrics: Metrics, send: (ops: MetricOp[]) => void): { flush(): void } {
  let pending = new Map<string, MetricOp>();
  for (const [name, metric] of metricsOf(metrics)) {
    const target = metric as unknown as Record<string, unknown>;
    for (const method of Object.keys(METHODS) as Method[]) {
      const original = target[method];
      if (typeof original !== 'function') continue;
      target[method] = (...args: unknown[]) => {
        original.apply(metric, args);
        const { labels, value } = split(method, args);
        const key = `${name}\0${method}\0${JSON.stringify(labels)}`;
        const op = pending.get(key);
        if (!op) pending.set(key, { metric: name, method, labels, values: [value] });
        else if (method === 'observe') op.values.push(value);
        else if (method === 'set') op.values[0] = value;
        else op.values[0] = (op.values[0] ?? 0) + value;
      };
    }
  }
  return {
    flush() {
      if (pending.size === 0) return;
      const ops = [...pending.values()];
      pending = new Map();
      send(ops);
    },
  };
}

/** Applies updates forwarded from a worker to the process's Metrics. */
export function applyMetricOps(metrics: Metrics, ops: readonly MetricOp[]): void {
  const byName = new Map(metricsOf(metrics));
  for (const op of ops) {
    const metric = byName.get(op.metric) as unknown as
      | Record<Method, (labels: Labels, value: number) => void>
      | undefined;
    const update = metric?.[op.method];
    if (!update || !METHODS[op.method]) continue;
    for (const value of op.values) update.call(metric, op.labels, value);
  }
}

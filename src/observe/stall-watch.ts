/**
 * Nothing may stall silently. A stage (source, produce, sink) is stalled when its errors keep coming and it has
 * made no progress for longer than `health.stallAfterS` since the first of them: a sink retrying a dead-letter
 * send to a topic that does not exist, an HDFS quota, a broker that refuses. A stalled stage turns `/readyz`
 * not-ready with the reason, sets `tweetpipe_stalled{stage}` and counts `tweetpipe_stalls_total{stage}`, and logs
 * one error line naming what is stuck; the first progress clears it.
 *
 * It watches the metrics registry, not the code paths: every retry loop counts its failures in
 * `tweetpipe_errors_total{stage,code}` and every stage counts what it gets done, in this thread or in a sink worker
 * thread (whose counts reach this registry through the metrics bridge), so one watcher sees them all. Errors alone
 * are not a stall (an outage shorter than the bound is ridden out), and neither is quiet (an idle stream makes no
 * progress and no errors).
 */
import type { Logger } from '../log.ts';
import type { Metrics } from './metrics.ts';

export interface WatchedStage {
  /** The `stage` label of tweetpipe_errors_total. */
  stage: string;
  /** What the stage gets done, as a count that grows (records written, tweets produced). */
  progress: () => Promise<number>;
  /** Said in messages: "no record written or dead-lettered". */
  progressName: string;
}

export interface StallCheck {
  ok: boolean;
  detail: string;
}

interface StageState {
  progress: number;
  errors: number;
  /** First error since the last progress. */
  failingSince: number | undefined;
  lastErrorAt: number;
  errorsSinceProgress: number;
  codes: Set<string>;
  stalled: boolean;
}

export interface StallWatchOptions {
  metrics: Metrics;
  log: Logger;
  stages: WatchedStage[];
  stallAfterMs: number;
  /** How often the registry is read. */
  intervalMs?: number;
  now?: () => number;
}

export class StallWatch {
  private readonly opts: StallWatchOptions;
  private readonly state = new Map<string, StageState>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> = Promise.resolve();

  constructor(opts: StallWatchOptions) {
    this.opts = opts;
  }

  start(): this {
    this.timer = setInterval(() => {
      this.running = this.running.then(() => this.check()).catch(() => {});
    }, this.opts.intervalMs ?? 1000);
    this.timer.unref();
    return this;
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Reads the registry once and updates every stage's verdict. */
  async check(): Promise<void> {
    const { metrics } = this.opts;
    const now = (this.opts.now ?? Date.now)();
    const { values } = await metrics.errors.get();
    for (const watched of this.opts.stages) {
      let errors = 0;
      const codes = new Set<string>();
      for (const v of values)
        if (v.labels.stage === watched.stage && v.value > 0) {
          errors += v.value;
          codes.add(String(v.labels.code));
        }
      const progress = await watched.progress();
      const s = this.state.get(watched.stage);
      if (!s) {
        this.state.set(watched.stage, {
          progress,
          errors,
          failingSince: undefined,
          lastErrorAt: 0,
          errorsSinceProgress: 0,
          codes: new Set(),
          stalled: false,
        });
        continue;
      }
      if (progress > s.progress) {
        s.progress = progress;
        s.failingSince = undefined;
        s.errorsSinceProgress = 0;
        s.codes.clear();
        if (s.stalled) this.recovered(watched);
      }
      if (errors > s.errors) {
        s.errorsSinceProgress += errors - s.errors;
        s.errors = errors;
        s.failingSince ??= now;
        s.lastErrorAt = now;
        for (const c of codes) s.codes.add(c);
      }
      const bound = this.opts.stallAfterMs;
      const stuck =
        s.failingSince !== undefined &&
        s.errorsSinceProgress >= 2 &&
        now - s.failingSince >= bound &&
        now - s.lastErrorAt < bound;
      if (stuck && !s.stalled) this.stalled(watched, s, now);
      else if (!stuck && s.stalled && s.failingSince !== undefined) this.recovered(watched);
    }
  }

  /** One readiness check per stage, `stall:<stage>`. */
  checks(): Record<string, StallCheck> {
    const out: Record<string, StallCheck> = {};
    for (const { stage } of this.opts.stages) {
      const s = this.state.get(stage);
      out[`stall:${stage}`] = s?.stalled
        ? { ok: false, detail: this.reason(stage, s, (this.opts.now ?? Date.now)()) }
        : { ok: true, detail: 'progressing or idle' };
    }
    return out;
  }

  private reason(stage: string, s: StageState, now: number): string {
    const watched = this.opts.stages.find((w) => w.stage === stage);
    const forS = Math.round((now - (s.failingSince ?? now)) / 1000);
    return (
      `${stage} stalled: ${s.errorsSinceProgress} errors (${[...s.codes].join(', ')}) in ${forS} s and ` +
      `${watched?.progressName ?? 'no progress'} since; see the warning lines of this stage for each error`
    );
  }

  private stalled(watched: WatchedStage, s: StageState, now: number): void {
    s.stalled = true;
    const { metrics, log } = this.opts;
    metrics.stalled.set({ stage: watched.stage }, 1);
    metrics.stalls.inc({ stage: watched.stage });
    log.error(
      { stage: watched.stage, errors: s.errorsSinceProgress, codes: [...s.codes] },
      `stalled: ${this.reason(watched.stage, s, now)}`,
    );
  }

  private recovered(watched: WatchedStage): void {
    const s = this.state.get(watched.stage);
    if (s) s.stalled = false;
    this.opts.metrics.stalled.set({ stage: watched.stage }, 0);
    this.opts.log.info({ stage: watched.stage }, `${watched.stage} is no longer stalled`);
  }
}

/** The stages of the pipeline as the metrics name them, with what counts as each one's progress. */
export function pipelineStages(
  metrics: Metrics,
  names: readonly ('source' | 'produce' | 'sink')[],
): WatchedStage[] {
  const all: WatchedStage[] = [
    {
      stage: 'source',
      progress: () => metrics.total(metrics.received),
      progressName: 'no tweet received from the source',
    },
    {
      stage: 'produce',
      progress: async () =>
        (await metrics.total(metrics.produced)) +
        (await metrics.total(metrics.deadLetters, { stage: 'source' })),
      progressName: 'no tweet produced to Kafka or dead-lettered',
    },
    {
      stage: 'sink',
      progress: async () =>
        (await metrics.total(metrics.written)) +
        (await metrics.total(metrics.deadLetters, { stage: 'sink' })),
      progressName: 'no record written to HDFS or dead-lettered',
    },
  ];
  return all.filter((s) => names.includes(s.stage as 'source' | 'produce' | 'sink'));
}

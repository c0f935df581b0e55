/**
 * Where the CPU went during a benchmark's measured interval: how many of the machine's cores were busy
 * (/proc/stat), and how many of them the tweetpipe process and each stack server used (/proc/<pid>/stat), sampled
 * every 100 ms for the whole bench. On a 2-core machine that also runs the broker and the DataNode, a throughput
 * figure means little without it: it tells a figure bound by tweetpipe's own thread from one bound by a full
 * machine, where only less CPU per tweet can go faster.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';

export interface CpuWindow {
  cores: number;
  /** Cores busy on the whole machine (all processes, kernel included), averaged over the interval. */
  busyCores: number;
  /** Cores each tracked process used, averaged over the interval (all its threads). */
  processes: Record<string, number>;
}

/** Where the CPU went while a measured process did its work: that process, the stack servers, the rest. */
export interface RunCpu extends CpuWindow {
  /** What the measured process is called in `processes` ("tweetpipe", "ProducerPerformance"). */
  process: string;
  /** CPU microseconds the measured process spent per record in the interval. */
  usPerRecord: number;
}

interface Sample {
  t: number;
  busy: number;
  total: number;
  /** CPU seconds per tracked label so far. */
  procs: Map<string, number>;
}

const SAMPLE_MS = 100;

function clockTicks(): number {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
}

export class CpuMeter {
  private readonly tracked = new Map<string, number>();
  /** The processes that run for the whole bench (the stack servers), shown beside every measured one. */
  private readonly servers: string[] = [];
  private readonly lastSeen = new Map<string, number>();
  private readonly samples: Sample[] = [];
  private readonly timer: NodeJS.Timeout;
  private readonly hz = clockTicks();
  readonly cores = os.availableParallelism();

  /** `processes`: label -> pid of what runs for the whole bench (the stack servers). */
  constructor(processes: Record<string, number | null>) {
    for (const [label, pid] of Object.entries(processes))
      if (pid !== null) {
        this.tracked.set(label, pid);
        this.servers.push(label);
      }
    this.sample();
    this.timer = setInterval(() => this.sample(), SAMPLE_MS);
    this.timer.unref();
  }

  /** Starts tracking a process (a tweetpipe child) under `label`, which must be unique in the bench. */
  track(label: string, pid: number): void {
    this.tracked.set(label, pid);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /**
   * Averages between two wall-clock times (ms since the epoch), from the samples around them. Processes that were
   * not tracked for the whole interval are left out.
   */
  window(fromMs: number, toMs: number): CpuWindow | null {
    this.sample();
    const a = this.samples.findLast((s) => s.t <= fromMs) ?? this.samples[0];
    const b = this.samples.find((s) => s.t >= toMs) ?? this.samples.at(-1);
    if (!a || !b || b.t <= a.t || b.total <= a.total) return null;
    const seconds = (b.t - a.t) / 1000;
    const processes: Record<string, number> = {};
    for (const [label, end] of b.procs) {
      const start = a.procs.get(label);
      if (start !== undefined) processes[label] = (end - start) / seconds;
    }
    return {
      cores: this.cores,
      busyCores: ((b.busy - a.busy) / (b.total - a.total)) * this.cores,
      processes,
    };
  }

  /**
   * The CPU figures of the process tracked as `label`, shown as `name`, between two times in which it handled
   * `records` records: it, each stack server, and the rest of the machine.
   */
  measure(label: string, name: string, fromMs: number, toMs: number, records: number): RunCpu | null {
    const w = this.window(fromMs, toMs);
    const own = w?.processes[label];
    if (!w || own === undefined) return null;
    const processes: Record<string, number> = { [name]: own };
    for (const server of this.servers)
      if (w.processes[server] !== undefined) processes[server] = w.processes[server];
    processes.other = Math.max(0, w.busyCores - Object.values(processes).reduce((a, b) => a + b, 0));
    return { ...w, processes, process: name, usPerRecord: (own * ((toMs - fromMs) / 1000) * 1e6) / records };
  }

  private sample(): void {
    const t = Date.now();
    let busy = 0;
    let total = 0;
    try {
      // cpu  user nice system idle iowait irq softirq steal ...
      const f = readFileSync('/proc/stat', 'utf8')
        .split('\n', 1)[0]!
        .trim()
        .split(/\s+/)
        .slice(1)
        .map(Number);
      const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = f;
      busy = user + nice + system + irq + softirq + steal;
      total = busy + idle + iowait;
    } catch {
      return; // no /proc: no CPU figures
    }
    const procs = new Map<string, number>();
    for (const [label, pid] of this.tracked) {
      const seconds = this.processSeconds(pid);
      // An exited process keeps its last figure, so an interval that ends after its exit still counts it.
      if (seconds !== null) this.lastSeen.set(label, seconds);
      const known = this.lastSeen.get(label);
      if (known !== undefined) procs.set(label, known);
    }
    this.samples.push({ t, busy, total, procs });
  }

  private processSeconds(pid: number): number | null {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      // Fields after the command name (which may hold spaces): state is field 3, utime 14, stime 15.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return (Number(fields[11]) + Number(fields[12])) / this.hz;
    } catch {
      return null;
    }
  }
}

/**
 * Preloaded into a tweetpipe child (`node --import bench/memory-sampler.ts`) by bench/sink-memory.ts: samples the
 * process's memory every 50 ms and, at exit, writes to $SINK_MEM_OUT the sample of the highest resident set (what
 * V8's heap spaces, external memory and array buffers held then), the highest value of each figure on its own, and
 * the array buffers still held just after each major GC (what was live then: the rest of a peak's array buffers
 * were dead, waiting for V8's next major GC).
 */
import { writeFileSync } from 'node:fs';
import { constants, PerformanceObserver } from 'node:perf_hooks';
import { getHeapSpaceStatistics } from 'node:v8';

const out = process.env.SINK_MEM_OUT;
const SAMPLE_MS = 50;

type Sample = Record<string, number>;

function sample(): Sample {
  const m = process.memoryUsage();
  const s: Sample = {
    rss: m.rss,
    heapTotal: m.heapTotal,
    heapUsed: m.heapUsed,
    external: m.external,
    arrayBuffers: m.arrayBuffers,
  };
  for (const space of getHeapSpaceStatistics()) {
    s[`${space.space_name}.size`] = space.space_size;
    s[`${space.space_name}.used`] = space.space_used_size;
  }
  return s;
}

if (out) {
  let atPeak: Sample = sample();
  const highest: Sample = { ...atPeak };
  const timer = setInterval(() => {
    const s = sample();
    if (s.rss! > atPeak.rss!) atPeak = s;
    for (const [k, v] of Object.entries(s)) highest[k] = Math.max(highest[k] ?? 0, v);
  }, SAMPLE_MS);
  timer.unref();
  const liveAfterMajorGc: number[] = [];
  new PerformanceObserver((list) => {
    for (const e of list.getEntries())
      if (
        (e as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind ===
        constants.NODE_PERFORMANCE_GC_MAJOR
      )
        liveAfterMajorGc.push(process.memoryUsage().arrayBuffers);
  }).observe({ entryTypes: ['gc'] });
  process.on('exit', () => writeFileSync(out, JSON.stringify({ atPeak, highest, liveAfterMajorGc })));
}

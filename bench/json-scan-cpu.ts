/**
 * The sink's structural JSON validation (`scanJson`, src/sink/json-scan.ts) in isolation: CPU per value over N
 * synthetic tweets (the bench's generator and seed), each a view of one shared buffer as the sink's values are
 * views of a fetched batch. With several checkout directories, each checkout's scanJson runs in turn within every
 * round (alternating, so a load change hits all alike), and every checkout must give the same verdicts. Also
 * reports `buffer.isUtf8` over the same values, the check the sink runs before the scan. CPU, not wall time: the
 * machine is shared.
 *
 *   node_modules/.bin/node bench/json-scan-cpu.ts [values=50000] [rounds=5] [checkout dirs, default this one]
 */
import { isUtf8 } from 'node:buffer';
import { resolve } from 'node:path';
import type { JsonScan } from '../src/sink/json-scan.ts';
import { readSynthetic } from './synthetic-sample.ts';

type ScanJson = (b: Buffer, out: JsonScan) => JsonScan;

const count = Number(process.argv[2] ?? 50_000);
const rounds = Number(process.argv[3] ?? 5);
const checkouts = process.argv.length > 4 ? process.argv.slice(4) : [process.cwd()];

async function values(): Promise<Buffer[]> {
  const parts: Buffer[] = [];
  await readSynthetic(count, (tweets) => {
    for (const t of tweets) parts.push(t.value);
  });
  const batch = Buffer.concat(parts);
  const out: Buffer[] = [];
  let at = 0;
  for (const p of parts) {
    out.push(batch.subarray(at, at + p.length));
    at += p.length;
  }
  return out;
}

/** CPU microseconds per value of one pass of `run` over every value. */
function cpuUsPerValue(vs: Buffer[], run: (b: Buffer) => unknown): number {
  const start = process.cpuUsage();
  for (const v of vs) run(v);
  const used = process.cpuUsage(start);
  return (used.user + used.system) / vs.length;
}

const vs = await values();
const bytes = vs.reduce((sum, v) => sum + v.length, 0) / vs.length;
const scanners: { dir: string; scanJson: ScanJson; out: JsonScan; us: number[] }[] = [];
for (const dir of checkouts) {
  const mod = (await import(resolve(dir, 'src/sink/json-scan.ts'))) as {
    scanJson: ScanJson;
    newJsonScan: () => JsonScan;
  };
  scanners.push({ dir, scanJson: mod.scanJson, out: mod.newJsonScan(), us: [] });
}
// Same verdicts from every checkout, and every synthetic value a valid object with an id.
for (const v of vs)
  for (const s of scanners) {
    const r = s.scanJson(v, s.out);
    if (r.kind !== 'object' || !r.hasId) throw new Error(`${s.dir}: rejected ${v.toString()}`);
  }
const utf8: number[] = [];
for (let round = 0; round < rounds; round++) {
  for (const s of scanners) s.us.push(cpuUsPerValue(vs, (v) => s.scanJson(v, s.out)));
  utf8.push(cpuUsPerValue(vs, isUtf8));
}
const fmt = (us: number[]) => {
  const sorted = [...us].sort((a, b) => a - b);
  return `median ${sorted[Math.floor(sorted.length / 2)]!.toFixed(2)} us, min ${sorted[0]!.toFixed(2)} (rounds: ${us.map((u) => u.toFixed(2)).join(' ')})`;
};
console.log(`${vs.length} values of ${Math.round(bytes)} B on average, ${rounds} rounds, CPU per value:`);
for (const s of scanners) console.log(`scanJson ${s.dir}: ${fmt(s.us)}`);
console.log(`isUtf8: ${fmt(utf8)}`);

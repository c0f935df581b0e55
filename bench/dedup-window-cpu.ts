/**
 * The produce loop's dedup window in process, no Kafka: a million adds of snowflake ids (the window's default size),
 * with records-in-flight garbage beside them as the produce loop makes (an object and a small Buffer a record,
 * dropped every 50,000: producer.maxInFlight), so the window's cost to V8's collector shows. Reports process CPU
 * (all threads) per add and the heap and RSS at the end. `root` picks the checkout whose src/sources/dedup.ts is
 * measured, so a base and a branch can be alternated with the same harness.
 *
 *   node_modules/.bin/node --max-semi-space-size=8 bench/dedup-window-cpu.ts [adds=1000000] [root=.]
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const adds = Number(process.argv[2] ?? 1_000_000);
const root = resolve(process.argv[3] ?? '.');
const { DedupWindow } = await import(pathToFileURL(`${root}/src/sources/dedup.ts`).href);
const IN_FLIGHT = 50_000;

const window = new DedupWindow(1_000_000);
const first = 1_800_000_000_000n << 22n;
let inFlight: unknown[] = [];
let duplicates = 0;
const before = process.cpuUsage();
for (let i = 0; i < adds; i++) {
  const id = (first + BigInt(i * 7)).toString();
  inFlight.push({ id, createdAtMs: i, value: Buffer.allocUnsafe(64) });
  if (inFlight.length >= IN_FLIGHT) inFlight = [];
  if (!window.add(id)) duplicates++;
}
const cpu = process.cpuUsage(before);
const mem = process.memoryUsage();
const mib = (b: number) => (b / 2 ** 20).toFixed(0);
console.log(
  `${root}: ${((cpu.user + cpu.system) / adds).toFixed(2)} us an add, heap used ${mib(mem.heapUsed)} MiB, ` +
    `RSS ${mib(mem.rss)} MiB, ${duplicates} duplicates`,
);

/**
 * The replay source's CPU per tweet, in process, no Kafka: ReplaySource (`--pace max`) read to the end of an NDJSON
 * archive of the bench's synthetic payloads (written first when `archive` does not exist), several rounds; reports
 * process.cpuUsage() (all threads) per tweet, the main thread's share (what the produce loop's thread pays) and
 * tweets/s. `root` picks the checkout whose src/ is measured, so a base and a branch can be alternated.
 *
 *   node_modules/.bin/node bench/replay-source-cpu.ts archive.ndjson [tweets=100000] [rounds=3] [root=.]
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { writeReplayArchive } from './produce.ts';

const archive = resolve(process.argv[2] ?? 'replay-archive.ndjson');
const tweets = Number(process.argv[3] ?? 100_000);
const rounds = Number(process.argv[4] ?? 3);
const root = resolve(process.argv[5] ?? '.');
if (!existsSync(archive)) await writeReplayArchive(archive, tweets);
const { ReplaySource } = await import(pathToFileURL(`${root}/src/sources/replay.ts`).href);
const { EndOfInput } = await import(pathToFileURL(`${root}/src/sources/source.ts`).href);

for (let round = 0; round < rounds; round++) {
  const source = new ReplaySource({ files: [archive], pace: 'max' });
  const cpu0 = process.cpuUsage();
  const main0 = process.threadCpuUsage();
  const t0 = performance.now();
  await source.connect(new AbortController().signal);
  let n = 0;
  let bytes = 0;
  const signal = new AbortController().signal;
  for (;;) {
    try {
      const batch = await source.read(signal);
      n += batch.tweets.length;
      for (const t of batch.tweets) bytes += t.value.length;
    } catch (err) {
      if (err instanceof EndOfInput) break;
      throw err;
    }
  }
  await source.close();
  const cpu = process.cpuUsage(cpu0);
  const main = process.threadCpuUsage(main0);
  const s = (performance.now() - t0) / 1000;
  console.log(
    `${root} round ${round}: ${n} tweets, ${bytes} bytes, ${((cpu.user + cpu.system) / n).toFixed(1)} us CPU/tweet (main thread ${((main.user + main.system) / n).toFixed(1)}), ${(n / s).toFixed(0)} tweets/s`,
  );
}

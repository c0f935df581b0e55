/**
 * The synthetic source's CPU per tweet, in process, no Kafka: SyntheticSource (seed 1, its worker threads) read to
 * the end of N tweets, several rounds; reports process.cpuUsage() (all threads) per tweet, and the share of it on
 * the main thread (receiving and unpacking the batches, what the produce loop pays). `root` picks the
 * checkout whose src/ is measured, so a base and a branch can be alternated with the same harness.
 *
 *   node_modules/.bin/node bench/synthetic-source-cpu.ts [tweets=100000] [rounds=3] [root=.]
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const tweets = Number(process.argv[2] ?? 100_000);
const rounds = Number(process.argv[3] ?? 3);
const root = resolve(process.argv[4] ?? '.');
const { SyntheticSource } = await import(pathToFileURL(`${root}/src/sources/synthetic.ts`).href);
const { EndOfInput } = await import(pathToFileURL(`${root}/src/sources/source.ts`).href);

for (let round = 0; round < rounds; round++) {
  const source = new SyntheticSource({ seed: 1, maxTweets: tweets });
  const cpu0 = process.cpuUsage();
  const main0 = process.threadCpuUsage();
  const t0 = performance.now();
  await source.connect();
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

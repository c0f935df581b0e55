/**
 * The synthetic source's CPU per tweet, in process, no Kafka. `root` picks the checkout whose src/ is measured, so
 * a base and a branch can be alternated with the same harness.
 *
 * - `source` (the default): SyntheticSource (seed 1, its worker threads) read to the end of N tweets, several
 *   rounds; reports process.cpuUsage() (all threads) per tweet, and the share of it on the main thread (receiving
 *   and unpacking the batches, what the produce loop pays).
 * - `writer`: the record writer alone on this thread: payloads of seed 1 made 1,000 at a time (not timed), then
 *   written as a batch; reports this thread's CPU per record over N records, several rounds.
 *
 *   node_modules/.bin/node bench/synthetic-source-cpu.ts [tweets=100000] [rounds=3] [root=.] [source|writer]
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { sourceCpuRound } from './source-cpu-round.ts';

const tweets = Number(process.argv[2] ?? 100_000);
const rounds = Number(process.argv[3] ?? 3);
const root = resolve(process.argv[4] ?? '.');
const what = process.argv[5] ?? 'source';
/** Records per batch in `writer` mode: the source's batch size. */
const BATCH = 1000;
const load = async (path: string) => import(pathToFileURL(`${root}/src/sources/${path}`).href);

if (what === 'writer') await measureWriter();
else if (what === 'source') await measureSource();
else throw new Error(`the fourth argument is 'source' or 'writer', not '${what}'`);

async function measureSource(): Promise<void> {
  const { SyntheticSource } = await load('synthetic.ts');
  const { EndOfInput } = await load('source.ts');
  for (let round = 0; round < rounds; round++) {
    const source = new SyntheticSource({ seed: 1, maxTweets: tweets });
    await sourceCpuRound(`${root} round ${round}`, source, EndOfInput);
  }
}

async function measureWriter(): Promise<void> {
  const { SyntheticTweets } = await load('synthetic-payloads.ts');
  const { SyntheticRecordWriter } = await load('synthetic-record-writer.ts');
  const { SYNTHETIC_RULES } = await load('synthetic-batch.ts');
  const generator = new SyntheticTweets({ seed: 1 });
  const writer = new SyntheticRecordWriter(SYNTHETIC_RULES);
  for (let round = 0; round < rounds; round++) {
    let cpu = 0;
    let bytes = 0;
    for (let n = 0; n < tweets; n += BATCH) {
      // Made untimed just before they are written, as a generator thread does (in cache, the writer's caches warm).
      const payloads = Array.from({ length: BATCH }, () => generator.nextTweet());
      const cpu0 = process.threadCpuUsage();
      writer.begin(BATCH, 'synthetic', 1_765_000_000_000);
      for (const p of payloads) writer.write(p);
      bytes += writer.end().bytes.length;
      const used = process.threadCpuUsage(cpu0);
      cpu += used.user + used.system;
    }
    console.log(
      `${root} writer round ${round}: ${tweets} records, ${bytes} bytes, ${(cpu / tweets).toFixed(2)} us CPU/record`,
    );
  }
}

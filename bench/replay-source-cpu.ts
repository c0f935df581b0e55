/**
 * The replay source's CPU per tweet, in process, no Kafka: ReplaySource (`--pace max`) read to the end of an NDJSON
 * archive of the bench's synthetic payloads (written first when `archive` does not exist), several rounds; reports
 * process.cpuUsage() (all threads, the mapping thread of pace max included) per tweet, the main thread's share (what
 * the produce loop's thread pays: since the seventh round only taking the mapped records over) and tweets/s. `root` picks the checkout whose src/ is measured, so a base and a branch can be alternated.
 *
 *   node_modules/.bin/node bench/replay-source-cpu.ts archive.ndjson [tweets=100000] [rounds=3] [root=.]
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { writeReplayArchive } from './produce.ts';
import { sourceCpuRound } from './source-cpu-round.ts';

const archive = resolve(process.argv[2] ?? 'replay-archive.ndjson');
const tweets = Number(process.argv[3] ?? 100_000);
const rounds = Number(process.argv[4] ?? 3);
const root = resolve(process.argv[5] ?? '.');
if (!existsSync(archive)) await writeReplayArchive(archive, tweets);
const { ReplaySource } = await import(pathToFileURL(`${root}/src/sources/replay.ts`).href);
const { EndOfInput } = await import(pathToFileURL(`${root}/src/sources/source.ts`).href);

for (let round = 0; round < rounds; round++) {
  const source = new ReplaySource({ files: [archive], pace: 'max' });
  await sourceCpuRound(`${root} round ${round}`, source, EndOfInput);
}

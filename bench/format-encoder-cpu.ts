/**
 * One output format's encoder alone, for comparing checkouts: N synthetic tweets (the bench's generator and seed),
 * classified once, written through `createFormat(format).open()` of each checkout in turn and flushed as the
 * partition writer would. Reports process.cpuUsage() (all threads) per tweet, min and median over the rounds, and
 * the size and MD5 of the file each wrote, so a change that should keep the bytes can be seen to.
 *
 *   node_modules/.bin/node bench/format-encoder-cpu.ts [tweets=50000] [format=parquet] [rounds=5] [checkouts...]
 *
 * ROW_GROUP_ROWS=<n> in the environment closes Parquet row groups at n rows instead of the format's default: the
 * sink's own row groups are those its memory budget closes (about 5,400 rows with 3 partitions at the defaults).
 */
import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import type { FormatName } from '../src/sink/formats/format.ts';
import type { KafkaRecord } from '../src/types.ts';
import { readSynthetic } from './synthetic-sample.ts';

const tweets = Number(process.argv[2] ?? 50_000);
const format = (process.argv[3] ?? 'parquet') as FormatName;
const rounds = Number(process.argv[4] ?? 5);
const checkouts = process.argv.length > 5 ? process.argv.slice(5).map((d) => resolve(d)) : [process.cwd()];
const rowGroupRows = process.env.ROW_GROUP_ROWS ? Number(process.env.ROW_GROUP_ROWS) : undefined;

const raw: KafkaRecord[] = [];
const headers = new Map([['source', Buffer.from('synthetic')]]);
await readSynthetic(tweets, (batch) => {
  for (const t of batch)
    raw.push({
      topic: 'twitter_data',
      partition: 0,
      offset: BigInt(raw.length),
      timestamp: t.createdAtMs,
      key: Buffer.from(t.id),
      value: t.value,
      headers,
    });
});

const runs = await Promise.all(
  checkouts.map(async (dir) => {
    const { createFormat } = await import(`${dir}/src/sink/formats/index.ts`);
    const { classify } = await import(`${dir}/src/sink/sink-record.ts`);
    const records = raw.map((r) => {
      const c = classify(r);
      if (!c.ok) throw new Error(c.reason);
      return c.record;
    });
    return { dir, createFormat, records, us: [] as number[], file: '' };
  }),
);

for (let round = 0; round < rounds; round++)
  for (const run of runs) {
    const parquet = rowGroupRows ? { rowGroupRows } : undefined;
    const encoder = run.createFormat(format, { flushBytes: 4 * 1024 * 1024, parquet }).open();
    const md5 = createHash('md5');
    let bytes = 0;
    const keep = (chunk: Uint8Array) => {
      bytes += chunk.length;
      md5.update(chunk);
    };
    const start = process.cpuUsage();
    for (const r of run.records) {
      encoder.write(r);
      if (encoder.wantsFlush) keep(await encoder.flush());
    }
    keep(await encoder.finish());
    const used = process.cpuUsage(start);
    run.us.push((used.user + used.system) / tweets);
    run.file = `${bytes} B, md5 ${md5.digest('hex')}`;
  }

console.log(`${tweets} tweets, ${format}, ${rounds} rounds`);
for (const run of runs) {
  const us = run.us.sort((a, b) => a - b);
  const median = us[us.length >> 1]!;
  console.log(`${run.dir}: min ${us[0]!.toFixed(1)} median ${median.toFixed(1)} us per tweet; ${run.file}`);
}

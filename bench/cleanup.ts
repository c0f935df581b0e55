/**
 * Removes what a bench run left on the stack and on disk: its topics (and their dead-letter topics), consumer groups
 * and HDFS directory, all named with the run id, and its scratch directory. A million tweets take gigabytes in
 * Kafka and HDFS, and the next run makes its own. Best effort: a leftover only costs disk.
 */
import { rm } from 'node:fs/promises';
import { WebHdfsClient } from '../src/hdfs/webhdfs.ts';
import { createAdmin } from '../src/kafka/admin.ts';
import { kafkaConnection } from '../src/kafka/client-options.ts';
import type { BenchContext } from './context.ts';

export async function removeRunArtifacts(ctx: BenchContext): Promise<void> {
  const prefix = `bench-${ctx.runId}-`;
  const admin = createAdmin(kafkaConnection(ctx.config, 'bench'));
  try {
    const groups = [...(await admin.listGroups()).keys()].filter((g) => g.startsWith(prefix));
    if (groups.length > 0) await admin.deleteGroups({ groups });
    const topics = (await admin.listTopics({ includeInternals: false })).filter((t) => t.startsWith(prefix));
    if (topics.length > 0) await admin.deleteTopics({ topics });
  } catch (err) {
    ctx.say(`could not remove every topic and group of this run: ${(err as Error).message}`);
  } finally {
    await admin.close().catch(() => {});
  }
  const client = new WebHdfsClient({ urls: ctx.config.hdfs.webhdfs, user: ctx.config.hdfs.user });
  await client
    .delete(ctx.hdfsRoot, { recursive: true })
    .catch((err: Error) => ctx.say(`could not remove ${ctx.hdfsRoot}: ${err.message}`));
  await client.close();
  await rm(ctx.workDir, { recursive: true, force: true });
}

/**
 * End to end, as a user runs it: `tweetpipe run` on the local stack with the built-in X API emulator (no
 * X_BEARER_TOKEN), tweets landing in HDFS, /metrics and the health endpoints answering, the dashboard watched in a
 * real headless Chromium while numbers move, and a clean stop on SIGTERM.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { gunzipSync } from 'node:zlib';
import type { Storage } from '../../../src/hdfs/storage.ts';
import { WebHdfsClient } from '../../../src/hdfs/webhdfs.ts';
import { WebHdfsStorage } from '../../../src/hdfs/webhdfs-storage.ts';
import { launchChromium } from '../../helpers/browser.ts';
import { startCli, stopCli } from '../../helpers/cli.ts';
import { consoleKeys, deleteTopics, testConfig, uniqueTopic } from '../../helpers/topics.ts';

/** Every committed file under `dir` (skipping `_`/`.` paths the way Spark and Hive do). */
async function committedFiles(storage: Storage, dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await storage.list(dir)) {
    if (entry.name.startsWith('_') || entry.name.startsWith('.')) continue;
    const path = `${dir}/${entry.name}`;
    if (entry.type === 'DIRECTORY') out.push(...(await committedFiles(storage, path)));
    else out.push(path);
  }
  return out;
}

test('tweetpipe run: emulator -> Kafka -> HDFS, metrics, live dashboard, clean stop', {
  timeout: 240_000,
}, async (t) => {
  const config = testConfig();
  const topic = uniqueTopic('run');
  const hdfsDir = `/${topic}`;
  const client = new WebHdfsClient({ urls: config.hdfs.webhdfs, user: config.hdfs.user });
  const storage = new WebHdfsStorage(client);
  const run = startCli(
    [
      'run',
      '--topic',
      topic,
      '--hdfs-dir',
      hdfsDir,
      '--group',
      `${topic}-sink`,
      '--max-age',
      '2',
      '--emulator-rate',
      '300',
      '--metrics-port',
      '0',
      '--state-dir',
      mkdtempSync(join(tmpdir(), 'tweetpipe-run-')),
      '--log-format',
      'json',
    ],
    { X_BEARER_TOKEN: undefined },
  );
  try {
    // The operator is told where to look.
    let url = '';
    for (let i = 0; i < 240 && !url; i++) {
      url = /dashboard\s+(http:\/\/\S+?)\/?\n/.exec(run.stdout())?.[1] ?? '';
      if (!url) await sleep(250);
    }
    assert.ok(url, `no dashboard URL printed:\n${run.stdout()}\n${run.stderr().slice(-2000)}`);
    assert.match(run.stdout(), /no X_BEARER_TOKEN: reading from the built-in X API v2 emulator/);
    assert.match(run.stdout(), new RegExp(`files in HDFS\\s+${hdfsDir}/${topic}/dt=`));

    // Tweets land in HDFS while the pipeline runs (age rotation: 2 s).
    let files: string[] = [];
    for (let i = 0; i < 120 && files.length === 0; i++) {
      files = await committedFiles(storage, `${hdfsDir}/${topic}`);
      if (files.length === 0) await sleep(500);
    }
    assert.ok(files.length > 0, 'no committed file appeared in HDFS');
    assert.match(
      files[0]!,
      new RegExp(
        `^${hdfsDir}/${topic}/dt=\\d{4}-\\d{2}-\\d{2}/hour=\\d{2}/${topic}\\+\\d+\\+\\d+\\+\\d+\\.jsonl\\.gz$`,
      ),
    );

    // Operators' endpoints.
    assert.equal((await fetch(`${url}/healthz`)).status, 200);
    const ready = await fetch(`${url}/readyz`);
    assert.equal(ready.status, 200, await ready.text());
    const metrics = await (await fetch(`${url}/metrics`)).text();
    const committed = Number(/^tweetpipe_files_committed_total\{[^}]*\} (\d+)/m.exec(metrics)?.[1] ?? 0);
    assert.ok(committed > 0, 'tweetpipe_files_committed_total did not count the committed files');
    assert.match(metrics, /^tweetpipe_tweets_produced_total\{/m);
    assert.match(metrics, /^tweetpipe_process_resident_memory_bytes /m);

    // The dashboard, as a person sees it: numbers move without a reload.
    const browser = await launchChromium();
    try {
      const page = await browser.context.newPage();
      await page.goto(`${url}/`);
      const produced = page.getByTestId('produced-total');
      const seen = new Set<string>();
      for (let i = 0; i < 60 && seen.size < 3; i++) {
        seen.add((await produced.textContent())?.trim() ?? '');
        await sleep(500);
      }
      seen.delete('–');
      assert.ok(seen.size >= 2, `the produced total did not move: ${[...seen].join(', ')}`);
      assert.match((await page.getByTestId('source-state').textContent()) ?? '', /connected/);
      mkdirSync('test-artifacts', { recursive: true });
      await page.screenshot({ path: 'test-artifacts/dashboard-run.png', fullPage: true });
    } finally {
      await browser.close();
    }

    // SIGTERM: drain, commit the open window, exit 0.
    const exit = await stopCli(run, 'SIGTERM', 60_000);
    assert.equal(exit.code, 0, run.stderr().slice(-3000));

    // Everything in HDFS is a distinct tweet that is in the topic.
    files = await committedFiles(storage, `${hdfsDir}/${topic}`);
    const ids: string[] = [];
    for (const f of files) {
      for (const line of gunzipSync(await storage.read(f))
        .toString('utf8')
        .split('\n')) {
        if (line) ids.push((JSON.parse(line) as { id: string }).id);
      }
    }
    const inTopic = new Set(await consoleKeys(topic));
    assert.equal(new Set(ids).size, ids.length, 'duplicate tweets in HDFS');
    assert.ok(
      ids.every((id) => inTopic.has(id)),
      'HDFS holds a tweet that is not in the topic',
    );
    assert.ok(ids.length > 0);
    assert.deepEqual(
      await storage.list(`${hdfsDir}/_tmp/${topic}`).then((l) => l.filter((e) => e.type === 'FILE')),
      [],
    );
    t.diagnostic(`${ids.length} tweets in ${files.length} files; ${inTopic.size} in the topic`);
  } finally {
    await stopCli(run, 'SIGKILL');
    await storage.delete(hdfsDir, true).catch(() => {});
    await client.close();
    await deleteTopics([topic, `${topic}.dlq`]).catch(() => {});
  }
});

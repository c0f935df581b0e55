/**
 * The soak in short (`npm run soak -- --minutes 3`): `tweetpipe run` under a seeded schedule of kill -9s of the
 * pipeline, the broker, the NameNode and the DataNode, then HDFS read back against the topic. The soak exits 1 on
 * any missing or duplicated tweet; here it must exit 0 having injected every kind of fault at least once.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const SOAK = fileURLToPath(new URL('../soak/soak.ts', import.meta.url));

test('a 3-minute soak: every kind of fault injected, 0 missing, 0 duplicated', async (t) => {
  const child = spawn(process.execPath, [SOAK, '--minutes', '3', '--seed', '1'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => {
    out += s;
  });
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  for (const line of out.trimEnd().split('\n').slice(-8)) t.diagnostic(line);
  const figures = JSON.parse(/^SOAK (.*)$/m.exec(out)?.[1] ?? 'null') as {
    faults: Record<string, number>;
    missing: number;
    duplicated: number;
  } | null;
  assert.ok(figures, `the soak printed no figures:\n${out.slice(-3000)}`);
  assert.equal(code, 0, out.slice(-3000));
  assert.equal(figures.missing, 0);
  assert.equal(figures.duplicated, 0);
  for (const kind of ['pipeline', 'kafka', 'namenode', 'datanode'])
    assert.ok((figures.faults[kind] ?? 0) >= 1, `no ${kind} fault in ${JSON.stringify(figures.faults)}`);
});

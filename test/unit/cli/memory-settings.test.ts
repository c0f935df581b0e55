/**
 * bin/tweetpipe.js restarts itself with the memory settings that only take effect at process start (a small young
 * generation, a 1 GB heap limit, glibc's mmap threshold), unless the user gave their own. A probe preloaded into the process reports,
 * at exit, the node flags and the environment tweetpipe ended up running with.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { describe, test } from 'node:test';
import { promisify } from 'node:util';

const BIN = new URL('../../../bin/tweetpipe.js', import.meta.url).pathname;
const MARK = 'memory-settings-probe:';
const PROBE = `data:text/javascript,process.on('exit',()=>process.stderr.write(${JSON.stringify(MARK)}+JSON.stringify({flags:process.execArgv,node:process.env.NODE_OPTIONS,mmap:process.env.MALLOC_MMAP_THRESHOLD_})+'\\n'))`;

interface Probe {
  flags: string[];
  node?: string;
  mmap?: string;
}

/** Runs `tweetpipe <args>` with extra node flags and environment; returns what the final process ran with. */
async function runWith(
  nodeFlags: string[],
  env: Record<string, string>,
  args: string[] = ['--help'],
): Promise<Probe> {
  const baseEnv = { ...process.env };
  delete baseEnv.NODE_OPTIONS;
  delete baseEnv.MALLOC_MMAP_THRESHOLD_;
  const { stderr } = await promisify(execFile)(
    process.execPath,
    [...nodeFlags, '--import', PROBE, BIN, ...args],
    { env: { ...baseEnv, ...env } },
  );
  const line = stderr.split('\n').find((l) => l.startsWith(MARK));
  assert.ok(line, `no probe line in:\n${stderr}`);
  return JSON.parse(line.slice(MARK.length)) as Probe;
}

const semiSpaceFlags = (p: Probe) => p.flags.filter((f) => f.startsWith('--max-semi-space-size'));
const oldSpaceFlags = (p: Probe) => p.flags.filter((f) => /^--max[-_]old[-_]space[-_]size/.test(f));

describe('bin/tweetpipe.js memory settings', () => {
  test('by default: 8 MiB semi-spaces and a 64 KiB mmap threshold; V8 sizes the heap itself', async () => {
    const p = await runWith([], {});
    assert.deepEqual(semiSpaceFlags(p), ['--max-semi-space-size=8']);
    assert.deepEqual(oldSpaceFlags(p), []);
    assert.equal(p.mmap, '65536');
  });

  test("the user's own semi-space flag and mmap threshold are kept as given", async () => {
    const p = await runWith(['--max-semi-space-size=16'], { MALLOC_MMAP_THRESHOLD_: '262144' });
    assert.deepEqual(semiSpaceFlags(p), ['--max-semi-space-size=16']);
    assert.equal(p.mmap, '262144');
  });

  test('a semi-space size in NODE_OPTIONS is kept too', async () => {
    const p = await runWith([], { NODE_OPTIONS: '--max-semi-space-size=2' });
    assert.deepEqual(semiSpaceFlags(p), []);
    assert.equal(p.node, '--max-semi-space-size=2');
    assert.equal(p.mmap, '65536');
  });

  test('the sink: a 1 GB heap limit too', async () => {
    const p = await runWith([], {}, ['sink', '--help']);
    assert.deepEqual(oldSpaceFlags(p), ['--max-old-space-size=1024']);
    assert.deepEqual(semiSpaceFlags(p), ['--max-semi-space-size=8']);
  });

  test("the sink: the user's own heap limit is kept, however spelled, the other defaults still applied", async () => {
    const p = await runWith(['--max_old_space_size=3000'], {}, ['sink', '--help']);
    assert.deepEqual(oldSpaceFlags(p), ['--max_old_space_size=3000']);
    assert.deepEqual(semiSpaceFlags(p), ['--max-semi-space-size=8']);
    const q = await runWith([], { NODE_OPTIONS: '--max-old-space-size=2048' }, ['sink', '--help']);
    assert.deepEqual(oldSpaceFlags(q), []);
    assert.equal(q.node, '--max-old-space-size=2048');
  });
});

/**
 * The JavaScript cache of the repository's TypeScript (bin/js-cache.js) and the loader hook that serves it to
 * tweetpipe's processes (bin/js-cache-hooks.js): an entry is used only while it was made from the source's current
 * bytes, and bin/tweetpipe.js runs with the hook preloaded.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { CACHE_DIR, cachedJs, entryPath, ROOT, writeEntry } from '../../../bin/js-cache.js';

const HOOKS = new URL('../../../bin/js-cache-hooks.js', import.meta.url).href;
const run = promisify(execFile);

describe('js-cache', () => {
  mkdirSync(join(ROOT, 'test-artifacts'), { recursive: true });
  const root = mkdtempSync(join(ROOT, 'test-artifacts', 'js-cache-'));
  after(() => rmSync(root, { recursive: true, force: true }));

  test('an entry is given back only for the bytes it was made from', () => {
    const path = join(root, 'a.ts');
    const source = Buffer.from('export const a: number = 1;\n');
    try {
      assert.equal(cachedJs(path, source), undefined);
      writeEntry(path, source, 'export const a         = 1;\n');
      assert.equal(cachedJs(path, source), 'export const a         = 1;\n');
      assert.equal(cachedJs(path, Buffer.from('export const a: number = 2;\n')), undefined);
    } finally {
      rmSync(entryPath(path)!, { force: true });
    }
  });

  test('only .ts files of the repository outside node_modules have entries', () => {
    assert.equal(entryPath(join(ROOT, 'src', 'a.ts')), join(CACHE_DIR, 'src', 'a.ts.js'));
    assert.equal(entryPath(join(ROOT, 'src', 'a.js')), undefined);
    assert.equal(entryPath(join(ROOT, 'node_modules', 'x', 'a.ts')), undefined);
    assert.equal(entryPath('/elsewhere/a.ts'), undefined);
  });

  test('the hook loads the current entry instead of the TypeScript, in worker threads too, and the TypeScript once it changed', async () => {
    // Modules of the repository (the hook serves ROOT's), with entries that say where they came from; the main
    // module starts a worker thread on the other, as the replay and the sink do.
    const main = join(root, 'probe.ts');
    const worker = join(root, 'probe-worker.ts');
    const mainTs =
      "import { Worker } from 'node:worker_threads';\nconst from: string = 'typescript';\nconsole.log('main ' + from);\nnew Worker(new URL('./probe-worker.ts', import.meta.url));\n";
    const workerTs = "const from: string = 'typescript';\nconsole.log('worker ' + from);\n";
    const cached = (ts: string) => ts.replace(": string = 'typescript'", " = 'cache'");
    writeFileSync(main, mainTs);
    writeFileSync(worker, workerTs);
    writeEntry(main, Buffer.from(mainTs), cached(mainTs));
    writeEntry(worker, Buffer.from(workerTs), cached(workerTs));
    const load = async () =>
      (await run(process.execPath, ['--import', HOOKS, main])).stdout.trim().split('\n').sort();
    try {
      assert.deepEqual(await load(), ['main cache', 'worker cache']);
      writeFileSync(main, `${mainTs}// edited\n`);
      writeFileSync(worker, `${workerTs}// edited\n`);
      assert.deepEqual(await load(), ['main typescript', 'worker typescript']);
    } finally {
      for (const path of [main, worker]) rmSync(entryPath(path)!, { force: true });
    }
  });

  test('tweetpipe runs with the hook preloaded', async () => {
    const probe = `data:text/javascript,process.on('exit',()=>process.stderr.write('execArgv:'+JSON.stringify(process.execArgv)+'\\n'))`;
    const { stderr } = await run(process.execPath, [
      '--import',
      probe,
      new URL('../../../bin/tweetpipe.js', import.meta.url).pathname,
      '--help',
    ]);
    const line = stderr.split('\n').find((l) => l.startsWith('execArgv:'));
    assert.ok(line, stderr);
    const execArgv = JSON.parse(line.slice('execArgv:'.length)) as string[];
    assert.ok(execArgv.includes(`--import=${HOOKS}`), `${execArgv}`);
  });
});

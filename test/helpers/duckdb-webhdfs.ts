/**
 * DuckDB reading the sink's output in HDFS over webhdfs:// (test/helpers/duckdb-webhdfs.py, DuckDB and fsspec
 * from PyPI in a venv made on first use), through the DDL `tweetpipe table ddl --engine duckdb` prints.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { runCli } from './cli.ts';
import { ensureVenv } from './python-venv.ts';
import { testConfig } from './topics.ts';

const run = promisify(execFile);
const SCRIPT = fileURLToPath(new URL('./duckdb-webhdfs.py', import.meta.url));
const REQUIREMENTS = ['duckdb==1.5.6', 'fsspec==2026.9.0', 'requests==2.34.2'];

export interface DuckDbRead {
  name: string;
  view: string;
  ddl: string;
}

/** The venv's python, made on first use; start it early, it takes a while the first time. */
export function duckDbPython(): Promise<string> {
  const python = ensureVenv('duckdb-webhdfs', REQUIREMENTS, (line) => process.stderr.write(`# ${line}\n`));
  python.catch(() => {});
  return python;
}

/** The WebHDFS the tests use, as DuckDB's webhdfs:// URLs name it. */
export const webhdfsHost = (): URL => new URL(testConfig().hdfs.webhdfs[0] as string);

/** A read of `location` as the view `view`, with the DDL tweetpipe prints for `format`. */
export async function duckDbRead(
  format: string,
  topic: string,
  location: string,
  view: string,
): Promise<DuckDbRead> {
  const ddl = await runCli(
    ['table', 'ddl', '--engine', 'duckdb', '--format', format, '--topic', topic, '--location', location],
    { TWEETPIPE_SINK_HIVE: JSON.stringify({ table: view }) },
  );
  assert.equal(ddl.code, 0, ddl.stderr);
  return { name: format, view, ddl: ddl.stdout };
}

/** Runs the reads in DuckDB; the script's result for each, by name. */
export async function readWithDuckDb(
  python: Promise<string>,
  workDir: string,
  label: string,
  reads: DuckDbRead[],
): Promise<Record<string, unknown>> {
  const webhdfs = webhdfsHost();
  const spec = join(workDir, `${label}.json`);
  await writeFile(
    spec,
    JSON.stringify({
      host: webhdfs.hostname,
      port: Number(webhdfs.port),
      user: testConfig().hdfs.user,
      reads,
    }),
  );
  const { stdout, stderr } = await run(await python, [SCRIPT, spec], {
    timeout: 300_000,
    maxBuffer: 1 << 26,
  });
  const line = stdout.split('\n').find((l) => l.startsWith('DUCKDB-WEBHDFS-RESULT '));
  assert.ok(line, `duckdb-webhdfs.py printed no result:\n${stdout}\n${stderr.slice(-4000)}`);
  return (JSON.parse(line.slice('DUCKDB-WEBHDFS-RESULT '.length)) as { reads: Record<string, unknown> })
    .reads;
}

/**
 * PySpark from PyPI as an external reader of what tweetpipe wrote: a Python venv under the stack cache
 * (test/helpers/python-venv.ts, `pyspark`) is created on first use with nothing but PyPI; PySpark brings its own Spark and Hadoop jars and uses the Java
 * the stack already needs. spark-read.py does the reading in one Spark session per call.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { ensureVenv } from './python-venv.ts';

const run = promisify(execFile);
/** 4.0.x: its bundled Hive 2.3 client reads tables of a 3.1.3 metastore (it cannot open tables of a 4.x one). */
export const PYSPARK_VERSION = '4.0.1';
const SCRIPT = fileURLToPath(new URL('./spark-read.py', import.meta.url));
const RESULT = 'SPARK-READ-RESULT ';

/** The venv's python, after creating the venv and installing PySpark when missing or of another version. */
export const ensurePySpark = (say: (line: string) => void): Promise<string> =>
  ensureVenv('pyspark', [`pyspark==${PYSPARK_VERSION}`], say);

export type SparkRead =
  | { name: string; kind: 'table'; table: string }
  | { name: string; kind: 'path'; format: 'json' | 'parquet'; path: string }
  | { name: string; kind: 'ddl'; table: string; statements: string[] };

export interface SparkReadResult {
  rows: number;
  distinctIds: number;
  /** Rows without id or created_at (a record Spark could not parse into the table's schema). */
  incomplete: number;
  /** Rows whose dt/hour is not created_at's UTC date and hour. */
  misplaced: number;
  partitions: string[];
}

/** Runs every read in one Spark session; a read that failed comes back as `{ error }`. */
export async function sparkRead(
  python: string,
  metastoreUri: string,
  reads: SparkRead[],
): Promise<{ sparkVersion: string; reads: Record<string, SparkReadResult | { error: string }> }> {
  const work = await mkdtemp(join(tmpdir(), 'tweetpipe-spark-'));
  try {
    const spec = join(work, 'spec.json');
    await writeFile(spec, JSON.stringify({ metastoreUri, warehouseDir: join(work, 'warehouse'), reads }));
    const { stdout, stderr } = await run(python, [SCRIPT, spec], {
      cwd: work,
      timeout: 300_000,
      maxBuffer: 64 * 1024 * 1024,
      // Spark binds to the address the host name resolves to; the stack is on loopback.
      env: { ...process.env, SPARK_LOCAL_IP: '127.0.0.1', PYSPARK_PYTHON: python },
    }).catch((err: { stdout?: string; stderr?: string; message: string }) => {
      throw new Error(`spark-read.py failed: ${err.message}\n${(err.stderr ?? '').slice(-4000)}`);
    });
    const line = stdout.split('\n').find((l) => l.startsWith(RESULT));
    if (!line)
      throw new Error(`spark-read.py printed no result:\n${stdout.slice(-2000)}\n${stderr.slice(-4000)}`);
    return JSON.parse(line.slice(RESULT.length));
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/**
 * X batch compliance jobs as the specs describe them (`POST /2/compliance/jobs`, `GET /2/compliance/jobs/{id}`,
 * spec/x-api/openapi-2.159.json and -2.167.json): a job is created with `type` tweets|users, ids are uploaded as
 * text (one per line) with a PUT to its `upload_url`, and once processed (`created` -> `in_progress` ->
 * `complete`) its `download_url` serves one JSON line per id that is no longer compliant
 * (`{"id","action":"delete","created_at","redacted_at","reason":"deleted"}`). Upload and download URLs are served
 * by the emulator itself (X hands out pre-signed storage URLs; they need no bearer token either).
 *
 * Eras: 2.167 declares the create body with `additionalProperties: false` and answers an unknown property with
 * 400; 2.159 ignores it. Which posts count as deleted is the emulator's `deletedPostIds` option.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ApiEra } from '../sources/x-api/eras.ts';
import { invalidRequest, type JsonAnswer, notFound } from './problems.ts';

const UPLOAD_TTL_MS = 15 * 60_000;
const DOWNLOAD_TTL_MS = 7 * 86_400_000;
const CREATE_FIELDS = new Set(['type', 'name', 'resumable']);

interface Job {
  id: string;
  type: 'tweets' | 'users';
  name?: string;
  resumable: boolean;
  createdAtMs: number;
  uploaded: string[] | null;
  uploadedAtMs: number;
}

export interface ComplianceJobsOptions {
  era: ApiEra;
  now: () => number;
  baseUrl: () => string;
  deletedPostIds: ReadonlySet<string>;
  /** How long a job stays `in_progress` after its upload (default 1 s). */
  processingMs?: number;
}

export const COMPLIANCE_JOBS_PATH = '/2/compliance/jobs';
const UPLOAD_PREFIX = '/x-emulator/compliance/upload/';
const DOWNLOAD_PREFIX = '/x-emulator/compliance/download/';

export class ComplianceJobs {
  private readonly jobs = new Map<string, Job>();
  private readonly o: ComplianceJobsOptions;

  constructor(o: ComplianceJobsOptions) {
    this.o = o;
  }

  /** Whether the path is an upload or download URL (pre-signed: no bearer token). */
  static isTransfer(path: string): boolean {
    return path.startsWith(UPLOAD_PREFIX) || path.startsWith(DOWNLOAD_PREFIX);
  }

  static isApi(path: string): boolean {
    return path === COMPLIANCE_JOBS_PATH || path.startsWith(`${COMPLIANCE_JOBS_PATH}/`);
  }

  /** The API endpoints: create and look up. */
  async api(req: IncomingMessage, url: URL, body: () => Promise<unknown>): Promise<JsonAnswer> {
    if (url.pathname === COMPLIANCE_JOBS_PATH && req.method === 'POST') return this.create(await body());
    const id = url.pathname.slice(COMPLIANCE_JOBS_PATH.length + 1);
    const job = this.jobs.get(id);
    if (req.method === 'GET' && job) return { status: 200, body: { data: this.view(job) } };
    return notFound();
  }

  /** The upload (PUT) and download (GET) URLs, answered directly. */
  async transfer(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    const upload = path.startsWith(UPLOAD_PREFIX);
    const job = this.jobs.get(path.slice((upload ? UPLOAD_PREFIX : DOWNLOAD_PREFIX).length));
    const reply = (status: number, text: string, type = 'text/plain') => {
      res.writeHead(status, {
        'content-type': `${type}; charset=utf-8`,
        'content-length': Buffer.byteLength(text),
      });
      res.end(text);
    };
    if (!job) return reply(404, 'no such compliance job\n');
    if (upload) {
      if (req.method !== 'PUT') return reply(405, 'upload with PUT\n');
      const chunks: Buffer[] = [];
      for await (const c of req as AsyncIterable<Buffer>) chunks.push(c);
      job.uploaded = Buffer.concat(chunks)
        .toString('utf8')
        .split('\n')
        .map((l) => l.trim())
        .filter(Boolean);
      job.uploadedAtMs = this.o.now();
      return reply(200, '');
    }
    if (this.status(job) !== 'complete') return reply(404, 'the job has no result yet\n');
    const lines = (job.uploaded ?? [])
      .filter((id) => this.o.deletedPostIds.has(id))
      .map((id) =>
        JSON.stringify({
          id,
          action: 'delete',
          created_at: new Date(job.createdAtMs).toISOString(),
          redacted_at: null,
          reason: 'deleted',
        }),
      );
    return reply(200, lines.map((l) => `${l}\n`).join(''), 'application/json');
  }

  private create(body: unknown): JsonAnswer {
    const b = (body ?? {}) as Record<string, unknown>;
    const unknown = Object.keys(b).filter((k) => !CREATE_FIELDS.has(k));
    if (this.o.era === '2.167' && unknown.length > 0)
      return invalidRequest(
        unknown.map((k) => ({ message: `The request body has an unknown property: ${k}` })),
      );
    if (b.type !== 'tweets' && b.type !== 'users')
      return invalidRequest([{ message: 'The `type` property must be one of [tweets, users]' }]);
    const job: Job = {
      id: String(BigInt(`0x${randomUUID().replace(/-/g, '').slice(0, 15)}`)),
      type: b.type,
      ...(typeof b.name === 'string' ? { name: b.name } : {}),
      resumable: b.resumable === true,
      createdAtMs: this.o.now(),
      uploaded: null,
      uploadedAtMs: 0,
    };
    this.jobs.set(job.id, job);
    return { status: 200, body: { data: this.view(job) } };
  }

  private status(job: Job): string {
    const now = this.o.now();
    if (job.uploaded === null) return now > job.createdAtMs + UPLOAD_TTL_MS ? 'expired' : 'created';
    if (now > job.createdAtMs + DOWNLOAD_TTL_MS) return 'expired';
    return now < job.uploadedAtMs + (this.o.processingMs ?? 1000) ? 'in_progress' : 'complete';
  }

  private view(job: Job): Record<string, unknown> {
    const base = this.o.baseUrl();
    return {
      id: job.id,
      type: job.type,
      ...(job.name === undefined ? {} : { name: job.name }),
      resumable: job.resumable,
      created_at: new Date(job.createdAtMs).toISOString(),
      status: this.status(job),
      upload_url: `${base}${UPLOAD_PREFIX}${job.id}`,
      upload_expires_at: new Date(job.createdAtMs + UPLOAD_TTL_MS).toISOString(),
      download_url: `${base}${DOWNLOAD_PREFIX}${job.id}`,
      download_expires_at: new Date(job.createdAtMs + DOWNLOAD_TTL_MS).toISOString(),
    };
  }
}

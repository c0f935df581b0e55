/**
 * One X batch compliance job for tweet ids (`/2/compliance/jobs`, both API eras): create it, upload the ids to its
 * upload_url, poll until `complete`, download the result and return the ids X says to delete. The create body
 * holds only spec'd properties (2.167 refuses others). The bearer token goes to the API only, never to the
 * pre-signed upload and download URLs, and never into an error.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { TweetpipeError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { parseIdList } from './compliance.ts';

export interface XComplianceOptions {
  apiUrl: string;
  bearerToken: string;
  ids: Iterable<string>;
  logger: Logger;
  pollMs?: number;
  timeoutMs?: number;
  signal?: AbortSignal;
}

interface JobView {
  id: string;
  status: string;
  upload_url: string;
  download_url: string;
}

async function api(o: XComplianceOptions, path: string, init: RequestInit = {}): Promise<JobView> {
  const res = await fetch(new URL(path, o.apiUrl), {
    ...init,
    headers: { authorization: `Bearer ${o.bearerToken}`, 'content-type': 'application/json' },
  });
  const text = await res.text();
  if (!res.ok)
    throw new TweetpipeError(
      res.status === 401 || res.status === 403 ? 'X_AUTH' : res.status === 429 ? 'X_RATE_LIMITED' : 'X_HTTP',
      `X compliance jobs: ${init.method ?? 'GET'} ${path} answered ${res.status}: ${text.slice(0, 300)}`,
      { retryable: res.status === 429 || res.status >= 500, details: { status: res.status } },
    );
  const data = (JSON.parse(text) as { data?: JobView }).data;
  if (!data?.id || !data.upload_url || !data.download_url)
    throw new TweetpipeError(
      'X_HTTP',
      `X compliance jobs: ${path} answered without a job: ${text.slice(0, 300)}`,
    );
  return data;
}

async function transfer(url: string, init: RequestInit, what: string): Promise<string> {
  const res = await fetch(url, init);
  const text = await res.text();
  if (!res.ok)
    throw new TweetpipeError(
      'X_HTTP',
      `X compliance job ${what} answered ${res.status}: ${text.slice(0, 200)}`,
      {
        details: { status: res.status },
      },
    );
  return text;
}

/** The ids, among `o.ids`, that X reports as to be deleted. */
export async function runXComplianceJob(o: XComplianceOptions): Promise<Set<string>> {
  const job = await api(o, '/2/compliance/jobs', {
    method: 'POST',
    body: JSON.stringify({ type: 'tweets', name: 'tweetpipe compliance apply' }),
  });
  o.logger.info({ job: job.id }, 'X compliance job created');
  await transfer(
    job.upload_url,
    { method: 'PUT', headers: { 'content-type': 'text/plain' }, body: [...o.ids].join('\n') },
    'upload',
  );
  const deadline = Date.now() + (o.timeoutMs ?? 3_600_000);
  for (let view = job; ; ) {
    if (view.status === 'complete') {
      const result = await transfer(view.download_url, {}, 'download');
      return parseIdList(result, `the result of X compliance job ${job.id}`);
    }
    if (view.status === 'failed' || view.status === 'expired')
      throw new TweetpipeError('X_HTTP', `X compliance job ${job.id} ended ${view.status}`, {
        details: { job: job.id },
      });
    if (Date.now() > deadline)
      throw new TweetpipeError('TIMEOUT', `X compliance job ${job.id} is still ${view.status}`, {
        retryable: true,
      });
    await sleep(o.pollMs ?? 5000, undefined, o.signal ? { signal: o.signal } : {});
    view = await api(o, `/2/compliance/jobs/${job.id}`);
  }
}

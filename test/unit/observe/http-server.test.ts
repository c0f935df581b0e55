/** The operator's HTTP server over real HTTP on 127.0.0.1 (ephemeral ports). */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { TweetpipeError } from '../../../src/errors.ts';
import { silentLogger } from '../../../src/log.ts';
import { type HttpServer, type Readiness, startHttpServer } from '../../../src/observe/http-server.ts';
import { LiveState } from '../../../src/observe/live-state.ts';
import { Metrics } from '../../../src/observe/metrics.ts';

/** A raw request: fetch and URL normalise `..` and `%2e` on the client side, which would hide traversal tests. */
function rawGet(url: string, path: string, method = 'GET'): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({ host: hostname, port, path, method }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

interface SseEvent {
  event: string;
  data: string;
}

/** Reads Server-Sent Events until `count` have arrived; resolves with them and whether the stream then ended. */
async function readEvents(
  url: string,
  count: number,
): Promise<{ events: SseEvent[]; reader: ReadableStreamDefaultReader<Uint8Array> }> {
  const res = await fetch(url);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/);
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  const events: SseEvent[] = [];
  let buffer = '';
  while (events.length < count) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let end = buffer.indexOf('\n\n');
    while (end >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const event = /^event: (.*)$/m.exec(block)?.[1];
      const data = /^data: (.*)$/m.exec(block)?.[1];
      if (event && data !== undefined) events.push({ event, data });
      end = buffer.indexOf('\n\n');
    }
  }
  return { events, reader };
}

describe('http server', () => {
  const metrics = new Metrics();
  const live = new LiveState({ metrics, sourceState: () => ({ state: 'connected', reconnects: 0 }) });
  let readiness: Readiness | Error = {
    ok: true,
    checks: { kafka: { ok: true, detail: 'broker reachable' } },
  };
  let server: HttpServer;

  before(async () => {
    server = await startHttpServer({
      port: 0,
      metrics,
      live,
      log: silentLogger,
      tickMs: 50,
      ready: async () => {
        if (readiness instanceof Error) throw readiness;
        return readiness;
      },
    });
  });
  after(() => server.close());

  test('binds 127.0.0.1 by default', () => {
    assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+$/);
  });

  test('/metrics is the registry in Prometheus text format', async () => {
    metrics.produced.inc({ topic: 'twitter_data' }, 42);
    const res = await fetch(`${server.url}/metrics`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), metrics.registry.contentType);
    const text = await res.text();
    assert.match(text, /^tweetpipe_tweets_produced_total\{topic="twitter_data"\} 42$/m);
    assert.match(text, /^# TYPE tweetpipe_end_to_end_latency_seconds histogram$/m);
    assert.match(text, /^tweetpipe_process_cpu_seconds_total /m);
  });

  test('/healthz answers while the process is up', async () => {
    const res = await fetch(`${server.url}/healthz`);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { status: 'ok' });
  });

  test('/readyz is 200 or 503 with the checks, and 503 when the callback throws', async () => {
    let res = await fetch(`${server.url}/readyz`);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), readiness);
    readiness = { ok: false, checks: { hdfs: { ok: false, detail: 'connection refused' } } };
    res = await fetch(`${server.url}/readyz`);
    assert.equal(res.status, 503);
    assert.deepEqual(await res.json(), readiness);
    readiness = new Error('kafka admin timed out');
    res = await fetch(`${server.url}/readyz`);
    assert.equal(res.status, 503);
    assert.deepEqual(await res.json(), {
      ok: false,
      checks: { readiness: { ok: false, detail: 'kafka admin timed out' } },
    });
  });

  test('unknown paths are 404, other methods 405', async () => {
    assert.equal((await fetch(`${server.url}/nope`)).status, 404);
    assert.equal((await fetch(`${server.url}/static/`)).status, 404);
    assert.equal((await fetch(`${server.url}/api/snapshot/`)).status, 404);
    const post = await fetch(`${server.url}/metrics`, { method: 'POST', body: 'x' });
    assert.equal(post.status, 405);
    assert.equal(post.headers.get('allow'), 'GET');
    assert.equal((await rawGet(server.url, '/', 'DELETE')).status, 405);
    assert.equal((await rawGet(server.url, '/healthz', 'HEAD')).status, 405);
  });

  test('the dashboard and uPlot are served; traversal attempts are 404', async () => {
    const page = await fetch(server.url);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
    assert.match(page.headers.get('content-security-policy') ?? '', /default-src 'self'/);
    const html = await page.text();
    assert.match(html, /data-testid="produced-total"/);
    for (const asset of ['app.js', 'style.css', 'uPlot.iife.min.js', 'uPlot.min.css']) {
      assert.ok(html.includes(`/static/${asset}`), asset);
      const res = await fetch(`${server.url}/static/${asset}`);
      assert.equal(res.status, 200, asset);
      assert.match(res.headers.get('content-type') ?? '', asset.endsWith('.js') ? /javascript/ : /text\/css/);
      assert.ok((await res.text()).length > 100, asset);
    }
    for (const path of [
      '/static/../../package.json',
      '/static/../package.json',
      '/static/%2e%2e/%2e%2e/package.json',
      '/static/%2E%2E/%2E%2E/package.json',
      '/static/..%2f..%2fpackage.json',
      '/static/..%2F..%2Fpackage.json',
      '/static/%2e%2e%2f%2e%2e%2fpackage.json',
      '/static/..%5c..%5cpackage.json',
      '/static/....//....//package.json',
      '/static/%252e%252e/package.json',
      '/static/uPlot.min.css/../../../package.json',
      '/static//etc/passwd',
      '//package.json',
      '/static/dashboard/index.html',
      '/static/../observe/http-server.ts',
    ]) {
      const res = await rawGet(server.url, path);
      assert.equal(res.status, 404, path);
      assert.ok(!res.body.includes('"name"') && !res.body.includes('import'), path);
    }
  });

  test('/api/snapshot is the live state as JSON', async () => {
    live.onCommit({ path: '/twitter_data/x.jsonl', bytes: 10, records: 2 });
    const res = await fetch(`${server.url}/api/snapshot`);
    assert.equal(res.status, 200);
    const snapshot = await res.json();
    assert.equal(snapshot.totals.produced, 42);
    assert.equal(snapshot.files.recent[0].path, '/twitter_data/x.jsonl');
    assert.equal(snapshot.source.state, 'connected');
  });

  test('/api/events sends the history at connect, then a snapshot every tick', {
    timeout: 5000,
  }, async () => {
    const { events, reader } = await readEvents(`${server.url}/api/events`, 4);
    assert.equal(events[0]!.event, 'history');
    assert.ok(Array.isArray(JSON.parse(events[0]!.data)));
    const snapshots = events.slice(1).map((e) => {
      assert.equal(e.event, 'snapshot');
      return JSON.parse(e.data);
    });
    assert.equal(snapshots.length, 3);
    // Pushed by ticks: each later snapshot carries a newer history point.
    assert.ok(
      snapshots[2].point.time > snapshots[1].point.time || snapshots[1].point.time > snapshots[0].point.time,
    );
    await reader.cancel();
  });
});

describe('http server lifecycle', () => {
  const options = () => {
    const metrics = new Metrics({ processMetrics: false });
    return {
      port: 0,
      metrics,
      live: new LiveState({ metrics, sourceState: () => ({ state: 'connecting' as const, reconnects: 0 }) }),
      log: silentLogger,
      ready: async () => ({ ok: true, checks: {} }),
    };
  };

  test('close() ends open event streams and frees the port', { timeout: 5000 }, async () => {
    const server = await startHttpServer(options());
    const { reader } = await readEvents(`${server.url}/api/events`, 1);
    await server.close();
    for (;;) {
      const { done } = await reader.read().catch(() => ({ done: true }));
      if (done) break;
    }
    await assert.rejects(fetch(`${server.url}/healthz`));
  });

  test('a port in use is a PORT_IN_USE error', async () => {
    const first = await startHttpServer(options());
    try {
      const port = Number(new URL(first.url).port);
      await assert.rejects(
        startHttpServer({ ...options(), port }),
        (err: unknown) => err instanceof TweetpipeError && err.code === 'PORT_IN_USE' && !err.retryable,
      );
    } finally {
      await first.close();
    }
  });
});

import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pino } from 'pino';
import { TweetpipeError } from '../../../src/errors.ts';
import { sleep } from '../../../src/retry/backoff.ts';
import type { XReconnectSchedules } from '../../../src/retry/schedules.ts';
import { CursorStore } from '../../../src/sources/cursor-store.ts';
import { LineSplitter } from '../../../src/sources/line-splitter.ts';
import type { ServerRule } from '../../../src/sources/rules-sync.ts';
import type { SourceBatch } from '../../../src/sources/source.ts';
import { type XFieldSelection, XHttpClient } from '../../../src/sources/x-http.ts';
import { STREAM_PATH, XStreamSource, type XStreamSourceOptions } from '../../../src/sources/x-stream.ts';
import type { TweetRecord } from '../../../src/types.ts';

const fields: XFieldSelection = {
  tweetFields: ['created_at', 'author_id'],
  userFields: ['username'],
  expansions: ['author_id'],
  mediaFields: [],
  placeFields: [],
};
const RULES: ServerRule[] = [{ id: 'r1', value: 'music', tag: 'music' }];
const tiny: XReconnectSchedules = {
  network: { growth: 'linear', firstMs: 1, maxMs: 4, jitter: 'none' },
  http: { growth: 'exponential', firstMs: 2, maxMs: 8, jitter: 'none' },
  'rate-limit': { growth: 'exponential', firstMs: 3, maxMs: 9, jitter: 'none' },
};

const tweet = (id: string) => ({
  id,
  text: `t${id}`,
  created_at: '2026-11-25T06:00:00.000Z',
  author_id: '1',
});
const streamLine = (id: string) =>
  `${JSON.stringify({ data: tweet(id), matching_rules: [{ id: 'r1', tag: 'music' }] })}\r\n`;
const DISCONNECT = `${JSON.stringify({
  errors: [
    {
      title: 'operational-disconnect',
      disconnect_type: 'UpstreamOperationalDisconnect',
      detail: 'This stream has been disconnected upstream for operational reasons.',
      type: 'https://api.twitter.com/2/problems/operational-disconnect',
    },
  ],
})}\r\n`;

type StreamScript = (res: ServerResponse, url: URL, n: number) => void;
type SearchScript = (url: URL, n: number) => unknown | Promise<unknown>;

/** A fake X API with a scripted stream (one script call per connection), recent search and the rules list. */
async function fakeX(stream: StreamScript, search: SearchScript = () => ({ meta: { result_count: 0 } })) {
  const streamUrls: URL[] = [];
  const searchUrls: URL[] = [];
  const server = createServer(async (req, res) => {
    const url = new URL(req.url!, 'http://x');
    if (url.pathname === STREAM_PATH) {
      streamUrls.push(url);
      stream(res, url, streamUrls.length);
      return;
    }
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (url.pathname === '/2/tweets/search/stream/rules')
      return json(200, { data: RULES, meta: { sent: 'now' } });
    if (url.pathname === '/2/tweets/search/recent') {
      searchUrls.push(url);
      return json(200, await search(url, searchUrls.length));
    }
    json(404, { title: 'Not Found' });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    client: new XHttpClient({ baseUrl, bearerToken: 'stream-test-token', apiEra: '2.159' }),
    streamUrls,
    searchUrls,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** Opens a 200 stream response. */
const open = (res: ServerResponse) => res.writeHead(200, { 'content-type': 'application/json' });

/** Keeps a connection alive like X does, with empty lines, until it closes. */
function heartbeats(res: ServerResponse, everyMs: number): void {
  const timer = setInterval(() => res.write('\r\n'), everyMs);
  res.on('close', () => clearInterval(timer));
}

let stateRoot: string;
let dirs = 0;
before(async () => {
  stateRoot = await mkdtemp(join(tmpdir(), 'tweetpipe-stream-'));
});
after(async () => {
  await rm(stateRoot, { recursive: true, force: true });
});

function logCapture() {
  const lines: string[] = [];
  return { lines, logger: pino({ level: 'info' }, { write: (s: string) => void lines.push(s) }) };
}

async function makeSource(
  x: Awaited<ReturnType<typeof fakeX>>,
  extra: Partial<XStreamSourceOptions> = {},
  cursor?: string,
) {
  const store = await CursorStore.open(join(stateRoot, `s${dirs++}`));
  if (cursor) await store.save('x-stream', cursor);
  const sleeps: number[] = [];
  const source = new XStreamSource({
    client: x.client,
    fields,
    cursorStore: store,
    backoffPolicy: tiny,
    stallTimeoutMs: 2_000,
    backfillDelayMs: 0,
    batchLingerMs: 5,
    sleep: async (ms, signal) => {
      sleeps.push(ms);
      await sleep(ms, signal);
    },
    ...extra,
  });
  await source.connect(new AbortController().signal);
  return { source, store, sleeps };
}

/** Reads batches until `count` tweets arrived (fails after 5 s). */
async function collect(source: XStreamSource, count: number) {
  const signal = AbortSignal.timeout(5_000);
  const tweets: TweetRecord[] = [];
  const batches: SourceBatch[] = [];
  while (tweets.length < count) {
    const batch = await source.read(signal);
    batches.push(batch);
    tweets.push(...batch.tweets);
  }
  return {
    tweets,
    ids: tweets.map((t) => t.id),
    batches,
    deadLetters: batches.flatMap((b) => b.deadLetters),
  };
}

describe('LineSplitter', () => {
  test('splits on \\r\\n across chunk boundaries, keeps empty heartbeat lines and split UTF-8', () => {
    const s = new LineSplitter();
    const text = Buffer.from('{"a":"🎶"}\r\n\r\n{"b":2}\r\n');
    const chunks = [
      text.subarray(0, 3),
      text.subarray(3, 8),
      text.subarray(8, 11),
      text.subarray(11, 12),
      text.subarray(12),
    ];
    const lines = chunks.flatMap((c) => s.push(c)).map((l) => l.toString('utf8'));
    assert.deepEqual(lines, ['{"a":"🎶"}', '', '{"b":2}']);
  });

  test('a line is only emitted once its terminator arrives', () => {
    const s = new LineSplitter();
    assert.deepEqual(s.push(Buffer.from('{"a"')), []);
    assert.deepEqual(s.push(Buffer.from(':1}\r')), []);
    assert.deepEqual(
      s.push(Buffer.from('\n')).map((l) => l.toString()),
      ['{"a":1}'],
    );
  });
});

describe('XStreamSource', () => {
  test('reads tweets split over chunks; heartbeats, malformed lines and error objects are handled, not fatal', async () => {
    const x = await fakeX((res) => {
      open(res);
      const first = streamLine('101');
      const partial = `${JSON.stringify({ data: tweet('102'), errors: [{ title: 'Not Found Error', detail: 'Could not find user with id: [9].' }] })}\r\n`;
      const writes = [
        '\r\n',
        first.slice(0, 10),
        first.slice(10, 30),
        first.slice(30),
        'this is not json\r\n',
        `${JSON.stringify({ errors: [{ title: 'Invalid Request', detail: 'something odd' }] })}\r\n`,
        partial,
      ];
      let i = 0;
      const tick = setInterval(() => {
        const w = writes[i++];
        if (w === undefined) return clearInterval(tick);
        res.write(w);
      }, 3);
      res.on('close', () => clearInterval(tick));
    });
    const { source } = await makeSource(x);
    try {
      const got = await collect(source, 2);
      assert.deepEqual(got.ids, ['101', '102']);
      const rest =
        got.deadLetters.length < 2 ? (await source.read(AbortSignal.timeout(5_000))).deadLetters : [];
      const reasons = [...got.deadLetters, ...rest].map((d) => d.reason);
      assert.equal(reasons.length, 2);
      assert.match(reasons[0]!, /^not JSON/);
      assert.match(reasons[1]!, /errors without data: Invalid Request: something odd/);
      assert.equal(source.counters.heartbeats, 1);
      assert.equal(source.counters.xProblems, 2);
      assert.equal(source.counters.deadLetters, 2);
      assert.equal(source.state().state, 'connected');
      assert.equal(x.streamUrls.length, 1, 'nothing above was a reason to reconnect');
      const q = x.streamUrls[0]!.searchParams;
      assert.equal(q.get('tweet.fields'), 'created_at,author_id');
      assert.equal(q.get('expansions'), 'author_id');
      assert.equal(q.get('backfill_minutes'), null);
      const v = JSON.parse(got.tweets[0]!.value.toString());
      assert.deepEqual(v.matching_rules, [{ id: 'r1', tag: 'music' }]);
    } finally {
      await source.close();
      await x.close();
    }
  });

  test('a stalled stream is dropped and reconnected (network backoff); the gap is filled by search with since_id and next_token', async () => {
    const x = await fakeX(
      (res, _url, n) => {
        open(res);
        if (n === 1)
          res.write(streamLine('100')); // then silence: no heartbeat
        else heartbeats(res, 10);
      },
      (url) =>
        url.searchParams.get('next_token') === 'N2'
          ? { data: [tweet('103')], meta: { newest_id: '103', result_count: 1 } }
          : {
              data: [tweet('102'), tweet('101')],
              meta: { newest_id: '102', result_count: 2, next_token: 'N2' },
            },
    );
    const { source, sleeps } = await makeSource(x, { stallTimeoutMs: 80 });
    try {
      const got = await collect(source, 4);
      assert.deepEqual(got.ids.sort(), ['100', '101', '102', '103']);
      assert.equal(x.streamUrls.length, 2);
      assert.equal(sleeps[0], tiny.network.firstMs, 'a stall is a network error: linear backoff');
      assert.equal(source.state().reconnects, 1);
      assert.equal(source.counters.reconnects, 1);
      assert.equal(source.counters.backfilledTweets, 3);
      const [p1, p2] = x.searchUrls.map((u) => u.searchParams);
      assert.equal(p1!.get('query'), 'music', 'one search per stream rule');
      assert.equal(p1!.get('since_id'), '100', 'the newest id seen before the outage');
      assert.equal(p2!.get('since_id'), '100');
      assert.equal(p2!.get('next_token'), 'N2');
      const backfilled = JSON.parse(got.tweets.find((t) => t.id === '101')!.value.toString());
      assert.deepEqual(backfilled.matching_rules, [{ id: 'r1', tag: 'music' }]);
    } finally {
      await source.close();
      await x.close();
    }
  });

  test('operational-disconnect ends the connection; tweets repeated after the reconnect are handed out again', async () => {
    const x = await fakeX((res, _url, n) => {
      open(res);
      // The server keeps the connection open after the message: the source must drop it itself.
      if (n === 1) res.write(streamLine('100') + DISCONNECT);
      else res.write(streamLine('100') + streamLine('101'));
    });
    const { logger, lines } = logCapture();
    const { source, sleeps } = await makeSource(x, { logger });
    try {
      const got = await collect(source, 3);
      // The produce loop's dedup window drops the repeat (test/unit/pipeline/produce-loop.test.ts).
      assert.deepEqual(got.ids, ['100', '100', '101']);
      assert.equal(source.counters.xProblems, 1);
      assert.equal(got.deadLetters.length, 0, 'an operational message is not a dead letter');
      assert.deepEqual(sleeps.slice(0, 1), [tiny.network.firstMs]);
      assert.ok(lines.some((l) => l.includes('operational-disconnect')));
    } finally {
      await source.close();
      await x.close();
    }
  });

  test('5xx backs off on the HTTP schedule, 429 TooManyConnections on the 429 schedule, with the reason logged and shown', async () => {
    const x = await fakeX((res, _url, n) => {
      if (n === 1) {
        res.writeHead(503, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ title: 'Service Unavailable', detail: 'Service Unavailable' }));
        return;
      }
      if (n === 2) {
        res.writeHead(429, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            title: 'ConnectionException',
            detail: 'This stream is currently at the maximum allowed connection limit.',
            connection_issue: 'TooManyConnections',
            type: 'https://api.twitter.com/2/problems/streaming-connection',
          }),
        );
        return;
      }
      open(res);
      res.write(streamLine('7'));
    });
    const { logger, lines } = logCapture();
    const states: ReturnType<XStreamSource['state']>[] = [];
    const { source, sleeps } = await makeSource(x, {
      logger,
      sleep: async (ms) => {
        sleeps.push(ms);
        states.push(source.state());
      },
    });
    try {
      const got = await collect(source, 1);
      assert.deepEqual(got.ids, ['7']);
      assert.deepEqual(sleeps, [tiny.http.firstMs, tiny['rate-limit'].firstMs]);
      assert.equal(states[1]!.state, 'backing-off');
      assert.match(states[1]!.reason!, /TooManyConnections/);
      assert.equal(typeof states[1]!.until, 'number');
      assert.ok(
        lines.some((l) => l.includes('TooManyConnections')),
        'the reason is logged',
      );
      assert.equal(x.searchUrls.length, 0, 'never connected before: no gap to fill');
      assert.equal(source.state().reconnects, 2);
    } finally {
      await source.close();
      await x.close();
    }
  });

  test('a rejected token is fatal: read() rejects with X_AUTH and the source does not retry', async () => {
    const x = await fakeX((res) => {
      res.writeHead(401, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({ title: 'Unauthorized', type: 'about:blank', status: 401, detail: 'Unauthorized' }),
      );
    });
    const { source } = await makeSource(x);
    try {
      await assert.rejects(source.read(AbortSignal.timeout(5_000)), (err: unknown) => {
        assert.ok(err instanceof TweetpipeError);
        assert.equal(err.code, 'X_AUTH');
        assert.ok(!err.message.includes('stream-test-token'));
        return true;
      });
      assert.equal(source.state().state, 'stopped');
      assert.equal(x.streamUrls.length, 1);
    } finally {
      await source.close();
      await x.close();
    }
  });

  test('on start, the gap since the saved cursor is searched, and the cursor is held there until it is acked', async () => {
    let answerSearch: () => void = () => {};
    const searchMayAnswer = new Promise<void>((r) => {
      answerSearch = r;
    });
    const x = await fakeX(
      (res) => {
        open(res);
        res.write(streamLine('200'));
      },
      async () => {
        await searchMayAnswer;
        return { data: [tweet('150')], meta: { newest_id: '150', result_count: 1 } };
      },
    );
    const { source, store } = await makeSource(x, {}, '100');
    try {
      const first = await collect(source, 1);
      assert.deepEqual(first.ids, ['200']);
      await first.batches[0]!.ack();
      assert.equal(
        store.get('x-stream'),
        '100',
        'the gap after 100 is not filled yet: the cursor must not pass it',
      );
      answerSearch();
      const gap = await collect(source, 1);
      assert.deepEqual(gap.ids, ['150']);
      assert.equal(x.searchUrls[0]!.searchParams.get('since_id'), '100');
      assert.equal(store.get('x-stream'), '100', 'read but not acked yet');
      await gap.batches[0]!.ack();
      // The hold is lifted once the gap's batch is acked; the save is asynchronous.
      for (let i = 0; i < 100 && store.get('x-stream') !== '200'; i++) await sleep(5);
      assert.equal(store.get('x-stream'), '200');
    } finally {
      await source.close();
      await x.close();
    }
  });

  test('backfill_minutes is asked for short outages when configured; no search is needed then', async () => {
    const now = Date.now();
    const recentId = ((BigInt(now - 1_288_834_974_657) << 22n) + 1n).toString();
    const x = await fakeX((res, _url, n) => {
      open(res);
      res.write(n === 1 ? streamLine(recentId) + DISCONNECT : streamLine('9'.repeat(19)));
    });
    const { source } = await makeSource(x, { backfillMinutes: 2 });
    try {
      await collect(source, 2);
      assert.equal(x.streamUrls[0]!.searchParams.get('backfill_minutes'), null, 'no outage yet');
      assert.equal(x.streamUrls[1]!.searchParams.get('backfill_minutes'), '2');
      await sleep(20);
      assert.equal(x.searchUrls.length, 0);
    } finally {
      await source.close();
      await x.close();
    }
  });

  test('when X refuses backfill_minutes, the stream reconnects without it and search fills the gap', async () => {
    const x = await fakeX(
      (res, url, n) => {
        if (url.searchParams.has('backfill_minutes')) {
          res.writeHead(403, { 'content-type': 'application/json' });
          res.end(
            JSON.stringify({ title: 'Forbidden', detail: 'backfill_minutes is not available on your plan' }),
          );
          return;
        }
        open(res);
        res.write(n === 1 ? streamLine('100') + DISCONNECT : '\r\n');
      },
      () => ({ data: [tweet('101')], meta: { newest_id: '101', result_count: 1 } }),
    );
    const { logger, lines } = logCapture();
    const { source } = await makeSource(x, { backfillMinutes: 5, logger });
    try {
      const got = await collect(source, 2);
      assert.deepEqual(got.ids, ['100', '101']);
      assert.deepEqual(
        x.streamUrls.map((u) => u.searchParams.get('backfill_minutes')),
        [null, '5', null],
      );
      assert.equal(x.searchUrls[0]!.searchParams.get('since_id'), '100');
      assert.ok(
        lines.some((l) => l.includes('refused backfill_minutes') && l.includes('not available on your plan')),
      );
    } finally {
      await source.close();
      await x.close();
    }
  });

  test('batches hold at most batchMaxTweets, and nothing is lost while read() lags behind the stream', async () => {
    const ids = Array.from({ length: 60 }, (_, i) => String(1000 + i));
    const x = await fakeX((res) => {
      open(res);
      res.write(ids.map(streamLine).join(''));
    });
    const { source } = await makeSource(x, { batchMaxTweets: 7, maxBufferedTweets: 10 });
    try {
      const got = await collect(source, 60);
      assert.deepEqual(got.ids, ids);
      assert.ok(got.batches.every((b) => b.tweets.length <= 7));
    } finally {
      await source.close();
      await x.close();
    }
  });

  test('close() stops the connection; read() then rejects', async () => {
    const x = await fakeX((res) => {
      open(res);
      res.write('\r\n');
    });
    const { source } = await makeSource(x);
    await source.close();
    assert.equal(source.state().state, 'stopped');
    await assert.rejects(source.read(AbortSignal.timeout(1_000)), { code: 'ABORTED' });
    await x.close();
  });
});

import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { TweetpipeError } from '../../../src/errors.ts';
import type { XReconnectSchedules } from '../../../src/retry/schedules.ts';
import { CursorStore } from '../../../src/sources/cursor-store.ts';
import type { ApiEra } from '../../../src/sources/x-api/eras.ts';
import { type XFieldSelection, XHttpClient } from '../../../src/sources/x-http.ts';
import { SEARCH_PATH, XSearchSource } from '../../../src/sources/x-search.ts';
import { startXEmulator } from '../../../src/x-emulator/server.ts';

const TOKEN = 'AAAA-secret-bearer-token-for-tests';
const fields: XFieldSelection = {
  tweetFields: ['created_at', 'author_id'],
  userFields: ['username'],
  expansions: ['author_id'],
  mediaFields: [],
  placeFields: [],
};

interface Reply {
  status?: number;
  headers?: Record<string, string>;
  body?: unknown;
  /** Drop the connection without answering. */
  destroy?: boolean;
}
interface Seen {
  url: URL;
  headers: IncomingHttpHeaders;
}

/** A fake X API: `route` answers each request; every request is recorded. */
async function fakeX(route: (url: URL, n: number) => Reply) {
  const seen: Seen[] = [];
  const server = createServer((req, res) => {
    const url = new URL(req.url!, 'http://x');
    seen.push({ url, headers: req.headers });
    const reply = route(url, seen.length);
    if (reply.destroy) return void req.socket.destroy();
    res.writeHead(reply.status ?? 200, { 'content-type': 'application/json', ...reply.headers });
    res.end(JSON.stringify(reply.body ?? {}));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    baseUrl,
    seen,
    // A fixed era: these tests script the server's answers; era negotiation has its own tests below.
    client: new XHttpClient({ baseUrl, bearerToken: TOKEN, apiEra: '2.159' }),
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

const tweet = (id: string) => ({
  id,
  text: `t${id}`,
  created_at: '2026-11-25T06:00:00.000Z',
  author_id: '1',
});
const page = (ids: string[], meta: Record<string, unknown>) => ({
  body: {
    data: ids.map(tweet),
    includes: { users: [{ id: '1', username: 'a' }] },
    meta: { result_count: ids.length, ...meta },
  },
});

/** A clock that only moves when the source sleeps, and a record of every sleep. */
function fakeTime(start = Date.UTC(2026, 10, 25, 6, 0, 0)) {
  const clock = { now: start, sleeps: [] as number[] };
  return {
    clock,
    now: () => clock.now,
    sleep: async (ms: number) => {
      clock.sleeps.push(ms);
      clock.now += ms;
    },
  };
}

let stateRoot: string;
let dirs = 0;
before(async () => {
  stateRoot = await mkdtemp(join(tmpdir(), 'tweetpipe-search-'));
});
after(async () => {
  await rm(stateRoot, { recursive: true, force: true });
});
async function storeWith(cursor?: string) {
  const store = await CursorStore.open(join(stateRoot, `s${dirs++}`));
  if (cursor) await store.save('x-search', cursor);
  return store;
}

const tiny: XReconnectSchedules = {
  network: { growth: 'linear', firstMs: 1, maxMs: 4, jitter: 'none' },
  http: { growth: 'exponential', firstMs: 2, maxMs: 8, jitter: 'none' },
  'rate-limit': { growth: 'exponential', firstMs: 3, maxMs: 9, jitter: 'none' },
};
const signal = new AbortController().signal;

describe('XSearchSource: since_id and next_token', () => {
  test('pages keep the same since_id; the next poll uses the first page newest_id; the cursor moves after all pages are acked', async () => {
    const x = await fakeX((_url, n) => {
      if (n === 1) return page(['300', '250'], { newest_id: '300', oldest_id: '250', next_token: 'A' });
      if (n === 2) return page(['200', '150'], { newest_id: '200', oldest_id: '150' });
      return page(['400'], { newest_id: '400' });
    });
    try {
      const time = fakeTime();
      const store = await storeWith('100');
      const source = new XSearchSource({
        client: x.client,
        fields,
        query: 'music',
        cursorStore: store,
        pollIntervalMs: 15_000,
        ...time,
      });
      await source.connect(signal);
      const b1 = await source.read(signal);
      const b2 = await source.read(signal);
      assert.deepEqual(
        b1.tweets.map((t) => t.id),
        ['300', '250'],
      );
      assert.deepEqual(
        b2.tweets.map((t) => t.id),
        ['200', '150'],
      );
      const [q1, q2] = x.seen.map((s) => s.url.searchParams);
      assert.equal(x.seen[0]!.url.pathname, SEARCH_PATH);
      assert.equal(q1!.get('since_id'), '100');
      assert.equal(q1!.get('next_token'), null);
      assert.equal(q2!.get('since_id'), '100', 'the second page repeats the poll since_id');
      assert.equal(q2!.get('next_token'), 'A');
      assert.equal(q1!.get('query'), 'music');
      assert.equal(q1!.get('tweet.fields'), 'created_at,author_id');
      assert.equal(q1!.get('expansions'), 'author_id');
      assert.equal(q1!.get('max_results'), '100');

      await b2.ack();
      assert.equal(store.get('x-search'), '100', 'page 2 acked but page 1 is not');
      await b1.ack();
      assert.equal(store.get('x-search'), '300', 'newest_id of the FIRST page, not 200 from the last');

      const b3 = await source.read(signal);
      assert.equal(x.seen[2]!.url.searchParams.get('since_id'), '300');
      assert.equal(x.seen[2]!.url.searchParams.get('next_token'), null);
      assert.deepEqual(time.clock.sleeps, [15_000], 'the next poll waited for the poll interval');
      await b3.ack();
      assert.equal(store.get('x-search'), '400');
    } finally {
      await x.close();
    }
  });

  test('an empty poll keeps since_id; a first poll without cursor starts from the lookback instead', async () => {
    const x = await fakeX((_url, n) =>
      n === 1 ? { body: { meta: { result_count: 0 } } } : page(['7'], { newest_id: '7' }),
    );
    try {
      const time = fakeTime();
      const store = await storeWith();
      const source = new XSearchSource({
        client: x.client,
        fields,
        query: 'q',
        cursorStore: store,
        pollIntervalMs: 10,
        firstPollLookbackMs: 60_000,
        ...time,
      });
      await source.connect(signal);
      const batch = await source.read(signal);
      assert.deepEqual(
        batch.tweets.map((t) => t.id),
        ['7'],
        'the empty page was skipped, not returned',
      );
      const [q1, q2] = x.seen.map((s) => s.url.searchParams);
      assert.equal(q1!.get('since_id'), null);
      assert.equal(q1!.get('start_time'), '2026-11-25T05:59:00Z');
      assert.equal(q2!.get('since_id'), null, 'no newest_id yet: still no since_id');
      assert.equal(q2!.get('start_time'), '2026-11-25T05:59:00Z');
      await batch.ack();
      assert.equal(store.get('x-search'), '7');
    } finally {
      await x.close();
    }
  });

  test('a page overlapping an earlier one is handed out whole (the produce loop drops repeats)', async () => {
    const x = await fakeX((_url, n) =>
      n === 1 ? page(['5', '4'], { newest_id: '5' }) : page(['6', '5'], { newest_id: '6' }),
    );
    try {
      const source = new XSearchSource({
        client: x.client,
        fields,
        query: 'q',
        cursorStore: await storeWith('1'),
        ...fakeTime(),
      });
      await source.connect(signal);
      await source.read(signal);
      const b2 = await source.read(signal);
      assert.deepEqual(
        b2.tweets.map((t) => t.id),
        ['6', '5'],
      );
      assert.equal(source.counters.tweets, 4);
    } finally {
      await x.close();
    }
  });
});

describe('XSearchSource: pacing and retries', () => {
  test('sleeps until x-rate-limit-reset when remaining is 0, then polls', async () => {
    const time = fakeTime();
    const resetS = Math.floor(time.clock.now / 1000) + 120;
    const x = await fakeX((_url, n) => ({
      ...page([String(10 + n)], { newest_id: String(10 + n) }),
      headers: {
        'x-rate-limit-limit': '60',
        'x-rate-limit-remaining': n === 1 ? '0' : '59',
        'x-rate-limit-reset': String(resetS),
      },
    }));
    try {
      const source = new XSearchSource({
        client: x.client,
        fields,
        query: 'q',
        cursorStore: await storeWith('1'),
        pollIntervalMs: 5_000,
        ...time,
      });
      await source.connect(signal);
      await source.read(signal);
      const start = time.clock.now;
      await source.read(signal);
      assert.deepEqual(
        time.clock.sleeps,
        [5_000, resetS * 1000 - (start + 5_000) + 1_000],
        'interval, then until the reset (+1 s margin)',
      );
      await source.read(signal);
      assert.equal(
        time.clock.sleeps.length,
        2,
        'the poll interval already passed while waiting for the reset',
      );
      await source.read(signal);
      assert.equal(time.clock.sleeps[2], 5_000, 'remaining > 0: back to the poll interval');
      assert.equal(x.seen.length, 4);
    } finally {
      await x.close();
    }
  });

  test('429 waits until the reset and retries the same page', async () => {
    const time = fakeTime();
    const resetS = Math.floor(time.clock.now / 1000) + 30;
    const x = await fakeX((_url, n) => {
      if (n === 1) return page(['9'], { newest_id: '9', next_token: 'P2' });
      if (n === 2)
        return {
          status: 429,
          headers: { 'x-rate-limit-remaining': '0', 'x-rate-limit-reset': String(resetS) },
          body: { title: 'Too Many Requests', detail: 'Too Many Requests', type: 'about:blank', status: 429 },
        };
      return page(['8'], { newest_id: '8' });
    });
    try {
      const states: string[] = [];
      const source = new XSearchSource({
        client: x.client,
        fields,
        query: 'q',
        cursorStore: await storeWith('1'),
        ...time,
        sleep: async (ms) => {
          states.push(source.state().state);
          await time.sleep(ms);
        },
      });
      await source.connect(signal);
      await source.read(signal);
      const before429 = time.clock.now;
      const b2 = await source.read(signal);
      assert.deepEqual(
        b2.tweets.map((t) => t.id),
        ['8'],
      );
      assert.equal(x.seen[2]!.url.searchParams.get('next_token'), 'P2', 'the retry asks for the same page');
      assert.equal(x.seen[2]!.url.searchParams.get('since_id'), '1');
      assert.deepEqual(time.clock.sleeps, [resetS * 1000 - before429 + 1_000]);
      assert.deepEqual(states, ['backing-off']);
      assert.equal(source.state().state, 'connected');
      assert.equal(source.state().reconnects, 1);
    } finally {
      await x.close();
    }
  });

  test('5xx backs off exponentially (HTTP schedule), a dropped connection linearly (network schedule)', async () => {
    const x = await fakeX((_url, n) => {
      if (n === 1 || n === 2)
        return { status: 503, body: { title: 'Service Unavailable', detail: 'try later' } };
      if (n === 3) return { destroy: true };
      return page(['3'], { newest_id: '3' });
    });
    try {
      const time = fakeTime();
      const source = new XSearchSource({
        client: x.client,
        fields,
        query: 'q',
        cursorStore: await storeWith('1'),
        backoffPolicy: tiny,
        ...time,
      });
      await source.connect(signal);
      const batch = await source.read(signal);
      assert.deepEqual(
        batch.tweets.map((t) => t.id),
        ['3'],
      );
      assert.deepEqual(time.clock.sleeps, [2, 4, 1]);
    } finally {
      await x.close();
    }
  });

  test('a 400 is not retried: read() rejects with X_HTTP carrying X message, and the source stops', async () => {
    const x = await fakeX(() => ({
      status: 400,
      body: {
        errors: [
          {
            parameters: { query: ['(('] },
            message: 'There were errors processing your request: Unbalanced parentheses',
          },
        ],
        title: 'Invalid Request',
        detail: 'One or more parameters to your request was invalid.',
        type: 'https://api.twitter.com/2/problems/invalid-request',
      },
    }));
    try {
      const source = new XSearchSource({
        client: x.client,
        fields,
        query: '((',
        cursorStore: await storeWith('1'),
        ...fakeTime(),
      });
      await source.connect(signal);
      await assert.rejects(source.read(signal), (err: unknown) => {
        assert.ok(err instanceof TweetpipeError);
        assert.equal(err.code, 'X_HTTP');
        assert.equal(err.retryable, false);
        assert.match(err.message, /Unbalanced parentheses/);
        return true;
      });
      assert.equal(x.seen.length, 1);
      assert.equal(source.state().state, 'stopped');
    } finally {
      await x.close();
    }
  });
});

describe('XHttpClient (through recent search)', () => {
  test('sends the bearer token; a 401 says X_BEARER_TOKEN and never contains the token', async () => {
    const x = await fakeX((_url) => ({
      status: 401,
      body: {
        title: 'Unauthorized',
        type: 'about:blank',
        status: 401,
        detail: `Unauthorized: Bearer ${TOKEN}`,
      },
    }));
    try {
      await assert.rejects(x.client.get(SEARCH_PATH, { query: { query: 'q' } }), (err: unknown) => {
        assert.ok(err instanceof TweetpipeError);
        assert.equal(err.code, 'X_AUTH');
        assert.equal(err.retryable, false);
        assert.match(err.message, /bearer token was rejected \(X_BEARER_TOKEN\)/);
        assert.ok(!err.message.includes(TOKEN), 'the token is masked even when X echoes it');
        return true;
      });
      assert.equal(x.seen[0]!.headers.authorization, `Bearer ${TOKEN}`);
    } finally {
      await x.close();
    }
  });

  test("403: one error that says what to do, from the spec's reason and registration_url, without the token", async () => {
    const x = await fakeX(() => ({
      status: 403,
      body: {
        client_id: '123',
        detail:
          'When authenticating requests to the Twitter API v2 endpoints, you must use keys and tokens from a Twitter developer App that is attached to a Project.',
        registration_url: 'https://developer.twitter.com/en/docs/projects/overview',
        title: 'Client Forbidden',
        reason: 'client-not-enrolled',
        type: 'https://api.twitter.com/2/problems/client-forbidden',
      },
    }));
    try {
      await assert.rejects(x.client.get(SEARCH_PATH), (err: unknown) => {
        assert.ok(err instanceof TweetpipeError);
        assert.equal(err.code, 'X_AUTH');
        assert.match(
          err.message,
          /not enrolled for this endpoint: in the X developer portal, attach the app to a Project/,
        );
        assert.match(
          err.message,
          /register or upgrade at https:\/\/developer\.twitter\.com\/en\/docs\/projects\/overview/,
        );
        assert.match(err.message, /X says: Client Forbidden: When authenticating/);
        assert.doesNotMatch(err.message, new RegExp(TOKEN));
        assert.equal(err.details.reason, 'client-not-enrolled');
        return true;
      });
    } finally {
      await x.close();
    }
  });

  test('429 is X_RATE_LIMITED, retryable, with the reset time; 5xx is X_HTTP retryable', async () => {
    const x = await fakeX((_url, n) =>
      n === 1
        ? {
            status: 429,
            headers: { 'x-rate-limit-reset': '1800000000' },
            body: { title: 'Too Many Requests' },
          }
        : { status: 502, body: {} },
    );
    try {
      await assert.rejects(x.client.get(SEARCH_PATH), (err: TweetpipeError) => {
        assert.equal(err.code, 'X_RATE_LIMITED');
        assert.equal(err.retryable, true);
        assert.equal(err.details.resetAtMs, 1_800_000_000_000);
        assert.match(err.message, /until 2027-01-15T08:00:00.000Z/);
        return true;
      });
      await assert.rejects(x.client.get(SEARCH_PATH), { code: 'X_HTTP', retryable: true });
    } finally {
      await x.close();
    }
  });

  test('parses the x-rate-limit-* headers', async () => {
    const x = await fakeX(() => ({
      headers: {
        'x-rate-limit-limit': '450',
        'x-rate-limit-remaining': '449',
        'x-rate-limit-reset': '1800000000',
      },
      body: {},
    }));
    try {
      const res = await x.client.get(SEARCH_PATH);
      assert.deepEqual(res.rateLimit, { limit: 450, remaining: 449, resetAtMs: 1_800_000_000_000 });
    } finally {
      await x.close();
    }
  });

  test('a connection refused is NETWORK, retryable', async () => {
    const x = await fakeX(() => ({}));
    await x.close();
    await assert.rejects(x.client.get(SEARCH_PATH), { code: 'NETWORK', retryable: true });
  });

  /** Default field selection: the era's defaults for post fields and expansions. */
  const defaults = { userFields: ['username'], mediaFields: [], placeFields: [] };

  async function againstEmulator(
    serverEra: ApiEra,
    opts: { openApi: boolean; apiEra?: 'auto' | ApiEra; fields?: XFieldSelection },
    fn: (client: XHttpClient, badRequests: () => Record<string, number>) => Promise<void>,
  ): Promise<void> {
    const emu = await startXEmulator({ rate: 0, naming: serverEra, openApi: opts.openApi });
    emu.publish(200);
    const client = new XHttpClient({ baseUrl: emu.url, bearerToken: TOKEN, apiEra: opts.apiEra ?? 'auto' });
    try {
      await fn(client, () => emu.stats().badRequests);
    } finally {
      await emu.close();
    }
  }
  const search = (client: XHttpClient, fields: XFieldSelection = defaults) =>
    client.get(SEARCH_PATH, { query: { query: 'music' }, selection: { endpoint: 'search', fields } });
  const rulesLookup = (client: XHttpClient) => client.get('/2/tweets/search/stream/rules');

  for (const serverEra of ['2.159', '2.167'] as const) {
    test(`auto against a ${serverEra} server without /2/openapi.json: one 400 on recent search tells the era, then none`, async () => {
      await againstEmulator(serverEra, { openApi: false }, async (client, badRequests) => {
        for (let i = 0; i < 3; i++) {
          const res = await search(client);
          assert.equal(res.status, 200);
          const page = res.body as { data: Record<string, unknown>[]; includes: Record<string, unknown> };
          // The defaults carry the referenced posts, their authors and the long text in both eras.
          assert.ok(page.includes.users && page.includes[serverEra === '2.167' ? 'posts' : 'tweets']);
          assert.ok(
            page.data.every((t) => typeof t.author_id === 'string' && typeof t.created_at === 'string'),
          );
        }
        await rulesLookup(client);
        assert.deepEqual(badRequests(), {
          stream: 0,
          rulesLookup: 0,
          rulesUpdate: 0,
          search: serverEra === '2.167' ? 0 : 1,
        });
      });
    });

    test(`auto with the ${serverEra} server's /2/openapi.json, or x.apiEra=${serverEra}: no 400 at all`, async () => {
      for (const opts of [{ openApi: true }, { openApi: false, apiEra: serverEra }]) {
        await againstEmulator(serverEra, opts, async (client, badRequests) => {
          assert.equal((await search(client)).status, 200);
          assert.equal((await search(client)).status, 200);
          assert.equal(badRequests().search, 0);
        });
      }
    });
  }

  test('a fixed era the server does not speak fails on its 400, without retrying in the other era', async () => {
    await againstEmulator('2.167', { openApi: false, apiEra: '2.159' }, async (client, badRequests) => {
      await assert.rejects(search(client), /X API \/2\/tweets\/search\/recent: HTTP 400/);
      assert.equal(badRequests().search, 1);
    });
  });

  test('configured values are translated where a name maps 1:1; others fail naming the key and the allowed values', async () => {
    await againstEmulator('2.167', { openApi: true }, async (client) => {
      const res = await search(client, {
        ...defaults,
        tweetFields: ['created_at', 'note_tweet'],
        expansions: ['referenced_tweets.id'],
      });
      assert.equal(res.status, 200);
      await assert.rejects(search(client, { ...defaults, tweetFields: ['author_id'] }), (err: unknown) => {
        assert.ok(err instanceof TweetpipeError);
        assert.equal(err.code, 'CONFIG_INVALID');
        assert.match(
          err.message,
          /config key "x.tweetFields": "author_id" is not a value of post.fields on GET \/2\/tweets\/search\/recent in X API 2.167; expected some of: article, article_title, attachments/,
        );
        return true;
      });
    });
  });
});

/** Component tests of the X API v2 emulator over real HTTP on 127.0.0.1 (ephemeral ports). */
import assert from 'node:assert/strict';
import { type ClientRequest, get as httpGet, type IncomingMessage } from 'node:http';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { compareIds } from '../../../src/types.ts';
import { startXEmulator, type XEmulator, type XEmulatorOptions } from '../../../src/x-emulator/server.ts';

const AUTH = { authorization: 'Bearer test-token' };
const MUSIC = { value: 'music lang:en -is:retweet', tag: 'music' };
const PROBLEMS = 'https://api.twitter.com/2/problems';
// biome-ignore lint/suspicious/noExplicitAny: answers are read loosely; each test asserts the shape it relies on.
type Json = Record<string, any>;

async function withEmulator(opts: XEmulatorOptions, fn: (emu: XEmulator) => Promise<void>): Promise<void> {
  const emu = await startXEmulator({ rate: 0, ...opts });
  try {
    await fn(emu);
  } finally {
    await emu.close();
  }
}

async function call(
  emu: XEmulator,
  path: string,
  init: { method?: string; body?: unknown; headers?: Json } = {},
) {
  const res = await fetch(emu.url + path, {
    method: init.method ?? 'GET',
    headers: {
      ...(init.headers ?? AUTH),
      ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(init.body === undefined
      ? {}
      : { body: typeof init.body === 'string' ? init.body : JSON.stringify(init.body) }),
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as Json };
}

/** Polls until `ok()` holds; the timeout only bounds the wait, it is not what the test asserts. */
async function until(ok: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

/** A raw view of one stream connection: every byte received and how the connection ended. */
class StreamClient {
  raw = '';
  ended: 'end' | 'cut' | undefined;
  readonly status: number;
  readonly headers: IncomingMessage['headers'];
  private readonly req: ClientRequest;

  constructor(req: ClientRequest, res: IncomingMessage) {
    this.req = req;
    this.status = res.statusCode ?? 0;
    this.headers = res.headers;
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      this.raw += chunk;
    });
    res.on('error', () => {});
    res.on('close', () => {
      this.ended ??= res.complete ? 'end' : 'cut';
    });
  }

  /** Complete lines (terminated by \r\n); heartbeats are empty strings. */
  lines(): string[] {
    return this.raw.split('\r\n').slice(0, -1);
  }

  /** Whatever follows the last \r\n. */
  partial(): string {
    return this.raw.split('\r\n').at(-1) ?? '';
  }

  messages(): Json[] {
    return this.lines()
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as Json);
  }

  tweets(): Json[] {
    return this.messages().filter((m) => m.data !== undefined);
  }

  close(): void {
    this.req.destroy();
  }
}

function openStream(emu: XEmulator, query = '', headers: Json = AUTH): Promise<StreamClient> {
  return new Promise((resolve, reject) => {
    const req = httpGet(`${emu.url}/2/tweets/search/stream${query}`, { headers }, (res) =>
      resolve(new StreamClient(req, res)),
    );
    req.on('error', reject);
  });
}

const bodyOf = async (s: StreamClient): Promise<Json> => {
  await until(() => s.ended !== undefined, 'the error body');
  return JSON.parse(s.raw) as Json;
};

/** All pages of a recent search, following next_token. */
async function searchAll(emu: XEmulator, query: string, extra = '') {
  const pages: Json[] = [];
  let token: string | undefined;
  do {
    const next = token ? `&next_token=${token}` : '';
    const res = await call(
      emu,
      `/2/tweets/search/recent?query=${encodeURIComponent(query)}&max_results=10${extra}${next}`,
    );
    assert.equal(res.status, 200, JSON.stringify(res.body));
    pages.push(res.body);
    token = res.body.meta.next_token;
  } while (token);
  return pages;
}

describe('auth', () => {
  test('a missing or wrong bearer token gets 401 in X shape; the configured token passes', async () => {
    await withEmulator({ token: 'secret' }, async (emu) => {
      const unauthorized = {
        title: 'Unauthorized',
        type: 'about:blank',
        status: 401,
        detail: 'Unauthorized',
      };
      for (const headers of [
        {},
        { authorization: 'Bearer ' },
        { authorization: 'Bearer nope' },
        { authorization: 'secret' },
      ]) {
        const res = await call(emu, '/2/tweets/search/stream/rules', { headers });
        assert.equal(res.status, 401);
        assert.deepEqual(res.body, unauthorized);
      }
      const stream = await openStream(emu, '', {});
      assert.equal(stream.status, 401);
      assert.equal(
        (await call(emu, '/2/tweets/search/stream/rules', { headers: { authorization: 'Bearer secret' } }))
          .status,
        200,
      );
    });
  });

  test('any non-empty bearer token passes by default', async () => {
    await withEmulator({}, async (emu) => {
      const res = await call(emu, '/2/tweets/search/stream/rules', {
        headers: { authorization: 'Bearer whatever' },
      });
      assert.equal(res.status, 200);
    });
  });

  test('client-not-enrolled answers 403 with the client-forbidden problem everywhere', async () => {
    await withEmulator({ scenarios: ['client-not-enrolled'] }, async (emu) => {
      for (const path of ['/2/tweets/search/stream/rules', '/2/tweets/search/recent?query=music']) {
        const res = await call(emu, path);
        assert.equal(res.status, 403);
        assert.equal(res.body.reason, 'client-not-enrolled');
        assert.equal(res.body.type, `${PROBLEMS}/client-forbidden`);
        assert.equal(res.body.title, 'Client Forbidden');
      }
      assert.equal((await openStream(emu)).status, 403);
    });
  });

  test('unknown paths get 404 and wrong methods 405', async () => {
    await withEmulator({}, async (emu) => {
      assert.equal((await call(emu, '/2/tweets/nope')).status, 404);
      assert.equal((await call(emu, '/2/tweets/search/stream/rules', { method: 'DELETE' })).status, 405);
    });
  });
});

describe('stream rules', () => {
  test('add, list, look up by id, delete, delete_all', async () => {
    await withEmulator({}, async (emu) => {
      const empty = await call(emu, '/2/tweets/search/stream/rules');
      assert.equal(empty.body.data, undefined);
      assert.equal(empty.body.meta.result_count, 0);
      assert.match(empty.body.meta.sent, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);

      const added = await call(emu, '/2/tweets/search/stream/rules', {
        method: 'POST',
        body: { add: [MUSIC, { value: '#NowPlaying' }] },
      });
      assert.equal(added.status, 200);
      assert.deepEqual(added.body.meta.summary, { created: 2, not_created: 0, valid: 2, invalid: 0 });
      const [music, np] = added.body.data as Json[];
      assert.match(music?.id, /^[0-9]{19}$/);
      assert.deepEqual(music, { id: music?.id, value: MUSIC.value, tag: 'music' });
      assert.deepEqual(np, { id: np?.id, value: '#NowPlaying' });

      const list = await call(emu, '/2/tweets/search/stream/rules');
      assert.deepEqual(list.body.data, [music, np]);
      assert.equal(list.body.meta.result_count, 2);
      assert.deepEqual((await call(emu, `/2/tweets/search/stream/rules?ids=${np?.id}`)).body.data, [np]);
      const paged = await call(emu, '/2/tweets/search/stream/rules?max_results=1');
      assert.deepEqual(paged.body.data, [music]);
      assert.equal(paged.body.meta.next_token.length, 16);
      const second = await call(
        emu,
        `/2/tweets/search/stream/rules?max_results=1&pagination_token=${paged.body.meta.next_token}`,
      );
      assert.deepEqual(second.body.data, [np]);

      const deleted = await call(emu, '/2/tweets/search/stream/rules', {
        method: 'POST',
        body: { delete: { ids: [np?.id, '123'] } },
      });
      assert.deepEqual(deleted.body.meta.summary, { deleted: 1, not_deleted: 1 });
      assert.equal(deleted.body.errors[0].value, '123');
      assert.deepEqual(emu.rules(), [music]);

      const all = await call(emu, '/2/tweets/search/stream/rules?delete_all=true', { method: 'POST' });
      assert.deepEqual(all.body.meta.summary, { deleted: 1, not_deleted: 0 });
      assert.deepEqual(emu.rules(), []);
    });
  });

  test('invalid rules are refused with per-rule problems, and one bad rule fails the whole request', async () => {
    await withEmulator({ rules: [MUSIC] }, async (emu) => {
      const invalid: [string, string][] = [
        ['(music', 'unmatched opening parenthesis (at position 1)'],
        ['music)', 'unmatched closing parenthesis (at position 6)'],
        ['"live music', 'unterminated quoted phrase (at position 1)'],
        ['music bio_location:nyc', "Reference to invalid operator 'bio_location'"],
        ['-music', 'Rules must contain a non-negation term'],
        ['lang:en -is:retweet', 'at least one positive, non-stand-alone clause'],
        ['music OR', 'OR must stand between two clauses'],
        ['music is:bogus', "operator 'is:'"],
        ['x'.repeat(513), 'Rule is too long: 513 characters, the maximum is 512'],
      ];
      const res = await call(emu, '/2/tweets/search/stream/rules', {
        method: 'POST',
        body: {
          add: [
            ...invalid.map(([value]) => ({ value })),
            { value: 'cats has:images' },
            { value: MUSIC.value },
          ],
        },
      });
      assert.equal(res.status, 200);
      assert.deepEqual(res.body.meta.summary, { created: 0, not_created: 11, valid: 1, invalid: 10 });
      assert.equal(res.body.data, undefined);
      for (const [i, [value, detail]] of invalid.entries()) {
        const problem = res.body.errors[i];
        assert.equal(problem.value, value);
        assert.equal(problem.title, 'UnprocessableEntity');
        assert.equal(problem.type, `${PROBLEMS}/invalid-rules`);
        assert.ok(problem.details[0].includes(detail), `${value}: ${problem.details[0]}`);
      }
      const duplicate = res.body.errors[invalid.length];
      assert.equal(duplicate.title, 'DuplicateRule');
      assert.equal(duplicate.type, `${PROBLEMS}/duplicate-rules`);
      assert.equal(duplicate.id, emu.rules()[0]?.id);
      assert.equal(emu.rules().length, 1, 'nothing was added');
    });
  });

  test('dry_run validates and answers as if applied, without changing the rule set', async () => {
    await withEmulator({ rules: [MUSIC] }, async (emu) => {
      const longest = `music ${'a'.repeat(506)}`;
      const add = await call(emu, '/2/tweets/search/stream/rules?dry_run=true', {
        method: 'POST',
        body: { add: [{ value: longest }] },
      });
      assert.deepEqual(add.body.meta.summary, { created: 1, not_created: 0, valid: 1, invalid: 0 });
      assert.equal(add.body.data[0].value, longest);
      const del = await call(emu, '/2/tweets/search/stream/rules?dry_run=true', {
        method: 'POST',
        body: { delete: { values: [MUSIC.value] } },
      });
      assert.deepEqual(del.body.meta.summary, { deleted: 1, not_deleted: 0 });
      assert.deepEqual(
        emu.rules().map((r) => r.value),
        [MUSIC.value],
      );
    });
  });

  test('malformed requests get 400 Invalid Request', async () => {
    await withEmulator({}, async (emu) => {
      const cases: [unknown, string][] = [
        ['not json', 'not valid JSON'],
        [{}, 'exactly one of add or delete'],
        [{ add: [{ tag: 'x' }] }, '$.add[0].value: is missing but it is required'],
        [{ add: [], delete: { ids: [] } }, 'exactly one of add or delete'],
      ];
      for (const [body, message] of cases) {
        const res = await call(emu, '/2/tweets/search/stream/rules', { method: 'POST', body });
        assert.equal(res.status, 400);
        assert.equal(res.body.type, `${PROBLEMS}/invalid-request`);
        assert.ok(res.body.errors[0].message.includes(message), res.body.errors[0].message);
      }
      const unknown = await call(emu, '/2/tweets/search/stream/rules?foo=1');
      assert.equal(unknown.status, 400);
      assert.equal(
        unknown.body.errors[0].message,
        'The query parameter [foo] is not one of [ids,max_results,pagination_token]',
      );
      assert.deepEqual(unknown.body.errors[0].parameters, { foo: ['1'] });
    });
  });
});

describe('filtered stream', () => {
  test('delivers every matching tweet as a \\r\\n-terminated JSON line, with heartbeats', async () => {
    await withEmulator({ rules: [MUSIC], heartbeatMs: 20 }, async (emu) => {
      const stream = await openStream(emu);
      assert.equal(stream.status, 200);
      assert.equal(stream.headers['content-type'], 'application/json; charset=utf-8');
      assert.equal(stream.headers['transfer-encoding'], 'chunked');
      assert.ok(stream.headers['x-rate-limit-remaining']);
      emu.publish(300);
      const expected = emu.published({ matching: true });
      assert.ok(expected.length > 20, `a good share matches the default rule (${expected.length}/300)`);
      await until(() => stream.tweets().length === expected.length, 'all matching tweets');
      await until(() => stream.lines().filter((l) => l === '').length >= 2, 'two heartbeats');
      assert.equal(stream.partial(), '', 'every line is terminated by \\r\\n');
      const tweets = stream.tweets();
      assert.deepEqual(
        tweets.map((t) => t.data.id),
        expected,
      );
      const ruleId = emu.rules()[0]?.id;
      for (const t of tweets) {
        assert.deepEqual(Object.keys(t), ['data', 'matching_rules'], 'no includes without expansions');
        assert.deepEqual(
          Object.keys(t.data),
          ['id', 'text', 'edit_history_tweet_ids'],
          'default fields only',
        );
        assert.deepEqual(t.matching_rules, [{ id: ruleId, tag: 'music' }]);
        assert.ok(/\bmusic\b/i.test(t.data.text) && !t.data.text.startsWith('RT '), t.data.text);
      }
      assert.equal(emu.stats().delivered, expected.length);
      assert.ok(emu.stats().heartbeats >= 2);
      stream.close();
    });
  });

  test('honours tweet.fields, expansions and user.fields', async () => {
    await withEmulator({ rules: [MUSIC] }, async (emu) => {
      const stream = await openStream(
        emu,
        '?tweet.fields=created_at,lang&expansions=author_id&user.fields=verified',
      );
      emu.publish(200);
      const expected = emu.published({ matching: true }).length;
      await until(() => stream.tweets().length === expected, 'the matching tweets');
      for (const t of stream.tweets()) {
        assert.deepEqual(Object.keys(t.data).sort(), [
          'author_id',
          'created_at',
          'edit_history_tweet_ids',
          'id',
          'lang',
          'text',
        ]);
        assert.equal(t.data.lang, 'en');
        assert.deepEqual(Object.keys(t.includes), ['users']);
        const author = t.includes.users.find((u: Json) => u.id === t.data.author_id);
        assert.deepEqual(Object.keys(author).sort(), ['id', 'name', 'username', 'verified']);
      }
      stream.close();
    });
  });

  test('allows one connection: a second gets 429 TooManyConnections until the first is gone', async () => {
    await withEmulator({}, async (emu) => {
      const first = await openStream(emu);
      assert.equal(first.status, 200);
      const second = await openStream(emu);
      assert.equal(second.status, 429);
      assert.deepEqual(await bodyOf(second), {
        title: 'ConnectionException',
        detail: 'This stream is currently at the maximum allowed connection limit.',
        connection_issue: 'TooManyConnections',
        type: `${PROBLEMS}/streaming-connection`,
      });
      assert.equal(emu.stats().rejectedConnections, 1);
      first.close();
      await until(() => emu.stats().activeConnections === 0, 'the first connection to go');
      const third = await openStream(emu);
      assert.equal(third.status, 200);
      third.close();
    });
  });

  test('backfill_minutes is refused unless Enterprise backfill is on, then replays matching history', async () => {
    await withEmulator({ rules: [MUSIC] }, async (emu) => {
      const refused = await openStream(emu, '?backfill_minutes=2');
      assert.equal(refused.status, 400);
      const body = await bodyOf(refused);
      assert.equal(body.type, `${PROBLEMS}/invalid-request`);
      assert.deepEqual(body.errors[0].parameters, { backfill_minutes: ['2'] });
      assert.ok(body.errors[0].message.includes('Enterprise'));
      const outOfRange = await bodyOf(await openStream(emu, '?backfill_minutes=9'));
      assert.ok(outOfRange.errors[0].message.includes('is not between 0 and 5'));
    });
    await withEmulator({ rules: [MUSIC], backfill: true }, async (emu) => {
      emu.publish(200);
      const expected = emu.published({ matching: true });
      const stream = await openStream(emu, '?backfill_minutes=1');
      await until(() => stream.tweets().length === expected.length, 'the backfilled tweets');
      assert.deepEqual(
        stream.tweets().map((t) => t.data.id),
        expected,
      );
      stream.close();
    });
  });

  test('rejects unknown parameters and field names with X messages', async () => {
    await withEmulator({}, async (emu) => {
      const unknown = await bodyOf(await openStream(emu, '?foo=bar'));
      assert.equal(
        unknown.errors[0].message,
        'The query parameter [foo] is not one of [backfill_minutes,start_time,end_time,tweet.fields,expansions,media.fields,poll.fields,user.fields,place.fields]',
      );
      const field = await bodyOf(await openStream(emu, '?tweet.fields=bogus'));
      assert.ok(
        field.errors[0].message.startsWith(
          'The `tweet.fields` query parameter value [bogus] is not one of [article,',
        ),
      );
      const twice = await bodyOf(await openStream(emu, '?expansions=author_id&expansions=geo.place_id'));
      assert.equal(
        twice.errors[0].message,
        'Duplicate parameters are not allowed: the `expansions` query parameter',
      );
    });
  });
});

describe('naming eras', () => {
  test('2.159 (default) takes tweet.fields and serves includes.tweets; post.fields is an unknown parameter', async () => {
    await withEmulator({}, async (emu) => {
      emu.publish(300);
      const ok = await call(
        emu,
        '/2/tweets/search/recent?query=rt%20is:retweet&tweet.fields=created_at&expansions=referenced_tweets.id',
      );
      assert.equal(ok.status, 200);
      assert.equal(ok.headers.get('api-version'), '2.159');
      assert.ok(ok.body.includes.tweets.length > 0);
      assert.equal(ok.body.includes.posts, undefined);
      const refused = await call(emu, '/2/tweets/search/recent?query=music&post.fields=created_at');
      assert.equal(refused.status, 400);
      assert.ok(
        refused.body.errors[0].message.startsWith('The query parameter [post.fields] is not one of ['),
      );
    });
  });

  test('2.167: recent search takes post.fields and 2.167 values, the stream still takes tweet.fields; 2.167 names served', async () => {
    await withEmulator({ naming: '2.167', rules: [MUSIC] }, async (emu) => {
      emu.publish(300);
      const ok = await call(
        emu,
        '/2/tweets/search/recent?query=rt%20is:retweet&post.fields=created_at,public_metrics&expansions=referenced_posts,author_id',
      );
      assert.equal(ok.status, 200);
      assert.ok(ok.body.includes.posts.length > 0);
      assert.equal(ok.body.includes.tweets, undefined);
      for (const t of ok.body.data) {
        assert.ok(t.created_at);
        assert.ok(t.referenced_posts, 'referenced_posts, not referenced_tweets');
        assert.equal(t.referenced_tweets, undefined);
        assert.equal(typeof t.public_metrics.repost_count, 'number');
        assert.equal(t.public_metrics.retweet_count, undefined);
        assert.ok(t.edit_history_post_ids);
      }
      // 2.167's author_id expansion also brings the authors of the included posts.
      const authors = new Set(ok.body.includes.users.map((u: Json) => u.id));
      for (const p of ok.body.includes.posts) assert.ok(authors.has(p.author_id));

      const refused = await call(emu, '/2/tweets/search/recent?query=music&tweet.fields=created_at');
      assert.equal(refused.status, 400);
      assert.equal(refused.body.type, 'https://api.x.com/2/problems/invalid-request');
      assert.equal(refused.body.parameter, 'tweet.fields');
      assert.equal(refused.body.value, 'created_at');
      assert.ok(refused.body.detail.startsWith('The query parameter [tweet.fields] is not one of [query,'));
      // 2.159 values of the same parameter name are refused too.
      const oldValue = await call(emu, '/2/tweets/search/recent?query=music&expansions=referenced_tweets.id');
      assert.equal(oldValue.status, 400);
      assert.equal(oldValue.body.parameter, 'expansions');

      // The filtered stream of 2.167 takes tweet.fields (with note_tweet, referenced_tweets), not post.fields.
      assert.equal((await openStream(emu, '?post.fields=created_at')).status, 400);
      const stream = await openStream(
        emu,
        '?tweet.fields=created_at,referenced_tweets,note_tweet&expansions=referenced_tweets.id',
      );
      assert.equal(stream.status, 200);
      emu.publish(300);
      await until(() => stream.tweets().length > 20, 'stream lines');
      const lines = stream.tweets();
      assert.ok(lines.some((l) => l.data.referenced_posts && l.includes?.posts));
      assert.ok(lines.some((l) => l.data.note_post?.text));
      assert.ok(
        lines.every((l) => l.data.referenced_tweets === undefined && l.includes?.tweets === undefined),
      );
      stream.close();
    });
  });
});

describe('stream scenarios', () => {
  test('operational-disconnect: the error object arrives, then the server ends the stream', async () => {
    await withEmulator(
      { rules: [MUSIC], scenarios: ['operational-disconnect'], scenarioSettings: { everyLines: 3 } },
      async (emu) => {
        const stream = await openStream(emu);
        emu.publish(300);
        await until(() => stream.ended !== undefined, 'the stream to end');
        assert.equal(stream.ended, 'end');
        const messages = stream.messages();
        assert.equal(messages.length, 4);
        assert.equal(messages.slice(0, 3).filter((m) => m.data).length, 3);
        assert.deepEqual(messages[3], {
          errors: [
            {
              title: 'operational-disconnect',
              disconnect_type: 'OperationalDisconnect',
              detail: 'This stream has been disconnected for operational reasons.',
              type: `${PROBLEMS}/operational-disconnect`,
            },
          ],
        });
        assert.equal(emu.stats().disconnectsInjected, 1);
      },
    );
  });

  test('mid-tweet-disconnect: the socket is cut inside a line, and the lost tweet is in recent search', async () => {
    await withEmulator(
      { rules: [MUSIC], scenarios: ['mid-tweet-disconnect'], scenarioSettings: { everyLines: 3 } },
      async (emu) => {
        const stream = await openStream(emu);
        emu.publish(300);
        await until(() => stream.ended !== undefined, 'the cut');
        assert.equal(stream.ended, 'cut');
        const complete = stream.tweets();
        assert.equal(complete.length, 2);
        const partial = stream.partial();
        assert.ok(partial.startsWith('{"data":{"id":"'), partial);
        assert.throws(() => JSON.parse(partial));
        const lostId = /"id":"(\d+)"/.exec(partial)?.[1];
        const since = complete[1]?.data.id;
        const search = await call(
          emu,
          `/2/tweets/search/recent?query=${encodeURIComponent(MUSIC.value)}&since_id=${since}&max_results=100`,
        );
        assert.ok(
          search.body.data.some((t: Json) => t.id === lostId),
          'recoverable with since_id',
        );
      },
    );
  });

  test('disconnect-storm: the server keeps ending streams; reconnecting works', async () => {
    await withEmulator(
      { scenarios: ['disconnect-storm'], scenarioSettings: { disconnectEveryMs: 30 } },
      async (emu) => {
        for (let i = 0; i < 2; i++) {
          const stream = await openStream(emu);
          assert.equal(stream.status, 200);
          await until(() => stream.ended !== undefined, 'the forced disconnect');
          assert.equal(stream.ended, 'end');
        }
        assert.equal(emu.stats().disconnectsInjected, 2);
      },
    );
  });

  test('duplicates-after-reconnect: a new connection first re-sends the last tweets delivered', async () => {
    await withEmulator(
      { rules: [MUSIC], scenarios: ['duplicates-after-reconnect'], scenarioSettings: { duplicateCount: 3 } },
      async (emu) => {
        const first = await openStream(emu);
        emu.publish(200);
        const expected = emu.published({ matching: true }).length;
        await until(() => first.tweets().length === expected, 'the first connection to get everything');
        first.close();
        await until(() => emu.stats().activeConnections === 0, 'the first connection to go');
        const second = await openStream(emu);
        await until(() => second.tweets().length === 3, 'the re-sent tweets');
        assert.deepEqual(
          second.lines(),
          first
            .lines()
            .filter((l) => l !== '')
            .slice(-3),
        );
        assert.equal(emu.stats().duplicatesSent, 3);
        second.close();
      },
    );
  });

  test('errors-in-stream: standalone errors lines and errors beside data', async () => {
    await withEmulator(
      { rules: [MUSIC], scenarios: ['errors-in-stream'], scenarioSettings: { everyLines: 2 } },
      async (emu) => {
        const stream = await openStream(emu);
        emu.publish(300);
        await until(() => emu.stats().errorsInjected >= 2, 'two injections');
        await until(() => stream.messages().filter((m) => m.errors).length >= 2, 'the error lines');
        const standalone = stream.messages().find((m) => m.errors && !m.data);
        assert.ok(standalone);
        assert.equal(standalone.errors[0].type, `${PROBLEMS}/resource-not-found`);
        const beside = stream.messages().find((m) => m.errors && m.data);
        assert.ok(beside?.data.id && beside.matching_rules.length === 1);
        stream.close();
      },
    );
  });

  test('malformed: a line that is not JSON and a payload without id', async () => {
    await withEmulator(
      { rules: [MUSIC], scenarios: ['malformed'], scenarioSettings: { everyLines: 2 } },
      async (emu) => {
        const stream = await openStream(emu);
        emu.publish(300);
        const parse = (l: string): Json | undefined => {
          try {
            return JSON.parse(l) as Json;
          } catch {
            return undefined;
          }
        };
        const lines = () => stream.lines().filter((l) => l !== '');
        await until(() => lines().some((l) => parse(l) === undefined), 'a line that is not JSON');
        await until(
          () => lines().some((l) => parse(l)?.data?.id === undefined && parse(l)?.data),
          'a tweet without id',
        );
        const idless = lines()
          .map(parse)
          .find((m) => m?.data && m.data.id === undefined);
        assert.equal(typeof idless?.data.text, 'string');
        assert.ok(emu.stats().malformedInjected >= 2);
        stream.close();
      },
    );
  });

  test('stall: nothing, not even heartbeats, until the stall is over', async () => {
    let clock = Date.UTC(2026, 10, 25, 6);
    const settings = { everyLines: 2, stallMs: 35_000 };
    await withEmulator(
      { rules: [MUSIC], heartbeatMs: 10, now: () => clock, scenarios: ['stall'], scenarioSettings: settings },
      async (emu) => {
        const stream = await openStream(emu);
        emu.publish(300);
        await until(() => emu.stats().stalls === 1, 'the stall');
        await until(() => stream.tweets().length === 2, 'the lines before the stall');
        const frozen = stream.raw;
        emu.publish(300);
        await sleep(100); // ten heartbeat intervals
        assert.equal(stream.raw, frozen, 'no bytes while stalled');
        assert.ok(emu.stats().missedWhileStalled > 0);
        clock += settings.stallMs + 1;
        await until(() => stream.raw.length > frozen.length, 'heartbeats after the stall');
        stream.close();
      },
    );
  });

  test('rate-limit: every n-th stream connect or search gets 429 with exhausted x-rate-limit headers', async () => {
    await withEmulator(
      { scenarios: ['rate-limit'], scenarioSettings: { rateLimitEvery: 2 } },
      async (emu) => {
        const path = '/2/tweets/search/recent?query=music';
        assert.equal((await call(emu, path)).status, 200);
        const limited = await call(emu, path);
        assert.equal(limited.status, 429);
        assert.equal(limited.body.title, 'Too Many Requests');
        assert.equal(limited.headers.get('x-rate-limit-remaining'), '0');
        assert.ok(Number(limited.headers.get('x-rate-limit-reset')) * 1000 > Date.now());
        const stream = await openStream(emu);
        assert.equal(stream.status, 200);
        stream.close();
        await until(() => emu.stats().activeConnections === 0, 'the stream to go');
        assert.equal((await openStream(emu)).status, 429);
        assert.equal(emu.stats().rateLimited, 2);
      },
    );
  });
});

describe('recent search', () => {
  test('pages newest first with next_token and meta, finding exactly what the stream rule matched', async () => {
    await withEmulator({ rules: [MUSIC] }, async (emu) => {
      emu.publish(400);
      const pages = await searchAll(emu, MUSIC.value);
      const ids: string[] = [];
      for (const [i, page] of pages.entries()) {
        const data = page.data as Json[];
        assert.equal(page.meta.result_count, data.length);
        assert.equal(page.meta.newest_id, data[0]?.id);
        assert.equal(page.meta.oldest_id, data.at(-1)?.id);
        assert.equal(page.meta.next_token === undefined, i === pages.length - 1);
        ids.push(...data.map((t) => t.id as string));
      }
      for (let i = 1; i < ids.length; i++) assert.equal(compareIds(ids[i - 1]!, ids[i]!), 1, 'newest first');
      assert.deepEqual(ids, emu.published({ matching: true }).reverse());
    });
  });

  test('since_id and until_id bound the results; new tweets show up after since_id', async () => {
    await withEmulator({ rules: [MUSIC] }, async (emu) => {
      emu.publish(300);
      const all = (await call(emu, `/2/tweets/search/recent?query=music&max_results=100`)).body.data.map(
        (t: Json) => t.id,
      );
      const since = await call(emu, `/2/tweets/search/recent?query=music&max_results=100&since_id=${all[5]}`);
      assert.deepEqual(
        since.body.data.map((t: Json) => t.id),
        all.slice(0, 5),
      );
      const until = await call(emu, `/2/tweets/search/recent?query=music&max_results=10&until_id=${all[5]}`);
      assert.equal(until.body.data[0].id, all[6]);
      const before = new Set(emu.published({ matching: true }));
      emu.publish(200);
      const fresh = emu.published({ matching: true }).filter((id) => !before.has(id));
      const pages = await searchAll(emu, MUSIC.value, `&since_id=${all[0]}`);
      const got = pages.flatMap((p) => (p.data ?? []).map((t: Json) => t.id as string));
      assert.deepEqual(got, fresh.reverse());
    });
  });

  test('field selection and expansions', async () => {
    await withEmulator({}, async (emu) => {
      emu.publish(500);
      const bare = await call(emu, '/2/tweets/search/recent?query=music&max_results=100');
      assert.equal(bare.body.includes, undefined);
      for (const t of bare.body.data)
        assert.deepEqual(Object.keys(t), ['id', 'text', 'edit_history_tweet_ids']);
      const rich = await call(
        emu,
        '/2/tweets/search/recent?query=music&max_results=100&tweet.fields=public_metrics' +
          '&expansions=author_id,referenced_tweets.id,attachments.media_keys&user.fields=created_at&media.fields=url',
      );
      const { data, includes } = rich.body;
      const users = new Map(includes.users.map((u: Json) => [u.id, u]));
      const tweets = new Set(includes.tweets.map((t: Json) => t.id));
      const media = new Set(includes.media.map((m: Json) => m.media_key));
      assert.equal(includes.places, undefined, 'geo.place_id was not asked for');
      for (const t of data) {
        assert.ok(t.public_metrics && t.author_id, 'asked and implied fields');
        assert.equal(t.lang, undefined, 'unrequested field');
        assert.deepEqual(Object.keys(users.get(t.author_id) as Json).sort(), [
          'created_at',
          'id',
          'name',
          'username',
        ]);
        for (const ref of t.referenced_tweets ?? []) assert.ok(tweets.has(ref.id));
        for (const key of t.attachments?.media_keys ?? []) assert.ok(media.has(key));
      }
      for (const m of includes.media) {
        // Photos have a url; videos and GIFs have none (their image is preview_image_url).
        const keys = m.type === 'photo' ? ['media_key', 'type', 'url'] : ['media_key', 'type'];
        assert.deepEqual(Object.keys(m).sort(), keys);
      }
    });
  });

  test('parameter errors are 400 Invalid Request with X messages', async () => {
    await withEmulator({}, async (emu) => {
      const cases: [string, string][] = [
        [
          'max_results=5&query=music',
          'The `max_results` query parameter value [5] is not between 10 and 100',
        ],
        [
          'max_results=101&query=music',
          'The `max_results` query parameter value [101] is not between 10 and 100',
        ],
        ['max_results=10', 'The `query` query parameter can not be empty'],
        [
          'query=(music',
          'There were errors processing your request: There is an unmatched opening parenthesis (at position 1)',
        ],
        [
          'query=music&since_id=abc',
          'The `since_id` query parameter value [abc] does not match ^[0-9]{1,19}$',
        ],
        ['query=music&next_token=nope', 'The `next_token` query parameter value [nope] is not valid'],
        ['query=music&start_time=2020-01-01T00:00:00Z', "Invalid 'start_time':'2020-01-01T00:00:00Z'"],
        [
          'query=music&foo=1',
          'The query parameter [foo] is not one of [query,start_time,end_time,since_id,until_id',
        ],
      ];
      for (const [query, message] of cases) {
        const res = await call(emu, `/2/tweets/search/recent?${query}`);
        assert.equal(res.status, 400, query);
        assert.equal(res.body.title, 'Invalid Request');
        assert.ok(res.body.errors[0].message.startsWith(message), res.body.errors[0].message);
      }
      const future = new Date(Date.now() + 60_000).toISOString();
      const end = await call(emu, `/2/tweets/search/recent?query=music&end_time=${future}`);
      assert.ok(
        end.body.errors[0].message.endsWith(
          "'end_time' must be a minimum of 10 seconds prior to the request time.",
        ),
      );
    });
  });

  test('no match answers meta.result_count 0 without data', async () => {
    await withEmulator({}, async (emu) => {
      emu.publish(50);
      const res = await call(emu, '/2/tweets/search/recent?query=zzzznothing');
      assert.deepEqual(res.body, { meta: { result_count: 0 } });
    });
  });

  test('x-rate-limit headers on every answer, 429 when the window is spent, budget back after reset', async () => {
    let clock = Date.UTC(2026, 10, 25, 6);
    await withEmulator(
      { now: () => clock, rateLimits: { search: { limit: 2, windowMs: 60_000 } } },
      async (emu) => {
        const path = '/2/tweets/search/recent?query=music';
        const first = await call(emu, path);
        assert.equal(first.headers.get('x-rate-limit-limit'), '2');
        assert.equal(first.headers.get('x-rate-limit-remaining'), '1');
        assert.equal(first.headers.get('x-rate-limit-reset'), String((clock + 60_000) / 1000));
        assert.equal((await call(emu, path)).headers.get('x-rate-limit-remaining'), '0');
        const limited = await call(emu, path);
        assert.equal(limited.status, 429);
        assert.deepEqual(limited.body, {
          title: 'Too Many Requests',
          detail: 'Too Many Requests',
          type: 'about:blank',
          status: 429,
        });
        assert.equal(limited.headers.get('x-rate-limit-reset'), String((clock + 60_000) / 1000));
        clock += 60_000;
        const again = await call(emu, path);
        assert.equal(again.status, 200);
        assert.equal(again.headers.get('x-rate-limit-remaining'), '1');
      },
    );
  });

  test('history keeps 7 days: older tweets leave recent search', async () => {
    let clock = Date.UTC(2026, 10, 25, 6);
    await withEmulator({ now: () => clock }, async (emu) => {
      emu.publish(100);
      assert.equal(emu.published().length, 100);
      clock += 7 * 86_400_000 + 1;
      emu.publish(1);
      assert.equal(emu.published().length, 1);
      const res = await call(emu, '/2/tweets/search/recent?query=music&max_results=100');
      assert.ok((res.body.data ?? []).every((t: Json) => t.id === emu.published()[0]));
    });
  });
});

describe('generation', () => {
  test('generates in real time at the configured rate, ids increasing', async () => {
    await withEmulator({ rate: 1000 }, async (emu) => {
      await until(() => emu.stats().generated >= 50, 'tweets from the clock');
      const ids = emu.published();
      for (let i = 1; i < ids.length; i++) assert.equal(compareIds(ids[i - 1]!, ids[i]!), -1);
    });
  });
});

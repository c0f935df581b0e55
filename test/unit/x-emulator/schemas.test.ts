/**
 * Every kind of answer the X API emulator serves, in both API eras, validated with ajv against the era's own OpenAPI
 * response schemas (components.schemas): stream lines, search pages, rules lookups and updates, and the errors
 * (400, 401, 403, 404, 429). Post, user, media, place and poll objects are checked closed (no property the schema
 * does not name), so a 2.159 name served under 2.167 fails; problems stay open, as the spec leaves them.
 */
import assert from 'node:assert/strict';
import { get as httpGet } from 'node:http';
import { describe, test } from 'node:test';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { API_ERAS, type ApiEra, openApiSpec } from '../../../src/sources/x-api/eras.ts';
import { startXEmulator, type XEmulator } from '../../../src/x-emulator/server.ts';

// biome-ignore lint/suspicious/noExplicitAny: schemas and answers are walked generically.
type Json = Record<string, any>;

const AUTH = { authorization: 'Bearer t' };
const RULE = { value: 'the OR de OR a OR que OR le OR der OR music OR e', tag: 'common' };

/** The response schema of each endpoint's 200, per era. */
const RESPONSE_SCHEMAS: Record<ApiEra, Record<string, string>> = {
  '2.159': {
    stream: 'FilteredStreamingTweetResponse',
    search: 'Get2TweetsSearchRecentResponse',
    rulesLookup: 'RulesLookupResponse',
    rulesUpdate: 'AddOrDeleteRulesResponse',
    post: 'Tweet',
  },
  '2.167': {
    stream: 'StreamPostsResponse',
    search: 'SearchPostsRecentResponse',
    rulesLookup: 'GetRulesResponse',
    rulesUpdate: 'UpdateRulesResponse',
    post: 'Post',
  },
};

/** Schemas whose objects must not carry properties the spec does not name. */
const CLOSED = ['Tweet', 'Post', 'User', 'Media', 'Place', 'Poll', 'Expansions'];

/** OpenAPI 3.0 -> JSON Schema 2020-12: `nullable`, and closed objects under the CLOSED schemas. */
function toJsonSchema(node: unknown, closed: boolean): unknown {
  if (Array.isArray(node)) return node.map((n) => toJsonSchema(n, closed));
  if (typeof node !== 'object' || node === null) return node;
  const out: Json = {};
  for (const [k, v] of Object.entries(node)) {
    if (k === 'discriminator' || k === 'example' || k === 'nullable') continue;
    out[k] =
      k === 'properties' ? mapValues(v as Json, (p) => toJsonSchema(p, closed)) : toJsonSchema(v, closed);
  }
  if ((node as Json).nullable === true) return { anyOf: [out, { type: 'null' }] };
  if (closed && out.type === 'object' && out.properties && out.additionalProperties === undefined)
    out.unevaluatedProperties = false;
  return out;
}

const mapValues = (o: Json, f: (v: unknown) => unknown): Json =>
  Object.fromEntries(Object.entries(o).map(([k, v]) => [k, f(v)]));

function validatorFor(era: ApiEra) {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats.default(ajv);
  const schemas: Json = {};
  // A schema with a discriminator (2.159's Media: Photo, Video, ...) is completed by its mapped schemas: open.
  for (const [name, schema] of Object.entries((openApiSpec(era) as Json).components.schemas as Json))
    schemas[name] = toJsonSchema(schema, CLOSED.includes(name) && !(schema as Json).discriminator);
  ajv.addSchema({ $id: 'x', components: { schemas } });
  return (schemaName: string, value: unknown): void => {
    const validate = ajv.getSchema(`x#/components/schemas/${schemaName}`);
    assert.ok(validate, schemaName);
    const ok = validate(value);
    assert.ok(
      ok,
      `${era} ${schemaName}: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(value).slice(0, 600)}`,
    );
  };
}

/** The problem schema a body's `type` maps to in the era (2.159: Problem's discriminator; 2.167: the oneOf). */
function problemSchema(era: ApiEra, type: string): string {
  if (era === '2.167') return 'Problem';
  const mapping = (openApiSpec(era) as Json).components.schemas.Problem.discriminator.mapping as Record<
    string,
    string
  >;
  const ref = mapping[type];
  assert.ok(ref, `2.159 has a problem type ${type}`);
  return ref.split('/').pop()!;
}

async function get(emu: XEmulator, path: string, headers: Json = AUTH) {
  const res = await fetch(emu.url + path, { headers });
  return {
    status: res.status,
    type: res.headers.get('content-type') ?? '',
    body: (await res.json()) as Json,
  };
}

async function post(emu: XEmulator, path: string, body: unknown) {
  const res = await fetch(emu.url + path, {
    method: 'POST',
    headers: { ...AUTH, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Json };
}

/**
 * Resolves once the emulator accepted a stream connection (counted even if the stream already ended): tweets
 * published before it would be missed. Gives up after 5 s, as streamLines does.
 */
async function streamOpen(emu: XEmulator): Promise<void> {
  const deadline = Date.now() + 5000;
  while (emu.stats().connections === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
}

/** Reads stream lines until `count` tweets arrived (or 5 s passed), then closes the connection. */
function streamLines(emu: XEmulator, query: string, count: number): Promise<Json[]> {
  return new Promise((resolve, reject) => {
    const lines: Json[] = [];
    const req = httpGet(`${emu.url}/2/tweets/search/stream${query}`, { headers: AUTH }, (res) => {
      let buffered = '';
      res.on('data', (chunk: Buffer) => {
        buffered += chunk.toString('utf8');
        const parts = buffered.split('\r\n');
        buffered = parts.pop() ?? '';
        for (const p of parts) if (p !== '') lines.push(JSON.parse(p));
        if (lines.filter((l) => l.data).length >= count) {
          req.destroy();
          resolve(lines);
        }
      });
      res.on('end', () => resolve(lines));
    });
    req.on('error', (err) => (lines.length > 0 ? resolve(lines) : reject(err)));
    setTimeout(() => {
      req.destroy();
      resolve(lines);
    }, 5000).unref();
  });
}

const EVERYTHING = {
  '2.159': {
    fields:
      'tweet.fields=attachments,author_id,conversation_id,created_at,edit_controls,edit_history_tweet_ids,entities,geo,in_reply_to_user_id,lang,note_tweet,possibly_sensitive,public_metrics,referenced_tweets,reply_settings,source,text',
    expansions:
      'expansions=author_id,referenced_tweets.id,referenced_tweets.id.author_id,attachments.media_keys,attachments.poll_ids,geo.place_id,in_reply_to_user_id,entities.mentions.username',
  },
  '2.167': {
    fields:
      'post.fields=attachments,conversation_id,created_at,edit_controls,entities,geo,lang,note_post,possibly_sensitive,public_metrics,reply_settings,source,text',
    expansions:
      'expansions=author_id,referenced_posts,attachments.media_keys,attachments.poll_ids,geo.place_id,in_reply_to_user_id,entities.mentions.username,edit_history_post_ids',
  },
};
const STREAM_EVERYTHING = `tweet.fields=${EVERYTHING['2.159'].fields.split('=')[1]}&${EVERYTHING['2.159'].expansions}`;
const OTHERS =
  'user.fields=created_at,description,location,name,profile_image_url,protected,public_metrics,username,verified,verified_type&media.fields=alt_text,duration_ms,height,media_key,preview_image_url,public_metrics,type,url,variants,width&place.fields=country,country_code,full_name,geo,id,name,place_type&poll.fields=duration_minutes,end_datetime,id,options,voting_status';

/** Asserts the kinds of post the tests must cover are all in the answers seen. */
function assertCoverage(posts: Json[], includes: Json[], era: ApiEra): void {
  const refs = era === '2.167' ? 'referenced_posts' : 'referenced_tweets';
  const note = era === '2.167' ? 'note_post' : 'note_tweet';
  const edits = era === '2.167' ? 'edit_history_post_ids' : 'edit_history_tweet_ids';
  const has = (what: string, ok: (p: Json) => boolean) => assert.ok(posts.some(ok), `${era}: a ${what}`);
  has('reply', (p) => p[refs]?.some((r: Json) => r.type === 'replied_to'));
  has('quote', (p) => p[refs]?.some((r: Json) => r.type === 'quoted'));
  has('long post', (p) => typeof p[note]?.text === 'string');
  has('edited post', (p) => p[edits]?.length > 1);
  has('post with media', (p) => p.attachments?.media_keys?.length > 0);
  has('post with a poll', (p) => p.attachments?.poll_ids?.length > 0);
  has('post with a place', (p) => p.geo?.place_id !== undefined);
  for (const key of ['users', 'media', 'places', 'polls', era === '2.167' ? 'posts' : 'tweets'])
    assert.ok(
      includes.some((i) => i[key]?.length > 0),
      `${era}: includes.${key}`,
    );
}

for (const era of API_ERAS) {
  describe(`emulator answers validate against the ${era} spec`, () => {
    const check = validatorFor(era);
    const schemas = RESPONSE_SCHEMAS[era];

    test('search pages (every post kind) and stream lines', async () => {
      const emu = await startXEmulator({ rate: 0, naming: era, rules: [RULE], openApi: false });
      try {
        emu.publish(400);
        const posts: Json[] = [];
        const includes: Json[] = [];
        let token: string | undefined;
        for (let page = 0; page < 4; page++) {
          const q = `?query=${encodeURIComponent(RULE.value)}&max_results=100&${EVERYTHING[era].fields}&${EVERYTHING[era].expansions}&${OTHERS}${token ? `&next_token=${token}` : ''}`;
          const res = await get(emu, `/2/tweets/search/recent${q}`);
          assert.equal(res.status, 200, JSON.stringify(res.body));
          check(schemas.search!, res.body);
          posts.push(...res.body.data);
          includes.push(res.body.includes);
          token = res.body.meta.next_token;
          if (!token) break;
        }
        assertCoverage(posts, includes, era);
        check(schemas.search!, (await get(emu, '/2/tweets/search/recent?query=nomatchatall')).body);

        const linesP = streamLines(emu, `?${STREAM_EVERYTHING}&${OTHERS}`, 150);
        await streamOpen(emu);
        emu.publish(600);
        const lines = await linesP;
        assert.ok(lines.length >= 150);
        for (const line of lines) check(schemas.stream!, line);
        assertCoverage(
          lines.map((l) => l.data),
          lines.map((l) => l.includes ?? {}),
          era,
        );
      } finally {
        await emu.close();
      }
    });

    test('stream error lines (errors-in-stream, operational-disconnect)', async () => {
      const emu = await startXEmulator({
        rate: 0,
        naming: era,
        rules: [RULE],
        scenarios: ['errors-in-stream'],
        scenarioSettings: { everyLines: 2 },
      });
      try {
        const linesP = streamLines(emu, '?tweet.fields=created_at', 40);
        await streamOpen(emu);
        emu.publish(100);
        const lines = await linesP;
        assert.ok(lines.some((l) => l.errors && !l.data));
        assert.ok(lines.some((l) => l.errors && l.data));
        for (const line of lines) {
          check(schemas.stream!, line);
          for (const e of line.errors ?? []) check(problemSchema(era, e.type), e);
        }
      } finally {
        await emu.close();
      }
      const disconnecting = await startXEmulator({
        rate: 0,
        naming: era,
        rules: [RULE],
        scenarios: ['operational-disconnect'],
        scenarioSettings: { everyLines: 3 },
      });
      try {
        const linesP = streamLines(disconnecting, '', 1000);
        await streamOpen(disconnecting);
        disconnecting.publish(50);
        const lines = await linesP;
        assert.equal(lines.filter((l) => l.data).length, 3);
        for (const line of lines) check(schemas.stream!, line);
        for (const e of lines.flatMap((l) => l.errors ?? [])) check(problemSchema(era, e.type), e);
      } finally {
        await disconnecting.close();
      }
    });

    test('rules lookup and update answers, with rule errors', async () => {
      const emu = await startXEmulator({ rate: 0, naming: era, rules: [RULE], maxRules: 3 });
      try {
        check(schemas.rulesLookup!, (await get(emu, '/2/tweets/search/stream/rules')).body);
        const added = await post(emu, '/2/tweets/search/stream/rules', {
          add: [{ value: 'cats', tag: 'c' }],
        });
        check(schemas.rulesUpdate!, added.body);
        const bad = await post(emu, '/2/tweets/search/stream/rules', {
          add: [{ value: 'lang:en' }, { value: '(((' }, { value: 'a' }, { value: 'b' }],
        });
        assert.ok(bad.body.errors.length >= 2);
        check(schemas.rulesUpdate!, bad.body);
        for (const e of bad.body.errors) check(problemSchema(era, e.type), e);
        const deleted = await post(emu, '/2/tweets/search/stream/rules', {
          delete: { ids: ['1', added.body.data[0].id] },
        });
        check(schemas.rulesUpdate!, deleted.body);
      } finally {
        await emu.close();
      }
    });

    test('errors: 400, 401, 403, 404, 429 as a Problem of the era or its plain Error', async () => {
      const checkError = (res: { status: number; type: string; body: Json }, status: number) => {
        assert.equal(res.status, status);
        if (res.type.startsWith('application/problem+json'))
          check(problemSchema(era, res.body.type), res.body);
        else check('Error', res.body);
      };
      const emu = await startXEmulator({
        rate: 0,
        naming: era,
        rateLimits: { search: { limit: 1, windowMs: 60_000 } },
      });
      try {
        checkError(
          await get(emu, '/2/tweets/search/recent?query=a&tweet.fields=bogus&post.fields=bogus'),
          400,
        );
        checkError(await get(emu, '/2/tweets/search/recent?query=a', { authorization: 'Basic x' }), 401);
        checkError(await get(emu, '/2/nowhere'), 404);
        await get(emu, '/2/tweets/search/recent?query=a');
        checkError(await get(emu, '/2/tweets/search/recent?query=a'), 429);
      } finally {
        await emu.close();
      }
      const forbidden = await startXEmulator({ rate: 0, naming: era, scenarios: ['client-not-enrolled'] });
      try {
        const res = await get(forbidden, '/2/tweets/search/recent?query=a');
        checkError(res, 403);
        if (era === '2.159') {
          assert.equal(res.body.reason, 'client-not-enrolled');
          assert.equal(typeof res.body.registration_url, 'string');
          assert.equal(res.body.required_enrollment, undefined);
        }
      } finally {
        await forbidden.close();
      }
      const crowded = await startXEmulator({ rate: 0, naming: era, maxConnections: 1 });
      try {
        const first = streamLines(crowded, '', 1);
        await streamOpen(crowded);
        checkError(await get(crowded, '/2/tweets/search/stream'), 429);
        crowded.disconnectStreams();
        await first;
      } finally {
        await crowded.close();
      }
    });
  });
}

/** OAUTHBEARER tokens from a client-credentials token endpoint (a local HTTP server), with a controlled clock. */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { after, before, test } from 'node:test';
import { TweetpipeError } from '../../../src/errors.ts';
import { OAuthTokenSource } from '../../../src/kafka/oauth-token.ts';

const SECRET = 'client-secret-xyz';
let server: Server;
let endpoint: string;
const requests: { authorization: string | undefined; body: string }[] = [];
let answer: { status: number; body: unknown } = { status: 200, body: {} };

const bodyOf = async (req: IncomingMessage) => {
  let body = '';
  for await (const chunk of req) body += chunk;
  return body;
};

before(async () => {
  server = createServer(async (req, res) => {
    requests.push({ authorization: req.headers.authorization, body: await bodyOf(req) });
    res.writeHead(answer.status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(answer.body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as { port: number }).port}/token`;
});
after(() => server.close());

test('a token is fetched with client credentials, reused while fresh, and replaced before it expires', async () => {
  requests.length = 0;
  let now = 1_000_000;
  const source = new OAuthTokenSource(
    { tokenEndpoint: endpoint, clientId: 'tweetpipe', clientSecret: SECRET, scope: 'kafka' },
    () => now,
  );
  answer = { status: 200, body: { access_token: 'token-1', expires_in: 100, token_type: 'bearer' } };
  assert.equal(await source.get(), 'token-1');
  assert.equal(requests.length, 1);
  assert.equal(requests[0]?.authorization, `Basic ${Buffer.from(`tweetpipe:${SECRET}`).toString('base64')}`);
  assert.equal(requests[0]?.body, 'grant_type=client_credentials&scope=kafka');

  answer = { status: 200, body: { access_token: 'token-2', expires_in: 100 } };
  now += 49_000; // 49% of its lifetime: still the same token
  assert.equal(await source.get(), 'token-1');
  assert.equal(requests.length, 1);
  now += 2_000; // past half its lifetime, 49 s before expiry: a new one
  const [a, b] = await Promise.all([source.get(), source.get()]);
  assert.deepEqual([a, b], ['token-2', 'token-2']);
  assert.equal(requests.length, 2, 'two callers at once share one request');
});

test('rejected client credentials are a final error naming the settings, without the secret', async () => {
  answer = { status: 401, body: { error: 'invalid_client', error_description: 'bad secret' } };
  const source = new OAuthTokenSource({
    tokenEndpoint: endpoint,
    clientId: 'tweetpipe',
    clientSecret: SECRET,
  });
  const err = await source.get().then(
    () => assert.fail('expected a failure'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof TweetpipeError);
  assert.equal(err.code, 'KAFKA_AUTH');
  assert.equal(err.retryable, false);
  assert.match(err.message, /HTTP 401 \(invalid_client: bad secret\).*kafka\.sasl\.oauthbearer/);
  assert.ok(!err.message.includes(SECRET));
});

test('an endpoint error (5xx) stays retryable', async () => {
  answer = { status: 503, body: {} };
  const source = new OAuthTokenSource({ tokenEndpoint: endpoint, clientId: 'c', clientSecret: SECRET });
  const err = await source.get().catch((e: unknown) => e);
  assert.ok(err instanceof TweetpipeError);
  assert.equal(err.retryable, true);
});

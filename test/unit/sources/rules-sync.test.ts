import assert from 'node:assert/strict';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, test } from 'node:test';
import { TweetpipeError } from '../../../src/errors.ts';
import { listRules, planRulesSync, type ServerRule, syncRules } from '../../../src/sources/rules-sync.ts';
import { XHttpClient } from '../../../src/sources/x-http.ts';

interface Call {
  method: string;
  dryRun: boolean;
  body: unknown;
}

/** Speaks just the rules endpoint: paged GET, POST add/delete with dry_run, X's invalid/duplicate rule errors. */
async function fakeRulesServer(
  initial: ServerRule[],
  opts: { pageSize?: number; invalidStatus?: number } = {},
) {
  let rules = [...initial];
  let nextId = 1000;
  const calls: Call[] = [];
  const readBody = async (req: IncomingMessage) => {
    let text = '';
    for await (const chunk of req) text += chunk;
    return text ? JSON.parse(text) : undefined;
  };
  const server = createServer(async (req, res) => {
    const url = new URL(req.url!, 'http://x');
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (url.pathname !== '/2/tweets/search/stream/rules') return send(404, { title: 'Not Found' });
    if (req.method === 'GET') {
      calls.push({ method: 'GET', dryRun: false, body: url.searchParams.get('pagination_token') });
      const size = opts.pageSize ?? 1000;
      const start = Number(url.searchParams.get('pagination_token') ?? 0);
      const page = rules.slice(start, start + size);
      const meta: Record<string, unknown> = { sent: 'now', result_count: page.length };
      if (start + size < rules.length) meta.next_token = String(start + size);
      return send(200, page.length ? { data: page, meta } : { meta });
    }
    const body = await readBody(req);
    const dryRun = url.searchParams.get('dry_run') === 'true';
    calls.push({ method: 'POST', dryRun, body });
    if (body.delete) {
      if (!dryRun) rules = rules.filter((r) => !body.delete.ids.includes(r.id));
      return send(200, { meta: { sent: 'now', summary: { deleted: body.delete.ids.length } } });
    }
    const data: ServerRule[] = [];
    const errors: unknown[] = [];
    for (const r of body.add as { value: string; tag: string }[]) {
      const dup = rules.find((x) => x.value === r.value);
      if (r.value.includes('INVALID'))
        errors.push({
          value: r.value,
          details: [`Reference to invalid operator 'INVALID:'. Operator is not available.`],
          title: 'Invalid Rule',
          type: 'https://api.twitter.com/2/problems/invalid-rules',
        });
      else if (dup)
        errors.push({
          value: r.value,
          id: dup.id,
          title: 'DuplicateRule',
          type: 'https://api.twitter.com/2/problems/duplicate-rules',
        });
      else data.push({ id: dryRun ? '0' : String(nextId++), value: r.value, tag: r.tag });
    }
    if (!dryRun) rules.push(...data);
    const status = errors.some((e) => (e as { title: string }).title === 'Invalid Rule')
      ? (opts.invalidStatus ?? 200)
      : 201;
    send(status, { data, errors: errors.length ? errors : undefined, meta: { sent: 'now' } });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const client = new XHttpClient({
    baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    bearerToken: 'test-token-rules',
  });
  return {
    client,
    calls,
    rules: () => rules,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

describe('planRulesSync', () => {
  test('keeps declared (tag, value) pairs, deletes the rest, adds the missing; a changed value is delete + add', () => {
    const plan = planRulesSync(
      [
        { id: '1', value: 'music', tag: 'music' },
        { id: '2', value: 'cats', tag: 'pets' },
        { id: '3', value: 'old query', tag: 'news' },
        { id: '4', value: 'music', tag: 'music' },
      ],
      [
        { value: 'music', tag: 'music' },
        { value: 'new query', tag: 'news' },
        { value: 'jazz', tag: 'jazz' },
      ],
    );
    assert.deepEqual(
      plan.keep.map((r) => r.id),
      ['1'],
    );
    assert.deepEqual(
      plan.remove.map((r) => r.id),
      ['2', '3', '4'],
      'the duplicate server rule 4 goes too',
    );
    assert.deepEqual(plan.add, [
      { value: 'new query', tag: 'news' },
      { value: 'jazz', tag: 'jazz' },
    ]);
  });

  test('nothing to do when the server already matches', () => {
    const plan = planRulesSync([{ id: '1', value: 'a', tag: 't' }], [{ value: 'a', tag: 't' }]);
    assert.deepEqual([plan.remove.length, plan.add.length, plan.keep.length], [0, 0, 1]);
  });
});

describe('syncRules against a fake rules endpoint', () => {
  test('deletes extra rules, adds missing ones, and returns the final rules with ids', async () => {
    const x = await fakeRulesServer([
      { id: '1', value: 'music', tag: 'music' },
      { id: '2', value: 'cats', tag: 'pets' },
      { id: '3', value: 'old', tag: 'news' },
    ]);
    try {
      const result = await syncRules(x.client, [
        { value: 'music', tag: 'music' },
        { value: 'new', tag: 'news' },
      ]);
      assert.deepEqual(
        x.rules().map((r) => [r.tag, r.value]),
        [
          ['music', 'music'],
          ['news', 'new'],
        ],
      );
      assert.deepEqual(result.removed.map((r) => r.id).sort(), ['2', '3']);
      assert.deepEqual(
        result.added.map((r) => [r.tag, r.value]),
        [['news', 'new']],
      );
      assert.deepEqual(
        result.rules.map((r) => r.id),
        ['1', '1000'],
      );
      const posts = x.calls.filter((c) => c.method === 'POST');
      assert.deepEqual(
        posts.map((c) => [c.dryRun, Object.keys(c.body as object)[0]]),
        [
          [true, 'add'],
          [false, 'delete'],
          [false, 'add'],
        ],
        'validate with a dry run, then delete, then add',
      );
    } finally {
      await x.close();
    }
  });

  test('a tag whose value is unchanged but was re-tagged: the dry-run duplicate is not an error', async () => {
    const x = await fakeRulesServer([{ id: '1', value: 'music', tag: 'old-tag' }]);
    try {
      const result = await syncRules(x.client, [{ value: 'music', tag: 'music' }]);
      assert.deepEqual(
        x.rules().map((r) => [r.tag, r.value]),
        [['music', 'music']],
      );
      assert.deepEqual(
        result.removed.map((r) => r.id),
        ['1'],
      );
    } finally {
      await x.close();
    }
  });

  test('no request changes anything when the rules already match', async () => {
    const x = await fakeRulesServer([{ id: '1', value: 'music', tag: 'music' }]);
    try {
      await syncRules(x.client, [{ value: 'music', tag: 'music' }]);
      assert.equal(x.calls.filter((c) => c.method === 'POST').length, 0);
    } finally {
      await x.close();
    }
  });

  for (const invalidStatus of [200, 400]) {
    test(`invalid rules (HTTP ${invalidStatus}) fail with X_RULES_INVALID listing X's message, before anything is deleted`, async () => {
      const x = await fakeRulesServer([{ id: '1', value: 'cats', tag: 'pets' }], { invalidStatus });
      try {
        await assert.rejects(
          syncRules(x.client, [
            { value: 'music INVALID:x', tag: 'music' },
            { value: 'also INVALID:y', tag: 'other' },
            { value: 'fine', tag: 'ok' },
          ]),
          (err: unknown) => {
            assert.ok(err instanceof TweetpipeError);
            assert.equal(err.code, 'X_RULES_INVALID');
            assert.match(err.message, /rejected 2 stream rule/);
            assert.match(
              err.message,
              /rule "music INVALID:x" \(tag "music"\): Invalid Rule: Reference to invalid operator 'INVALID:'/,
            );
            assert.match(err.message, /rule "also INVALID:y" \(tag "other"\)/);
            return true;
          },
        );
        assert.deepEqual(
          x.rules().map((r) => r.id),
          ['1'],
          'the server rules are untouched',
        );
      } finally {
        await x.close();
      }
    });
  }

  test('listRules follows next_token across pages', async () => {
    const initial = Array.from({ length: 5 }, (_, i) => ({
      id: String(i + 1),
      value: `v${i}`,
      tag: `t${i}`,
    }));
    const x = await fakeRulesServer(initial, { pageSize: 2 });
    try {
      const rules = await listRules(x.client);
      assert.deepEqual(
        rules.map((r) => r.id),
        ['1', '2', '3', '4', '5'],
      );
      assert.deepEqual(
        x.calls.map((c) => c.body),
        [null, '2', '4'],
      );
    } finally {
      await x.close();
    }
  });
});

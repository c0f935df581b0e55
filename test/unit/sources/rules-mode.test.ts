/**
 * x.rulesMode against the X API emulator, with a rule another tool added to the same app: `owned` (the default)
 * and `add-only` leave it in place and publish only posts of tweetpipe's rules; `exact` deletes it.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { loadConfig } from '../../../src/config.ts';
import { CursorStore } from '../../../src/sources/cursor-store.ts';
import { OwnedRulesStore } from '../../../src/sources/owned-rules.ts';
import type { RulesOwnership, StreamRule } from '../../../src/sources/rules-sync.ts';
import { XHttpClient } from '../../../src/sources/x-http.ts';
import { XStreamSource } from '../../../src/sources/x-stream.ts';
import { startXEmulator, type XEmulator } from '../../../src/x-emulator/server.ts';

const FOREIGN = { value: 'love', tag: 'colleague' };
const OURS: StreamRule = { value: 'music', tag: 'ours' };

async function addForeignRule(emu: XEmulator): Promise<string> {
  const res = await fetch(`${emu.url}/2/tweets/search/stream/rules`, {
    method: 'POST',
    headers: { authorization: 'Bearer t', 'content-type': 'application/json' },
    body: JSON.stringify({ add: [FOREIGN] }),
  });
  const body = (await res.json()) as { data: { id: string }[] };
  return body.data[0]!.id;
}

async function ownership(mode: 'owned' | 'exact' | 'add-only', stateDir: string): Promise<RulesOwnership> {
  return mode === 'exact' ? { mode } : { mode, store: await OwnedRulesStore.open(stateDir) };
}

/** Connects a stream source with `rules`, publishes tweets, reads every matched one; returns what it saw. */
async function runStream(
  emu: XEmulator,
  stateDir: string,
  mode: 'owned' | 'exact' | 'add-only',
  rules: StreamRule[],
) {
  const source = new XStreamSource({
    client: new XHttpClient({ baseUrl: emu.url, bearerToken: 't' }),
    fields: {
      tweetFields: ['created_at', 'lang'],
      userFields: [],
      expansions: [],
      mediaFields: [],
      placeFields: [],
    },
    rules,
    rulesOwnership: await ownership(mode, stateDir),
    cursorStore: await CursorStore.open(stateDir),
    batchLingerMs: 5,
  });
  const signal = AbortSignal.timeout(30_000);
  await source.connect(signal);
  try {
    while (source.state().state !== 'connected') await new Promise((r) => setTimeout(r, 10));
    const before = emu.published({ matching: true }).length;
    emu.publish(300);
    const matched = emu.published({ matching: true }).length - before;
    const tweets: Record<string, unknown>[] = [];
    while (tweets.length + source.counters.foreignRuleTweets < matched) {
      const batch = await source.read(signal);
      for (const t of batch.tweets) tweets.push(JSON.parse(t.value.toString('utf8')));
      await batch.ack();
    }
    return { tweets, foreign: source.counters.foreignRuleTweets, rulesAfter: emu.rules() };
  } finally {
    await source.close();
  }
}

const tagsOf = (t: Record<string, unknown>) => (t.matching_rules as { tag: string }[]).map((r) => r.tag);

describe('x.rulesMode against the emulator with a foreign rule', () => {
  test('the default is owned', () => {
    assert.equal(loadConfig({ env: {} }).x.rulesMode, 'owned');
  });

  for (const mode of ['owned', 'add-only'] as const) {
    test(`${mode}: the foreign rule stays; only posts of our rule are published, the others counted`, async () => {
      const emu = await startXEmulator({ rate: 0 });
      try {
        const foreignId = await addForeignRule(emu);
        const seen = await runStream(emu, mkdtempSync(join(tmpdir(), 'tp-rules-')), mode, [OURS]);
        assert.ok(
          seen.rulesAfter.some((r) => r.id === foreignId),
          'the foreign rule is still on the app',
        );
        assert.ok(seen.tweets.length > 0);
        assert.ok(seen.foreign > 0, 'posts of the foreign rule were seen and counted');
        for (const t of seen.tweets) assert.ok(tagsOf(t).includes('ours'), JSON.stringify(t.matching_rules));
      } finally {
        await emu.close();
      }
    });
  }

  test('owned: a rule tweetpipe created and no longer declares is deleted, the foreign one is not', async () => {
    const emu = await startXEmulator({ rate: 0 });
    try {
      const foreignId = await addForeignRule(emu);
      const stateDir = mkdtempSync(join(tmpdir(), 'tp-rules-'));
      await runStream(emu, stateDir, 'owned', [OURS]);
      const next = { value: 'the', tag: 'ours-the' };
      const seen = await runStream(emu, stateDir, 'owned', [next]);
      assert.deepEqual(seen.rulesAfter.map((r) => r.tag).sort(), ['colleague', 'ours-the']);
      assert.ok(seen.rulesAfter.some((r) => r.id === foreignId));
      for (const t of seen.tweets) assert.ok(tagsOf(t).includes('ours-the'));
    } finally {
      await emu.close();
    }
  });

  test('add-only: a rule tweetpipe created and no longer declares stays', async () => {
    const emu = await startXEmulator({ rate: 0 });
    try {
      const stateDir = mkdtempSync(join(tmpdir(), 'tp-rules-'));
      await runStream(emu, stateDir, 'add-only', [OURS]);
      const seen = await runStream(emu, stateDir, 'add-only', [{ value: 'the', tag: 'ours-the' }]);
      assert.deepEqual(seen.rulesAfter.map((r) => r.tag).sort(), ['ours', 'ours-the']);
    } finally {
      await emu.close();
    }
  });

  test('exact: the foreign rule is deleted and every post is published', async () => {
    const emu = await startXEmulator({ rate: 0 });
    try {
      await addForeignRule(emu);
      const seen = await runStream(emu, mkdtempSync(join(tmpdir(), 'tp-rules-')), 'exact', [OURS]);
      assert.deepEqual(
        seen.rulesAfter.map((r) => r.tag),
        ['ours'],
      );
      assert.equal(seen.foreign, 0);
      assert.ok(seen.tweets.length > 0);
    } finally {
      await emu.close();
    }
  });
});
